"""Groups through the emulator: /bind, anonymous admins, join/leave, supergroup migration."""

from __future__ import annotations

import asyncio
import re

from sqlmodel import col, select

from storage.models import AuditEntry, Department, Grid
from tests.e2e.harness import ADMIN_TG_ID, World

STREET_HEAD = 800000010  # leader of LH, not a gridbot admin
MEMBER = 810000001


async def bound_chat(world: World, code: str) -> int | None:
    async with world.db.session() as s:
        return (await s.exec(select(Grid).where(Grid.code == code))).one().group_chat_id


async def audit(world: World, action: str) -> list[AuditEntry]:
    async with world.db.session() as s:
        query = select(AuditEntry).where(AuditEntry.action == action)
        return list((await s.exec(query.order_by(col(AuditEntry.id)))).all())


async def eventually_audited(world: World, action: str, within: float = 5.0) -> list[AuditEntry]:
    """Updates without a reply (the bot removed) are handled in the background: poll."""
    for _ in range(int(within / 0.05)):
        entries = await audit(world, action)
        if entries:
            return entries
        await asyncio.sleep(0.05)
    return []


def make_group(world: World, *, supergroup: bool = False, bot_member: bool = True) -> int:
    chat = world.emu.create_group(
        "林和街道工作群",
        members=[MEMBER],
        admins=[ADMIN_TG_ID, STREET_HEAD],
        supergroup=supergroup,
        bot_member=bot_member,
        creator=ADMIN_TG_ID,
    )
    return chat.id


async def test_bot_added_tells_the_group_how_to_bind_and_removal_keeps_the_binding(
    world: World,
) -> None:
    chat_id = make_group(world, bot_member=False)
    world.emu.add_bot_to_group(chat_id, by=ADMIN_TG_ID)
    admin = world.user(ADMIN_TG_ID).in_group(chat_id)
    await admin.expect_reply(contains="/bind 网格编号")
    assert [e.detail["title"] for e in await audit(world, "group_joined")] == ["林和街道工作群"]
    await admin.send("/bind LH")
    await admin.expect_reply(contains="本群已绑定到网格 林和街道（LH）")
    world.emu.remove_bot_from_group(chat_id, by=ADMIN_TG_ID)
    entries = await eventually_audited(world, "group_left")
    assert entries and entries[0].detail["bound"] == ["grid:LH"]
    assert await bound_chat(world, "LH") == chat_id


async def test_admin_of_both_binds(world: World) -> None:
    chat_id = make_group(world)
    admin = world.user(ADMIN_TG_ID).in_group(chat_id)
    await admin.send("/bind@gridbot_test_bot LH")
    await admin.expect_reply(contains="本群已绑定到网格 林和街道（LH）")
    assert await bound_chat(world, "LH") == chat_id
    await admin.send("/bind LH")
    await admin.expect_reply(contains="无需重复绑定")
    await admin.send("/bind ZJ")
    reply = await admin.expect_reply(contains="珠玑街道")
    assert "原先绑定的 LH 已解除" in reply.text
    assert await bound_chat(world, "LH") is None and await bound_chat(world, "ZJ") == chat_id
    assert len(await audit(world, "group_bind")) == 3


async def test_department_binds(world: World) -> None:
    chat_id = make_group(world)
    admin = world.user(ADMIN_TG_ID).in_group(chat_id)
    await admin.send("/bind XFDD")
    await admin.expect_reply(contains="职能部门 区消防大队（XFDD）")
    async with world.db.session() as s:
        dept = (await s.exec(select(Department).where(Department.code == "XFDD"))).one()
    assert dept.chat_id == chat_id


async def test_refused_for_non_admins(world: World) -> None:
    chat_id = make_group(world)
    # A group admin who is not a gridbot admin.
    head = world.user(STREET_HEAD).in_group(chat_id)
    await head.send("/bind LH")
    await head.expect_reply(contains="只有同时是本群管理员和网格通管理员")
    # A plain member.
    member = world.user(MEMBER).in_group(chat_id)
    await member.send("/bind LH")
    await member.expect_reply(contains="只有同时是本群管理员和网格通管理员")
    # A gridbot admin who is only a member of this group.
    other = world.emu.create_group("别的群", members=[ADMIN_TG_ID, MEMBER], creator=MEMBER)
    admin = world.user(ADMIN_TG_ID).in_group(other.id)
    await admin.send("/bind LH")
    await admin.expect_reply(contains="只有同时是本群管理员和网格通管理员")
    await admin.send("/bind")
    await admin.expect_reply(contains="用法：/bind")
    assert await bound_chat(world, "LH") is None
    assert await audit(world, "group_bind") == []


async def test_anonymous_admin_needs_a_bind_code(world: World) -> None:
    chat_id = make_group(world, supergroup=True)
    anon = world.user(STREET_HEAD).in_group(chat_id)
    await anon.send("/bind LH-01", anonymous=True)
    await anon.expect_reply(contains="匿名管理员无法确认身份")
    assert await bound_chat(world, "LH-01") is None

    admin = world.user(ADMIN_TG_ID)
    await admin.send("/bind LH-01")
    reply = await admin.expect_reply(contains="群绑定码")
    found = re.search(r"/bind LH-01 ([A-Z0-9]{8})", reply.text)
    assert found, reply.text
    await anon.send(f"/bind LH-01 {found.group(1)}", anonymous=True)
    await anon.expect_reply(contains="本群已绑定到网格 林和东社区（LH-01）")
    assert await bound_chat(world, "LH-01") == chat_id
    # The code works once.
    await anon.send(f"/bind LH-01 {found.group(1)}", anonymous=True)
    await anon.expect_reply(contains="绑定码已使用过")
    entry = (await audit(world, "group_bind"))[-1]
    assert entry.actor_tg_id is None and entry.detail["anonymous"] is True
    assert entry.detail["bind_code_issued_by"] == ADMIN_TG_ID


async def test_binding_survives_the_move_to_a_supergroup(world: World) -> None:
    chat_id = make_group(world)
    admin = world.user(ADMIN_TG_ID).in_group(chat_id)
    await admin.send("/bind LH")
    await admin.expect_reply(contains="本群已绑定")
    new = world.emu.migrate_to_supergroup(chat_id)
    assert new.id != chat_id
    in_new = world.user(ADMIN_TG_ID).in_group(new.id)
    await in_new.expect_reply(contains="已升级为超级群，仍绑定在网格 林和街道（LH）")
    assert await bound_chat(world, "LH") == new.id
    assert len(await audit(world, "group_migrated")) == 1
    # Binding again in the new supergroup is recognised as the same binding.
    await in_new.send("/bind LH")
    await in_new.expect_reply(contains="无需重复绑定")
