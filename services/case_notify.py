"""The pushes a case step makes, all through the outbox (exactly once, after the commit).

* The card (卡片): posted to the grid's bound group and to the grid's leaders, to the
  assignee when there is one, to the holding department's chat, and for a severity marked
  `notify_to_root` (重大) to every leader from the grid up to the root, urgently. A chat that
  already shows the card gets it edited in place (`edit_of` names the first card's key);
  a chat new to the case (the parent grid after an escalation, a new assignee) gets a card.
  Buttons are drawn per recipient from `domain.cases.allowed_actions`; they are still
  re-checked on every press.
* The reporter is told of every step in private (unless they took it).
* A transfer (移交) sends the department a written record as a document.
* A comment is passed on to the others involved.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlmodel.ext.asyncio.session import AsyncSession

from domain.cases import Actor, CaseAction, CaseFacts, CaseStatus, EventKind, allowed_actions
from services.case_rules import Config, facts_of
from storage import cases as q
from storage.models import Case, CaseEvent, Department, Grid, Person
from storage.outbox import enqueue

BUTTON_ORDER: tuple[CaseAction, ...] = (
    CaseAction.ACCEPT,
    CaseAction.REJECT,
    CaseAction.ASSIGN,
    CaseAction.ACKNOWLEDGE,
    CaseAction.FEEDBACK,
    CaseAction.REQUEST_EXTENSION,
    CaseAction.APPROVE_EXTENSION,
    CaseAction.REFUSE_EXTENSION,
    CaseAction.VERIFY_PASS,
    CaseAction.VERIFY_FAIL,
    CaseAction.RATE,
    CaseAction.TRANSFER,
    CaseAction.ESCALATE,
    CaseAction.DEPT_ACKNOWLEDGE,
    CaseAction.DEPT_FEEDBACK,
    CaseAction.DEPT_RETURN,
)
_DEPT_ACTIONS = frozenset(
    {CaseAction.DEPT_ACKNOWLEDGE, CaseAction.DEPT_FEEDBACK, CaseAction.DEPT_RETURN}
)


@dataclass(frozen=True)
class CaseView:
    """A case with the names a card shows."""

    case: Case
    grid: Grid
    version: int
    reporter_name: str
    assignee_name: str | None
    department_name: str | None
    handler_name: str | None = None


class CaseTexts(Protocol):
    """Renders what the pushes say (implemented in the bot layer, `bot/render/cases.py`)."""

    default_language: str

    def card(
        self, view: CaseView, actions: Sequence[CaseAction], language: str
    ) -> tuple[str, dict[str, Any] | None]: ...

    def notice(self, view: CaseView, event: CaseEvent, actor: str | None, language: str) -> str: ...

    def transfer_record(
        self, view: CaseView, event: CaseEvent, actor: str | None, language: str
    ) -> tuple[str, str, str]:
        """(caption, file name, body)."""
        ...

    def comment(
        self, view: CaseView, event: CaseEvent, actor: str | None, language: str
    ) -> str: ...


def ordered(actions: frozenset[CaseAction]) -> list[CaseAction]:
    return [a for a in BUTTON_ORDER if a in actions]


def group_actions(facts: CaseFacts) -> frozenset[CaseAction]:
    """Buttons for a grid group: the next steps anyone there might take (leader, holder,
    verifier); each press is authorised on its own."""
    leader = Actor(person_id=-1, led_grid_ids=frozenset(facts.grid_path))
    holder = Actor(person_id=facts.assignee_person_id or -2)
    verifier = Actor(person_id=facts.verifier_id or -3)
    found = allowed_actions(facts, leader) | allowed_actions(facts, verifier)
    if not facts.held_by_department:
        found |= allowed_actions(facts, holder)
    return found - _DEPT_ACTIONS - {CaseAction.COMMENT}


def person_actions(facts: CaseFacts, who: Actor) -> list[CaseAction]:
    """A person's buttons on a card: their next steps in button order (a department's steps
    are taken from its chat; a comment has a button of its own)."""
    return ordered(allowed_actions(facts, who) - _DEPT_ACTIONS - {CaseAction.COMMENT})


def department_actions(facts: CaseFacts) -> frozenset[CaseAction]:
    if facts.assignee_department_id is None:
        return frozenset()
    dept = Actor(person_id=None, department_ids=frozenset({facts.assignee_department_id}))
    return allowed_actions(facts, dept) - {CaseAction.COMMENT}


async def build_view(session: AsyncSession, case: Case, *, version: int | None = None) -> CaseView:
    grid = await session.get(Grid, case.grid_id)
    assert grid is not None and case.id is not None
    people = await q.people_by_id(
        session, [case.reporter_id, case.assignee_person_id, case.handler_id]
    )
    dept = (
        await session.get(Department, case.assignee_department_id)
        if case.assignee_department_id
        else None
    )
    return CaseView(
        case=case,
        grid=grid,
        version=version if version is not None else await q.case_version(session, case.id),
        reporter_name=people[case.reporter_id].name if case.reporter_id in people else "",
        assignee_name=people[case.assignee_person_id].name
        if case.assignee_person_id in people
        else None,
        department_name=dept.name if dept else None,
        handler_name=people[case.handler_id].name if case.handler_id in people else None,
    )


def _language(person: Person | None, texts: CaseTexts) -> str:
    return (person.language if person else None) or texts.default_language


async def announce(
    session: AsyncSession,
    *,
    case: Case,
    event: CaseEvent,
    now: datetime,
    texts: CaseTexts,
    cfg: Config,
) -> None:
    """Queue every push the step `event` calls for."""
    assert case.id is not None and event.id is not None
    view = await build_view(session, case)
    actor_name = await _actor_name(session, event)
    if event.kind == EventKind.COMMENTED.value:
        await _pass_on_comment(
            session, view=view, event=event, now=now, texts=texts, actor_name=actor_name
        )
        return
    urgent_root = case.severity in cfg.notify_to_root and case.status not in (
        CaseStatus.REJECTED.value,
    )
    to = await _recipients(session, view=view, urgent_root=urgent_root, texts=texts)
    first = event.kind == EventKind.REPORTED.value
    urgent = urgent_root and (first or event.kind == EventKind.ESCALATED.value)
    await _queue_cards(session, view=view, event=event, to=to, now=now, texts=texts, urgent=urgent)
    # The reporter hears of every step they did not take themselves.
    if not first and event.actor_id != case.reporter_id:
        await _tell_reporter(
            session, view=view, event=event, now=now, texts=texts, actor_name=actor_name
        )
    if event.kind == EventKind.TRANSFERRED.value and to.department_chat is not None:
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


async def _actor_name(session: AsyncSession, event: CaseEvent) -> str | None:
    """Who took the step: the person, or the department that acted from its chat."""
    actor = (await q.people_by_id(session, [event.actor_id])).get(event.actor_id or -1)
    actor_name = actor.name if actor else None
    if event.actor_department_id and not actor_name:
        dept = await session.get(Department, event.actor_department_id)
        actor_name = dept.name if dept else None
    return actor_name


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
    session: AsyncSession, *, view: CaseView, urgent_root: bool, texts: CaseTexts
) -> _Recipients:
    case, grid = view.case, view.grid
    assert case.id is not None
    facts = facts_of(case, grid)
    shown = await q.card_chats(session, case.id)
    people = await _people_to_show(
        session, case=case, grid=grid, urgent_root=urgent_root, shown=shown
    )
    led = await q.led_grids_of(session, [p.id for p in people.values() if p.id])
    cards: dict[int, tuple[list[CaseAction], str]] = {}
    for chat_id, p in people.items():
        who = Actor(person_id=p.id, led_grid_ids=led.get(p.id or 0, frozenset()))
        cards[chat_id] = (person_actions(facts, who), _language(p, texts))
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
    session: AsyncSession, *, case: Case, grid: Grid, urgent_root: bool, shown: dict[int, str]
) -> dict[int, Person]:
    """private chat id → person: the grid's leaders (every leader up to the root for an
    urgent severity), the assignee, and whoever already has a card, while reachable."""
    leader_grids = list(grid.ancestor_ids()) if urgent_root else [grid.id or 0]
    leaders = await q.leaders_of(session, leader_grids)
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
) -> None:
    """A new card where there is none yet, an edit of the first one where there is."""
    case = view.case
    photo = case.photos[0] if case.photos else None
    for chat_id, (actions, language) in to.cards.items():
        text, markup = texts.card(view, actions, language)
        person = to.people.get(chat_id)
        original = to.shown.get(chat_id)
        if original is None:
            await enqueue(
                session,
                key=f"card:{case.id}:{chat_id}",
                kind="case_card",
                chat_id=chat_id,
                person_id=person.id if person else None,
                text=text,
                reply_markup=markup,
                photo=photo,
                now=now,
                urgent=urgent,
            )
        else:
            await enqueue(
                session,
                key=f"card:{case.id}:{chat_id}:v{event.id}",
                kind="case_card_edit",
                chat_id=chat_id,
                person_id=person.id if person else None,
                text=text,
                reply_markup=markup,
                photo=photo,
                edit_of=original,
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
    if reporter is not None and reporter.tg_id is not None and reporter.reachable:
        await enqueue(
            session,
            key=f"note:{case.id}:{event.id}",
            kind="case_notice",
            chat_id=reporter.tg_id,
            person_id=reporter.id,
            text=texts.notice(view, event, actor_name, _language(reporter, texts)),
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
            text=texts.comment(view, event, actor_name, _language(p, texts)),
            photo=(event.data.get("photos") or [None])[0],
            now=now,
        )
