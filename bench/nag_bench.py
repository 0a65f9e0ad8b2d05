"""Handlers while the 09:30 nag job runs on a city (SQLite): the job's effect on update latency
under an offered load the bot can serve.

    python bench/nag_bench.py              # digest_bench's city: 20,000 leaf grids, ~61,000
                                           # people, 2,000,000 patrols, 300,000 cases
    python bench/nag_bench.py --scale 0.1  # a quick run
    python bench/nag_bench.py --rate 20    # a fixed offered load (updates/s), to compare runs

The city is digest_bench's database (built under bench/out/ with its bulk inserts, or
reused when already there at that scale), copied to a working file each run, with the cases
brought to a working city's mix: most under-deadline cases due in the days ahead, about 1 in
50 due tomorrow, 1 in 500 overdue for weeks (they climb), 1 in 500 reports never accepted
(they climb too), 1 in 1,000 reported three hours ago (their leaders are reminded).

In one process, as production runs them (one event loop: the bot's dispatcher and the
scheduler's jobs), `--chats` guards of leaf grids spread over the city go through /start,
/patrol with a quick check-in and its location (writes a patrol), over and over, through the
real dispatcher (bot.app.create_dispatcher, the Bot API answered in process by
bench/stub_bot.py). /my is left out: at this scale one /my takes ~450 ms on its own.

1. capacity: `--busy` guards each send their next update as soon as the last is answered,
   for `--calibrate` seconds: the updates per second so served is what the bot can do on
   this machine now. Measured again at the end: the machine is shared, and a capacity that
   moved says the figures are not comparable;
2. the offered load: updates arrive at random (Poisson, seeded) at `--rate` updates/s, by
   default `--load` (0.25) of that capacity, so the latency measured is the bot's, not a
   queue of more work than it can do. Each arrival goes to a guard with no update in flight
   (a person sends the next message once the last one is answered); an arrival that finds
   none waits for one (counted: with enough guards it never happens). An update's latency runs
   from its arrival, so time the event loop was blocked before the update could even start
   counts too;
3. baseline: that load for `--baseline` seconds, no job;
4. during: the same load while the 09:30 nag job (scheduler.jobs.nag_now: patrol nags and
   shortfalls, case reminders, 催办 and climbs, the sweep, the roll calls) runs, until it ends.

Prints the capacity, the offered rate, the job's time and what it queued, the percentiles of
both phases and their difference (the job's effect), and in each phase how often the event
loop could not run a due timer for over 50 ms (what every update arriving then waits). The
last line is the p99 latency during the job over the 200 ms goal.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import random
import shutil
import sqlite3
import sys
import time
from collections import deque
from collections.abc import Callable
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
from bot.startup_heap import freeze_startup_heap  # noqa: E402
from domain.clock import ManualClock  # noqa: E402
from scheduler import jobs  # noqa: E402
from services.chasing import load_rules  # noqa: E402
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
    """One guard's chat: its next update of the round, one at a time."""

    def __init__(self, dp: Dispatcher, bot: Bot, stub: StubSession, tg_id: int) -> None:
        self.dp, self.bot, self.stub, self.tg_id = dp, bot, stub, tg_id
        self.ids = itertools.count(tg_id * 1000)
        self.steps = itertools.cycle(
            [
                lambda: self.command("/start", "保安巡查员"),
                lambda: self.command("/patrol", "快速打卡"),
                lambda: self.press("⚡ 快速打卡", "发送您的当前位置"),
                lambda: self.send("已快速打卡", location=HERE),
            ]
        )

    async def step(self) -> None:
        await next(self.steps)()

    def _user(self) -> dict[str, Any]:
        return {"id": self.tg_id, "is_bot": False, "first_name": "G", "language_code": "zh"}

    async def _feed(self, raw: dict[str, Any], expect: str) -> None:
        raw["update_id"] = next(self.ids)
        mark = self.stub.mark()
        update = Update.model_validate(raw, context={"bot": self.bot})
        await self.dp.feed_update(self.bot, update)
        said = self.stub.texts_since(mark, self.tg_id)
        if not any(expect in t for t in said):
            raise AssertionError(f"{self.tg_id}: expected {expect!r}, got {said}")

    async def send(self, expect: str, **content: Any) -> None:
        message = {
            "message_id": next(self.ids),
            "date": int(NAG.timestamp()),
            "chat": {"id": self.tg_id, "type": "private", "first_name": "G"},
            "from": self._user(),
            **content,
        }
        await self._feed({"message": message}, expect)

    async def command(self, body: str, expect: str) -> None:
        entity = [{"type": "bot_command", "offset": 0, "length": len(body)}]
        await self.send(expect, text=body, entities=entity)

    async def press(self, button: str, expect: str) -> None:
        message, data = self.stub.button(self.tg_id, button)
        query = {
            "id": str(next(self.ids)),
            "from": self._user(),
            "chat_instance": str(self.tg_id),
            "message": message,
            "data": data,
        }
        await self._feed({"callback_query": query}, expect)


async def warm(chats: list[Chat]) -> None:
    """One round each, one update at a time: connections, caches, first-time imports."""
    for chat in chats:
        for _step in range(4):
            await chat.step()


async def capacity(chats: list[Chat], seconds: float) -> float:
    """Updates per second served with `chats` each sending its next update as soon as the
    last is answered (always one waiting): what the bot can do on this machine now."""
    served = 0
    until = time.perf_counter() + seconds
    started = time.perf_counter()

    async def one(chat: Chat) -> None:
        nonlocal served
        while time.perf_counter() < until:
            await chat.step()
            served += 1

    await asyncio.gather(*(one(c) for c in chats))
    return served / (time.perf_counter() - started)


class Stalls:
    """How long the event loop could not run a timer that was due (a task ticking every
    `TICK_S`): every update that arrives meanwhile waits as long."""

    TICK_S = 0.005

    def __init__(self) -> None:
        self.late: list[float] = []
        self._task = asyncio.create_task(self._tick())

    async def _tick(self) -> None:
        while True:
            due = time.perf_counter() + self.TICK_S
            await asyncio.sleep(self.TICK_S)
            self.late.append((time.perf_counter() - due) * 1000)

    def stop(self) -> str:
        self._task.cancel()
        over = [ms for ms in self.late if ms > 50]
        return f"loop stalls over 50 ms: {len(over)}, longest {max(self.late, default=0):.0f} ms"


class Load:
    """Updates arriving at `rate` a second (Poisson, seeded) until `stop()` says so."""

    def __init__(self, chats: list[Chat], rate: float, seed: int) -> None:
        self.idle = deque(chats)
        self.rate = rate
        self.rng = random.Random(seed)
        self.backlog: deque[float] = deque()  # arrivals that found every guard waiting
        self.starved = 0
        self.latencies: list[float] = []

    async def run(self, stop: Callable[[], bool]) -> float:
        """Offer the load until `stop()`; returns the seconds it was offered."""
        tasks: set[asyncio.Task[None]] = set()
        began = arrival = time.perf_counter()
        while True:
            arrival += self.rng.expovariate(self.rate)
            await asyncio.sleep(max(0.0, arrival - time.perf_counter()))
            if stop():
                break
            if not self.idle:
                self.starved += 1
                self.backlog.append(arrival)
                continue
            task = asyncio.create_task(self._serve(self.idle.popleft(), arrival))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
        offered = time.perf_counter() - began
        await asyncio.gather(*tasks)
        return offered

    async def _serve(self, chat: Chat, arrival: float) -> None:
        while True:
            await chat.step()
            self.latencies.append((time.perf_counter() - arrival) * 1000)
            if not self.backlog:
                break
            arrival = self.backlog.popleft()
        self.idle.append(chat)


def percentiles(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)

    def at(q: float) -> float:
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else 0.0

    return {"p50": at(0.50), "p95": at(0.95), "p99": at(0.99), "max": at(1.0)}


def line(name: str, values: list[float], seconds: float, load: Load | None = None) -> str:
    p = percentiles(values)
    waits = f"; {load.starved} found no guard free" if load is not None else ""
    return (
        f"{name:<9} {len(values):5d} updates in {seconds:5.1f} s ({len(values) / seconds:5.1f}/s):"
        f" p50 {p['p50']:6.1f} ms, p95 {p['p95']:6.1f} ms, p99 {p['p99']:6.1f} ms,"
        f" max {p['max']:7.1f} ms{waits}"
    )


async def main(args: argparse.Namespace) -> None:
    path = await city(args.scale)
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
    chats = [Chat(dp, bot, stub, tg) for tg in guards(path, args.chats)]
    busy = chats[: args.busy]
    try:
        async with app.db.reading() as session:  # as the scheduler does when it starts
            await load_rules(session, calendar=app.calendar)
        freeze_startup_heap()  # as the bot does before its first update (bot.runners.build)
        await warm(chats)
        clock.advance(timedelta(hours=2))  # no check-in is "too frequent"
        before = await capacity(busy, args.calibrate)
        rate = args.rate or args.load * before

        base, stalls = Load(chats, rate, seed=1), Stalls()
        until = time.perf_counter() + args.baseline
        base_s = await base.run(lambda: time.perf_counter() >= until)
        base_stalls = stalls.stop()
        clock.advance(timedelta(hours=2))

        during, stalls = Load(chats, rate, seed=2), Stalls()
        job_task = asyncio.create_task(jobs.nag_now(app, NAG))
        job_started = time.perf_counter()
        during_s = await during.run(job_task.done)
        outcome = await job_task
        job_s = time.perf_counter() - job_started
        during_stalls = stalls.stop()
        after = await capacity(busy, args.calibrate)
    finally:
        await bot.session.close()
        await app.db.dispose()

    nags = sum(1 for k in outcome.queued if k.startswith("nag:"))
    print(
        f"city: {path.name} (scale {args.scale:g}); {len(chats)} guards, 4 updates a round"
        " (/start, /patrol, quick check-in, location)"
    )
    print(
        f"capacity ({len(busy)} guards back to back, {args.calibrate:g} s):"
        f" {before:.1f} updates/s before, {after:.1f} after"
        + ("" if 0.7 < after / before < 1.4 else " (the machine's load changed: rerun)")
    )
    print(f"offered: {rate:.1f} updates/s at random, {rate / before:.0%} of the capacity")
    print(
        f"nag job: {job_s:.1f} s; {len(outcome.queued)} pushes queued ({nags} nags),"
        f" {len(outcome.escalated)} cases climbed"
    )
    print(line("baseline", base.latencies, base_s, base) + "; " + base_stalls)
    print(line("during", during.latencies, during_s, during) + "; " + during_stalls)
    b, d = percentiles(base.latencies), percentiles(during.latencies)
    print(
        "the job's effect: "
        + ", ".join(f"{q} {d[q] - b[q]:+.1f} ms" for q in ("p50", "p95", "p99", "max"))
    )
    print(f"RATIO {d['p99'] / GOAL_MS:.3f} p99-during-nag/200ms")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="1.0 = 20,000 leaf grids")
    parser.add_argument("--chats", type=int, default=24, help="guards in the pool")
    parser.add_argument("--load", type=float, default=0.25, help="share of the capacity offered")
    parser.add_argument("--rate", type=float, default=0.0, help="updates/s offered (not --load)")
    parser.add_argument("--baseline", type=float, default=20.0, help="seconds of baseline")
    parser.add_argument("--busy", type=int, default=4, help="guards measuring the capacity")
    parser.add_argument("--calibrate", type=float, default=5.0, help="seconds of it")
    asyncio.run(main(parser.parse_args()))
