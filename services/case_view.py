"""What a case's pushes and screens show: the case with its names (`CaseView`), the texts
that render it (`CaseTexts`, implemented in `bot/render/cases.py`) and each reader's buttons.

Kept apart from the pushes (`services/case_notify.py`) so that /case, the ledger's photos and
the held transfers read the same view without importing the pushes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlmodel.ext.asyncio.session import AsyncSession

from domain.case_rules import CaseRules, Supervision, supervision
from domain.cases import Actor, CaseAction, CaseFacts, EventKind, allowed_actions
from domain.categories import Category, by_label, default_categories, from_stored
from domain.identity import Identity
from services.by_content import ByContent
from storage import cases as q
from storage.case_rules import case_rules, clock_of, open_clocks
from storage.deployment_row import deployment_to_read
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
    CaseAction.REOPEN,
    CaseAction.TRANSFER,
    CaseAction.ESCALATE,
    CaseAction.DEPT_ACKNOWLEDGE,
    CaseAction.DEPT_FEEDBACK,
    CaseAction.DEPT_RETURN,
)
# The kinds a view looks for, spelt out once (each `.value` is a call).
_ESCALATED, _SENT_BACK = EventKind.ESCALATED.value, EventKind.SENT_BACK.value
_COMMENTED = EventKind.COMMENTED.value
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
    escalated_from: str | None = None
    """The grid the case was last escalated from (逐级上报), and why."""
    escalation_reason: str | None = None
    rework_reason: str | None = None
    """Why the last verification sent the case back (返工)."""
    supervision: Supervision | None = None
    """Where its stage stands against its 督办 limit when the card was drawn (None: under
    no clock, or not asked)."""
    category: Category | None = None
    """The deployment's category the case is filed under (its English label for the English
    UI); None when its label is no longer listed (the card shows the stored label)."""


class CaseTexts(Protocol):
    """Renders what the pushes say (implemented in the bot layer, `bot/render/cases.py`)."""

    default_language: str

    def card(
        self,
        view: CaseView,
        actions: Sequence[CaseAction],
        language: str,
        headline: str | None = None,
    ) -> tuple[str, dict[str, Any] | None]:
        """The card; `headline` first when it is handed to someone (see `headline`)."""
        ...

    def headline(
        self, view: CaseView, event: CaseEvent, actor: str | None, language: str
    ) -> str | None:
        """What a hand-off asks of its recipient and why (None: the card says it all)."""
        ...

    def retired_card(self, view: CaseView, language: str) -> str:
        """An older card of the case in a chat that was handed a new one."""
        ...

    def photos_caption(
        self, view: CaseView, event: CaseEvent | None, actor: str | None, language: str
    ) -> str:
        """The caption of a step's photos (`event` None: the report's), at most 1,024."""
        ...

    def notice(self, view: CaseView, event: CaseEvent, actor: str | None, language: str) -> str: ...

    def transfer_delivered(self, case: Case, department: Department, language: str) -> str:
        """To the leader who transferred: the held 移交单 reached the department's chat."""
        ...

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
    # Reopening asks for a reason in private: a closed case's group card stays quiet.
    return found - _DEPT_ACTIONS - {CaseAction.COMMENT, CaseAction.REOPEN}


def person_actions(facts: CaseFacts, who: Actor) -> list[CaseAction]:
    """A person's buttons on a card: their next steps in button order (a department's steps
    are taken from its chat; a comment has a button of its own)."""
    return ordered(allowed_actions(facts, who) - _DEPT_ACTIONS - {CaseAction.COMMENT})


def department_actions(facts: CaseFacts) -> frozenset[CaseAction]:
    if facts.assignee_department_id is None:
        return frozenset()
    dept = Actor(person_id=None, department_ids=frozenset({facts.assignee_department_id}))
    return allowed_actions(facts, dept) - {CaseAction.COMMENT}


async def build_view(
    session: AsyncSession,
    case: Case,
    *,
    version: int | None = None,
    now: datetime | None = None,
    rules: CaseRules | None = None,
    ledger: Sequence[CaseEvent] | None = None,
    grid: Grid | None = None,
    speaker: Identity | None = None,
) -> CaseView:
    """The case with its names; with `now`, its 督办 standing too (`rules`: the deployment's,
    read when not given). `ledger`: the case's whole ledger in order, when the caller holds
    it (a case opened in this unit of work), so that it is not read back. `grid`: the case's
    grid, when the caller holds it. `speaker`: who is speaking in this update, when the
    caller has them (see `_names`)."""
    if grid is None or grid.id != case.grid_id:
        grid = await session.get(Grid, case.grid_id)
    assert grid is not None and case.id is not None
    names = await _names(
        session, [case.reporter_id, case.assignee_person_id, case.handler_id], speaker
    )
    dept = (
        await session.get(Department, case.assignee_department_id)
        if case.assignee_department_id
        else None
    )
    kinds = (_ESCALATED, _SENT_BACK)
    if ledger is None:
        last = await q.latest_events(session, case.id, kinds)
    else:
        last = {e.kind: e for e in ledger if e.kind in kinds}
        version = _version(ledger) if version is None else version
    escalated = last.get(_ESCALATED)
    from_grid = (
        await session.get(Grid, int(escalated.data["from_grid"]))
        if escalated is not None and escalated.data.get("from_grid")
        else None
    )
    sent_back = last.get(_SENT_BACK)
    standing = None
    if now is not None:
        rules = rules if rules is not None else await case_rules(session)
        if ledger is None:
            clocks = await open_clocks(session, case_id=case.id)
            clock = clocks[0].clock if clocks else None
        else:
            clock = clock_of(case, ledger)
        standing = supervision(clock, rules, now) if clock is not None else None
    return CaseView(
        case=case,
        grid=grid,
        version=version if version is not None else await q.case_version(session, case.id),
        reporter_name=names.get(case.reporter_id, ""),
        assignee_name=names.get(case.assignee_person_id),
        department_name=dept.name if dept else None,
        handler_name=names.get(case.handler_id),
        escalated_from=from_grid.name if from_grid is not None else None,
        escalation_reason=escalated.note if escalated is not None else None,
        rework_reason=sent_back.note if sent_back is not None else None,
        supervision=standing,
        category=by_label(await deployment_categories(session), case.category),
    )


async def _names(
    session: AsyncSession, ids: Sequence[int | None], speaker: Identity | None
) -> dict[int | None, str]:
    """person id → name, for those of `ids` who exist. The speaker's name is taken from who
    they are (the values of their row that the update's first statement read, the same that
    a read of the row hands back in this unit of work: storage/speaker_row.py) rather than
    from their row, which would be put in the session only for its name."""
    names: dict[int | None, str] = {}
    if speaker is not None and speaker.person_id in ids:
        names[speaker.person_id] = speaker.name
    people = await q.people_by_id(session, [i for i in ids if i not in names])
    names.update((i, p.name) for i, p in people.items())
    return names


def _version(ledger: Sequence[CaseEvent]) -> int:
    """`q.case_version` of a ledger in hand."""
    return max((e.id or 0 for e in ledger if e.kind != _COMMENTED), default=0)


async def deployment_categories(session: AsyncSession) -> tuple[Category, ...]:
    """The deployment's hazard categories (those of its checklist when it names none); a case
    keeps the Chinese label. Here, below `services.reporting`, so that cards can read them."""
    d = await deployment_to_read(session)
    if d is None:
        return default_categories(())
    return _CATEGORIES(d.categories, d.checklist)


def _categories_of(stored: Any, checklist: Any) -> tuple[Category, ...]:
    return from_stored(stored) or default_categories(checklist)


# A report's steps each read them, and the row, read again by each update, is new objects.
_CATEGORIES: ByContent[tuple[Category, ...]] = ByContent(_categories_of)


def language_of(person: Person | None, texts: CaseTexts) -> str:
    return (person.language if person else None) or texts.default_language


async def name_of_actor(
    session: AsyncSession, event: CaseEvent, speaker: Identity | None = None
) -> str | None:
    """Who took the step: the person, or the department that acted from its chat.
    `speaker`: who is speaking in this update, when the caller has them (see `_names`)."""
    actor_name = (await _names(session, [event.actor_id], speaker)).get(event.actor_id)
    if event.actor_department_id and not actor_name:
        dept = await session.get(Department, event.actor_department_id)
        actor_name = dept.name if dept else None
    return actor_name


async def tell(
    session: AsyncSession,
    person: Person | None,
    *,
    key: str,
    text: Callable[[str], str],
    texts: CaseTexts,
    now: datetime,
    kind: str = "case_notice",
) -> None:
    """A notice to one person in private, in their language, while they can be reached."""
    if person is None or person.tg_id is None or not person.reachable:
        return
    await enqueue(
        session,
        key=key,
        kind=kind,
        chat_id=person.tg_id,
        person_id=person.id,
        text=text(language_of(person, texts)),
        now=now,
    )
