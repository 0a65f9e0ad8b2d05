"""A stranger, an imported person, the language switch, and a webhook-mode bot."""

from __future__ import annotations

from tests.e2e.harness import World


async def test_stranger_is_told_how_to_join(world: World) -> None:
    stranger = world.user(7_500_000_123, first_name="Stranger")
    await stranger.send("/start")
    reply = await stranger.expect_reply(contains="邀请链接")
    assert "还不是任何网格的成员" in reply.text


async def test_imported_person_is_recognised_by_name_and_roles(world: World) -> None:
    head = world.user(800000020)  # 林和东书记, leader of LH-01
    await head.send("/start")
    reply = await head.expect_reply(contains="林和东书记")
    assert "林和东社区" in reply.text and "网格长" in reply.text


async def test_lang_switches_the_next_reply(world: World) -> None:
    guard = world.user(810000001)
    await guard.send("/lang")
    await guard.expect_reply(contains="请选择语言")
    await guard.press("English")
    await guard.expect_reply(contains="Language set to English")
    await guard.send("/start")
    reply = await guard.expect_reply(contains="Hello")
    assert "Your roles" in reply.text
    await guard.send("/lang")
    await guard.expect_reply(contains="Choose a language")
    await guard.press("中文")
    await guard.expect_reply(contains="语言已切换为中文")


async def test_unknown_command_gets_a_polite_answer(world: World) -> None:
    guard = world.user(810000001)
    await guard.send("/frobnicate")
    await guard.expect_reply(contains="没有这个命令")


async def test_person_added_by_id_takes_their_telegram_name(world: World) -> None:
    chief = world.user(800000001)
    await chief.send("/role 7500000999 LH-01 police")
    await chief.expect_reply(contains="7500000999")
    newcomer = world.user(7500000999, first_name="王", username="wang_police")
    await newcomer.send("/start")
    reply = await newcomer.expect_reply(contains="王")
    assert "林和东社区" in reply.text and "社区民警" in reply.text
    assert "待认领" not in reply.text
