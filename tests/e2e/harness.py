"""The end-to-end harness: the sandbox emulator as Telegram, the real bot polling against it.

    async def test_start(world: World) -> None:
        alice = world.user(800000001)          # 区长 in fire-safety-5-level.yaml (an admin here)
        await alice.send("/start")
        await alice.expect_reply(contains="区长")

`world` (tests/e2e/conftest.py) gives a fresh SQLite file with a scenario imported
(fire-safety-5-level.yaml unless `@pytest.mark.scenario("…yaml")`), an emulator, and the bot
built by the same factories production uses, with background services (the notifier, the
scheduler) started as in production. `world.clock` is the bot's clock (a ManualClock);
`await world.restart()` stops the bot and starts a new one on the same database, as after a
crash or a deploy.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

from aiogram import Bot, Dispatcher, Router
from aiogram.client.default import DefaultBotProperties
from aiogram.enums import ParseMode
from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.app import create_app
from bot.context import AppContext
from bot.notifier import PENDING, SENDING, Limits, OutboxNotifier
from bot.runners import build
from bot.settings import load_settings
from domain.clock import ManualClock
from sandbox.emulator import Emulator
from storage.db import Database
from storage.models import Delivery

TOKEN = "7000000001:TEST-gridbot-e2e"
BOT_USERNAME = "gridbot_test_bot"
ADMIN_TG_ID = 800000001  # 区长 of fire-safety-5-level.yaml
HANDLED_WITHIN = 30.0  # a safety limit on waiting for the bot to handle what was sent; failing


class HandledDatabase:
    """`world.db`: the bot's database, where each session opens once the bot has handled every
    update sent to it so far.

    The bot answers inside its unit of work and commits just after, so a test that reads the
    database as soon as the answer arrives could see the state before that commit: on SQLite a
    write session happens to wait for the writer's lock, but a read there, and anything on
    PostgreSQL, does not. The bot confirms an update (its next getUpdates) only after the
    update's unit of work has committed (`handle_as_tasks=False`), so waiting for that
    confirmation is waiting for the commit, on either database.
    """

    def __init__(self, world: World) -> None:
        self._world = world

    @property
    def _db(self) -> Database:
        assert self._world.app is not None
        return self._world.app.db

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        await self._world.handled()
        async with self._db.session() as session:
            yield session

    @asynccontextmanager
    async def reading(self) -> AsyncIterator[AsyncSession]:
        await self._world.handled()
        async with self._db.reading() as session:
            yield session

    def __getattr__(self, name: str) -> Any:
        return getattr(self._db, name)


class EmulatorTimer:
    """The bot's waits on the emulator's clock: Telegram's limits are kept in its time, and a
    wait moves a manual clock at once instead of sleeping (a real clock is slept on)."""

    def __init__(self, emu: Emulator) -> None:
        self.emu = emu

    def monotonic(self) -> float:
        return self.emu.clock.monotonic()

    async def sleep(self, seconds: float) -> None:
        clock = self.emu.clock
        if isinstance(clock, ManualClock):
            if seconds > 0:
                clock.advance(seconds)
            await asyncio.sleep(0)
        else:
            await asyncio.sleep(max(seconds, 0.0))


class World:
    def __init__(
        self,
        emu: Emulator,
        db_url: str,
        clock: ManualClock,
        *,
        extra_routers: tuple[Callable[[], Router], ...] = (),
        notifier_limits: Limits | None = None,
        **settings: Any,
    ) -> None:
        self.notifier_limits = notifier_limits
        self.emu = emu
        self.extra_routers = extra_routers
        self.db_url = db_url
        self.clock = clock
        self.settings_overrides = settings
        self.app: AppContext | None = None
        self.bot: Bot | None = None
        self.dp: Dispatcher | None = None
        self._task: asyncio.Task[None] | None = None
        emu.settlers.append(self.outbox_settled)

    def user(self, tg_id: int, **profile: Any) -> Any:
        """The conversation driver for a person (see sandbox/driver.py)."""
        return self.emu.user(tg_id, **profile)

    def everyone_opened_the_bot(self) -> None:
        """Every person on the roster has pressed Start (by default nobody has, as on the
        day of an import): for tests about something else than reaching people."""
        for tg_id in list(self.emu.users):
            self.emu.ensure_user(tg_id, started=True)

    @property
    def db(self) -> Any:
        """The bot's database, read once the bot has handled what was sent (HandledDatabase)."""
        assert self.app is not None
        return HandledDatabase(self)

    async def handled(self) -> None:
        """Until the bot has confirmed, so handled and committed, every update queued for it
        until now. Nothing to wait for while the bot is not polling."""
        if self._task is None or self._task.done():
            return
        record = self.emu.bots[TOKEN]
        queued = {id(u) for u in record.updates}  # by identity: a replay repeats an id

        def confirmed() -> bool:
            return not any(id(u) in queued for u in record.updates)

        if not await self.emu.changed.wait_for(confirmed, HANDLED_WITHIN):
            left = [u.get("update_id") for u in record.updates if id(u) in queued]
            raise AssertionError(f"the bot did not handle update(s) {left} in {HANDLED_WITHIN}s")

    async def start(self) -> None:
        settings = load_settings(
            bot_token=TOKEN,
            database_url=self.db_url,
            telegram_api_base=self.emu.base_url,
            admin_ids=frozenset({ADMIN_TG_ID}),
            **self.settings_overrides,
        )
        self.app = create_app(settings, clock=self.clock)
        # Telegram's own limits on both sides. Waiting them out (the notifier's pace, a
        # handler's retry after a 429) moves the emulator's clock instead of real time.
        timer = EmulatorTimer(self.emu)
        self.app.timer = timer
        if self.notifier_limits is not None:
            self.app.notifier_limits = self.notifier_limits
        self.bot = Bot(
            TOKEN,
            session=self.emu.bot_session(),
            default=DefaultBotProperties(parse_mode=ParseMode.HTML),
        )
        # Test-only routers, built afresh for this Dispatcher, claim updates after the features.
        self.dp = build(self.app, extra_routers=[make() for make in self.extra_routers])
        started = asyncio.Event()

        async def mark_started() -> None:
            started.set()

        self.dp.startup.register(mark_started)
        # handle_as_tasks=False: the getUpdates that confirms a batch leaves only after the
        # batch's handlers (and their commits) are done, so the driver's negative checks,
        # which wait for that confirmation, read the transcript after the bot has answered.
        self._task = asyncio.create_task(
            self.dp.start_polling(
                self.bot, handle_signals=False, polling_timeout=1, handle_as_tasks=False
            )
        )
        waiter = asyncio.create_task(started.wait())
        done, _ = await asyncio.wait(
            {waiter, self._task}, timeout=30, return_when="FIRST_COMPLETED"
        )
        if self._task in done:
            waiter.cancel()
            self._task.result()  # start-up failed: raise its error here
        if waiter not in done:
            raise TimeoutError("the bot did not start within 30 s")

    async def stop(self) -> None:
        if self.dp is not None and self._task is not None:
            with contextlib.suppress(RuntimeError):
                await self.dp.stop_polling()
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.wait_for(self._task, timeout=30)
        if self.bot is not None:
            await self.bot.session.close()
        self._task = None
        self.dp = None
        self.bot = None

    async def outbox_settled(self) -> None:
        """Until the outbox has nothing due: its pushes are sent after the update that queued
        them was handled, so the driver's negative checks wait for this too (emu.settlers).
        First until every update so far is handled: a reply goes out before its update
        commits, so a test that saw the reply may ask before the rows it queues exist."""
        await self.handled()
        app = self.app
        while app is not None and isinstance(app.notifier, OutboxNotifier):
            await app.notifier.drain()
            # Idle is the notifier's word; the outbox rows are the record.
            async with app.db.reading() as s:
                due = await s.exec(
                    select(func.count())
                    .select_from(Delivery)
                    .where(
                        col(Delivery.status).in_((PENDING, SENDING)),
                        col(Delivery.not_before) <= self.clock.now(),
                    )
                )
                if due.one() == 0:
                    return

    async def restart(self) -> None:
        await self.stop()
        await self.start()

    def at(self, when: datetime) -> None:
        """Set the bot's clock."""
        self.clock.set(when)
