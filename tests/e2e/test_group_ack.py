"""One-tap acknowledgement (issue 16 pt 6): the assignee's 👍 on the group card is 签收
where the bot administers the group; anyone else's reaction, or any reaction where the bot
is no administrator (Telegram then sends none), changes nothing and says nothing."""

from __future__ import annotations

from typing import Any

from sqlmodel import select

from domain.cases import CaseStatus
from storage.models import Delivery
from tests.e2e.case_steps import (
    GUARD,
    GUARD2,
    GUARD2_LABEL,
    PIANQU_LEADER,
    accept_and_assign,
    accept_and_transfer,
    case_row,
    events,
    report,
    set_chat,
    tap,
)
from tests.e2e.harness import ADMIN_TG_ID, World


async def assigned_case_in_group(world: World, *, bot_admin: bool) -> tuple[int, str, int]:
    """A case of LH-01-1 assigned to GUARD2, its group; (chat id, code, group card id)."""
    chat = world.emu.create_group(
        "林和东第1片区群",
        members=[GUARD, GUARD2, PIANQU_LEADER],
        admins=[ADMIN_TG_ID],
        supergroup=True,
        bot_admin=bot_admin,
    )
    await set_chat(world, chat_id=chat.id, grid_code="LH-01-1")
    world.everyone_opened_the_bot()
    code = await report(world)
    await accept_and_assign(world, code, PIANQU_LEADER, GUARD2_LABEL)
    await world.outbox_settled()
    case = await case_row(world, code)
    async with world.db.session() as s:
        live = (
            await s.exec(select(Delivery).where(Delivery.key == f"card:{case.id}:{chat.id}"))
        ).one()
    assert live.message_id is not None
    card = world.emu.group(chat.id).messages[live.message_id].data
    assert "已派遣" in card["caption" if "caption" in card else "text"]
    return chat.id, code, live.message_id


def in_group(world: World, tg_id: int, chat_id: int) -> Any:
    u = world.user(tg_id).in_group(chat_id)
    u.skip_pending()
    return u


async def test_the_assignees_thumbs_up_is_acknowledgement(world: World) -> None:
    chat_id, code, card_id = await assigned_case_in_group(world, bot_admin=True)
    # The bot asks Telegram for reactions (its getUpdates' allowed_updates; setWebhook is
    # given the same list, dp.resolve_used_update_types()).
    assert "message_reaction" in world.emu.bot.allowed_updates
    before = await events(world, code)
    # Someone else's 👍, and the assignee's other reactions: nothing, and nothing said.
    guard = in_group(world, GUARD, chat_id)
    await guard.react(card_id, "👍")
    assignee = in_group(world, GUARD2, chat_id)
    await assignee.react(card_id, "🔥")
    await guard.expect_silence()
    assert await events(world, code) == before
    assert (await case_row(world, code)).status == CaseStatus.ASSIGNED
    # A 👍 on a message that is no card: nothing either.
    note = world.emu.user_send(GUARD2, "收到", chat_id)
    await assignee.react(note["message_id"], "👍")
    await assignee.expect_silence()
    assert await events(world, code) == before
    # The assignee's 👍 on the card: 签收, and the group card shows it.
    await assignee.react(card_id, "👍")
    edited = await assignee.expect_reply(contains=code)
    assert edited.edited and edited.message_id == card_id
    assert (await case_row(world, code)).status == CaseStatus.IN_PROGRESS
    assert await events(world, code) == [*before, "acknowledged"]
    # Taking it away and giving it again does not acknowledge twice.
    await assignee.react(card_id)
    await assignee.react(card_id, "👍")
    await assignee.expect_silence()
    assert await events(world, code) == [*before, "acknowledged"]


async def test_where_the_bot_is_no_admin_the_button_stays_and_reactions_do_nothing(
    world: World,
) -> None:
    chat_id, code, card_id = await assigned_case_in_group(world, bot_admin=False)
    before = await events(world, code)
    assignee = in_group(world, GUARD2, chat_id)
    await assignee.react(card_id, "👍")
    await assignee.expect_silence()
    assert (await case_row(world, code)).status == CaseStatus.ASSIGNED
    assert await events(world, code) == before
    card = world.emu.group(chat_id).messages[card_id].data
    buttons = [b["text"] for row in card["reply_markup"]["inline_keyboard"] for b in row]
    assert "签收" in buttons


OFFICER = 800000011  # stands in for the fire brigade's duty officer in its group


async def test_a_departments_thumbs_up_in_its_chat_is_its_acknowledgement(world: World) -> None:
    brigade = world.emu.create_group(
        "区消防大队值班群", members=[OFFICER], admins=[ADMIN_TG_ID], supergroup=True,
        bot_admin=True,
    )  # fmt: skip
    await set_chat(world, chat_id=brigade.id, dept_code="XFDD")
    world.everyone_opened_the_bot()
    code = await report(world)
    deadline = await accept_and_transfer(world, code, PIANQU_LEADER, "区消防大队")
    assert "整改期限" in deadline.text
    leader = world.user(PIANQU_LEADER)
    await tap(leader, "确认")
    await leader.expect_reply(contains="请填写移交说明")
    await leader.send("疏散通道被商户长期占用，需执法")
    await leader.expect_reply(contains="已移交")
    await world.outbox_settled()
    case = await case_row(world, code)
    async with world.db.session() as s:
        row = (
            await s.exec(select(Delivery).where(Delivery.key == f"card:{case.id}:{brigade.id}"))
        ).one()
    assert row.message_id is not None and case.status == CaseStatus.TRANSFERRED
    officer = in_group(world, OFFICER, brigade.id)
    await officer.react(row.message_id, "👍")
    edited = await officer.expect_reply(contains=code)
    assert edited.edited
    assert (await case_row(world, code)).status == CaseStatus.IN_PROGRESS
    assert (await events(world, code))[-1] == "dept_acknowledged"
