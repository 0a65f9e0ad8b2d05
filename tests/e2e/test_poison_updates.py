"""One update aiogram's types reject never holds up the others (long polling).

Each poisoned update sits in one getUpdates batch between two good ones: the emulator's
user side queues without yielding, so the bot fetches all three at once.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest

from storage.models import QuarantinedUpdate
from storage.quarantine import quarantined_updates
from tests.e2e.harness import World

HEAD = 800000020  # 林和东书记
GUARD = 810000001  # 保安巡查员
OUTSIDER = 7_500_000_321  # sends the poisoned update


def private_message(tg_id: int, **content: Any) -> dict[str, Any]:
    person = {"id": tg_id, "is_bot": False, "first_name": "Outsider"}
    return {
        "message_id": 4242,
        "date": 1773104400,
        "chat": {"id": tg_id, "type": "private", "first_name": "Outsider"},
        "from": person,
        **content,
    }


def quarantine_warnings(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "bot.intake" and r.levelno == logging.WARNING]


async def poisoned_batch(world: World, poison: dict[str, Any]) -> tuple[dict[str, Any], list[Any]]:
    """/start from HEAD, the poison, /start from GUARD in one batch; both good ones answered."""
    head, guard = world.user(HEAD), world.user(GUARD)
    await head.send("/start")
    queued = world.emu.inject_raw_update(poison)
    await guard.send("/start")
    replies = [
        await head.expect_reply(contains="林和东书记"),
        await guard.expect_reply(contains="保安巡查员"),
    ]
    return queued, replies


async def confirmed_past(world: World, update_id: int) -> bool:
    """The emulator's queue no longer holds the update: the bot's offset moved past it."""
    bot = world.emu.bot
    gone = await bot.notifier.wait_for(
        lambda: all(u.get("update_id") != update_id for u in bot.updates), 10
    )
    return bool(gone)


async def kept(world: World) -> list[QuarantinedUpdate]:
    async with world.db.session() as session:
        return list(await quarantined_updates(session))


async def test_an_old_audio_between_two_good_updates_is_quarantined_and_skipped(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    outsider = world.user(OUTSIDER)
    # An `audio` as an older Bot API sent it: without file_unique_id.
    poison = {"message": private_message(OUTSIDER, audio={"file_id": "old", "duration": 3})}
    queued, _ = await poisoned_batch(world, poison)
    assert await confirmed_past(world, queued["update_id"])

    [row] = await kept(world)
    assert row.update_id == queued["update_id"]
    assert json.loads(row.raw) == queued
    assert "message.audio.file_unique_id" in row.reason and "required" in row.reason
    [warning] = quarantine_warnings(caplog)
    assert str(queued["update_id"]) in warning.getMessage()
    assert "file_unique_id" in warning.getMessage() and "\n" not in warning.getMessage()
    assert not [r for r in caplog.records if r.exc_info]
    assert not [e for e in outsider.transcript() if e.kind in ("sent", "edited")]


async def test_an_update_id_beyond_64_bits_is_quarantined_without_its_id(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    outsider = world.user(OUTSIDER)
    start = private_message(
        OUTSIDER, text="/start", entities=[{"type": "bot_command", "offset": 0, "length": 6}]
    )
    queued, _ = await poisoned_batch(world, {"update_id": 2**70, "message": start})
    assert await confirmed_past(world, 2**70)

    [row] = await kept(world)
    assert row.update_id is None
    assert json.loads(row.raw) == queued
    assert "update_id" in row.reason
    [warning] = quarantine_warnings(caplog)
    assert "no usable id" in warning.getMessage() and "\n" not in warning.getMessage()
    assert not [r for r in caplog.records if r.exc_info]  # no OverflowError in the DB driver
    # a well-formed /start, but its id is refused: nobody answered it
    assert not [e for e in outsider.transcript() if e.kind in ("sent", "edited")]
    # and the bot still takes what comes next
    await world.user(GUARD).send("/start")
    await world.user(GUARD).expect_reply(contains="保安巡查员")
