"""Raw updates: the emulator delivers an update exactly as given, even one aiogram rejects."""

from __future__ import annotations

from typing import Any

import aiohttp

from sandbox import Emulator
from tests.sandbox.conftest import ALICE, TOKEN

# An `audio` as older Bot API versions sent it: no file_unique_id.
OLD_AUDIO: dict[str, Any] = {
    "message": {
        "message_id": 900,
        "date": 1700000000,
        "chat": {"id": ALICE, "type": "private", "first_name": "Alice"},
        "from": {"id": ALICE, "is_bot": False, "first_name": "Alice"},
        "audio": {"file_id": "old-audio", "duration": 3},
    }
}


async def raw_get_updates(emu: Emulator, **params: Any) -> list[dict[str, Any]]:
    """getUpdates read as plain JSON: aiogram would refuse the whole batch."""
    async with (
        aiohttp.ClientSession() as http,
        http.post(f"{emu.base_url}/bot{TOKEN}/getUpdates", json=params) as resp,
    ):
        body = await resp.json()
    assert body["ok"], body
    result: list[dict[str, Any]] = body["result"]
    return result


async def test_a_raw_update_is_delivered_as_given_in_sequence(emu: Emulator) -> None:
    emu.user_send(ALICE, "before")
    queued = emu.inject_raw_update(OLD_AUDIO)
    emu.user_send(ALICE, "after")
    batch = await raw_get_updates(emu)
    assert [u["update_id"] for u in batch] == [1, 2, 3]
    assert batch[1] == queued == {"update_id": 2, **OLD_AUDIO}
    assert "file_unique_id" not in batch[1]["message"]["audio"]
    assert [u["message"].get("text") for u in batch] == ["before", None, "after"]


async def test_an_odd_update_id_is_kept_and_confirmed_with_the_update_after_it(
    emu: Emulator,
) -> None:
    emu.user_send(ALICE, "before")
    emu.inject_raw_update({"update_id": 2**70, **OLD_AUDIO})
    emu.user_send(ALICE, "after")
    batch = await raw_get_updates(emu)
    assert [u["update_id"] for u in batch] == [1, 2**70, 2]
    # confirming "before" keeps the odd one: it was queued after it
    assert [u["update_id"] for u in await raw_get_updates(emu, offset=2)] == [2**70, 2]
    # confirming "after" confirms everything queued before it, the odd one too
    assert await raw_get_updates(emu, offset=3) == []
    assert emu.bot.updates == []
