"""One run of a chasing job: what it says (`ChasingTexts`), the tree it reads (`Tree`), the
pushes it queues (`Pusher`) and what it did (`Outcome`).

A job computes in a read-only unit of work (it never holds the write lock while it reads
the city) and the `Pusher` only collects its pushes; `Pusher.write` then queues them in
short transactions of `PUSHES_PER_TRANSACTION` rows, so handlers get the lock between two
chunks. The outbox keys make that safe: a run cut off after some chunks and run again
queues only the rest, never a push twice. Escalations, the one other write, each commit
on their own as they are decided (`escalation.climb`).

The job runs in the handlers' event loop, so it keeps out of their way: it reads the tree a
slice at a time, computes in slices of `SLICE_S`, and before each slice lets the updates in
flight commit (`give_way`, `breathe`); no full garbage collection runs while it holds the
city (`collector_held`), and the start-up heap is frozen (bot/startup_heap.py) so the one
after it is short.
"""

from __future__ import annotations

import asyncio
import gc
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from domain.digest import GridNode, Holding, PersonInfo
from services.case_notify import CaseTexts
from services.chasing.rules import Rules, hold_until
from storage import chasing as cq
from storage.chasing import Push, queue_pushes
from storage.db import Database
from storage.turns import lull

Texts = Callable[..., str]
"""`t(key, language, **params) -> str` (the translator)."""

PUSHES_PER_TRANSACTION = 300
"""Outbox rows per write transaction: the write lock is held for milliseconds at a time."""

SLICE_S = 0.002
"""The most a job computes before it gives way: the handlers run in the same loop, so an
update that arrives while the job computes waits for the rest of one slice."""
CHECK_EVERY = 16
"""Rows looked at between two looks at the clock."""

AfterChunk = Callable[[int], Awaitable[None]]
"""Called after each committed chunk with the number of pushes written so far (the
scheduler can wake the notifier; a test can cut the run off there)."""


_held = 0
_thresholds = gc.get_threshold()


@contextmanager
def collector_held() -> Iterator[None]:
    """No full garbage-collector pass while a job holds the city in memory. Its hundreds of
    thousands of rows would set off full passes over the whole heap, each stopping the event
    loop (and the handlers) for hundreds of milliseconds; the young generations are still
    collected (cheap), the job's rows are freed by reference counting when it ends. Jobs
    that overlap share one hold: the thresholds come back when the last one ends."""
    global _held, _thresholds
    if _held == 0:
        _thresholds = gc.get_threshold()
        gc.set_threshold(_thresholds[0], _thresholds[1], 1_000_000)
    _held += 1
    try:
        yield
    finally:
        _held -= 1
        if _held == 0:
            gc.set_threshold(*_thresholds)


_slice_began = time.perf_counter()


async def give_way(n: int) -> None:
    """Once the job has computed for `SLICE_S` (`n` counts the calls; the clock is read
    every `CHECK_EVERY`th), let the updates in flight finish first (`storage.turns.lull`:
    each holds the write lock until it commits, so a slice computed while one waits on the
    driver would be added to it and to every update behind it), then let the event loop run
    whatever else is ready (an update that just arrived starts)."""
    if n % CHECK_EVERY == 0 and time.perf_counter() - _slice_began >= SLICE_S:
        await breathe()


async def breathe() -> None:
    """Give way now (between two slices of a city-wide read): `give_way` without the clock."""
    global _slice_began
    await lull()
    await asyncio.sleep(0)
    _slice_began = time.perf_counter()


@dataclass(frozen=True)
class ChasingTexts:
    """What the chasing says, built by the bot layer as the handlers build theirs: the
    message catalogue, the language of people who chose none, and the case cards an
    escalation redraws (it goes through `services.cases.perform`, as a leader's press)."""

    t: Texts
    default_language: str
    cases: CaseTexts


@dataclass
class Tree:
    """The grid tree and who leads where, from two grouped queries."""

    grids: dict[int, GridNode]
    leaders: dict[int, list[int]]
    people: dict[int, PersonInfo]

    def nearest_leaders(self, grid_id: int) -> list[int]:
        gid: int | None = grid_id
        while gid is not None:
            found = self.leaders.get(gid)
            if found:
                return found
            node = self.grids.get(gid)
            gid = node.parent_id if node else None
        return []

    def ancestors(self, grid_id: int) -> list[int]:
        out = []
        gid: int | None = grid_id
        while gid is not None and gid in self.grids:
            out.append(gid)
            gid = self.grids[gid].parent_id
        return out

    async def refresh_people(self, session: AsyncSession, ids: set[int]) -> None:
        """Add the people the tree's roles did not bring (an assignee without a role)."""
        missing = {i for i in ids if i not in self.people}
        for pid, p in (await cq.people_by_ids(session, missing)).items():
            self.people[pid] = PersonInfo(pid, p.name, p.tg_id, p.language, p.reachable)


async def load_tree(session: AsyncSession) -> tuple[Tree, list[Holding]]:
    """The tree, read a slice at a time (`storage.chasing`), giving way between slices."""
    grids = {g.id: g for g in await cq.grid_nodes(session, breathe)}
    holdings = await cq.holdings(session, breathe)
    leaders: dict[int, list[int]] = defaultdict(list)
    for i, h in enumerate(holdings, start=1):
        await give_way(i)
        if h.is_leader and h.person_id not in leaders[h.grid_id]:
            leaders[h.grid_id].append(h.person_id)
    people = await cq.people(session, breathe)
    return Tree(grids, dict(leaders), people), holdings


@dataclass
class Outcome:
    queued: list[str] = field(default_factory=list)
    escalated: list[int] = field(default_factory=list)


class Pusher:
    """Collects the pushes of one job run: language per person, quiet hours, keys. The
    first push of a key wins, as `storage.outbox.enqueue` would have it; `write` queues."""

    def __init__(
        self,
        session: AsyncSession,
        *,
        db: Database,
        now: datetime,
        rules: Rules,
        texts: ChasingTexts,
        people: dict[int, PersonInfo],
        outcome: Outcome,
    ) -> None:
        self.session = session  # the run's read-only unit of work
        self.db = db  # for the writes: escalations, then the pushes in chunks
        self.now = now
        self.rules = rules
        self.texts = texts
        self.t = texts.t
        self.default_language = texts.default_language
        self.people = people
        self.outcome = outcome
        self.pending: dict[str, Push] = {}
        self.case_config: Any = None  # services.cases.Config, loaded by the first climb

    def lang(self, person_id: int | None) -> str:
        p = self.people.get(person_id) if person_id is not None else None
        return (p.language if p else None) or self.default_language

    async def to_person(
        self, person_id: int, key: str, kind: str, text: str, *, urgent: bool = False
    ) -> None:
        person = self.people.get(person_id)
        if person is None or person.tg_id is None:
            return
        await self.to_chat(person.tg_id, key, kind, text, person_id=person_id, urgent=urgent)

    async def to_chat(
        self,
        chat_id: int,
        key: str,
        kind: str,
        text: str,
        *,
        person_id: int | None = None,
        urgent: bool = False,
    ) -> None:
        if key in self.pending:
            return
        not_before = hold_until(self.now, self.rules, urgent=urgent) or self.now
        self.pending[key] = Push(key, kind, chat_id, text, person_id, urgent, not_before)
        await give_way(len(self.pending))

    async def write(
        self, *, chunk: int = PUSHES_PER_TRANSACTION, after_chunk: AfterChunk | None = None
    ) -> None:
        """Queue the collected pushes, `chunk` rows per transaction, in the order collected."""
        pushes = list(self.pending.values())
        for start in range(0, len(pushes), chunk):
            part = pushes[start : start + chunk]
            async with self.db.taking_turns(background=True) as session:
                queued = await queue_pushes(session, part, now=self.now)
            self.outcome.queued.extend(queued)
            if after_chunk is not None:
                await after_chunk(start + len(part))
        self.pending.clear()
