"""Where a case's new card goes in a group (storage/topic_cards.py): into the case's topic
there, held for the topic the keeper will open, or at once to General; and the keeper's side,
the held cards found and let go."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from domain.forum_topics import CARD_HOLD, TopicKind
from storage.db import Database
from storage.models import Case, CaseCard, Delivery, Person
from storage.outbox import enqueue
from storage.topic_cards import card_place, held_cards, release_held, still_waiting
from tests.storage.case_world import GUARD, NOW, fire, grid_id

__all__ = ["fire"]

FORUM, PLAIN, PARENT = -1001, -1002, -1003


async def _case(s: AsyncSession, code: str, severity: str, status: str = "reported") -> Case:
    grid = await grid_id(s, "LH-01-1")
    guard = (await s.exec(select(Person).where(Person.tg_id == GUARD))).one()
    case = Case(
        code=code,
        grid_id=grid,
        origin_grid_id=grid,
        reporter_id=guard.id or 0,
        category="消防通道堵塞",
        description="d",
        severity=severity,
        status=status,
    )
    s.add(case)
    await s.flush()
    return case


def _topic(case: Case, chat_id: int, thread: int) -> CaseCard:
    return CaseCard(
        case_id=case.id or 0,
        chat_id=chat_id,
        message_id=thread,
        kind=TopicKind.OPEN.value,
        created_at=NOW,
    )


async def test_the_card_goes_into_its_topic_waits_for_it_or_goes_at_once(fire: Database) -> None:
    async with fire.session() as s:
        older = await _case(s, "T-1", "major")
        s.add(_topic(older, FORUM, 7))
        serious = await _case(s, "T-2", "critical")
        plain = await _case(s, "T-3", "general")
        closed = await _case(s, "T-4", "major", status="closed")
        escalated = await _case(s, "T-5", "major")
        s.add(_topic(escalated, FORUM, 9))
        await s.flush()
        hold = NOW + CARD_HOLD
        assert await card_place(s, case=older, chat_id=FORUM, now=NOW) == (7, None)
        assert await card_place(s, case=serious, chat_id=FORUM, now=NOW) == (None, hold)
        assert await card_place(s, case=plain, chat_id=FORUM, now=NOW) == (None, None)
        assert await card_place(s, case=closed, chat_id=FORUM, now=NOW) == (None, None)
        # A group the bot never opened a topic in, and a private chat: at once, General.
        assert await card_place(s, case=serious, chat_id=PLAIN, now=NOW) == (None, None)
        assert await card_place(s, case=serious, chat_id=GUARD, now=NOW) == (None, None)
        # The case's one topic is in another group: none is coming in this one.
        s.add(_topic(older, PARENT, 3))
        assert await card_place(s, case=escalated, chat_id=PARENT, now=NOW) == (None, None)
        # Of held cards, the keeper opens topics first for cases that still want one.
        pairs = {(c.id or 0, FORUM) for c in (older, serious, plain, closed, escalated)}
        waiting = await still_waiting(s, pairs)
        assert [(w.code, w.chat_id) for w in waiting] == [("T-2", FORUM)]


async def test_held_cards_are_found_and_let_go(fire: Database) -> None:
    hold = NOW + CARD_HOLD
    async with fire.session() as s:
        for key, chat, kind, not_before in (
            ("card:5:-1001", FORUM, "case_card", hold),
            ("card:6:-1001", FORUM, "case_card", hold),
            ("card:7:-1002", PLAIN, "case_card", hold),
            ("card:8:-1001", FORUM, "case_card", NOW),  # due: not held
            ("nag:1:-1001", FORUM, "nag", hold),  # not a card (quiet hours)
        ):
            await enqueue(
                s, key=key, kind=kind, chat_id=chat, text="x", now=NOW, not_before=not_before
            )
    async with fire.reading() as s:
        assert await held_cards(s, now=NOW) == {(5, FORUM), (6, FORUM), (7, PLAIN)}
        assert await held_cards(s, now=hold + timedelta(seconds=1)) == set()
    async with fire.session() as s:
        assert await release_held(s, chat_ids=[FORUM], case_id=5, thread_id=11, now=NOW) == 1
        assert await release_held(s, chat_ids=[PLAIN], now=NOW) == 1
        assert await release_held(s, chat_ids=[], now=NOW) == 0
    async with fire.reading() as s:
        rows = {d.key: d for d in (await s.exec(select(Delivery))).all()}
        assert await held_cards(s, now=NOW) == {(6, FORUM)}
    assert (rows["card:5:-1001"].message_thread_id, rows["card:5:-1001"].not_before) == (11, NOW)
    assert (rows["card:7:-1002"].message_thread_id, rows["card:7:-1002"].not_before) == (None, NOW)
    assert rows["nag:1:-1001"].not_before == hold
