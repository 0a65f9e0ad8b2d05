"""Where a case's new card goes in a group that keeps forum topics (bot/forum_topics.py):
into the case's topic when it has one there, else held back (`not_before`, at most
`domain.forum_topics.CARD_HOLD`) until the keeper has opened the topic and lets it go into
it, or lets it go to General when the group turns out to keep none. A held card is a pending
card row (`card:<case id>:<chat id>...`, not an edit) whose `not_before` has not come."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Final

from sqlalchemy import ColumnElement, and_, exists, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from domain.forum_topics import (
    CARD_HOLD,
    CLOSED_STATUSES,
    TOPIC_SEVERITIES,
    card_waits_for_topic,
)
from storage.forum_topics import TOPIC_KINDS, Wanted
from storage.models import Case, CaseCard, Delivery
from storage.outbox import PENDING

CARD_KINDS: Final = ("case_card", "case_handoff")
"""The new cards of a case (services.case_notify); edits and retired cards need no topic."""


async def card_place(
    session: AsyncSession, *, case: Case, chat_id: int, now: datetime
) -> tuple[int | None, datetime | None]:
    """(message_thread_id, not_before) of a new card of `case` to `chat_id`: its topic there,
    or held for it, or neither (General, at once; every private chat)."""
    if chat_id >= 0 or case.id is None:
        return None, None
    is_topic = col(CaseCard.kind).in_(TOPIC_KINDS)
    mine = select(CaseCard.chat_id, CaseCard.message_id).where(
        is_topic, col(CaseCard.case_id) == case.id
    )
    topic = (await session.exec(mine)).first()
    if topic is not None:
        # One topic per case: in another group (an escalated case) none is coming here.
        return (int(topic[1]), None) if topic[0] == chat_id else (None, None)
    any_topic = select(CaseCard.id).where(is_topic, col(CaseCard.chat_id) == chat_id).limit(1)
    keeps = (await session.exec(any_topic)).first() is not None
    waits = card_waits_for_topic(
        case.severity, case.status, group_keeps_topics=keeps, has_topic=False
    )
    return None, (now + CARD_HOLD if waits else None)


def _held(now: datetime) -> ColumnElement[bool]:
    return and_(
        col(Delivery.key).startswith("card:"),
        col(Delivery.kind).in_(CARD_KINDS),
        col(Delivery.edit_of).is_(None),
        col(Delivery.status) == PENDING,
        col(Delivery.not_before) > now,
        col(Delivery.chat_id) < 0,
    )


async def held_cards(session: AsyncSession, *, now: datetime) -> set[tuple[int, int]]:
    """(case id, chat id) of every card held for its topic."""
    rows = await session.exec(select(Delivery.key, Delivery.chat_id).where(_held(now)))
    out = set()
    for key, chat_id in rows:
        case_id = key.split(":")[1]
        if case_id.isdigit():
            out.add((int(case_id), int(chat_id)))
    return out


async def still_waiting(session: AsyncSession, pairs: Collection[tuple[int, int]]) -> list[Wanted]:
    """Of the held cards' (case, chat) pairs, those whose case still wants a topic (open,
    serious, none yet), oldest case first: the keeper opens these before any other."""
    if not pairs:
        return []
    has_topic = exists().where(
        col(CaseCard.case_id) == col(Case.id), col(CaseCard.kind).in_(TOPIC_KINDS)
    )
    query = select(Case).where(
        col(Case.id).in_(sorted({case_id for case_id, _chat in pairs})),
        col(Case.severity).in_(TOPIC_SEVERITIES),
        col(Case.status).not_in(CLOSED_STATUSES),
        ~has_topic,
    )
    cases = {c.id: c for c in (await session.exec(query)).all()}
    return [
        Wanted(case_id, c.code, c.category, c.severity, chat_id)
        for case_id, chat_id in sorted(pairs)
        if (c := cases.get(case_id)) is not None
    ]


async def release_held(
    session: AsyncSession,
    *,
    chat_ids: Collection[int],
    now: datetime,
    case_id: int | None = None,
    thread_id: int | None = None,
) -> int:
    """Let the held cards of these groups (of one case, when given) go now, into `thread_id`
    (None: General). Returns how many."""
    if not chat_ids:
        return 0
    where = _held(now) & col(Delivery.chat_id).in_(list(chat_ids))
    if case_id is not None:
        where = where & col(Delivery.key).startswith(f"card:{case_id}:")
    result = await session.exec(
        update(Delivery).where(where).values(not_before=now, message_thread_id=thread_id)
    )
    return int(result.rowcount or 0)
