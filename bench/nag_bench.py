"""Handlers while the 09:30 nag job runs on a city (SQLite).

    python bench/nag_bench.py              # digest_bench's city: 20,000 leaf grids, ~61,000
                                           # people, 2,000,000 patrols, 300,000 cases
    python bench/nag_bench.py --scale 0.1  # a quick run

The city is digest_bench's database (built under bench/out/ with its bulk inserts, or
reused when already there at that scale), copied to a working file each run, with the cases
brought to a working city's mix: most under-deadline cases due in the days ahead, about 1 in
50 due tomorrow, 1 in 500 overdue for weeks (they climb), 1 in 500 reports never accepted
(they climb too), 1 in 1,000 reported three hours ago (their leaders are reminded).

Then, in one process, as production runs them (one event loop: the bot's dispatcher and the
scheduler's jobs):

1. baseline: `--chats` guards at once each go through /start, /patrol with a quick check-in
   and its location (writes a patrol), `--think` seconds between two of their
   updates, over and over, through the real dispatcher
   (bot.app.create_dispatcher, the Bot API answered in process by bench/stub_bot.py), for
   `--baseline` seconds; every update's latency is kept (/my is left out: at this scale one
   /my takes ~450 ms on its own and every update waits its turn behind it, so it would
   measure /my, not the job);
2. during: the same, while the 09:30 nag job (scheduler.jobs.nag_now: patrol nags and
   shortfalls, case reminders, 催办 and climbs, the sweep, the roll calls) runs, until it ends.

Prints the percentiles of both, the job's time and what it queued. The last line is the p99
latency during the job over the 200 ms goal.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import shutil
import sqlite3
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from aiogram import Bot, Dispatcher  # noqa: E402
from aiogram.client.default import DefaultBotProperties  # noqa: E402
from aiogram.enums import ParseMode  # noqa: E402
from aiogram.types import Update  # noqa: E402

from bench.digest_bench import build, ts  # noqa: E402
from bench.stub_bot import StubSession  # noqa: E402
from bot.app import create_app, create_dispatcher  # noqa: E402
from bot.settings import load_settings  # noqa: E402
from domain.clock import ManualClock  # noqa: E402
from scheduler import jobs  # noqa: E402
from storage.db import Database  # noqa: E402
from storage.migrate import upgrade  # noqa: E402

TOKEN = "7000000002:BENCH-gridbot-nag"
TZ = ZoneInfo("Asia/Shanghai")
NAG = datetime(2026, 11, 27, 9, 30, tzinfo=TZ)  # the morning after digest_bench's NOW
GOAL_MS = 200.0
OUT = ROOT / "bench" / "out"
HERE = {"latitude": 23.1291, "longitude": 113.2644}


async def city(scale: float) -> Path:
    """digest_bench's city at `scale` (built once), copied to this run's working file."""
    OUT.mkdir(parents=True, exist_ok=True)
    source = OUT / f"city-{scale:g}.sqlite3"
    if not source.exists():
        db = Database(f"sqlite+aiosqlite:///{source}")
        await upgrade(db)
        await db.dispose()
        started = time.perf_counter()
        sizes = build(source, scale)
        print(f"built {source.name} in {time.perf_counter() - started:.0f} s: {sizes}")
    else:
        await upgrade_in_place(source)
    con = sqlite3.connect(source)
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()
    target = OUT / f"nag-{scale:g}.sqlite3"
    for leftover in OUT.glob(target.name + "*"):
        leftover.unlink()
    shutil.copyfile(source, target)
    working_mix(target)
    return target


async def upgrade_in_place(path: Path) -> None:
    """A city built before the latest migration gets it (as a deployment would)."""
    db = Database(f"sqlite+aiosqlite:///{path}")
    await upgrade(db)
    await db.dispose()


def working_mix(path: Path) -> None:
    con = sqlite3.connect(path)
    ahead, tomorrow = ts(NAG + timedelta(days=4)), ts(NAG + timedelta(days=1))
    con.execute(
        'UPDATE "case" SET deadline_at = CASE WHEN id % 500 = 0 THEN deadline_at'
        " WHEN id % 50 = 1 THEN ? ELSE ? END"
        " WHERE status IN ('assigned', 'in_progress')",
        (tomorrow, ahead),
    )
    con.execute(
        "UPDATE \"case\" SET status = 'accepted', accepted_at = created_at"
        " WHERE status = 'reported' AND id % 500 != 0 AND id % 1000 != 7"
    )
    con.execute(
        "UPDATE \"case\" SET created_at = ? WHERE status = 'reported' AND id % 1000 = 7",
        (ts(NAG - timedelta(hours=3)),),
    )
    con.commit()
    con.close()


def guards(path: Path, n: int) -> list[int]:
    """Guards of `n` leaf grids spread over the city (their tg_ids)."""
    con = sqlite3.connect(path)
    rows = con.execute(
        "SELECT p.tg_id FROM membership m JOIN person p ON p.id = m.person_id"
        " WHERE m.role_id = 2 AND p.reachable = 1 ORDER BY m.grid_id"
    ).fetchall()
    con.close()
    step = max(1, len(rows) // max(n, 1))
    return [int(r[0]) for r in rows[::step][:n]]


class Chat:
    """One guard's chat: feeds updates one at a time, keeps each one's latency."""

    def __init__(self, dp: Dispatcher, bot: Bot, stub: StubSession, tg_id: int) -> None:
        self.dp, self.bot, self.stub, self.tg_id = dp, bot, stub, tg_id
        self.ids = itertools.count(tg_id * 1000)

    def _user(self) -> dict[str, Any]:
        return {"id": self.tg_id, "is_bot": False, "first_name": "G", "language_code": "zh"}

    async def _feed(self, raw: dict[str, Any], expect: str, into: list[float]) -> None:
        raw["update_id"] = next(self.ids)
        mark = self.stub.mark()
        update = Update.model_validate(raw, context={"bot": self.bot})
        started = time.perf_counter()
        await self.dp.feed_update(self.bot, update)
        into.append((time.perf_counter() - started) * 1000)
        said = self.stub.texts_since(mark, self.tg_id)
        if not any(expect in t for t in said):
            raise AssertionError(f"{self.tg_id}: expected {expect!r}, got {said}")

    async def send(self, expect: str, into: list[float], **content: Any) -> None:
        message = {
            "message_id": next(self.ids),
            "date": int(NAG.timestamp()),
            "chat": {"id": self.tg_id, "type": "private", "first_name": "G"},
            "from": self._user(),
            **content,
        }
        await self._feed({"message": message}, expect, into)

    async def command(self, body: str, expect: str, into: list[float]) -> None:
        entity = [{"type": "bot_command", "offset": 0, "length": len(body)}]
        await self.send(expect, into, text=body, entities=entity)

    async def press(self, button: str, expect: str, into: list[float]) -> None:
        message, data = self.stub.button(self.tg_id, button)
        query = {
            "id": str(next(self.ids)),
            "from": self._user(),
            "chat_instance": str(self.tg_id),
            "message": message,
            "data": data,
        }
        await self._feed({"callback_query": query}, expect, into)

    async def round(self, into: list[float], think: float = 0.0) -> None:
        await self.command("/start", "保安巡查员", into)
        await asyncio.sleep(think)
        await self.command("/patrol", "快速打卡", into)
        await asyncio.sleep(think)
        await self.press("⚡ 快速打卡", "发送您的当前位置", into)
        await asyncio.sleep(think)
        await self.send("已快速打卡", into, location=HERE)
        await asyncio.sleep(think)


async def drive(chats: list[Chat], into: list[float], until: asyncio.Event, think: float) -> int:
    """Every chat goes round after round until `until` is set, `think` seconds between two
    of its updates (a person reading and typing); returns the rounds done."""
    rounds = 0

    async def one(chat: Chat) -> None:
        nonlocal rounds
        await asyncio.sleep(think * chats.index(chat) / len(chats))  # not all in step
        while not until.is_set():
            await chat.round(into, think)
            rounds += 1

    await asyncio.gather(*(one(c) for c in chats))
    return rounds


def percentiles(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)

    def at(q: float) -> float:
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else 0.0

    return {"p50": at(0.50), "p95": at(0.95), "p99": at(0.99), "max": ordered[-1]}


def line(name: str, values: list[float], seconds: float) -> str:
    p = percentiles(values)
    return (
        f"{name:<22} {len(values):6d} updates in {seconds:6.1f} s;"
        f" p50 {p['p50']:6.1f} ms, p95 {p['p95']:6.1f} ms, p99 {p['p99']:6.1f} ms,"
        f" max {p['max']:7.1f} ms"
    )


async def main(scale: float, n_chats: int, baseline_s: float, think: float) -> None:
    path = await city(scale)
    settings = load_settings(
        bot_token=TOKEN,
        database_url=f"sqlite+aiosqlite:///{path}",
        telegram_api_base="http://127.0.0.1:9",  # never called: the session is a stub
    )
    clock = ManualClock(NAG)
    app = create_app(settings, clock=clock)
    app.bot_username = "gridbot_bench_bot"
    stub = StubSession()
    bot = Bot(TOKEN, session=stub, default=DefaultBotProperties(parse_mode=ParseMode.HTML))
    dp = create_dispatcher(app)
    chats = [Chat(dp, bot, stub, tg) for tg in guards(path, n_chats)]
    try:
        warm: list[float] = []
        for chat in chats:  # connections, caches, first-time imports
            await chat.round(warm)
        clock.advance(timedelta(hours=2))  # no check-in is "too frequent"

        base: list[float] = []
        stop = asyncio.Event()
        asyncio.get_running_loop().call_later(baseline_s, stop.set)
        started = time.perf_counter()
        base_rounds = await drive(chats, base, stop, think)
        base_s = time.perf_counter() - started
        clock.advance(timedelta(hours=2))

        during: list[float] = []
        done = asyncio.Event()
        job_started = time.perf_counter()

        async def job() -> Any:
            try:
                return await jobs.nag_now(app, NAG)
            finally:
                done.set()

        job_task = asyncio.create_task(job())
        during_rounds = await drive(chats, during, done, think)
        outcome = await job_task
        job_s = time.perf_counter() - job_started
    finally:
        await bot.session.close()
        await app.db.dispose()

    nags = sum(1 for k in outcome.queued if k.startswith("nag:"))
    print(
        f"city: {path.name} (scale {scale:g}); {len(chats)} chats, 4 updates a round"
        f" (/start, /patrol, quick check-in, location), {think:g} s between two"
    )
    print(
        f"nag job: {job_s:.1f} s; {len(outcome.queued)} pushes queued ({nags} nags),"
        f" {len(outcome.escalated)} cases climbed"
    )
    print(line(f"baseline ({base_rounds} rounds)", base, base_s))
    print(line(f"during ({during_rounds} rounds)", during, job_s))
    p99 = percentiles(during)["p99"]
    print(f"RATIO {p99 / GOAL_MS:.3f} p99-during-nag/200ms")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="1.0 = 20,000 leaf grids")
    parser.add_argument("--chats", type=int, default=6, help="guards chatting at once")
    parser.add_argument("--think", type=float, default=0.1, help="seconds between updates")
    parser.add_argument("--baseline", type=float, default=10.0, help="seconds of baseline")
    args = parser.parse_args()
    asyncio.run(main(args.scale, args.chats, args.baseline, args.think))
