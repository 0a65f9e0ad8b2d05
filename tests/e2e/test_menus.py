"""Command menus per scope and language; a refused menu does not stop start-up."""

from __future__ import annotations

from domain.clock import ManualClock
from sandbox.emulator import Emulator
from tests.e2e.conftest import DEFAULT_NOW
from tests.e2e.harness import ADMIN_TG_ID, World


def names(commands: list[dict[str, str]]) -> list[str]:
    return [c["command"] for c in commands]


async def test_menus_by_scope_and_language(world: World) -> None:
    emu = world.emu
    member = 810000001
    emu.ensure_user(member)
    emu.ensure_user(ADMIN_TG_ID)
    private = emu.visible_commands(member)
    assert "report" in names(private) and "tree" not in names(private)
    assert any(c["description"] == "上报隐患" for c in private)
    english = emu.visible_commands(member, language_code="en")
    assert any(c["description"] == "Report a hazard" for c in english)
    # An admin's own menu needs their chat, which exists once they talk to the bot.
    chief = world.user(ADMIN_TG_ID)
    await chief.send("/start")
    await chief.expect_reply(contains="管理员")
    admin = emu.visible_commands(ADMIN_TG_ID)
    assert {"tree", "invite", "grid_add", "bind"} <= set(names(admin))
    group = emu.create_group("测试群", members=[member])
    in_group = emu.visible_commands(member, chat_id=group.id)
    assert "bind" in names(in_group) and "lang" not in names(in_group)


async def test_start_up_carries_on_when_menus_are_refused(
    emulator: Emulator, world_db_url: str
) -> None:
    emulator.faults.server_error(n=50, status=500, method="setmycommands")
    w = World(emulator, world_db_url, ManualClock(DEFAULT_NOW))
    await w.start()
    try:
        guard = w.user(810000001)
        await guard.send("/start")
        await guard.expect_reply(contains="您好")
        assert emulator.visible_commands(810000001) == []
    finally:
        await w.stop()
