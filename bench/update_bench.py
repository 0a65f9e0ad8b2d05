"""What an update costs: a realistic conversation against a bare one-insert handler.

    python bench/update_bench.py                 # SQLite file under bench/out/
    python bench/update_bench.py --db postgresql+asyncpg://user@host:port/postgres
                                                 # a throwaway database on that server
    python bench/update_bench.py --rounds 40 --repeat 3

Three dispatchers, each fed the same way (aiogram's `Dispatcher.feed_update`, one update at
a time, as one person's chat is), on the same database, in the same run:

1. the conversation: the bot as production builds it (bot.app.create_dispatcher: the unit
   of work, FSM state in the database, identification, every handler) on
   fire-safety-5-level.yaml, driven as a guard: /start, /my, /patrol with a quick check-in and
   its location, then the whole /report (category, description, a photo, done, location,
   severity, submit). Each step's reply is checked, so an error path is never what is timed;
2. a bare aiogram handler doing one SQLAlchemy-async insert (a unit of work, one row, commit);
3. a bare handler doing nothing: the dispatch ceiling, for reference.

The Bot API is answered in process (a stub session that keeps the sent keyboards so the
driver can press them): only the bot's own cost is measured. Each phase runs `--repeat`
times, interleaved; each line shows its best run. Statements and transactions per update are
counted by engine listeners (storage/sql_tally.py).

The last line is the ratio of the conversation's updates/s to the one-insert handler's, as the
median over pairs (`--rounds` × `--repeat` of them) of one conversation and as many one-insert
updates run back to back, in turn first: the one-insert handler's wall time per update over the
conversation's. This machine's speed swings by 2× within seconds, so two phases each timed
over a second or more compare two moments as much as two handlers: the ratio of the phases'
best runs, printed above it for reference, moved from 0.42 to 0.59 between three runs of the
same code (SQLite, `--rounds 40`) while the pairs' median moved from 0.52 to 0.53. A pair
lasts a few tens of milliseconds and mostly runs at one speed. The same pairs' CPU time per
update is printed too.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import statistics
import sys
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from aiogram import Bot, Dispatcher  # noqa: E402
from aiogram.client.default import DefaultBotProperties  # noqa: E402
from aiogram.enums import ParseMode  # noqa: E402
from aiogram.types import Message, Update  # noqa: E402
from sqlalchemy import text  # noqa: E402

from bench.stub_bot import StubSession  # noqa: E402
from bot.app import create_app, create_dispatcher  # noqa: E402
from bot.settings import load_settings  # noqa: E402
from bot.startup_heap import freeze_startup_heap  # noqa: E402
from bot.sync_filters import inline_sync_filters  # noqa: E402
from domain.clock import ManualClock  # noqa: E402
from domain.scenario import parse_scenario  # noqa: E402
from storage.db import Database  # noqa: E402
from storage.importer import apply_import  # noqa: E402
from storage.migrate import upgrade  # noqa: E402
from storage.models import ProcessedUpdate  # noqa: E402
from storage.sql_tally import Cost, SqlTally  # noqa: E402

TOKEN = "7000000001:BENCH-gridbot-update"
SCENARIO = "fire-safety-5-level.yaml"
GUARDS = tuple(810000001 + i for i in range(2))  # the guards of LH-01-1
ADMIN = 800000001
HERE = (23.1291, 113.2644)
START = datetime(2026, 3, 10, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
OUT = ROOT / "bench" / "out"


def scenario_text() -> str:
    for folder in (ROOT.parent / "shared" / "scenarios", ROOT / "bot" / "demo_data"):
        if (folder / SCENARIO).exists():
            return (folder / SCENARIO).read_text(encoding="utf-8")
    raise FileNotFoundError(SCENARIO)


class Driver:
    """Builds a person's updates and feeds them; checks what the bot answered to each."""

    def __init__(self, dp: Dispatcher, bot: Bot, stub: StubSession) -> None:
        self.dp, self.bot, self.stub = dp, bot, stub
        self.ids = itertools.count(1)
        self.fed = 0

    def _user(self, tg_id: int) -> dict[str, Any]:
        return {"id": tg_id, "is_bot": False, "first_name": f"P{tg_id}", "language_code": "zh"}

    async def _feed(self, raw: dict[str, Any], tg_id: int, expect: str | None) -> None:
        raw["update_id"] = next(self.ids)
        mark = self.stub.mark()
        await self.dp.feed_update(self.bot, Update.model_validate(raw, context={"bot": self.bot}))
        self.fed += 1
        if expect is not None:
            said = self.stub.texts_since(mark, tg_id)
            if not any(expect in t for t in said):
                raise AssertionError(f"expected {expect!r} after update {raw}; got {said}")

    async def send(self, tg_id: int, expect: str | None = None, **content: Any) -> None:
        message = {
            "message_id": next(self.ids),
            "date": int(START.timestamp()),
            "chat": {"id": tg_id, "type": "private", "first_name": f"P{tg_id}"},
            "from": self._user(tg_id),
            **content,
        }
        await self._feed({"message": message}, tg_id, expect)

    async def text(self, tg_id: int, body: str, expect: str | None = None) -> None:
        content: dict[str, Any] = {"text": body}
        if body.startswith("/"):
            length = len(body.split()[0])
            content["entities"] = [{"type": "bot_command", "offset": 0, "length": length}]
        await self.send(tg_id, expect, **content)

    async def press(self, tg_id: int, button: str, expect: str | None = None) -> None:
        message, data = self.stub.button(tg_id, button)
        query = {
            "id": str(next(self.ids)),
            "from": self._user(tg_id),
            "chat_instance": str(tg_id),
            "message": message,
            "data": data,
        }
        await self._feed({"callback_query": query}, tg_id, expect)


async def conversation(driver: Driver, tg_id: int, round_no: int) -> None:
    # ~67 m apart each round: never a duplicate of an earlier report (50 m radius).
    lat, lon = HERE[0] + 0.0006 * round_no, HERE[1]
    location = {"location": {"latitude": lat, "longitude": lon}}
    await driver.text(tg_id, "/start", expect="保安巡查员")
    await driver.text(tg_id, "/my", expect="")
    await driver.text(tg_id, "/patrol", expect="快速打卡")
    await driver.press(tg_id, "⚡ 快速打卡", expect="发送您的当前位置")
    await driver.send(tg_id, expect="已快速打卡", **location)
    await driver.text(tg_id, "/report", expect="隐患类别")
    await driver.press(tg_id, "消防通道堵塞", expect="描述隐患")
    await driver.text(tg_id, f"楼道堆放杂物，堵塞安全出口（第{round_no}次）", expect="发送隐患照片")
    photo = [{"file_id": f"AgADbench{round_no}", "file_unique_id": f"u{round_no}",
              "width": 640, "height": 480}]  # fmt: skip
    await driver.send(tg_id, expect="已收到照片", photo=photo)
    await driver.press(tg_id, "完成", expect="发送位置")
    await driver.send(tg_id, expect="严重程度", **location)
    await driver.press(tg_id, "一般", expect="请确认隐患信息")
    await driver.press(tg_id, "✅ 提交", expect="已上报")


UPDATES_PER_CONVERSATION = 13


class Phase:
    """One way of handling updates, timed over a number of updates, with its SQL cost."""

    def __init__(self, name: str, run: Callable[[int], Awaitable[int]]) -> None:
        self.name, self.run = name, run
        self.rates: list[float] = []
        # CPU time of the whole process (the database driver's thread included) per update:
        # less swayed than updates/s by whatever else the machine runs meanwhile.
        self.cpu_ms: list[float] = []
        self.cost = Cost()
        self.updates = 0

    async def once(self, size: int) -> None:
        with SqlTally.counting(self.cost):
            started, cpu = time.perf_counter(), time.process_time()
            fed = await self.run(size)
            seconds = time.perf_counter() - started
            self.cpu_ms.append((time.process_time() - cpu) * 1000 / fed)
        self.updates += fed
        self.rates.append(fed / seconds)

    @property
    def best(self) -> float:
        return max(self.rates)

    def line(self) -> str:
        runs = ", ".join(f"{r:.0f}" for r in self.rates)
        per = max(self.updates, 1)
        return (
            f"{self.name:<28} {self.best:8.1f} updates/s  (runs: {runs});"
            f" {self.cost.statements / per:.2f} statements and"
            f" {self.cost.transactions / per:.2f} transactions per update;"
            f" {min(self.cpu_ms):.2f} CPU ms per update"
        )


async def prepare(
    url: str | None, stem: str = "update_bench"
) -> tuple[str, Callable[[], Awaitable[None]]]:
    """A fresh migrated and imported database named after `stem`; its URL and how to drop it."""
    if url is None:
        OUT.mkdir(parents=True, exist_ok=True)
        path = OUT / f"{stem}.sqlite3"
        for leftover in OUT.glob(f"{stem}.sqlite3*"):
            leftover.unlink()
        target = f"sqlite+aiosqlite:///{path}"

        async def drop() -> None:
            return None

    else:
        name = f"{stem}_{uuid.uuid4().hex[:8]}"
        admin = Database(url)
        async with admin.engine.execution_options(isolation_level="AUTOCOMMIT").connect() as c:
            await c.execute(text(f'CREATE DATABASE "{name}"'))
        target = url.rsplit("/", 1)[0] + f"/{name}"

        async def drop() -> None:
            async with admin.engine.execution_options(isolation_level="AUTOCOMMIT").connect() as c:
                await c.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
            await admin.dispose()

    db = Database(target)
    await upgrade(db)
    scenario = parse_scenario(scenario_text(), source=SCENARIO)
    async with db.session() as session:
        await apply_import(session, scenario, now=START)
    await db.dispose()
    return target, drop


def bare_dispatchers(db: Database) -> tuple[Dispatcher, Dispatcher]:
    rows = itertools.count(1)
    one_insert = Dispatcher()

    @one_insert.message()
    async def insert_one(message: Message) -> None:
        async with db.session() as session:
            session.add(ProcessedUpdate(bot_id=1, update_id=next(rows)))

    nothing = Dispatcher()

    @nothing.message()
    async def do_nothing(message: Message) -> None:
        return None

    return one_insert, nothing


async def main(url: str | None, rounds: int, repeat: int) -> None:
    target, drop = await prepare(url)
    settings = load_settings(
        bot_token=TOKEN,
        database_url=target,
        telegram_api_base="http://127.0.0.1:9",  # never called: the session is a stub
        admin_ids=frozenset({ADMIN}),
    )
    clock = ManualClock(START)
    app = create_app(settings, clock=clock)
    app.bot_username = "gridbot_bench_bot"
    stub = StubSession()
    bot = Bot(TOKEN, session=stub, default=DefaultBotProperties(parse_mode=ParseMode.HTML))
    tally = SqlTally.install(app.db.engine)
    dispatcher = create_dispatcher(app)
    # Plain filters run in place, not on a worker thread (bot/sync_filters.py); 0 once
    # bot/app.py's create_dispatcher does it itself.
    inlined = inline_sync_filters(dispatcher)
    real = Driver(dispatcher, bot, stub)
    one_insert_dp, nothing_dp = bare_dispatchers(app.db)
    freeze_startup_heap()  # as the bot does before its first update (bot.runners.build)
    one = Driver(one_insert_dp, bot, stub)
    bare = Driver(nothing_dp, bot, stub)

    def plain(driver: Driver) -> Callable[[int], Awaitable[int]]:
        async def run(size: int) -> int:
            for i in range(size * UPDATES_PER_CONVERSATION):
                await driver.text(GUARDS[0], f"hello {i}")
            return size * UPDATES_PER_CONVERSATION

        return run

    phases = [
        Phase("conversation", conversing(real, clock, itertools.count())),
        Phase("one-insert handler", plain(one)),
        Phase("bare dispatch (ceiling)", plain(bare)),
    ]
    try:
        await run_phases(phases, rounds, repeat)
        pairs = await paired(phases[0].run, phases[1].run, pairs=rounds * repeat)
    finally:
        tally.remove()
        await bot.session.close()
        await app.db.dispose()
        await drop()
    report(url, rounds, phases)
    print(f"plain filters made to run in place by the bench: {inlined}")
    conversation_rate, insert_rate = phases[0].best, phases[1].best
    print(f"best runs' updates/s, conversation/one-insert: {conversation_rate / insert_rate:.2f}")
    print(
        f"{rounds * repeat} pairs of one conversation and as many one-insert updates, back to"
        f" back: one-insert/conversation time per update, median: CPU {pairs.cpu:.2f}"
    )
    print(f"RATIO {pairs.wall:.2f} conversation/one-insert (updates/s, median of paired runs)")


def conversing(
    driver: Driver, clock: ManualClock, rounds: Iterator[int]
) -> Callable[[int], Awaitable[int]]:
    """A phase's run: `size` whole conversations, the guards taking turns; `rounds` numbers
    them across every phase that shares it (each round reports from another spot)."""

    async def run(size: int) -> int:
        before = driver.fed
        for _ in range(size):
            n = next(rounds)
            clock.advance(timedelta(hours=2))  # no check-in is "too frequent"
            await conversation(driver, GUARDS[n % len(GUARDS)], n)
        return driver.fed - before

    return run


async def run_phases(phases: Sequence[Phase], rounds: int, repeat: int) -> None:
    """One warm-up run of each (connections, caches, first-time imports), then `repeat`
    runs of each, interleaved, so a noisy moment falls on all of them alike."""
    for phase in phases:
        await phase.run(1)
    for phase in phases:
        phase.rates.clear()
        phase.cpu_ms.clear()
    for _ in range(repeat):
        for phase in phases:
            await phase.once(rounds)


@dataclass(frozen=True)
class Paired:
    """Medians over pairs of the one-insert handler's time per update over the
    conversation's: wall time (the updates/s ratio) and CPU time."""

    wall: float
    cpu: float


async def paired(
    conversation: Callable[[int], Awaitable[int]],
    one_insert: Callable[[int], Awaitable[int]],
    *,
    pairs: int,
) -> Paired:
    """Each pair a conversation and as many one-insert updates, back to back: a pair a few
    tens of milliseconds long mostly runs at one speed (the module's docstring says why).
    Which goes first alternates: the second of a pair runs slower (measured: 0.03 to 0.05
    on the ratio, whichever it is; the first one's garbage and evicted caches)."""
    walls, cpus = [], []
    for i in range(pairs):
        first, second = (conversation, one_insert) if i % 2 == 0 else (one_insert, conversation)
        a, b = await _per_update(first), await _per_update(second)
        (talk_wall, talk_cpu), (one_wall, one_cpu) = (a, b) if i % 2 == 0 else (b, a)
        walls.append(one_wall / talk_wall)
        cpus.append(one_cpu / talk_cpu)
    return Paired(wall=statistics.median(walls), cpu=statistics.median(cpus))


async def _per_update(run: Callable[[int], Awaitable[int]]) -> tuple[float, float]:
    """Wall and CPU time per update of one run of size 1."""
    wall, cpu = time.perf_counter(), time.process_time()
    fed = await run(1)
    return (time.perf_counter() - wall) / fed, (time.process_time() - cpu) / fed


def report(url: str | None, rounds: int, phases: Sequence[Phase]) -> None:
    backend = "PostgreSQL" if url else "SQLite"
    print(f"{backend}, {rounds} conversations of {UPDATES_PER_CONVERSATION} updates per run")
    for phase in phases:
        print(phase.line())


def cli(
    main: Callable[[str | None, int, int], Awaitable[None]], *, rounds: int, doc: str | None
) -> None:
    """The command line of this bench and of those built on it (`doc`: the bench's own)."""
    parser = argparse.ArgumentParser(description=(doc or "").split("\n")[0])
    parser.add_argument("--db", help="a PostgreSQL URL (the server's postgres database)")
    parser.add_argument("--rounds", type=int, default=rounds, help="conversations per run")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each phase")
    args = parser.parse_args()
    asyncio.run(main(args.db, args.rounds, args.repeat))


if __name__ == "__main__":
    cli(main, rounds=30, doc=__doc__)
