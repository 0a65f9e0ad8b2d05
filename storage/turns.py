"""Writers of one process taking turns at SQLite's one write lock, and a job's computing
giving way to the updates in flight.

A connection that finds SQLite's write lock taken polls it from its busy handler, backing
off up to 100 ms a try: behind a stream of short transactions (a job's chunks, other
updates) a waiting update can miss every free moment. So the process's writers queue here
first, and only the one whose turn it is asks SQLite for the lock:

- updates (the handlers' units of work) in arrival order;
- background writers (a chasing job's chunks and climbs) when no update is waiting or
  writing, or once they have waited `BACKGROUND_PATIENCE_S` (so a busy hour delays a job,
  never stops it). An update that arrives while a background transaction runs waits for
  that one only, never for the job's next ones.

An update holds the write lock from its first statement to its commit, so every moment the
event loop spends elsewhere while the update waits on the driver is added to the update and
to every update queued behind it. A job that computes in the same loop therefore asks
`lull()` before each slice of computing: it waits until the updates in flight at that
moment have committed (not for the ones that arrive after: a busy hour slows a job, never
stops it).
"""

from __future__ import annotations

import asyncio
import weakref
from contextlib import suppress

BACKGROUND_PATIENCE_S = 0.5


class _Cohort:
    """Updates that entered while it was the current one."""

    def __init__(self) -> None:
        self.size = 0
        self.done = asyncio.Event()
        self.done.set()

    def enter(self) -> None:
        self.size += 1
        self.done.clear()

    def leave(self) -> None:
        self.size -= 1
        if self.size == 0:
            self.done.set()


class _Traffic:
    """The updates in flight in one event loop, in cohorts: `lull` closes the current
    cohort and waits for it, while newer updates join the next one."""

    def __init__(self) -> None:
        self.current = _Cohort()
        self.writing: set[asyncio.Task[object]] = set()  # tasks inside a turn


_traffic: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Traffic] = (
    weakref.WeakKeyDictionary()
)


def _loop_traffic() -> _Traffic:
    loop = asyncio.get_running_loop()
    found = _traffic.get(loop)
    if found is None:
        found = _traffic[loop] = _Traffic()
    return found


async def lull() -> None:
    """Return once every update in flight now (waiting for its turn or writing) has ended.

    Called by background work between two slices of computing. Inside a write turn it
    returns at once: the updates it would wait for may be waiting for that very turn."""
    traffic = _loop_traffic()
    if asyncio.current_task() in traffic.writing:
        return
    cohort = traffic.current
    if cohort.size == 0:
        return
    traffic.current = _Cohort()
    await cohort.done.wait()


class Turns:
    def __init__(self) -> None:
        self._lock = asyncio.Lock()
        self._updates = 0  # updates waiting for their turn or writing
        self._no_update = asyncio.Event()
        self._no_update.set()

    def turn(self, *, background: bool = False) -> Turn:
        """This writer's turn, as `async with`: updates in arrival order; `background`: after
        them (or once it has waited `BACKGROUND_PATIENCE_S`)."""
        return Turn(self, background=background)

    def _update_done(self, cohort: _Cohort) -> None:
        cohort.leave()
        self._updates -= 1
        if self._updates == 0:
            self._no_update.set()

    async def _background_turn(self) -> None:
        loop = asyncio.get_running_loop()
        give_up_at = loop.time() + BACKGROUND_PATIENCE_S
        while True:
            left = give_up_at - loop.time()
            if left > 0 and not self._no_update.is_set():
                with suppress(TimeoutError):
                    await asyncio.wait_for(self._no_update.wait(), left)
            await self._lock.acquire()
            if self._updates == 0 or loop.time() >= give_up_at:
                return
            self._lock.release()  # an update came in meanwhile: it goes first


class Turn:
    """`Turns.turn()`. An object rather than a generator: every update takes one, and a
    generator's context manager costs several times the work it wraps."""

    __slots__ = ("_background", "_cohort", "_task", "_traffic", "_turns")

    def __init__(self, turns: Turns, *, background: bool) -> None:
        self._turns = turns
        self._background = background
        self._cohort: _Cohort | None = None
        self._task: asyncio.Task[object] | None = None
        self._traffic: _Traffic | None = None

    async def __aenter__(self) -> None:
        turns = self._turns
        traffic = self._traffic = _loop_traffic()
        if self._background:
            await turns._background_turn()
        else:
            cohort = self._cohort = traffic.current
            cohort.enter()
            turns._updates += 1
            turns._no_update.clear()
            try:
                await turns._lock.acquire()
            except BaseException:
                turns._update_done(cohort)
                raise
        task = self._task = asyncio.current_task()
        if task is not None:
            traffic.writing.add(task)

    async def __aexit__(self, *_exc: object) -> None:
        assert self._traffic is not None, "entered"
        self._traffic.writing.discard(self._task)  # type: ignore[arg-type]
        self._turns._lock.release()
        if self._cohort is not None:
            self._turns._update_done(self._cohort)
