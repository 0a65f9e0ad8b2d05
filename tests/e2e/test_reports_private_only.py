"""/stats, /export and /summary name people and their figures: in a group each answers that
it is for the private chat, and sends nothing else."""

from __future__ import annotations

import pytest

from tests.e2e.harness import ADMIN_TG_ID, World

STREET_HEAD = 800000010  # leader of LH


@pytest.mark.parametrize("command", ["/stats", "/export", "/summary"])
async def test_a_report_command_in_a_group_points_to_the_private_chat(
    world: World, command: str
) -> None:
    chat = world.emu.create_group(
        "林和街道工作群", admins=[ADMIN_TG_ID, STREET_HEAD], creator=ADMIN_TG_ID
    )
    head = world.user(STREET_HEAD).in_group(chat.id)
    await head.send(f"{command} LH")
    answer = await head.expect_reply(contains="私聊")
    assert command in answer.text
    await head.expect_silence()
