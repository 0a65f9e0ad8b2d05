"""`gridbot demo`: the local emulator as Telegram, the real bot, and a demo grid.

Everything runs in this one process on loopback; `gridbot chat --as TG_ID` (another process)
talks to the emulator's HTTP control API. The demo's database is `data/demo.sqlite3`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from datetime import datetime
from pathlib import Path

from aiogram import Bot
from aiogram.client.default import DefaultBotProperties
from aiogram.enums import ParseMode
from sqlmodel import col, select

from bot.app import create_app
from bot.runners import build
from bot.settings import Settings
from domain.scenario import Scenario, parse_scenario
from sandbox.emulator import Emulator
from sandbox.terminal import run_terminal_chat
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


def default_scenario() -> Path:
    shared = SHARED / DEFAULT_SCENARIO
    return shared if shared.exists() else BUNDLED / DEFAULT_SCENARIO


async def prepare_database(db: Database, scenario: Scenario, now: datetime) -> None:
    await upgrade(db)
    async with db.session() as session:
        await apply_import(session, scenario, now=now)


async def bind_demo_groups(db: Database, emu: Emulator) -> list[tuple[str, int]]:
    """One group per 社区-level grid (level 3), with its people, bound to that grid."""
    bound: list[tuple[str, int]] = []
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
            ids = [int(m) for m in members if m is not None]
            chat = emu.create_group(f"{grid.name}网格群", members=ids, admins=ids[:1])
            grid.group_chat_id = chat.id
            session.add(grid)
            bound.append((grid.name, chat.id))
    return bound


async def run_demo(
    settings: Settings, *, scenario: Path | None, port: int, chat_as: int | None
) -> None:
    path = scenario or default_scenario()
    parsed = parse_scenario(path.read_text(encoding="utf-8"), source=str(path))
    DEMO_DB.parent.mkdir(parents=True, exist_ok=True)
    DEMO_DB.unlink(missing_ok=True)
    settings = settings.model_copy(
        update={
            "database_url": f"sqlite+aiosqlite:///{DEMO_DB}",
            "admin_ids": frozenset(settings.admin_ids | {parsed.people[0].tg_id}),
        }
    )
    async with Emulator(port=port) as emu:
        emu.add_bot(DEMO_TOKEN, DEMO_BOT)
        settings = settings.model_copy(update={"telegram_api_base": emu.base_url})
        app = create_app(settings)
        await prepare_database(app.db, parsed, app.clock.now())
        # As on Telegram: Telegram's flood limits (the emulator's default), and nobody has
        # opened the bot yet; the bot may write to a person once they have written to it.
        for person in parsed.people:
            emu.ensure_user(person.tg_id, person.name)
        groups = await bind_demo_groups(app.db, emu)
        DEMO_STATE.write_text(json.dumps({"emulator_url": emu.base_url}))
        bot = Bot(
            DEMO_TOKEN,
            session=emu.bot_session(),
            default=DefaultBotProperties(parse_mode=ParseMode.HTML),
        )
        dp = build(app)
        polling = asyncio.create_task(dp.start_polling(bot, handle_signals=False))
        print(
            f"网格通 demo: {parsed.name} — {len(parsed.grids)} grids, {len(parsed.people)} people"
        )
        print(f"emulator at {emu.base_url}; {len(groups)} demo groups bound")
        print("talk to the bot from another terminal, for example:")
        for person in parsed.people[:4]:
            print(f"  .venv/bin/gridbot chat --as {person.tg_id}    # {person.name}")
        print(f"admin: {parsed.people[0].tg_id} ({parsed.people[0].name}). Ctrl-C stops the demo.")
        try:
            if chat_as is not None:
                await run_terminal_chat(emu.base_url, chat_as)
            else:
                await polling
        finally:
            with contextlib.suppress(RuntimeError):
                await dp.stop_polling()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await polling
            await bot.session.close()
            DEMO_STATE.unlink(missing_ok=True)
