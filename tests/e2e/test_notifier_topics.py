"""The outbox's forum topics: a row naming a topic (`message_thread_id`) lands in it, as a
message, a photo or an album, and an edit changes it there; a row whose topic was deleted
meanwhile is refused by Telegram ("message thread not found") and goes to the group's General
topic instead, once, logged and recorded on the row: the card is not lost."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import pytest
from aiogram import Bot
from sqlmodel import select

from bot.notifier import SENT
from domain.clock import ManualClock
from sandbox.emulator import Emulator
from sandbox.flood import FloodLimits
from storage.db import Database
from storage.models import Delivery
from storage.outbox import enqueue
from tests.e2e.notifier_kit import NOW, html_bot, virtual_notifier

TOKEN = "7000000007:TEST-topics"
OWNER = 7_500_000_400


@pytest.fixture
async def emu() -> AsyncIterator[Emulator]:
    async with Emulator(clock=ManualClock(), limits=FloodLimits.telegram()) as emulator:
        emulator.add_bot(TOKEN, "gridbot_topics_bot")
        yield emulator


@pytest.fixture
async def bot(emu: Emulator) -> AsyncIterator[Bot]:
    b = html_bot(emu, TOKEN)
    yield b
    await b.session.close()


async def test_rows_land_in_their_topic_or_in_general_when_it_is_gone(
    db: Database, emu: Emulator, bot: Bot, caplog: pytest.LogCaptureFixture
) -> None:
    chat_id = emu.create_group("林和东论坛", admins=[OWNER], supergroup=True, bot_admin=True).id
    emu.make_forum(chat_id)
    kept = (await bot.create_forum_topic(chat_id, "🟠 LH-A")).message_thread_id
    gone = (await bot.create_forum_topic(chat_id, "🔴 LH-B")).message_thread_id
    emu.delete_topic(chat_id, gone)
    emu.ensure_user(OWNER, started=True)
    # Photos the bot may send: each one a person sent it.
    photos = [emu.user_send_photo(OWNER)["photo"][-1]["file_id"] for _ in range(2)]
    rows = (
        ("kept:text", {"text": "卡片 A", "message_thread_id": kept}),
        ("kept:photo", {"text": "照片 A", "photo": photos[0], "message_thread_id": kept}),
        ("gone:card", {"text": "卡片 B", "photo": photos[1], "message_thread_id": gone}),
        ("gone:album", {"text": "证据 B", "album": photos, "message_thread_id": gone}),
        ("general", {"text": "一般隐患"}),
        ("kept:edit", {"text": "卡片 A（已立案）", "edit_of": "kept:text"}),
    )
    async with db.session() as s:
        for key, fields in rows:
            await enqueue(s, key=key, kind="case_card", chat_id=chat_id, now=NOW, **fields)

    notifier = virtual_notifier(db, bot, emu)
    caplog.set_level(logging.WARNING, logger="bot.notifier.sender")
    await notifier.start()
    try:
        await notifier.drain(timeout=30)
    finally:
        await notifier.stop()

    async with db.reading() as s:
        stored = {d.key: d for d in (await s.exec(select(Delivery))).all()}
    assert {d.status for d in stored.values()} == {SENT}
    shown = {
        str(m.get("text") or m.get("caption") or ""): m.get("message_thread_id")
        for m in emu.bot_messages(chat_id)
        if "text" in m or "caption" in m
    }
    assert shown == {
        "卡片 A（已立案）": kept,  # edited in place, in its topic
        "照片 A": kept,
        "卡片 B": None,
        "证据 B": None,
        "一般隐患": None,
    }
    for key in ("gone:card", "gone:album"):
        assert stored[key].message_thread_id is None  # a retry would not try the topic again
    assert stored["kept:photo"].message_thread_id == kept
    assert notifier.stats.to_general == 2 and notifier.stats.failed == 0
    assert notifier.stats.retry_after == 0  # the send again waited for the chat's turn
    told = [r.getMessage() for r in caplog.records if "sending to General" in r.getMessage()]
    assert len(told) == 2 and all(f"topic {gone} of chat {chat_id}" in t for t in told)
