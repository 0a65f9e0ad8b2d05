"""One chat's messages arrive in the order they were queued, whatever each one costs.

An album counts one message per photo, so it may wait on the chat's bucket longer than a text
queued after it would: the text must still wait its turn (a verifier reads the feedback's
photos, then the card that asks them to verify, never the other way round)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiogram import Bot

from domain.clock import ManualClock
from sandbox.emulator import Emulator
from sandbox.flood import FloodLimits
from storage.db import Database
from storage.outbox import enqueue
from tests.e2e.notifier_kit import NOW, html_bot, virtual_notifier

TOKEN = "7000000005:TEST-order"
USER = 7_600_000_001
OTHER = 7_600_000_002


@pytest.fixture(params=[1.0, 3.0], ids=["no-burst", "burst-3"])
async def emu(request: pytest.FixtureRequest) -> AsyncIterator[Emulator]:
    limits = FloodLimits(chat_burst=request.param, seed=11)
    async with Emulator(clock=ManualClock(), limits=limits) as emulator:
        emulator.add_bot(TOKEN, "gridbot_order_bot")
        yield emulator


@pytest.fixture
async def bot(emu: Emulator) -> AsyncIterator[Bot]:
    b = html_bot(emu, TOKEN)
    yield b
    await b.session.close()


def photo_ids(emu: Emulator, n: int) -> list[str]:
    """Photos the bot may send: each one a user sent it."""
    ids = []
    for _ in range(n):
        message = emu.user_send_photo(OTHER)
        ids.append(message["photo"][-1]["file_id"])
    return ids


async def test_an_album_and_the_text_after_it_keep_their_order(
    db: Database, emu: Emulator, bot: Bot
) -> None:
    emu.ensure_user(USER, started=True)
    emu.ensure_user(OTHER, started=True)
    album = photo_ids(emu, 3)
    async with db.session() as s:
        await enqueue(s, key="a", kind="case_card", chat_id=USER, text="第一条", now=NOW)
        await enqueue(
            s, key="b", kind="case_evidence", chat_id=USER, text="反馈照片", album=album, now=NOW
        )
        await enqueue(s, key="c", kind="case_handoff", chat_id=USER, text="请核查", now=NOW)
        await enqueue(s, key="d", kind="case_card", chat_id=OTHER, text="别人的", now=NOW)
    notifier = virtual_notifier(db, bot, emu)
    await notifier.start()
    try:
        await notifier.drain(timeout=60)
    finally:
        await notifier.stop()
    sent = emu.bot_messages(USER)
    said = [m.get("text") or m.get("caption") for m in sent]
    assert said == ["第一条", "反馈照片", None, None, "请核查"], said
    assert [bool(m.get("media_group_id")) for m in sent] == [False, True, True, True, False]
    assert [m.get("text") for m in emu.bot_messages(OTHER)] == ["别人的"]
    assert emu.stats.too_many_requests == 0
