"""Engine and units of work.

SQLite runs in WAL mode with a busy timeout, and every write transaction starts with
`BEGIN IMMEDIATE`: the write lock is taken up front, so two handlers never both read and then
fail to upgrade to a writer ("database is locked"). Read-only work uses `reading()`, which
begins a deferred transaction and never waits for the writer.

SQLite has one writer at a time: the units of work of one process take turns
(`taking_turns`, storage/turns.py) before they ask SQLite for the write lock, updates in
arrival order, a job's writes when no update waits.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from contextvars import ContextVar, Token
from pathlib import Path
from types import TracebackType
from typing import Any

from sqlalchemy import event, make_url, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.orm.session import Session

import storage.models  # noqa: F401  (registers the tables)
from storage.deployment_row import attach_held_deployment, forget_held_deployment
from storage.loaded import keep
from storage.models import Deployment, Person
from storage.speaker_row import attach_held_speaker, forget_held_speaker
from storage.sqlite_driver import OneTripConnection, use_one_trip
from storage.turns import Turn, Turns

SQLITE_BUSY_TIMEOUT_MS = 30_000
_READ_ONLY = "gridbot_read_only"
# The session of the update being handled, so the FSM storage joins the same transaction
# instead of waiting on the write lock that transaction holds.
_current_unit: ContextVar[AsyncSession | None] = ContextVar("gridbot_unit_of_work", default=None)


def _prepare_sqlite(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "do_connect")
    def _do_connect(_dialect: Any, _record: Any, _cargs: Any, cparams: dict[str, Any]) -> None:
        use_one_trip(cparams)  # one trip to aiosqlite's thread per statement

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take transaction control away from the driver so `begin` below decides.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        read_only = connection.get_execution_options().get(_READ_ONLY, False)
        begin = "BEGIN" if read_only else "BEGIN IMMEDIATE"
        driver = connection.connection.driver_connection
        if isinstance(driver, OneTripConnection):
            driver.begin_with_next(begin)  # sent just before the first statement, one trip
        else:
            connection.exec_driver_sql(begin)


def create_engine(url: str, *, echo: bool = False) -> AsyncEngine:
    if url.startswith("sqlite"):
        raw = url.split(":///", 1)[1] if ":///" in url else ""
        if raw and raw != ":memory:":
            Path(raw).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(
            url,
            echo=echo,
            connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
            pool_size=8,
            max_overflow=24,
            pool_timeout=60,
        )
        _prepare_sqlite(engine)
        return engine
    return create_async_engine(url, echo=echo, pool_pre_ping=True)


class UnitSession(Session):
    """The sessions of units of work: the deployment's row, once loaded, stays loaded until
    the session ends. The session's identity map holds rows only while something else does,
    so each `session.get(Deployment, 1)` of a service (the case rules, the patrol rules, the
    categories: several in one update) used to read the row again. An update's session has
    the row from its first statement (storage/deployment_row.py): no get loads it. The
    speaker's row comes with that statement too (storage/speaker_row.py), put in the session by
    the first get of it."""

    def get(self, entity: Any, ident: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        if entity is Deployment:
            attach_held_deployment(self)
        elif entity is Person:
            attach_held_speaker(self, ident)
        return super().get(entity, ident, **kwargs)


for _forget in (forget_held_deployment, forget_held_speaker):
    event.listen(UnitSession, "after_commit", _forget)
    event.listen(UnitSession, "after_soft_rollback", _forget)


@event.listens_for(UnitSession, "loaded_as_persistent")
def _keep_deployment(session: Session, instance: object) -> None:
    if isinstance(instance, Deployment):
        keep(session, instance)


class Database:
    """Owns the engine; hands out sessions. One unit of work (an update, a job) commits once."""

    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = url
        self.engine = create_engine(url, echo=echo)
        self._writer = async_sessionmaker(
            self.engine,
            class_=AsyncSession,
            sync_session_class=UnitSession,
            expire_on_commit=False,
        )
        self._reader = async_sessionmaker(
            self.engine.execution_options(**{_READ_ONLY: True}),
            class_=AsyncSession,
            sync_session_class=UnitSession,
            expire_on_commit=False,
        )
        self._turns: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Turns] = (
            weakref.WeakKeyDictionary()
        )

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    def taking_turns(self, *, background: bool = False) -> Writing:
        """A write unit of work that waits for its turn among this process's (on SQLite;
        PostgreSQL writers do not exclude one another); `background`: after the updates
        (storage/turns.py). Never nest one in another."""
        return Writing(self, turn=self._turn(background) if self.is_sqlite else None)

    def session(self) -> Writing:
        """A write unit of work: commits at the end, rolls back on error."""
        return Writing(self)

    def unit_of_work(self) -> Writing:
        """A write session that code further down the same task can join (`current()`),
        taking its turn among the process's writers (`taking_turns`)."""
        return Writing(self, turn=self._turn(False) if self.is_sqlite else None, joinable=True)

    def _turn(self, background: bool) -> Turn:
        loop = asyncio.get_running_loop()
        turns = self._turns.get(loop)
        if turns is None:
            turns = self._turns[loop] = Turns()
        return turns.turn(background=background)

    @staticmethod
    def current() -> AsyncSession | None:
        return _current_unit.get()

    @asynccontextmanager
    async def reading(self) -> AsyncIterator[AsyncSession]:
        """A read-only unit of work: never takes the write lock, never commits."""
        async with self._reader() as session:  # closing ends the transaction, keeps the loaded rows
            yield session

    async def dispose(self) -> None:
        await self.engine.dispose()


class DatabaseUnreachable(Exception):
    """The database named by DATABASE_URL does not answer; the message names where (no
    password) and why, on one line."""


async def check_reachable(db: Database) -> None:
    """One trivial statement, so that a database that is away at start is one clear line
    rather than a traceback from whichever step touched it first."""
    try:
        async with db.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
    except (OSError, DBAPIError) as exc:
        where = make_url(db.url).render_as_string(hide_password=True)
        reason = str(getattr(exc, "orig", None) or exc).splitlines()[0]
        raise DatabaseUnreachable(
            f"setting DATABASE_URL: cannot reach the database at {where}: {reason}"
        ) from None


Traceback = TracebackType | None


class Writing:
    """`Database.session()`, `taking_turns()` and `unit_of_work()`: a session that commits at
    the end and rolls back on error, after its turn (`turn`) if it takes one, and joinable
    (`Database.current()`) if asked. One object rather than nested generators: every update
    opens one, and the generators' context managers cost more than the rest of opening it."""

    __slots__ = ("_db", "_joinable", "_session", "_token", "_turn")

    def __init__(self, db: Database, *, turn: Turn | None = None, joinable: bool = False) -> None:
        self._db = db
        self._turn = turn
        self._joinable = joinable
        self._session: AsyncSession | None = None
        self._token: Token[AsyncSession | None] | None = None

    async def __aenter__(self) -> AsyncSession:
        if self._turn is not None:
            await self._turn.__aenter__()
        try:
            session = self._session = self._db._writer()
        except BaseException:
            if self._turn is not None:
                await self._turn.__aexit__(None, None, None)
            raise
        if self._joinable:
            self._token = _current_unit.set(session)
        return session

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        session = self._session
        assert session is not None, "entered"
        try:
            if self._token is not None:
                _current_unit.reset(self._token)
            try:
                if kind is not None:
                    await session.rollback()
                else:
                    try:
                        await session.commit()
                    except BaseException:
                        await session.rollback()
                        raise
            finally:
                await session.__aexit__(kind, error, tb)  # closes it, even when cancelled
        finally:
            if self._turn is not None:
                await self._turn.__aexit__(kind, error, tb)
