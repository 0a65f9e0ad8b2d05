"""The notifier on a mixed queue at Telegram's flood limits (the emulator's strict ones).

    python bench/notifier_bench.py                 # virtual time: the whole run in seconds
    python bench/notifier_bench.py --wall          # real time, until every private row is sent
    python bench/notifier_bench.py --private 600 --group 100

Queues `--group` messages for one group and then one message for each of `--private` private
chats (the group's rows first: the order that makes a head-of-line queue wait), and runs the
real notifier (`bot.notifier.OutboxNotifier`, default `Limits()`) against the sandbox emulator
with `FloodLimits.telegram()` (30 a second per bot, 1 a second per chat, 20 a minute per
group), on a fresh SQLite file under bench/out/.

Every send the emulator accepts is recorded with the emulator's own clock (its flood control
is spied on), so the figures are what Telegram would have counted. By default the emulator
and the notifier share a ManualClock that the notifier's sleeps move on, and a call to the
emulator takes no virtual time (tests/e2e/notifier_kit.py's VirtualTimer): the figures are the
limits' arithmetic, not this machine's speed. `--wall` runs both on real time (the notifier's
own costs count, SQLite writes included) and stops once the private rows are all out.

The allowed private rate is the per-bot limit less the group's share of it (30 − 20/60 a
second); the achieved rate is the private rows over the span from the first send to the last
private one. Goal: ≥ 0.9 of the allowed rate, 0 × 429, the group at ≤ 20 a minute.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from aiogram import Bot  # noqa: E402

from bot.notifier import SENT, Limits, OutboxNotifier, RealTimer, Timer  # noqa: E402
from domain.clock import Clock, ManualClock, SystemClock  # noqa: E402
from sandbox.emulator import Emulator  # noqa: E402
from sandbox.flood import FloodLimits  # noqa: E402
from storage.db import Database  # noqa: E402
from storage.migrate import upgrade  # noqa: E402
from storage.outbox import enqueue  # noqa: E402
from tests.e2e.notifier_kit import VirtualTimer  # noqa: E402

OUT = ROOT / "bench" / "out"
TOKEN = "7000000099:BENCH-notifier"
NOW = datetime(2026, 3, 10, 1, 0, tzinfo=UTC)
FIRST_USER = 7_600_000_000


@dataclass
class Accepted:
    """Each send the emulator's flood control let through: (chat id, its clock, cost)."""

    watched: set[int]
    """Chats still waiting for their first accepted send; `done` is set when none is left."""
    sends: list[tuple[int, float, int]] = field(default_factory=list)
    done: asyncio.Event = field(default_factory=asyncio.Event)

    def spy_on(self, emu: Emulator) -> None:
        check = emu.flood.check

        def spied(
            bot_id: int, chat_id: int | None, is_group: bool, now: float, cost: int = 1
        ) -> int | None:
            refused = check(bot_id, chat_id, is_group, now, cost)
            if refused is None and chat_id is not None:
                self.sends.append((chat_id, now, cost))
                self.watched.discard(chat_id)
                if not self.watched:
                    self.done.set()
            return refused

        emu.flood.check = spied  # type: ignore[method-assign]


async def fresh_db() -> Database:
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / "notifier.sqlite3"
    for old in OUT.glob(path.name + "*"):
        old.unlink()
    db = Database(f"sqlite+aiosqlite:///{path}")
    await upgrade(db)
    return db


async def run(n_private: int, n_group: int, wall: bool) -> None:
    db = await fresh_db()
    clock: Clock = SystemClock() if wall else ManualClock()
    async with Emulator(clock=clock, limits=FloodLimits.telegram()) as emu:
        emu.add_bot(TOKEN, "gridbot_bench_bot")
        users = [FIRST_USER + i for i in range(n_private)]
        for uid in users:
            emu.ensure_user(uid, started=True)
        group = emu.create_group("林和东社区群", members=users[:1]).id
        async with db.session() as s:
            for i in range(n_group):
                text = f"群通知 {i}"
                await enqueue(s, key=f"g:{i}", kind="notice", chat_id=group, text=text, now=NOW)
            for uid in users:
                text = f"催办 {uid}"
                await enqueue(s, key=f"p:{uid}", kind="nag", chat_id=uid, text=text, now=NOW)
        private = set(users)
        accepted = Accepted(watched=set(private))
        accepted.spy_on(emu)
        bot = Bot(TOKEN, session=emu.bot_session())
        timer: Timer = RealTimer()
        if isinstance(clock, ManualClock):
            timer = VirtualTimer(clock, bot)  # a call takes no virtual time
        notifier = OutboxNotifier(db, bot, clock=ManualClock(NOW), limits=Limits(), timer=timer)
        started = time.perf_counter()
        await notifier.start()
        try:
            if wall:
                await accepted.done.wait()
            else:
                await notifier.drain(timeout=600)
        finally:
            await notifier.stop()
            await bot.session.close()
        real = time.perf_counter() - started
        too_many = emu.stats.too_many_requests
    async with db.reading() as s:
        from sqlmodel import func, select

        from storage.models import Delivery

        sent = (
            await s.exec(select(func.count()).select_from(Delivery).where(Delivery.status == SENT))
        ).one()
    await db.dispose()
    report(accepted.sends, private, group, too_many, sent, real, wall)


def report(
    sends: list[tuple[int, float, int]],
    private: set[int],
    group: int,
    too_many: int,
    sent_rows: int,
    real: float,
    wall: bool,
) -> None:
    lim = FloodLimits.telegram()
    first = min(t for _, t, _ in sends)
    p_times = sorted(t - first for c, t, _ in sends if c in private)
    g_times = sorted(t - first for c, t, _ in sends if c == group)
    span = p_times[-1] if p_times else 0.0
    achieved = (len(p_times) - 1) / span if span > 0 else float("inf")
    allowed = lim.global_per_second - lim.group_per_minute / 60.0
    g_busiest = max((sum(1 for u in g_times if t <= u < t + 60.0) for t in g_times), default=0)
    g_span = g_times[-1] - g_times[0] if len(g_times) > 1 else 0.0
    g_rate = (len(g_times) - 1) / g_span * 60.0 if g_span > 0 else 0.0
    in_private_span = sum(1 for t in g_times if t <= span)
    clock_name = "wall clock" if wall else "the emulator's virtual clock"
    print(f"time: {clock_name}; real seconds for the run: {real:.1f}")
    print(f"rows sent: {sent_rows}; accepted sends: {len(sends)}")
    print(f"private: {len(p_times)} rows in {span:.2f} s = {achieved:.2f} msg/s")
    print(
        f"allowed private rate: {allowed:.2f} msg/s "
        f"({lim.global_per_second:g}/s per bot less the group's {lim.group_per_minute:g}/min)"
    )
    print(
        f"group: {len(g_times)} sent, {in_private_span} of them while private rows went; "
        f"{g_rate:.2f}/min over {g_span:.1f} s; busiest 60 s window: {g_busiest}"
    )
    print(f"429 answers: {too_many}")
    print(f"RATIO {achieved / allowed:.3f} private-rate/allowed")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--private", type=int, default=600, help="private chats, one row each")
    parser.add_argument("--group", type=int, default=100, help="rows for the one group")
    parser.add_argument("--wall", action="store_true", help="real time instead of virtual")
    args = parser.parse_args()
    asyncio.run(run(args.private, args.group, args.wall))
