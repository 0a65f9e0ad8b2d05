"""Helpers for the hazard-case end-to-end tests (fire-safety-5-level.yaml).

The chain above the guards of 林和东第1片区 (LH-01-1):
LH-01-1 leader 810000000 → LH-01 林和东书记 800000020 → LH 林和街道主任 800000010
→ Q 区长 800000001 and 分管副区长 800000002.
"""

from __future__ import annotations

from typing import Any

from sqlmodel import col, select

from sandbox.world import TranscriptEntry
from storage.models import Case, CaseEvent, Delivery, ProcessedUpdate
from tests.e2e.harness import World

GUARD = 810000001  # 保安巡查员, LH-01-1
GUARD2 = 810000002  # the other guard of LH-01-1
PIANQU_LEADER = 810000000  # 网格长 of LH-01-1
COMMUNITY_LEADER = 800000020  # 林和东书记, LH-01
STREET_LEADER = 800000010  # 林和街道主任, LH
DISTRICT_LEADERS = (800000001, 800000002)
HERE = (23.1291, 113.2644)


async def meet(world: World, *tg_ids: int) -> None:
    """People open their private chat with the bot (a bot cannot write to strangers)."""
    for tg_id in tg_ids:
        u = world.user(tg_id)
        await u.send("/start")
        await u.expect_reply()


async def tap(u: Any, text: str, message: Any = None) -> Any:
    """Press an inline button and wait for the bot's answer (so presses stay in order)."""
    await u.press(text, message=message)
    return await u.expect_answer()


async def report_up_to_photos(u: Any, *, category: str, description: str) -> None:
    """Start /report and answer its category and description: the photos are asked next."""
    await u.send("/report")
    await u.expect_reply(contains="隐患类别")
    await tap(u, category)
    await u.expect_reply(contains="描述隐患")
    await u.send(description)
    await u.expect_reply(contains="发送隐患照片")


async def report(
    world: World,
    tg_id: int = GUARD,
    *,
    description: str = "楼道堆放杂物，堵塞安全出口",
    severity: str = "一般",
    category: str = "消防通道堵塞",
    photos: int = 1,
) -> str:
    """Walk /report to the end; return the new case's code."""
    u = world.user(tg_id)
    await report_up_to_photos(u, category=category, description=description)
    for _ in range(photos):
        await u.send_photo()
        await u.expect_reply(contains="已收到照片")
    await tap(u, "完成")
    await u.expect_reply(contains="发送位置")
    await u.press("📍 发送当前位置", location=HERE)
    await u.expect_reply(contains="严重程度")
    await tap(u, severity)
    await u.expect_reply(contains="请确认隐患信息")
    await tap(u, "✅ 提交")
    done = await u.expect_reply(contains="已上报")
    code = done.text.split("隐患编号")[1].split("，")[0].strip()
    return code


# The bot answers inside its unit of work and commits just after; a write session waits for
# that commit (it takes the write lock first), so what these helpers read is what the bot wrote.


async def case_row(world: World, code: str) -> Case:
    async with world.db.session() as s:
        return (await s.exec(select(Case).where(Case.code == code))).one()


async def events(world: World, code: str) -> list[str]:
    case = await case_row(world, code)
    async with world.db.session() as s:
        rows = await s.exec(
            select(CaseEvent.kind).where(CaseEvent.case_id == case.id).order_by(col(CaseEvent.id))
        )
        return list(rows)


async def deliveries(world: World, prefix: str) -> list[Delivery]:
    async with world.db.session() as s:
        rows = await s.exec(select(Delivery).where(col(Delivery.key).startswith(prefix)))
        return list(rows)


async def card(u: Any, code: str, contains: str | None = None) -> Any:
    """The next card (or card edit) of `code` in this chat, optionally containing a text."""
    while True:
        msg = await u.expect_reply(contains=code)
        if "隐患 " in msg.text and (contains is None or contains in msg.text):
            return msg


async def press_on(u: Any, msg: Any, text: str) -> Any:
    return await tap(u, text, message=msg)


GUARD2_LABEL = "林和东第1片区 · 保安巡查员2"


async def accept(world: World, code: str, leader_id: int) -> Any:
    """The leader accepts the reported case from its card; the card as edited."""
    leader = world.user(leader_id)
    first = await card(leader, code, "已上报")
    await press_on(leader, first, "立案")
    return await card(leader, code, "已立案")


async def assign(leader: Any, on: Any, assignee_label: str) -> None:
    """派遣 from the card `on` to the person so labelled, at the deadline offered."""
    await press_on(leader, on, "派遣")
    await leader.expect_reply(contains="请选择承办人")
    await tap(leader, assignee_label)
    await leader.expect_reply(contains="整改期限")
    await tap(leader, "确认")
    await leader.expect_reply(contains="当前状态：已派遣")


async def accept_and_assign(world: World, code: str, leader_id: int, assignee_label: str) -> None:
    await assign(world.user(leader_id), await accept(world, code, leader_id), assignee_label)


async def accept_and_transfer(world: World, code: str, leader_id: int, department: str) -> Any:
    """立案, then 移交 to `department`: its deadline screen (the 说明 comes after it)."""
    leader = world.user(leader_id)
    await press_on(leader, await accept(world, code, leader_id), "移交")
    await leader.expect_reply(contains="请选择职能部门")
    await tap(leader, department)
    return await leader.expect_reply(contains="整改期限")


async def give_feedback(world: World, tg_id: int, code: str, text: str) -> None:
    u = world.user(tg_id)
    msg = await card(u, code)
    while "处理反馈" not in msg.button_texts:
        msg = await card(u, code)
    await press_on(u, msg, "处理反馈")
    await u.expect_reply(contains="描述处理情况")
    await u.send(text)
    await u.expect_reply(contains="上传处理后的照片")
    await tap(u, "完成")
    await u.expect_reply(contains="待核查")


async def set_chat(
    world: World, *, chat_id: int, grid_code: str | None = None, dept_code: str | None = None
) -> None:
    """Bind a group to a grid or a department directly (binding is the groups feature's)."""
    from storage.models import Department, Grid

    async with world.db.session() as s:
        if grid_code:
            grid = (await s.exec(select(Grid).where(Grid.code == grid_code))).one()
            grid.group_chat_id = chat_id
            s.add(grid)
        if dept_code:
            dept = (await s.exec(select(Department).where(Department.code == dept_code))).one()
            dept.chat_id = chat_id
            s.add(dept)


async def crafted_press(world: World, u: Any, on: Any, data: str) -> list[TranscriptEntry]:
    """Send `data` as a press on the bot's message `on` in `u`'s chat (anyone's client can send
    any callback data), wait until the bot has handled the update to the end, and return what
    happened in that chat from the press on."""
    update_id = world.emu.bot.next_update_id
    since = len(world.emu.log)
    world.emu.user_press(u.id, u.chat_id, on.message_id, data)
    await u.expect_answer()
    assert world.bot is not None
    # The bot answers inside its unit of work and commits just after; world.db's session opens
    # once the bot has handled the press (its unit of work committed, every send recorded).
    async with world.db.session() as s:
        handled = await s.get(ProcessedUpdate, (world.bot.id, update_id))
    assert handled is not None, f"update {update_id} was rolled back:\n{u.transcript_text()}"
    return [e for e in world.emu.log[since:] if e.chat_id == u.chat.id]
