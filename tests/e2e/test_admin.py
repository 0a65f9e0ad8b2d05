"""Admin commands through the emulator: each works for an admin and is refused for a member."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlmodel import col, select

from storage.models import AuditEntry, Grid, Membership, Person
from tests.e2e.harness import ADMIN_TG_ID, World

MEMBER = 810000001  # a guard in fire-safety-5-level.yaml, no admin


async def audit_actions(world: World) -> list[str]:
    async with world.db.session() as s:
        return [e.action for e in await s.exec(select(AuditEntry).order_by(col(AuditEntry.id)))]


async def grid(world: World, code: str) -> Grid:
    async with world.db.session() as s:
        return (await s.exec(select(Grid).where(Grid.code == code))).one()


@pytest.mark.parametrize(
    "command",
    [
        "/tree",
        "/grid_add Q NEW 新网格",
        "/grid_rename LH 改名",
        "/grid_move LH-01 ZJ",
        "/grid_archive LH",
        "/members LH",
        "/role 810000002 LH leader",
        "/remove 810000002 LH-01-1",
        "/admins",
        "/dept_add NEWD 新部门",
        "/invite LH guard",
        "/bind LH",
    ],
)
async def test_member_is_refused_and_nothing_changes(world: World, command: str) -> None:
    before = await audit_actions(world)
    member = world.user(MEMBER)
    await member.send(command)
    reply = await member.expect_reply(contains="仅限管理员")
    assert reply.buttons == [] or not reply.button_texts
    await member.expect_silence()
    assert await audit_actions(world) == before


async def test_tree_pages_with_buttons(world: World) -> None:
    admin = world.user(ADMIN_TG_ID)
    await admin.send("/tree")
    first = await admin.expect_reply(contains="共 29 个网格，第 1/2 页")
    assert "区 <code>Q</code>" not in first.text  # rendered, not raw HTML
    assert "Q 某区" in first.text and "· 2人" in first.text
    assert first.button_texts == ["下一页"]
    for data in first.button_data.values():
        assert len(data.encode()) <= 64
    await admin.press("下一页")
    second = await admin.expect_reply(contains="第 2/2 页")
    assert second.edited and second.button_texts == ["上一页"]
    await admin.press("上一页")
    await admin.expect_reply(contains="第 1/2 页")
    await admin.send("/tree LH-02")
    sub = await admin.expect_reply(contains="网格树（LH-02），共 7 个网格")
    assert not sub.button_texts
    await admin.send("/tree NOPE")
    await admin.expect_reply(contains="没有编号为“NOPE”的网格")


async def set_db_admin(world: World, tg_id: int, value: bool) -> None:
    async with world.db.session() as s:
        person = (await s.exec(select(Person).where(Person.tg_id == tg_id))).one()
        person.is_admin = value
        s.add(person)


async def test_a_button_pressed_after_losing_admin_rights_is_refused(world: World) -> None:
    await set_db_admin(world, 800000010, True)
    former = world.user(800000010)
    await former.send("/tree")
    await former.expect_reply(contains="第 1/2 页")
    await set_db_admin(world, 800000010, False)
    await former.press("下一页")
    answer = await former.expect_answer()
    assert answer.text is not None and "仅限管理员" in answer.text
    await former.expect_silence()


async def test_grid_add_rename_move_archive(world: World) -> None:
    admin = world.user(ADMIN_TG_ID)
    await admin.send("/grid_add LH-01 LH-01-9 林和东 <第九> 片区")
    await admin.expect_reply(contains="已新建责任片区 LH-01-9 林和东 <第九> 片区")
    new = await grid(world, "LH-01-9")
    assert new.level == 4 and new.name == "林和东 <第九> 片区"

    await admin.send("/grid_rename LH-01-9 第九片区")
    await admin.expect_reply(contains="林和东 <第九> 片区 → 第九片区")

    await admin.send("/grid_move LH-01-1 ZJ-01")
    await admin.expect_reply(contains="共 4 个网格")
    moved, zj01 = await grid(world, "LH-01-1"), await grid(world, "ZJ-01")
    assert moved.path == f"{zj01.path}{moved.id}/" and moved.level == 4
    child = await grid(world, "LH-01-1-1")
    assert child.path.startswith(moved.path) and child.level == 5

    await admin.send("/grid_archive LH-01-9")
    confirm = await admin.expect_reply(contains="确认归档")
    assert confirm.button_texts == ["确认归档", "取消"]
    await admin.press("取消")
    await admin.expect_reply(contains="已取消")
    assert (await grid(world, "LH-01-9")).archived_at is None
    await admin.send("/grid_archive LH-01-9")
    await admin.expect_reply(contains="确认归档")
    await admin.press("确认归档")
    await admin.expect_reply(contains="已归档网格 LH-01-9")
    assert (await grid(world, "LH-01-9")).archived_at is not None
    actions = await audit_actions(world)
    for action in ("grid_add", "grid_rename", "grid_move", "grid_archive"):
        assert action in actions


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        ("/grid_add", "用法：/grid_add"),
        ("/grid_add Q", "用法：/grid_add"),
        ("/grid_add Q bad!code 名称", "编号“bad!code”不符合要求"),
        ("/grid_add NOPE X 名称", "没有编号为“NOPE”的网格"),
        ("/grid_add Q LH 重复", "编号“LH”已被使用"),
        ("/grid_add Q LONG " + "长" * 129, "名称太长（129 个字）"),
        ("/grid_move LH LH-01", "不能把网格 LH 移到"),
        ("/grid_move LH", "用法：/grid_move"),
        ("/grid_rename LH", "用法：/grid_rename"),
        ("/grid_archive", "用法：/grid_archive"),
        ("/members", "用法：/members"),
        ("/role abc LH leader", "“abc”不是有效的用户"),
        ("/role 810000002 LH 局长", "没有“局长”这个角色"),
        ("/role @nobody_known LH leader", "还不认识用户“@nobody_known”"),
        ("/remove 810000002 LH", "在网格 LH 中没有这个角色"),
        ("/dept_add XFDD 重复", "部门编号“XFDD”已被使用"),
        ("/invite LH guard 0", "可用次数“0”无效"),
        ("/invite LH guard 1 91", "有效天数“91”无效"),
        ("/invite LH", "用法：/invite"),
        ("/invite LH <b>x</b>", "没有“<b>x</b>”这个角色"),
    ],
)
async def test_wrong_input_gets_the_reason_and_the_usage(
    world: World, command: str, expected: str
) -> None:
    before = await audit_actions(world)
    admin = world.user(ADMIN_TG_ID)
    await admin.send(command)
    reply = await admin.expect_reply(contains=expected)
    assert "用法：" in reply.text
    assert await audit_actions(world) == before


async def test_members_role_remove_admins(world: World) -> None:
    admin = world.user(ADMIN_TG_ID)
    await admin.send("/members LH-01")
    reply = await admin.expect_reply(contains="林和东社区 的成员（3）")
    assert "林和东书记" in reply.text and "800000020" in reply.text and "可联系" in reply.text

    await admin.send("/role 7512345678 LH-01 社区民警")
    await admin.expect_reply(contains="在 林和东社区（LH-01）担任社区民警")
    async with world.db.session() as s:
        person = (await s.exec(select(Person).where(Person.tg_id == 7512345678))).one()
        assert person.name == "待认领用户7512345678"
    await admin.send("/role 7512345678 LH-01 police")
    await admin.expect_reply(contains="未作改动")

    await admin.send("/remove 7512345678 LH-01")
    await admin.expect_reply(contains="已移除")
    async with world.db.session() as s:
        held = (await s.exec(select(Membership).where(Membership.person_id == person.id))).all()
        assert held == []

    await admin.send("/admins")
    reply = await admin.expect_reply(contains="管理员（1）")
    assert "区长" in reply.text and "800000001" in reply.text and "配置文件" in reply.text
    actions = await audit_actions(world)
    assert "role_grant" in actions and "role_remove" in actions


async def test_dept_add(world: World) -> None:
    admin = world.user(ADMIN_TG_ID)
    await admin.send("/dept_add ZJ-FIRE 珠玑消防站")
    await admin.expect_reply(contains="已新建职能部门 ZJ-FIRE 珠玑消防站")
    assert "dept_add" in await audit_actions(world)


def invite_token(text: str) -> str:
    found = re.search(r"start=(inv_[A-Za-z0-9_-]+)", text)
    assert found, text
    return found.group(1)


async def test_invite_followed_then_used_up(world: World) -> None:
    admin = world.user(ADMIN_TG_ID)
    await admin.send("/invite LH-01-1 guard 1 3")
    reply = await admin.expect_reply(contains="邀请链接已生成")
    assert "可用 1 次" in reply.text and "2026-03-13 09:00" in reply.text
    token = invite_token(reply.text)
    newcomer = world.user(7_600_000_001, first_name="新人")
    await newcomer.start(token)
    await newcomer.expect_reply(contains="欢迎加入「林和东第1片区」")
    late = world.user(7_600_000_002, first_name="晚来")
    await late.start(token)
    await late.expect_reply(contains="使用次数已满")


async def test_invite_expired(world: World) -> None:
    admin = world.user(ADMIN_TG_ID)
    await admin.send("/invite LH-01 police 5 1")
    token = invite_token((await admin.expect_reply(contains="邀请链接已生成")).text)
    world.at(world.clock.now() + timedelta(days=1, minutes=1))
    newcomer = world.user(7_600_000_003, first_name="迟到")
    await newcomer.start(token)
    await newcomer.expect_reply(contains="已过期")
