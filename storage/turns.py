"""Writers of one process taking turns at SQLite's one write lock.

A connection that finds SQLite's write lock taken polls it from its busy handler, backing
off up to 100 ms a try: behind a stream of short transactions (a job's chunks, other
updates) a waiting update can miss every free moment. So the process's writers queue here
first, and only the one whose turn it is asks SQLite for the lock:

- updates (the handlers' units of work) in arrival order;
- background writers (a chasing job's chunks and climbs) when no update is waiting or
  writing, or once they have waited `BACKGROUND_PATIENCE_S` (so a busy hour delays a job,
  never stops it). An update that arrives while a background transaction runs waits for
  that one only, never for the job's next ones.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress

BACKGROUND_PATIENCE_S = 0.5


class Turns:
    def __init__(self) -> None:
        self._lock = asyncio.Lock()
        self._updates = 0  # updates waiting for their turn or writing
        self._no_update = asyncio.Event()
        self._no_update.set()

    @asynccontextmanager
    async def turn(self, *, background: bool = False) -> AsyncIterator[None]:
        if background:
            await self._background_turn()
        else:
            self._updates += 1
            self._no_update.clear()
            try:
                await self._lock.acquire()
            except BaseException:
                self._update_done()
                raise
        try:
            yield
        finally:
            self._lock.release()
            if not background:
                self._update_done()

    def _update_done(self) -> None:
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
