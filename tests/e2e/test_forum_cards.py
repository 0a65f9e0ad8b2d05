"""A serious case's card in a forum group lands in the case's own topic (storage/topic_cards.py,
bot/forum_topics.py): once the bot keeps topics in the group, a 较大/重大 case's card waits in
the outbox while the keeper opens the case's topic, then goes into it, and later steps edit it
there. A topic deleted before the card goes: the card goes to General (not lost). A group that
stopped keeping topics, or a keeper that never comes: General too, at once or after
CARD_HOLD."""

from __future__ import annotations

from typing import Any

from sqlmodel import select

from bot.forum_topics import ForumKeeper
from bot.notifier import OutboxNotifier
from domain.forum_topics import CARD_HOLD
from sandbox.world import ForumTopic
from storage.models import Delivery
from tests.e2e.case_steps import (
    GUARD,
    GUARD2,
    PIANQU_LEADER,
    accept,
    card,
    meet,
    press_on,
    report,
    tap,
)
from tests.e2e.harness import World
from tests.e2e.test_forum_topics import forum_group, keeper, shown


def cards_of(world: World, chat_id: int, code: str) -> list[dict[str, Any]]:
    """The chat's cards of case `code` (not the step lines of a topic)."""
    return [m for m in world.emu.bot_messages(chat_id) if f"隐患 {code}〔" in shown(m)]


def topic_of(world: World, chat_id: int, code: str) -> ForumTopic:
    [topic] = [t for t in world.emu.group(chat_id).topics.values() if code in t.name]
    return topic


async def settled(world: World) -> None:
    """The bot has committed what it handled (world.db waits for that) and the outbox has
    sent what is due: only then may the keeper look."""
    async with world.db.reading():
        pass
    await world.outbox_settled()


async def group_with_a_topic(world: World) -> int:
    """A forum group where the keeper has opened a topic already (a first serious case)."""
    chat_id = await forum_group(world)
    await meet(world, GUARD, GUARD2, PIANQU_LEADER)
    first = await report(world, severity="较大")
    await settled(world)
    await keeper(world).run()
    # Nothing yet told the bot this group keeps topics: the first card is in General.
    assert [c.get("message_thread_id") for c in cards_of(world, chat_id, first)] == [None]
    return chat_id


async def card_row(world: World, code: str, chat_id: int) -> Delivery:
    async with world.db.reading() as s:
        rows = (await s.exec(select(Delivery).where(Delivery.chat_id == chat_id))).all()
    [row] = [d for d in rows if d.kind == "case_card" and code in d.text]
    return row


async def test_a_serious_cases_card_lands_in_its_own_topic(world: World) -> None:
    chat_id = await group_with_a_topic(world)
    code = await report(world, severity="重大", description="配电箱冒烟")
    await settled(world)
    assert cards_of(world, PIANQU_LEADER, code)  # the leader's private card is not held
    assert cards_of(world, chat_id, code) == []  # the group's waits for its topic

    await keeper(world).run()
    topic = topic_of(world, chat_id, code)
    [group_card] = cards_of(world, chat_id, code)
    assert group_card["message_thread_id"] == topic.thread_id and "配电箱冒烟" in shown(group_card)
    assert (await card_row(world, code, chat_id)).message_thread_id == topic.thread_id

    await accept(world, code, PIANQU_LEADER)
    await settled(world)
    [edited] = cards_of(world, chat_id, code)  # edited in place, still in the topic
    assert edited["message_id"] == group_card["message_id"] and "已立案" in shown(edited)
    assert edited["message_thread_id"] == topic.thread_id

    # 一般 cases keep to General, as in any group.
    plain = await report(world, severity="一般", description="灯坏了", category="消防设施损坏")
    await settled(world)
    assert [c.get("message_thread_id") for c in cards_of(world, chat_id, plain)] == [None]


async def test_a_topic_deleted_before_the_card_goes_sends_it_to_general(world: World) -> None:
    chat_id = await group_with_a_topic(world)
    code = await report(world, severity="较大", description="消防栓被圈占")
    await settled(world)
    assert world.app is not None and world.bot is not None
    notifier = world.app.notifier
    assert isinstance(notifier, OutboxNotifier)
    await notifier.stop()
    # The keeper opens the topic and lets the card go into it; before it is sent, a group
    # administrator deletes the topic.
    await ForumKeeper(world.app, world.bot).run()
    thread = topic_of(world, chat_id, code).thread_id
    assert (await card_row(world, code, chat_id)).message_thread_id == thread
    world.emu.delete_topic(chat_id, thread)
    await notifier.start()
    await world.outbox_settled()

    [group_card] = cards_of(world, chat_id, code)
    assert "message_thread_id" not in group_card and "消防栓被圈占" in shown(group_card)
    row = await card_row(world, code, chat_id)
    assert row.status == "sent" and row.message_thread_id is None


async def test_a_group_that_stopped_keeping_topics_gets_the_card_in_general(
    world: World,
) -> None:
    chat_id = await group_with_a_topic(world)
    world.emu.set_bot_rights(chat_id, can_manage_topics=False)
    code = await report(world, severity="较大", description="疏散指示灯不亮")
    await settled(world)
    assert cards_of(world, chat_id, code) == []
    await keeper(world).run()  # no right to open a topic: the held card goes at once
    [group_card] = cards_of(world, chat_id, code)
    assert "message_thread_id" not in group_card


async def test_without_a_keeper_the_held_card_goes_to_general_after_the_hold(
    world: World,
) -> None:
    chat_id = await group_with_a_topic(world)
    code = await report(world, severity="较大", description="楼梯间堆放电动车")
    await settled(world)
    world.clock.advance(CARD_HOLD.total_seconds() - 1)
    await world.outbox_settled()
    assert cards_of(world, chat_id, code) == []
    world.clock.advance(1)
    await world.outbox_settled()
    [group_card] = cards_of(world, chat_id, code)
    assert "message_thread_id" not in group_card


async def test_a_card_whose_case_closed_while_held_goes_to_general_at_once(
    world: World,
) -> None:
    chat_id = await group_with_a_topic(world)
    code = await report(world, severity="较大", description="堆放易燃物")
    leader = world.user(PIANQU_LEADER)
    await press_on(leader, await card(leader, code, "已上报"), "不予立案")
    await leader.expect_reply(contains="不予立案的原因")
    await tap(leader, "不属于隐患")
    await leader.expect_reply(contains="请确认")
    await tap(leader, "✅ 确认不予立案")
    await leader.expect_reply(contains="当前状态：不予立案")
    async with world.db.reading():  # committed; the group's card is held, its edit behind it
        pass
    assert cards_of(world, chat_id, code) == []
    assert world.app is not None and world.bot is not None
    await ForumKeeper(world.app, world.bot).run()  # no topic is coming: the card goes now
    assert (await card_row(world, code, chat_id)).not_before <= world.clock.now()
    await world.outbox_settled()
    [group_card] = cards_of(world, chat_id, code)
    assert "message_thread_id" not in group_card and "不予立案" in shown(group_card)
    assert not [t for t in world.emu.group(chat_id).topics.values() if code in t.name]
