"""Throughput of 1, 2 and 4 webhook instances sharing one inbox on PostgreSQL (issue 15 pt 7).

    python bench/instances_bench.py             # 1, 2, 4 instances, 10 messages per person
    python bench/instances_bench.py --rounds 3  # shorter: 3 messages per person

A throwaway PostgreSQL server (tests/pg_server.py) holds the fire-safety roster; for each
count of instances a fresh copy of it (CREATE DATABASE ... TEMPLATE) and that many real
`gridbot run --webhook` processes (INBOX_WORKERS=4, no scheduler) answering through the
emulator (no flood limits: Telegram's 30 messages a second would be what is measured). When
they are up, the whole conversation, `/start`, `/help`, `/my` ... from every person on the
roster, is written to the inbox at once, as the door writes each update (the emulator posts
to a webhook one update at a time, and that would be what is measured); every instance
takes rows from the inbox (idle workers look every second). Timed: from the rows'
commit until every row is marked done.
Throughput = updates / second.

The last line: `RATIO <2-instance throughput / 1-instance> instances-2/1`. On a machine of few
cores the instances share them: the ratio says how much of one instance's time was spent
waiting (on the database, on Telegram) rather than computing.

Measured 2026-12-07 on this machine (2 cores), 490 updates: first on a machine shared with
other test runs, 1 instance 22.1 updates/s, 2 instances 22.6, 4 instances 20.9 (RATIO 1.02);
then, after the update got cheaper (one trip to SQLite's thread per statement, cheaper routing)
and on a quiet machine, 1 instance 57.4, 2 instances 92.7, 4 instances 69.3 (RATIO 1.62). Two
instances keep both cores busy (the bot, PostgreSQL and the emulator all run here): about
2 / 93 = 22 ms of CPU per update, all parties together; four only add switching. On paper,
16 cores with PostgreSQL and Telegram elsewhere: if the bot is about half of that (not
measured apart), some 11 ms of CPU per update, so 16 instances give up to ~1,400 updates/s,
until PostgreSQL's commits (one per update for the inbox, one for the handler, one to mark it
done) are the limit; a city's busiest minute (tens of updates a second) fits in one
instance, and more instances are for availability.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import text  # noqa: E402
from sqlmodel import col, func, select  # noqa: E402

from sandbox.emulator import Emulator  # noqa: E402
from sandbox.flood import FloodLimits  # noqa: E402
from storage.db import Database  # noqa: E402
from storage.inbox import keep_update  # noqa: E402
from storage.migrate import upgrade  # noqa: E402
from storage.models import InboxUpdate, Person  # noqa: E402
from tests.e2e.conftest import _import_into  # noqa: E402
from tests.e2e.test_webhook import free_port  # noqa: E402
from tests.e2e.test_webhook_inbox import BOT_ID, TOKEN, BotProcess, _env, _people  # noqa: E402
from tests.pg_server import PgServer  # noqa: E402

OUT = ROOT / "bench" / "out" / "instances"
MESSAGES = ("/start", "/help", "/my", "/today", "/cases")
START_TIMEOUT_S = 120.0


async def _one(server_url: str, template: str, instances: int, rounds: int) -> float:
    name = f"bench_{instances}"
    admin = Database(server_url)
    auto = admin.engine.execution_options(isolation_level="AUTOCOMMIT")
    async with auto.connect() as conn:
        await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        await conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
    url = server_url.rsplit("/", 1)[0] + f"/{name}"
    db = Database(url)
    people = await _people_all(db)
    await db.dispose()
    folder = OUT / f"{instances}"
    folder.mkdir(parents=True, exist_ok=True)
    async with Emulator(limits=FloodLimits.unlimited()) as emu:
        emu.add_bot(TOKEN, "gridbot_inbox_bot")
        for tg_id, person in people:
            emu.ensure_user(tg_id, first_name=person, started=True)  # may be written to
        bots = []
        for i in range(instances):
            sub = folder / f"i{i}"
            sub.mkdir(exist_ok=True)
            (sub / "bot.log").unlink(missing_ok=True)
            env = _env(url, emu, free_port())
            env["INBOX_WORKERS"] = "4"
            bots.append(BotProcess(sub, env))
        db = Database(url)
        try:
            await asyncio.gather(*(b.start() for b in bots))
            await _listening(emu, bots)
            updates = [
                _message(i + 1, tg_id, MESSAGES[i // len(people) % len(MESSAGES)])
                for i, (tg_id, _) in enumerate(people * rounds)
            ]
            total = len(updates)
            started = time.perf_counter()
            async with db.session() as session:  # as the door would, all at once
                for update in updates:
                    await keep_update(
                        session,
                        bot_id=BOT_ID,
                        update_id=int(update["update_id"]),
                        raw=json.dumps(update, ensure_ascii=False),
                        now=datetime.now(UTC),
                    )
            while await _done(db) < total:  # the dispatcher is through with each row
                if time.perf_counter() - started > 300:
                    raise SystemExit(f"{instances} instances: not all handled in 300 s")
                await asyncio.sleep(0.05)
            elapsed = time.perf_counter() - started
        finally:
            await db.dispose()
            for b in bots:
                await b.reap()
    async with auto.connect() as conn:
        await conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
    await admin.dispose()
    rate = total / elapsed
    print(f"{instances} instance(s): {total} updates in {elapsed:.2f} s = {rate:.1f} updates/s")
    return rate


async def _listening(emu: Emulator, bots: list[BotProcess]) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while emu.bot.webhook is None or not all(b.proc is not None for b in bots):
        if time.monotonic() > deadline:
            raise SystemExit("no webhook was set:\n" + bots[0].output()[-3000:])
        await asyncio.sleep(0.1)
    # Each instance sets the webhook when it is up: wait for the bots' own "started" lines.
    while not all("gridbot started" in b.output() for b in bots):
        if time.monotonic() > deadline:
            raise SystemExit("instances did not start:\n" + bots[0].output()[-3000:])
        await asyncio.sleep(0.1)


def _message(update_id: int, tg_id: int, text: str) -> dict[str, Any]:
    person = {"id": tg_id, "is_bot": False, "first_name": "p"}
    chat = {"id": tg_id, "type": "private", "first_name": "p"}
    command = {"type": "bot_command", "offset": 0, "length": len(text)}
    message = {"message_id": update_id, "date": 1773104400, "chat": chat, "from": person}
    return {"update_id": update_id, "message": {**message, "text": text, "entities": [command]}}


async def _people_all(db: Database) -> list[tuple[int, str]]:
    async with db.reading() as session:
        n = (
            await session.exec(
                select(func.count()).where(col(Person.tg_id).is_not(None), ~col(Person.is_admin))
            )
        ).one()
    return await _people(db, int(n))


async def _done(db: Database) -> int:
    async with db.reading() as session:
        statement = select(func.count()).where(col(InboxUpdate.done_at).is_not(None))
        return int((await session.exec(statement)).one())


async def main(rounds: int) -> None:
    server = PgServer()
    server_url = server.start()
    try:
        template = "bench_template"
        admin = Database(server_url)
        auto = admin.engine.execution_options(isolation_level="AUTOCOMMIT")
        async with auto.connect() as conn:
            await conn.execute(text(f'CREATE DATABASE "{template}"'))
        await admin.dispose()
        url = server_url.rsplit("/", 1)[0] + f"/{template}"
        db = Database(url)
        await upgrade(db)
        await db.dispose()
        await _import_into(url, "fire-safety-5-level.yaml")
        rates = {k: await _one(server_url, template, k, rounds) for k in (1, 2, 4)}
    finally:
        server.stop()
    cpus = os.cpu_count() or 1
    print(
        f"cpus {cpus}; updates/s: 1 instance {rates[1]:.1f}, 2 instances {rates[2]:.1f}, "
        f"4 instances {rates[4]:.1f}"
    )
    print(f"RATIO {rates[2] / rates[1]:.2f} instances-2/1")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=10, help="messages per person")
    asyncio.run(main(parser.parse_args().rounds))
