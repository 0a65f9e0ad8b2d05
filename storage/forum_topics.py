"""Queries for the cases' forum topics (domain/forum_topics.py): which cases still need a
topic, which steps are not yet posted in theirs, and the records of both. A topic is a
`CaseCard`; a step posted in it is a sent `Delivery` keyed ``topic:<case id>:<event id>``,
so each step is posted once."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, String, cast, exists, literal, or_
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from domain.forum_topics import CLOSED_STATUSES, FINAL_STATUSES, TOPIC_SEVERITIES, TopicKind
from storage.models import Case, CaseCard, CaseEvent, Delivery, Grid

STEP_PREFIX = "topic:"
TOPIC_KINDS = tuple(k.value for k in TopicKind)


@dataclass(frozen=True)
class Wanted:
    """An open serious case of a grid whose group has no topic for it yet."""

    case_id: int
    code: str
    category: str
    severity: str
    chat_id: int


async def cases_without_topic(
    session: AsyncSession, *, skip_chats: Collection[int] = (), limit: int = 50
) -> list[Wanted]:
    """`skip_chats`: groups known to keep no topics (not forums, or no right to)."""
    has_topic = exists().where(
        col(CaseCard.case_id) == col(Case.id), col(CaseCard.kind).in_(TOPIC_KINDS)
    )
    query = (
        select(Case, col(Grid.group_chat_id))
        .join(Grid, col(Grid.id) == col(Case.grid_id))
        .where(
            col(Case.severity).in_(TOPIC_SEVERITIES),
            col(Case.status).not_in(CLOSED_STATUSES),
            col(Grid.group_chat_id).is_not(None),
            col(Grid.group_chat_id).not_in(list(skip_chats)),
            ~has_topic,
        )
        .order_by(col(Case.id))
        .limit(limit)
    )
    rows = (await session.exec(query)).all()
    return [
        Wanted(case.id or 0, case.code, case.category, case.severity, int(chat or 0))
        for case, chat in rows
    ]


async def chats_with_pending_sends(session: AsyncSession, *, now: datetime) -> set[int]:
    """Groups the outbox still has to send to now: the notifier goes first there. A card
    held for its topic (not yet due, storage/topic_cards.py) waits for the keeper instead."""
    query = (
        select(Delivery.chat_id)
        .where(
            col(Delivery.status).in_(("pending", "sending")),
            col(Delivery.chat_id) < 0,
            col(Delivery.not_before) <= now,
        )
        .distinct()
    )
    return {int(c) for c in (await session.exec(query)).all()}


def step_key(case_id: int, event_id: int) -> str:
    return f"{STEP_PREFIX}{case_id}:{event_id}"


def _watched() -> ColumnElement[bool]:
    """Topics that may still change: open, closed while the case awaits its rating, and
    finished ones whose case was reopened."""
    return col(CaseCard.kind).in_(TOPIC_KINDS) & or_(
        col(CaseCard.kind) != TopicKind.DONE.value, col(Case.status).not_in(FINAL_STATUSES)
    )


async def unposted_steps(
    session: AsyncSession, *, limit: int = 200
) -> Sequence[tuple[CaseEvent, CaseCard]]:
    """Steps of cases with a watched topic not yet posted there, oldest first."""
    key = literal(STEP_PREFIX) + cast(CaseEvent.case_id, String) + ":" + cast(CaseEvent.id, String)
    posted = exists().where(col(Delivery.key) == key)
    query = (
        select(CaseEvent, CaseCard)
        .join(CaseCard, col(CaseCard.case_id) == col(CaseEvent.case_id))
        .join(Case, col(Case.id) == col(CaseEvent.case_id))
        .where(_watched(), ~posted)
        .order_by(col(CaseEvent.id))
        .limit(limit)
    )
    return [(e, c) for e, c in (await session.exec(query)).all()]


async def watched_topics(session: AsyncSession) -> Sequence[tuple[CaseCard, Case]]:
    """Each watched topic with its case (domain.forum_topics.move_for decides what to do)."""
    query = (
        select(CaseCard, Case)
        .join(Case, col(Case.id) == col(CaseCard.case_id))
        .where(_watched())
        .order_by(col(CaseCard.id))
    )
    return [(card, case) for card, case in (await session.exec(query)).all()]


async def record_topic(
    session: AsyncSession, *, case_id: int, chat_id: int, thread_id: int, now: datetime
) -> None:
    session.add(
        CaseCard(
            case_id=case_id,
            chat_id=chat_id,
            message_id=thread_id,
            kind=TopicKind.OPEN.value,
            created_at=now,
        )
    )


async def set_topic_kind(session: AsyncSession, *, card_id: int, kind: TopicKind) -> None:
    card = await session.get(CaseCard, card_id)
    if card is not None:
        card.kind = kind.value
        session.add(card)


async def record_step(
    session: AsyncSession,
    *,
    case_id: int,
    event_id: int,
    chat_id: int,
    text: str,
    message_id: int | None,
    now: datetime,
) -> None:
    """A step posted in its topic, kept as a sent delivery so it is never posted twice."""
    session.add(
        Delivery(
            key=step_key(case_id, event_id),
            kind="topic_step",
            chat_id=chat_id,
            text=text,
            status="sent" if message_id is not None else "failed",
            sent_at=now,
            created_at=now,
            not_before=now,
            message_id=message_id,
        )
    )


async def topic_of(session: AsyncSession, case_id: int) -> CaseCard | None:
    query = select(CaseCard).where(
        col(CaseCard.case_id) == case_id, col(CaseCard.kind).in_(TOPIC_KINDS)
    )
    return (await session.exec(query)).first()
