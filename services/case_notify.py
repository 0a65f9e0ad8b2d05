"""The pushes a case step makes, all through the outbox (exactly once, after the commit).

* The card (卡片): posted to the grid's bound group and to the grid's leaders, to the
  assignee when there is one, to the holding department's chat, and for a severity marked
  `notify_to_root` (重大) to every leader from the grid up to the root, urgently (in a group
  that keeps forum topics, into the case's topic: storage/topic_cards.py). A chat that
  already shows the card gets its live card edited in place (`edit_of` names its key).
  Buttons are drawn per recipient from `domain.cases.allowed_actions`; they are still
  re-checked on every press.
* A hand-off (`services.case_handoffs`: whoever the case now waits for) is a new card, headed
  by what they are asked and why (返工's reason, the feedback to verify, ...), since an edit
  makes no sound; their older card of the case loses its buttons and points to the new one,
  so each chat has one live card per case. Verifiers get the feedback's photos first, as an
  album with its text.
* The reporter is told of every step in private (unless they took it).
* A transfer (移交) sends the department a written record as a document.
* A comment is passed on to the others involved.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from domain.cases import Actor, CaseAction, CaseFacts, CaseStatus, EventKind
from domain.identity import Identity
from services.case_handoffs import Handoff, Lookups, handoff_of
from services.case_rules import Config, facts_of
from services.case_view import (
    CaseTexts,
    CaseView,
    build_view,
    department_actions,
    group_actions,
    language_of,
    name_of_actor,
    ordered,
    person_actions,
    tell,
)
from storage import cases as q
from storage.models import Case, CaseEvent, Department, Grid, Person
from storage.outbox import enqueue, enqueue_albums
from storage.topic_cards import card_place

# The kinds `announce` tells apart, spelt out once (each `.value` is a call).
_COMMENTED, _REPORTED = EventKind.COMMENTED.value, EventKind.REPORTED.value
_ESCALATED, _TRANSFERRED = EventKind.ESCALATED.value, EventKind.TRANSFERRED.value
_REJECTED = CaseStatus.REJECTED.value

__all__ = [
    "CaseTexts",
    "CaseView",
    "announce",
    "build_view",
    "department_actions",
    "group_actions",
    "ordered",
    "person_actions",
]


async def announce(
    session: AsyncSession,
    *,
    case: Case,
    event: CaseEvent,
    now: datetime,
    texts: CaseTexts,
    cfg: Config,
    ledger: Sequence[CaseEvent] | None = None,
    grid: Grid | None = None,
    lookups: Lookups | None = None,
    speaker: Identity | None = None,
) -> None:
    """Queue every push the step `event` calls for. `ledger`: the whole ledger of a case
    opened in this unit of work (no chat shows its card yet; nothing is read back). `grid`:
    the case's grid and `lookups` what is known of its leaders, when the caller holds them.
    `speaker`: who is speaking in the update that took the step, when the caller has them
    (their name is not read from their row)."""
    assert case.id is not None and event.id is not None
    view = await build_view(
        session, case, now=now, rules=cfg.rules, ledger=ledger, grid=grid, speaker=speaker
    )
    actor_name = await name_of_actor(session, event, speaker)
    if event.kind == _COMMENTED:
        await _pass_on_comment(
            session, view=view, event=event, now=now, texts=texts, actor_name=actor_name
        )
        return
    urgent_root = _urgent_root(case, cfg)
    lookups = lookups or Lookups()
    facts = facts_of(case, view.grid)
    handoff = await handoff_of(
        session, case=case, grid=view.grid, event=event, lookups=lookups, facts=facts
    )
    to = await _recipients(
        session,
        view=view,
        facts=facts,
        urgent_root=urgent_root,
        texts=texts,
        handed=handoff.people,
        lookups=lookups,
        new=ledger is not None,
    )
    first = event.kind == _REPORTED
    urgent = urgent_root and (first or event.kind == _ESCALATED)
    await _queue_cards(
        session,
        view=view,
        event=event,
        to=to,
        now=now,
        texts=texts,
        urgent=urgent,
        handoff=handoff,
        actor_name=actor_name,
    )
    # The reporter hears of every step they did not take themselves.
    if not first and event.actor_id != case.reporter_id:
        await _tell_reporter(
            session, view=view, event=event, now=now, texts=texts, actor_name=actor_name
        )
    if event.kind == _TRANSFERRED and to.department_chat is not None:
        caption, name, body = texts.transfer_record(view, event, actor_name, texts.default_language)
        await enqueue(
            session,
            key=f"xfer:{case.id}:{event.id}",
            kind="case_transfer",
            chat_id=to.department_chat,
            text=caption,
            document_name=name,
            document_body=body,
            now=now,
            urgent=True,
        )


def _urgent_root(case: Case, cfg: Config) -> bool:
    """A severity marked `notify_to_root`: every leader up to the root gets the card."""
    return case.severity in cfg.notify_to_root and case.status != _REJECTED


def card_leader_grids(case: Case, grid: Grid, cfg: Config) -> list[int]:
    """The grids whose leaders `announce` shows the card of `case` (in `grid`, its grid)."""
    return _leader_grids(grid, _urgent_root(case, cfg))


def _leader_grids(grid: Grid, urgent_root: bool) -> list[int]:
    return list(grid.ancestor_ids()) if urgent_root else [grid.id or 0]


@dataclass(frozen=True)
class _Recipients:
    """Who sees the card after a step."""

    cards: dict[int, tuple[list[CaseAction], str]]
    """chat id → the buttons shown there and the card's language"""
    people: dict[int, Person]
    """private chat id → its person"""
    shown: dict[int, str]
    """chat id → the key of the card already there (`q.card_chats`)"""
    department_chat: int | None


async def _recipients(
    session: AsyncSession,
    *,
    view: CaseView,
    facts: CaseFacts,
    urgent_root: bool,
    texts: CaseTexts,
    handed: dict[int, Person],
    lookups: Lookups,
    new: bool = False,
) -> _Recipients:
    case, grid = view.case, view.grid
    assert case.id is not None
    shown = {} if new else await q.card_chats(session, case.id)
    people = await _people_to_show(
        session, case=case, grid=grid, urgent_root=urgent_root, shown=shown, lookups=lookups
    )
    people.update(handed)
    led = await lookups.led_grids_of(session, [p.id for p in people.values() if p.id])
    cards: dict[int, tuple[list[CaseAction], str]] = {}
    for chat_id, p in people.items():
        who = Actor(person_id=p.id, led_grid_ids=led.get(p.id or 0, frozenset()))
        cards[chat_id] = (person_actions(facts, who), language_of(p, texts))
    group_chats = set()
    if grid.group_chat_id is not None:
        group_chats.add(grid.group_chat_id)
    group_chats |= {c for c in shown if c < 0}
    dept = (
        await session.get(Department, case.assignee_department_id)
        if case.assignee_department_id
        else None
    )
    dept_chat = dept.chat_id if dept and dept.chat_id else None
    for chat_id in group_chats:
        # Only the owning grid's group gets buttons; a former grid's group (after an
        # escalation) or a former department's chat keeps a card that just shows the state.
        buttons = group_actions(facts) if chat_id == grid.group_chat_id else frozenset()
        cards[chat_id] = (ordered(buttons), texts.default_language)
    if dept_chat is not None:
        cards[dept_chat] = (ordered(department_actions(facts)), texts.default_language)
    return _Recipients(cards=cards, people=people, shown=shown, department_chat=dept_chat)


async def _people_to_show(
    session: AsyncSession,
    *,
    case: Case,
    grid: Grid,
    urgent_root: bool,
    shown: dict[int, str],
    lookups: Lookups,
) -> dict[int, Person]:
    """private chat id → person: the grid's leaders (every leader up to the root for an
    urgent severity), the assignee, and whoever already has a card, while reachable."""
    leaders = await lookups.leaders_of(session, _leader_grids(grid, urgent_root))
    persons: dict[int, Person] = {p.id or 0: p for _g, p in leaders}
    if case.assignee_person_id is not None:
        persons.update(await q.people_by_id(session, [case.assignee_person_id]))
    # People with a card already keep getting it edited.
    by_chat: dict[int, Person] = {}
    known_people = await q.people_by_chat(session, shown.keys())
    for p in [*persons.values(), *known_people]:
        if p.tg_id is not None and p.reachable:
            by_chat[p.tg_id] = p
    return by_chat


async def _queue_cards(
    session: AsyncSession,
    *,
    view: CaseView,
    event: CaseEvent,
    to: _Recipients,
    now: datetime,
    texts: CaseTexts,
    urgent: bool,
    handoff: Handoff,
    actor_name: str | None,
) -> None:
    """An edit of the live card where there is one; a new card where there is none yet and
    where the case is handed over (the older card then loses its buttons)."""
    case = view.case
    photo = case.photos[0] if case.photos else None
    for chat_id, (actions, language) in to.cards.items():
        person = to.people.get(chat_id)
        person_id = person.id if person else None
        live = to.shown.get(chat_id)
        handed = chat_id in handoff.chats
        headline = texts.headline(view, event, actor_name, language) if handed else None
        text, markup = texts.card(view, actions, language, headline)
        if live is not None and not handed:
            await enqueue(
                session,
                key=f"card:{case.id}:{chat_id}:v{event.id}",
                kind="case_card_edit",
                chat_id=chat_id,
                person_id=person_id,
                text=text,
                reply_markup=markup,
                photo=photo,
                edit_of=live,
                now=now,
            )
            continue
        if chat_id in handoff.evidence:
            await enqueue_albums(
                session,
                key=f"evidence:{case.id}:{event.id}:{chat_id}",
                kind="case_evidence",
                chat_id=chat_id,
                person_id=person_id,
                caption=texts.photos_caption(view, event, actor_name, language),
                photos=[str(p) for p in event.data.get("photos") or []],
                now=now,
            )
        # In a group that keeps forum topics the card goes into the case's topic.
        thread, not_before = await card_place(session, case=case, chat_id=chat_id, now=now)
        await enqueue(
            session,
            key=f"card:{case.id}:{chat_id}" + (f":e{event.id}" if live is not None else ""),
            kind="case_handoff" if handed else "case_card",
            chat_id=chat_id,
            person_id=person_id,
            text=text,
            reply_markup=markup,
            photo=photo,
            now=now,
            urgent=urgent,
            message_thread_id=thread,
            not_before=not_before,
        )
        if live is not None:
            await enqueue(
                session,
                key=f"card:{case.id}:{chat_id}:r{event.id}",
                kind="case_card_retired",
                chat_id=chat_id,
                person_id=person_id,
                text=texts.retired_card(view, language),
                edit_of=live,
                now=now,
            )


async def _tell_reporter(
    session: AsyncSession,
    *,
    view: CaseView,
    event: CaseEvent,
    now: datetime,
    texts: CaseTexts,
    actor_name: str | None,
) -> None:
    case = view.case
    reporter = (await q.people_by_id(session, [case.reporter_id])).get(case.reporter_id)
    await tell(
        session,
        reporter,
        key=f"note:{case.id}:{event.id}",
        text=lambda language: texts.notice(view, event, actor_name, language),
        texts=texts,
        now=now,
    )


async def _pass_on_comment(
    session: AsyncSession,
    *,
    view: CaseView,
    event: CaseEvent,
    now: datetime,
    texts: CaseTexts,
    actor_name: str | None,
) -> None:
    case = view.case
    leaders = await q.leaders_of(session, [case.grid_id])
    ids = {case.reporter_id, case.assignee_person_id, case.handler_id}
    ids |= {p.id for _g, p in leaders}
    ids.discard(event.actor_id)
    people = await q.people_by_id(session, ids)
    for p in people.values():
        if p.tg_id is None or not p.reachable:
            continue
        await enqueue(
            session,
            key=f"cmt:{event.id}:{p.id}",
            kind="case_comment",
            chat_id=p.tg_id,
            person_id=p.id,
            text=texts.comment(view, event, actor_name, language_of(p, texts)),
            photo=(event.data.get("photos") or [None])[0],
            now=now,
        )
