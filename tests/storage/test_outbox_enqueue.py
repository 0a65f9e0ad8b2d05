"""Queuing a push is one statement that also tells whether its key was queued before: the
same key twice queues one row, and the row has the outbox's defaults."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlmodel import select

from storage.db import Database
from storage.models import Delivery
from storage.outbox import PENDING, enqueue
from storage.sql_tally import SqlTally

NOW = datetime(2026, 3, 10, 1, 30, tzinfo=UTC)


async def test_a_key_is_queued_once_with_one_statement_each_time(db: Database) -> None:
    tally = SqlTally.install(db.engine)
    try:
        with SqlTally.counting() as cost:
            async with db.unit_of_work() as session:
                first = await enqueue(
                    session, key="case:A-1:card", kind="case", chat_id=7500000123,
                    text="新隐患", now=NOW, reply_markup={"inline_keyboard": []},
                )  # fmt: skip
                again = await enqueue(
                    session, key="case:A-1:card", kind="case", chat_id=7500000123,
                    text="不同的文字", now=NOW,
                )  # fmt: skip
    finally:
        tally.remove()
    assert (first, again) == (True, False)
    assert cost.statements == 2, cost.sql
    async with db.reading() as session:
        rows = (await session.exec(select(Delivery))).all()
    assert len(rows) == 1
    row = rows[0]
    assert (row.text, row.reply_markup, row.status, row.attempts) == (
        "新隐患", {"inline_keyboard": []}, PENDING, 0,
    )  # fmt: skip
    assert row.not_before == NOW and row.created_at == NOW and row.sent_at is None


async def test_a_one_photo_album_is_a_photo_and_a_rolled_back_push_is_not_queued(
    db: Database,
) -> None:
    async with db.unit_of_work() as session:
        assert await enqueue(
            session, key="k:album", kind="report", chat_id=1, text="照片", now=NOW,
            album=["AgAD1"],
        )  # fmt: skip
    try:
        async with db.unit_of_work() as session:
            await enqueue(session, key="k:gone", kind="report", chat_id=1, text="x", now=NOW)
            raise RuntimeError("the update failed")
    except RuntimeError:
        pass
    async with db.reading() as session:
        rows = (await session.exec(select(Delivery))).all()
    assert [(r.key, r.photo, r.album) for r in rows] == [("k:album", "AgAD1", None)]
