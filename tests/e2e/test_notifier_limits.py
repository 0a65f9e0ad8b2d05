"""The notifier against the emulator's strict flood limits, and with faults injected.

The flood test runs on virtual time: the emulator's token buckets and the notifier's read the
same ManualClock, and the notifier's sleeps advance it. 2,000 messages then take a few real
seconds, and the virtual seconds they took are compared with what the limits allow.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Required, TypedDict

import pytest
from aiogram import Bot
from aiogram.client.default import DefaultBotProperties
from aiogram.enums import ParseMode
from sqlmodel import select

from bot.notifier import FAILED, SENT, UNDELIVERABLE, Limits, OutboxNotifier
from domain.clock import ManualClock
from sandbox.emulator import Emulator
from sandbox.flood import FloodLimits
from storage.db import Database
from storage.models import Delivery, Department, Grid, Person
from storage.outbox import enqueue
from tests.e2e.notifier_kit import virtual_notifier

TOKEN = "7000000002:TEST-notifier"
NOW = datetime(2026, 3, 10, 1, 0, tzinfo=UTC)
FIRST_USER = 7_500_000_000


# Telegram publishes no exact limits (sandbox/flood.py): the notifier must keep within any
# Telegram of that model, not within one emulator's constants, so each test runs against a few.
TELEGRAMS = {
    "telegram": FloodLimits.telegram(),
    "other-retry-draws": FloodLimits(seed=20260310),
    "no-burst-per-chat": FloodLimits(chat_burst=1.0, seed=3),
}


@pytest.fixture(params=list(TELEGRAMS))
async def emu(request: pytest.FixtureRequest) -> AsyncIterator[Emulator]:
    async with Emulator(clock=ManualClock(), limits=TELEGRAMS[request.param]) as emulator:
        emulator.add_bot(TOKEN, "gridbot_notifier_bot")
        yield emulator


@pytest.fixture
async def bot(emu: Emulator) -> AsyncIterator[Bot]:
    b = Bot(
        TOKEN, session=emu.bot_session(), default=DefaultBotProperties(parse_mode=ParseMode.HTML)
    )
    yield b
    await b.session.close()


def make_notifier(
    db: Database, bot: Bot, emu: Emulator, limits: Limits = Limits()
) -> OutboxNotifier:
    return virtual_notifier(db, bot, emu, limits)


class Nag(TypedDict, total=False):
    """A nag to queue (`storage.outbox.enqueue`'s parameters)."""

    key: Required[str]
    chat_id: Required[int]
    text: Required[str]
    edit_of: str
    document_name: str
    document_body: str


async def queue(db: Database, rows: list[Nag]) -> None:
    async with db.session() as s:
        for row in rows:
            await enqueue(s, now=NOW, kind="nag", **row)


async def statuses(db: Database) -> dict[str, Delivery]:
    async with db.reading() as s:
        return {d.key: d for d in (await s.exec(select(Delivery))).all()}


async def test_2000_nags_within_the_limits_and_no_429(
    db: Database, emu: Emulator, bot: Bot
) -> None:
    n = 2000
    for i in range(n):
        emu.ensure_user(FIRST_USER + i, started=True)
    await queue(
        db,
        [
            {"key": f"nag:{i}:2026-03-10", "chat_id": FIRST_USER + i, "text": f"催办 <b>{i}</b>"}
            for i in range(n)
        ],
    )
    notifier = make_notifier(db, bot, emu)
    await notifier.start()
    try:
        await notifier.drain(timeout=120)
    finally:
        await notifier.stop()
    assert emu.stats.too_many_requests == 0
    assert emu.stats.count("sendMessage") == n
    rows = await statuses(db)
    assert {d.status for d in rows.values()} == {SENT}
    assert all(d.message_id for d in rows.values())
    # What the limits allow: 30 in any one second.
    lim = FloodLimits.telegram()
    allowed = (n - lim.global_per_second) / lim.global_per_second
    took = emu.clock.monotonic()
    assert took <= allowed * 1.10, (took, allowed)


async def test_per_chat_and_per_group_limits(db: Database, emu: Emulator, bot: Bot) -> None:
    emu.ensure_user(FIRST_USER, started=True)
    group = emu.create_group("一社区网格群", members=[FIRST_USER])
    rows: list[Nag] = [{"key": f"p:{i}", "chat_id": FIRST_USER, "text": f"p{i}"} for i in range(10)]
    rows += [{"key": f"g:{i}", "chat_id": group.id, "text": f"g{i}"} for i in range(25)]
    await queue(db, rows)
    notifier = make_notifier(db, bot, emu)
    await notifier.start()
    try:
        await notifier.drain(timeout=60)
    finally:
        await notifier.stop()
    assert emu.stats.too_many_requests == 0
    # 25 to one group at 20 a minute: 24 gaps of 3 s.
    assert emu.clock.monotonic() >= 24 * 3.0 - 1e-6
    texts = [m["text"] for m in emu.bot_messages(FIRST_USER)]
    assert texts == [f"p{i}" for i in range(10)]  # in id order
    assert [m["text"] for m in emu.bot_messages(group.id)] == [f"g{i}" for i in range(25)]


async def test_faults_everything_deliverable_is_delivered_once(
    db: Database, emu: Emulator, bot: Bot
) -> None:
    users = [FIRST_USER + i for i in range(40)]
    for uid in users:
        emu.ensure_user(uid, started=True)
    blocked = users[3]
    emu.faults.block(blocked)
    group = emu.create_group("林和东社区群", members=users[:2])
    async with db.session() as s:
        s.add(Person(tg_id=blocked, name="被屏蔽的人"))
        s.add(Grid(code="G1", name="一网格", level=1, path="/1/", group_chat_id=group.id))
        s.add(Department(code="PS", name="派出所", chat_id=group.id))
    emu.migrate_to_supergroup(group.id)
    new_group_id = emu.groups[group.id].migrated_to
    assert new_group_id is not None

    rows: list[Nag] = [{"key": f"n:{uid}", "chat_id": uid, "text": f"hello {uid}"} for uid in users]
    rows += [{"key": f"grp:{i}", "chat_id": group.id, "text": f"群通知{i}"} for i in range(3)]
    rows.append({"key": "bad", "chat_id": users[5], "text": "<b>unclosed"})
    rows.append(
        {
            "key": "doc",
            "chat_id": users[6],
            "text": "台账",
            "document_name": "ledger.csv",
            "document_body": "编号,状态\nA1,closed\n",
        }
    )
    rows.append({"key": "edit", "chat_id": users[7], "text": "已更新", "edit_of": f"n:{users[7]}"})
    await queue(db, rows)
    emu.faults.too_many_requests(3, retry_after=4, method="sendMessage")
    emu.faults.server_error(4, status=502, method="sendMessage")
    emu.faults.server_error(2, status=502, method="sendMessage", html=True)

    notifier = make_notifier(db, bot, emu, Limits(base_backoff=0.5))
    await notifier.start()
    try:
        for _ in range(20):
            await notifier.drain(timeout=60)
            done = await statuses(db)
            if all(d.status != "pending" for d in done.values()):
                break
            await asyncio.sleep(0.05)
    finally:
        await notifier.stop()

    done = await statuses(db)
    assert done[f"n:{blocked}"].status == UNDELIVERABLE
    assert done["bad"].status == FAILED and "parse" in (done["bad"].last_error or "")
    deliverable = {k: d for k, d in done.items() if k not in {f"n:{blocked}", "bad"}}
    assert {d.status for d in deliverable.values()} == {SENT}
    # each user got exactly one message (the edit changed it in place)
    for uid in users:
        msgs = emu.bot_messages(uid)
        if uid == blocked:
            assert msgs == []
        elif uid == users[5]:
            assert [m.get("text") for m in msgs] == [f"hello {uid}"]
        elif uid == users[6]:
            assert len(msgs) == 2 and msgs[1]["document"]["file_name"] == "ledger.csv"
        elif uid == users[7]:
            assert [m["text"] for m in msgs] == ["已更新"]
        else:
            assert [m["text"] for m in msgs] == [f"hello {uid}"]
    assert [m["text"] for m in emu.bot_messages(new_group_id)] == ["群通知0", "群通知1", "群通知2"]
    async with db.reading() as s:
        person = (await s.exec(select(Person).where(Person.tg_id == blocked))).one()
        grid = (await s.exec(select(Grid))).one()
        dept = (await s.exec(select(Department))).one()
    assert person.reachable is False
    assert grid.group_chat_id == new_group_id and dept.chat_id == new_group_id
    assert emu.stats.too_many_requests == 3  # only the injected ones
    assert notifier.stats.retry_after == 3


async def test_not_before_holds_until_the_clock_reaches_it(
    db: Database, emu: Emulator, bot: Bot
) -> None:
    emu.ensure_user(FIRST_USER, started=True)
    async with db.session() as s:
        await enqueue(
            s,
            key="later",
            kind="nag",
            chat_id=FIRST_USER,
            text="早上好",
            now=NOW,
            not_before=NOW + timedelta(hours=8),
        )
    notifier = make_notifier(db, bot, emu)
    await notifier.start()
    try:
        await notifier.drain()
        assert emu.bot_messages(FIRST_USER) == []
        assert isinstance(notifier.clock, ManualClock)
        notifier.clock.set(NOW + timedelta(hours=8))
        await notifier.drain()
        assert [m["text"] for m in emu.bot_messages(FIRST_USER)] == ["早上好"]
    finally:
        await notifier.stop()
