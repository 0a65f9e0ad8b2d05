"""What moving the conversation state from the database to Redis costs an update (REDIS_URL).

    python bench/redis_state_bench.py                 # SQLite file under bench/out/
    python bench/redis_state_bench.py --db postgresql+asyncpg://user@host:port/postgres
    python bench/redis_state_bench.py --rounds 20 --repeat 3

The conversation of bench/update_bench.py (a guard: /start, /my, /patrol with a check-in,
the whole /report; each reply checked), fed one update at a time to three dispatchers built
by bot.app.create_dispatcher on the same database and a throwaway `redis-server`
(tests/redis_server.py, loopback), in the same run, interleaved, best run counted:

1. no REDIS_URL: the lock in the process, the state in the database (the default);
2. the lock in Redis, the state in the database: REDIS_URL before the state moved;
3. the lock and the state in Redis: REDIS_URL now (one HGETALL before the transaction, one
   MULTI after the commit when the step changed the state; the first statement reads no
   state).

The last line is the ratio of (3)'s updates/s to (2)'s.
"""

from __future__ import annotations

import itertools
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from aiogram import Bot, Dispatcher  # noqa: E402
from aiogram.client.default import DefaultBotProperties  # noqa: E402
from aiogram.enums import ParseMode  # noqa: E402

from bench.stub_bot import StubSession  # noqa: E402
from bench.update_bench import (  # noqa: E402
    ADMIN,
    START,
    TOKEN,
    Driver,
    Phase,
    cli,
    conversing,
    prepare,
    report,
    run_phases,
)
from bot.app import create_app, create_dispatcher  # noqa: E402
from bot.settings import load_settings  # noqa: E402
from bot.startup_heap import freeze_startup_heap  # noqa: E402
from bot.state_backend import close_isolation, open_isolation  # noqa: E402
from domain.clock import ManualClock  # noqa: E402
from storage.fsm import DatabaseStorage  # noqa: E402
from storage.redis_state import RedisStateStorage  # noqa: E402
from storage.sql_tally import SqlTally  # noqa: E402
from tests.redis_server import RedisServer  # noqa: E402


async def main(url: str | None, rounds: int, repeat: int) -> None:
    target, drop = await prepare(url, "redis_state_bench")
    redis = RedisServer()
    redis.start()
    settings = load_settings(
        bot_token=TOKEN,
        database_url=target,
        telegram_api_base="http://127.0.0.1:9",  # never called: the session is a stub
        admin_ids=frozenset({ADMIN}),
        redis_url=redis.url,
    )
    clock = ManualClock(START)
    app = create_app(settings, clock=clock)
    app.bot_username = "gridbot_bench_bot"
    stub = StubSession()
    bot = Bot(TOKEN, session=stub, default=DefaultBotProperties(parse_mode=ParseMode.HTML))
    tally = SqlTally.install(app.db.engine)
    lock_only, lock_and_state = await open_isolation(settings), await open_isolation(settings)
    default = create_dispatcher(app)
    db_state = create_dispatcher(app)
    assert lock_only is not None and isinstance(db_state.fsm.storage, DatabaseStorage)
    # Today's factory puts the state where the lock is; the old REDIS_URL kept it in the
    # database: the same dispatcher with only its lock moved to Redis.
    db_state.fsm.events_isolation = lock_only
    redis_state = create_dispatcher(app, events_isolation=lock_and_state)
    assert isinstance(redis_state.fsm.storage, RedisStateStorage)
    rounds_done = itertools.count()  # one processed_update table for all three:

    def converse(dp: Dispatcher, first_id: int) -> Callable[[int], Awaitable[int]]:
        driver = Driver(dp, bot, stub)
        driver.ids = itertools.count(first_id)  # update ids apart
        return conversing(driver, clock, rounds_done)

    phases = [
        Phase("state in db, lock in process", converse(default, 1)),
        Phase("state in db, lock in Redis", converse(db_state, 10_000_000)),
        Phase("state and lock in Redis", converse(redis_state, 20_000_000)),
    ]
    freeze_startup_heap()  # as the bot does before its first update (bot.runners.build)
    try:
        await run_phases(phases, rounds, repeat)
    finally:
        tally.remove()
        await bot.session.close()
        for isolation in (lock_only, lock_and_state):
            await close_isolation(isolation)
        await app.db.dispose()
        await drop()
        redis.stop()
    report(url, rounds, phases)
    print(f"RATIO {phases[2].best / phases[1].best:.2f} redis-state/db-state (both Redis locks)")


if __name__ == "__main__":
    cli(main, rounds=20, doc=__doc__)
