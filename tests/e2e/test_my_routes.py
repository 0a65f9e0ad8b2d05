"""/my is reached by its command (private or group, with the bot's name) and by the menu
button (private only), whichever of its two handlers aiogram tries first: the same reply,
text and buttons; the button in a group and another bot's /my are not /my."""

from __future__ import annotations

from typing import Any

from tests.e2e.harness import World
from tests.e2e.test_patrol import GUARD, LEADER, STAFF, quick_check_in


def _shown(message: Any) -> tuple[str, Any]:
    return message.text, message.raw.get("reply_markup")


async def test_my_by_command_and_by_menu_button_alike(world: World) -> None:
    guard = world.user(GUARD)
    await quick_check_in(guard)
    await guard.send("/my")
    by_command = _shown(await guard.expect_reply(contains="巡查考核"))
    await guard.send("我的待办")  # the menu button
    assert _shown(await guard.expect_reply(contains="巡查考核")) == by_command
    await guard.send("/my@gridbot_test_bot_not_this_one")
    assert _shown(await guard.expect_reply()) != by_command  # another bot's is not /my

    chat = world.emu.create_group(
        "林和东社区群", members=[STAFF], admins=[LEADER], bot_member=True, creator=LEADER
    )
    staff = world.user(STAFF)
    await staff.send("/my")
    private = _shown(await staff.expect_reply())
    in_group = staff.in_group(chat.id)
    await in_group.send("我的待办")  # not the menu in a group
    await in_group.send("/my")
    assert _shown(await in_group.expect_reply())[0] == private[0]
