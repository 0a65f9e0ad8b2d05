"""Binary files through the outbox: an XLSX as a document and a PNG chart as a photo arrive
with exactly the bytes that were queued."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiogram import Bot
from sqlmodel import select

from bot.notifier import SENT
from domain.clock import ManualClock
from sandbox.emulator import Emulator
from sandbox.flood import FloodLimits
from sandbox.images import make_png
from storage.db import Database
from storage.models import Delivery
from storage.outbox import enqueue
from tests.e2e.notifier_kit import NOW, html_bot, virtual_notifier

TOKEN = "7000000006:TEST-files"
USER = 7_500_000_300

# An XLSX is a zip: its bytes are not UTF-8 (NUL, 0xff) and must not pass through text.
XLSX = b"PK\x03\x04\x14\x00\x06\x00" + bytes(range(256)) + b"\xff\xfe\x00xl/workbook.xml"


@pytest.fixture
async def emu() -> AsyncIterator[Emulator]:
    async with Emulator(clock=ManualClock(), limits=FloodLimits.telegram()) as emulator:
        emulator.add_bot(TOKEN, "gridbot_files_bot")
        emulator.ensure_user(USER, started=True)
        yield emulator


@pytest.fixture
async def bot(emu: Emulator) -> AsyncIterator[Bot]:
    b = html_bot(emu, TOKEN)
    yield b
    await b.session.close()


async def test_binary_document_and_photo_arrive_byte_for_byte(
    db: Database, emu: Emulator, bot: Bot
) -> None:
    chart = make_png(120, 80, seed=7)
    async with db.session() as s:
        await enqueue(
            s,
            key="ledger:xlsx",
            kind="export",
            chat_id=USER,
            text="<b>台账</b>",
            document_name="台账-2026-03.xlsx",
            document_body=XLSX,
            now=NOW,
        )
        await enqueue(
            s, key="chart", kind="stats", chat_id=USER, text="完成率", photo=chart, now=NOW
        )
        await enqueue(
            s,
            key="csv",
            kind="export",
            chat_id=USER,
            text="",
            now=NOW,
            document_name="a.csv",
            document_body="编号\nA1\n",
        )
        await enqueue(
            s,
            key="chart:edit",
            kind="stats",
            chat_id=USER,
            text="完成率（更新）",
            edit_of="chart",
            now=NOW,
        )
    async with db.reading() as s:
        stored = (await s.exec(select(Delivery).where(Delivery.key == "ledger:xlsx"))).one()
    assert stored.document_bytes == XLSX and stored.document_body is None

    notifier = virtual_notifier(db, bot, emu)
    await notifier.start()
    try:
        await notifier.drain(timeout=30)
    finally:
        await notifier.stop()

    async with db.reading() as s:
        assert {d.status for d in (await s.exec(select(Delivery))).all()} == {SENT}
    doc, photo, csv = emu.bot_messages(USER)
    assert doc["document"]["file_name"] == "台账-2026-03.xlsx"
    assert emu.file_bytes(doc["document"]["file_id"]) == XLSX
    assert doc["caption"] == "台账"
    assert emu.file_bytes(photo["photo"][-1]["file_id"]) == chart
    assert photo["caption"] == "完成率（更新）"  # the edit changed the photo's caption
    assert emu.file_bytes(csv["document"]["file_id"]) == "编号\nA1\n".encode()


async def test_a_document_without_a_name_is_refused(db: Database) -> None:
    async with db.session() as s:
        with pytest.raises(ValueError, match="name"):
            await enqueue(
                s, key="x", kind="export", chat_id=USER, text="", now=NOW, document_body=XLSX
            )
