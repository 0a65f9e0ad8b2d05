"""`gridbot demo`: the local emulator as Telegram, the real bot, and a demo grid.

Everything runs in this one process on loopback: the emulator also serves the web chat
(sandbox/web, at /chat/); `gridbot chat --as TG_ID` (another process) talks to the emulator's
HTTP control API. The demo's database is `data/demo.sqlite3`, made afresh at every start.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import json
import logging
import signal
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from aiogram import Bot
from aiogram.client.default import DefaultBotProperties
from aiogram.enums import ParseMode
from sqlmodel import col, select

from bot.app import create_app
from bot.demo_web import DemoClock, ShiftedClock, fences, roster
from bot.runners import build
from bot.settings import Settings
from domain.scenario import Scenario, parse_scenario
from sandbox.emulator import Emulator
from sandbox.terminal import run_terminal_chat
from sandbox.web import WebChat
from storage.db import Database
from storage.importer import apply_import
from storage.migrate import upgrade
from storage.models import Grid, Membership, Person

log = logging.getLogger(__name__)

DEMO_TOKEN = "7000000000:DEMO-local-sandbox-token"
DEMO_BOT = "gridbot_demo_bot"
DEMO_DB = Path("data/demo.sqlite3")
DEMO_STATE = Path("data/demo.json")
SHARED = Path(__file__).resolve().parents[2] / "shared" / "scenarios"
BUNDLED = Path(__file__).resolve().parent / "demo_data"
DEFAULT_SCENARIO = "fire-safety-5-level.yaml"
THINK_S = 2.0


class PortTaken(Exception):
    """The emulator's port is in use; the message says what to do, in one line."""


def default_scenario() -> Path:
    shared = SHARED / DEFAULT_SCENARIO
    return shared if shared.exists() else BUNDLED / DEFAULT_SCENARIO


async def prepare_database(db: Database, scenario: Scenario, now: datetime) -> None:
    await upgrade(db)
    async with db.session() as session:
        await apply_import(session, scenario, now=now)


@dataclass(frozen=True)
class DemoGroup:
    code: str  # the grid's or department's code: `gridbot chat --group CODE`
    title: str
    chat_id: int
    member: int  # someone in it, for the banner's example


async def bind_demo_groups(db: Database, emu: Emulator) -> list[DemoGroup]:
    """One group per 社区-level grid (level 3), with its people, bound to that grid."""
    bound: list[DemoGroup] = []
    async with db.session() as session:
        grids = (await session.exec(select(Grid).where(Grid.level == 3))).all()
        for grid in grids:
            members = (
                await session.exec(
                    select(Person.tg_id)
                    .join(Membership, col(Membership.person_id) == Person.id)
                    .join(Grid, col(Grid.id) == Membership.grid_id)
                    .where(col(Grid.path).startswith(grid.path))
                )
            ).all()
            ids = list(dict.fromkeys(int(m) for m in members if m is not None))
            if not ids:
                continue
            chat = emu.create_group(f"{grid.name}网格群", members=ids, admins=ids[:1])
            grid.group_chat_id = chat.id
            session.add(grid)
            bound.append(DemoGroup(grid.code, chat.title or "", chat.id, ids[0]))
    return bound


def admin_group(emu: Emulator, scenario: Scenario, admin: int) -> DemoGroup | None:
    """A department's duty group the demo's admin created, the bot in it and nothing bound:
    `/bind CODE` there works at once (the admin is a gridbot admin and the group's creator)."""
    if not scenario.departments:
        return None
    dept = scenario.departments[0]
    chat = emu.create_group(f"{dept.name}值班群", members=[admin], creator=admin)
    return DemoGroup(dept.code, chat.title or "", chat.id, admin)


async def start_emulator(emu: Emulator, port: int) -> None:
    try:
        await emu.start()
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise PortTaken(
                f"port {port} on 127.0.0.1 is taken (another demo running?): "
                f"stop it, or start this one with --port {port + 1}"
            ) from None
        raise


def print_banner(
    parsed: Scenario,
    emu: Emulator,
    people: list[dict[str, Any]],
    groups: list[DemoGroup],
    bind: DemoGroup | None,
) -> None:
    admin = parsed.people[0]
    chat = ".venv/bin/gridbot chat"
    print(f"网格通 demo: {parsed.name} — {len(parsed.grids)} grids, {len(parsed.people)} people")
    print(f"database: {DEMO_DB.resolve()} (SQLite, made afresh at every start)")
    print(f"web chat: {emu.base_url}/chat/   <- open it in a browser and pick a person")
    print(f"emulator at {emu.base_url}; {len(groups)} grid groups bound")
    print("people to try, one per role (`:who` in the terminal chat lists them all):")
    seen: set[str] = set()
    for row in people:
        if row["role"] not in seen:
            seen.add(row["role"])
            marks = " (admin)" if row["admin"] else ""
            print(f"  {row['tg_id']}  {row['role_label']}: {row['name']}{marks}")
    print("or talk to the bot from another terminal:")
    plain = next((r for r in people if not r["leader"] and not r["admin"]), None)
    print(f"  {chat} --as {plain['tg_id'] if plain else admin.tg_id}")
    if groups:
        print(f"  {chat} --as {groups[0].member} --group {groups[0].code}    # {groups[0].title}")
    print(f"admin: {admin.tg_id} ({admin.name})")
    if bind is not None:
        print(
            f"  {chat} --as {admin.tg_id} --group {bind.code}    # {bind.title}: "
            f"type /bind {bind.code} to bind it"
        )
    print("Ctrl-C stops the demo.", flush=True)


async def run_demo(
    settings: Settings,
    *,
    scenario: Path | None,
    port: int,
    chat_as: int | None,
    group: str | None = None,
) -> None:
    path = scenario or default_scenario()
    parsed = parse_scenario(path.read_text(encoding="utf-8"), source=str(path))
    admin = parsed.people[0].tg_id
    settings = settings.model_copy(
        update={
            "database_url": f"sqlite+aiosqlite:///{DEMO_DB}",
            "admin_ids": frozenset(settings.admin_ids | {admin}),
        }
    )
    # One clock for the bot and the emulator, which a visitor may move on (the web chat's
    # "jump to 18:00"); the scheduler stays live.
    clock = ShiftedClock()
    emu = Emulator(clock=clock, port=port)
    # Each press or message is taken as a person's, after THINK_S of thought: Telegram's flood
    # limits meet a person's pace even when a browser test clicks at machine speed.
    emu.think_time = THINK_S
    app = create_app(settings)
    app.clock = clock
    web = WebChat(
        emu,
        ZoneInfo(parsed.timezone),
        roster=lambda: roster(app),
        fences=lambda: fences(app),
        clock=DemoClock(app, clock),
    )
    emu.route_hooks.append(web.routes)
    await start_emulator(emu, port)  # first: a demo already running here keeps its database
    terminated = _stop_on_sigterm()
    try:
        DEMO_DB.parent.mkdir(parents=True, exist_ok=True)
        DEMO_DB.unlink(missing_ok=True)
        emu.add_bot(DEMO_TOKEN, DEMO_BOT)
        app.settings = settings.model_copy(update={"telegram_api_base": emu.base_url})
        await prepare_database(app.db, parsed, app.clock.now())
        # As on Telegram: Telegram's flood limits (the emulator's default), and nobody has
        # opened the bot yet; the bot may write to a person once they have written to it.
        for person in parsed.people:
            emu.ensure_user(person.tg_id, person.name)
        groups = await bind_demo_groups(app.db, emu)
        bind = admin_group(emu, parsed, admin)
        codes = {g.code: g.chat_id for g in [*groups, *([bind] if bind else [])]}
        DEMO_STATE.write_text(json.dumps({"emulator_url": emu.base_url, "groups": codes}))
        bot = Bot(
            DEMO_TOKEN,
            session=emu.bot_session(),
            default=DefaultBotProperties(parse_mode=ParseMode.HTML),
        )
        dp = build(app)
        polling = asyncio.create_task(dp.start_polling(bot, handle_signals=False))
        print_banner(parsed, emu, await roster(app), groups, bind)
        try:
            if chat_as is not None:
                await run_terminal_chat(emu.base_url, chat_as, group=group, codes=codes)
            else:
                await polling
        finally:
            with contextlib.suppress(RuntimeError):
                await dp.stop_polling()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await polling
            await bot.session.close()
            DEMO_STATE.unlink(missing_ok=True)
    except asyncio.CancelledError:
        if not terminated.is_set():
            raise
    finally:
        await emu.stop()


def _stop_on_sigterm() -> asyncio.Event:
    """`kill` (SIGTERM) stops the demo as Ctrl-C does: everything is closed and data/demo.json
    removed. The event says it was that."""
    terminated = asyncio.Event()
    task = asyncio.current_task()

    def stop() -> None:
        terminated.set()
        if task is not None:
            task.cancel()

    with contextlib.suppress(NotImplementedError, RuntimeError):  # not on Windows
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop)
    return terminated
