"""Forum topics (issue 16 pt 5): in a grid's forum group each open 较大/重大 case gets a topic,
its steps are posted in the topic's thread, and the topic is closed (✅) with the case; groups
that are not forums, or where the bot may not manage topics, stay as they were."""

from __future__ import annotations

from typing import Any

from bot.forum_topics import GROUP_GAP, ForumKeeper
from domain.clock import ManualClock
from sandbox.world import ForumTopic
from storage.forum_topics import chats_with_pending_sends
from tests.e2e.case_steps import (
    GUARD,
    GUARD2,
    GUARD2_LABEL,
    PIANQU_LEADER,
    accept_and_assign,
    card,
    case_row,
    events,
    give_feedback,
    meet,
    press_on,
    report,
    set_chat,
    tap,
)
from tests.e2e.harness import ADMIN_TG_ID, World


async def forum_group(world: World, *, forum: bool = True, rights: bool = True) -> int:
    chat = world.emu.create_group(
        "林和东第1片区论坛",
        members=[GUARD, GUARD2, PIANQU_LEADER],
        admins=[ADMIN_TG_ID],
        supergroup=True,
        bot_admin=True,
    )
    if forum:
        world.emu.make_forum(chat.id)
    if not rights:
        world.emu.set_bot_rights(chat.id, can_manage_topics=False)
    await set_chat(world, chat_id=chat.id, grid_code="LH-01-1")
    return chat.id


class Keeper:
    """The keeper's runs as its loop makes them, GROUP_GAP apart on the bot's clock."""

    def __init__(self, world: World) -> None:
        assert world.app is not None and world.bot is not None
        self.world = world
        self.keeper = ForumKeeper(world.app, world.bot)

    async def run(self) -> int:
        """Run until there is nothing left to do; how many calls it made."""
        total = 0
        for _ in range(100):
            await self.world.outbox_settled()
            calls = await self.keeper.run()
            total += calls
            if calls == 0 and self.keeper.waiting() == 0 and not await self.outbox_waits():
                return total
            # Time passes for the bot and for Telegram's limits (the emulator's clock).
            step = max(GROUP_GAP, self.keeper.waiting())
            telegram = self.world.emu.clock
            assert isinstance(telegram, ManualClock)
            self.world.clock.advance(step)
            telegram.advance(step)
        raise AssertionError("the keeper never finished")

    async def outbox_waits(self) -> bool:
        """Whether the outbox still holds sends (waiting out a group's limit): the keeper
        leaves such a group to it, so time must pass."""
        async with self.world.db.reading() as s:
            return bool(await chats_with_pending_sends(s, now=self.world.clock.now()))


def keeper(world: World) -> Keeper:
    return Keeper(world)


def in_thread(world: World, chat_id: int, thread: int) -> list[dict[str, Any]]:
    return [
        m
        for m in world.emu.bot_messages(chat_id)
        if m.get("message_thread_id") == thread and "text" in m
    ]


def shown(message: dict[str, Any]) -> str:
    return str(message.get("text") or message.get("caption") or "")


def only_topic(world: World, chat_id: int) -> ForumTopic:
    [topic] = world.emu.group(chat_id).topics.values()
    return topic


async def test_a_serious_case_keeps_a_topic_until_it_closes(world: World) -> None:
    chat_id = await forum_group(world)
    await meet(world, GUARD, GUARD2, PIANQU_LEADER)
    code = await report(world, severity="较大")
    await report(world, severity="一般", description="灯坏了", category="消防设施损坏")
    keep = keeper(world)
    await keep.run()
    topic = only_topic(world, chat_id)  # the 一般 case has none
    assert topic.name == f"🟠 {code} 消防通道堵塞" and not topic.closed
    [first] = [m["text"] for m in in_thread(world, chat_id, topic.thread_id)]
    assert "上报" in first
    # The cards still arrive in General, as in any group.
    await world.outbox_settled()
    cards = [m for m in world.emu.bot_messages(chat_id) if code in shown(m)]
    assert cards and all("message_thread_id" not in m for m in cards)
    assert await keep.run() == 0  # nothing new: nothing sent
    await accept_and_assign(world, code, PIANQU_LEADER, GUARD2_LABEL)
    await give_feedback(world, GUARD2, code, "已清理")
    leader = world.user(PIANQU_LEADER)
    await press_on(leader, await card(leader, code, "待核查"), "核查通过")
    await leader.expect_reply(contains="核查通过并结案")
    await tap(leader, "✅ 确认结案")
    assert (await case_row(world, code)).status == "closed"
    await keep.run()
    steps = [m["text"] for m in in_thread(world, chat_id, topic.thread_id)]
    for step in ("上报", "立案", "派遣", "处理反馈", "核查通过"):
        assert any(step in s for s in steps), (step, steps)
    assert len(steps) == len(set(steps)) == len(await events(world, code))  # each step once
    assert topic.closed and topic.name == f"✅ {code} 消防通道堵塞"
    assert await keep.run() == 0


async def test_groups_without_topics_stay_as_they_are(world: World) -> None:
    plain = await forum_group(world, forum=False)
    await meet(world, GUARD, PIANQU_LEADER)
    code = await report(world, severity="重大")
    keep = keeper(world)
    await keep.run()
    assert world.emu.group(plain).topics == {}
    assert all("message_thread_id" not in m for m in world.emu.bot_messages(plain))
    await world.outbox_settled()
    assert any(code in shown(m) for m in world.emu.bot_messages(plain))
    assert await keep.run() == 0  # known not to be a forum: not asked again for a while


async def test_no_right_to_manage_topics_means_no_topics(world: World) -> None:
    chat_id = await forum_group(world, rights=False)
    await meet(world, GUARD, PIANQU_LEADER)
    await report(world, severity="重大")
    await keeper(world).run()
    assert world.emu.group(chat_id).topics == {}


async def test_a_rejected_case_closes_its_topic_for_good(world: World) -> None:
    chat_id = await forum_group(world)
    await meet(world, GUARD, PIANQU_LEADER)
    code = await report(world, severity="重大")
    keep = keeper(world)
    await keep.run()
    topic = only_topic(world, chat_id)
    assert topic.name.startswith("🔴")
    leader = world.user(PIANQU_LEADER)
    await press_on(leader, await card(leader, code, "已上报"), "不予立案")
    await leader.expect_reply(contains="不予立案的原因")
    await tap(leader, "不属于隐患")
    await leader.expect_reply(contains="请确认")
    await tap(leader, "✅ 确认不予立案")
    await leader.expect_reply(contains="当前状态：不予立案")
    await keep.run()
    assert topic.closed
    steps = [m["text"] for m in in_thread(world, chat_id, topic.thread_id)]
    assert any("不予立案" in s for s in steps)
    await keep.run()  # the topic is finished: never looked at again
    assert await keep.run() == 0
