"""Counting what an update costs the database: statements and transactions, as numbers.

    tally = SqlTally.install(db.engine)
    with tally.counting() as cost:   # around one update
        ...
    cost.statements, cost.transactions, cost.commits

Only the work done in the task (and the tasks it starts) that entered `counting()` is counted:
the listeners read a context variable, which SQLAlchemy's async layer carries into the
greenlet that runs the driver. The notifier and the jobs, running beside, are not counted.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine


@dataclass
class Cost:
    statements: int = 0
    transactions: int = 0
    commits: int = 0
    rollbacks: int = 0
    sql: list[str] = field(default_factory=list)
    """The statements' text, in order (for a failing count to say what ran)."""


_counting: ContextVar[Cost | None] = ContextVar("gridbot_sql_tally", default=None)


class SqlTally:
    """Engine listeners that add to the `Cost` of the work being counted."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    @classmethod
    def install(cls, engine: AsyncEngine) -> SqlTally:
        tally = cls(engine)
        sync = engine.sync_engine
        event.listen(sync, "before_cursor_execute", tally._on_statement)
        event.listen(sync, "begin", tally._on_begin)
        event.listen(sync, "commit", tally._on_commit)
        event.listen(sync, "rollback", tally._on_rollback)
        return tally

    def remove(self) -> None:
        sync = self.engine.sync_engine
        event.remove(sync, "before_cursor_execute", self._on_statement)
        event.remove(sync, "begin", self._on_begin)
        event.remove(sync, "commit", self._on_commit)
        event.remove(sync, "rollback", self._on_rollback)

    @staticmethod
    @contextmanager
    def counting(cost: Cost | None = None) -> Iterator[Cost]:
        current = cost if cost is not None else Cost()
        token = _counting.set(current)
        try:
            yield current
        finally:
            _counting.reset(token)

    @staticmethod
    def _on_statement(
        _conn: Any, _cursor: Any, statement: str, _params: Any, _context: Any, _many: bool
    ) -> None:
        cost = _counting.get()
        # SQLite's BEGIN IMMEDIATE is sent by storage.db's own begin listener: it is the
        # transaction, counted as such, not a statement.
        if cost is not None and not statement.lstrip().upper().startswith("BEGIN"):
            cost.statements += 1
            cost.sql.append(" ".join(statement.split())[:200])

    @staticmethod
    def _on_begin(_conn: Any) -> None:
        cost = _counting.get()
        if cost is not None:
            cost.transactions += 1

    @staticmethod
    def _on_commit(_conn: Any) -> None:
        cost = _counting.get()
        if cost is not None:
            cost.commits += 1

    @staticmethod
    def _on_rollback(_conn: Any) -> None:
        cost = _counting.get()
        if cost is not None:
            cost.rollbacks += 1
