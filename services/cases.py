"""Hazard cases (隐患案件): every step of the closed loop, as one call each.

`perform` is the single door every step goes through: it loads the case, asks
`domain.cases.decide` (permissions and state), and on a transition updates the `Case` row
and appends a `CaseEvent` in the caller's unit of work, then queues the pushes (cards edited
in place, the reporter told, the department sent its transfer record) in the outbox.
Reporting lives in `services/reporting.py`; the pushes in `services/case_notify.py`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from sqlmodel.ext.asyncio.session import AsyncSession

from domain.cases import (
    Actor,
    CaseAction,
    CaseFacts,
    CaseStatus,
    EventKind,
    Rating,
    Refusal,
    RefusalReason,
    RejectReason,
    Transition,
    deadline_change_refusal,
    decide,
    waiting_for,
)
from domain.deadlines import due_end_of_day, extend_deadline
from domain.identity import Identity
from domain.reopen import window_open
from domain.visibility import Viewer, may_see
from services.case_notify import CaseTexts, announce
from services.case_rules import Config, facts_of
from services.case_rules import load_config as load_config  # the steps' callers load it here
from storage import cases as q
from storage.models import Case, Department, Grid

MAX_NOTE = 1000
MAX_PHOTOS = 10
EXTENSION_CHOICES = (24, 72, 168)
"""Extension lengths offered (working hours: 1, 3, 7 working days)."""


class Problem(StrEnum):
    """A step refused before the rules were even asked (keys under `cases.problem.`)."""

    NO_CASE = "no_case"
    STALE = "stale"
    NOTE_TOO_LONG = "note_too_long"
    NOTE_REQUIRED = "note_required"
    BAD_DEADLINE = "bad_deadline"
    NO_TARGET = "no_target"


def initial_deadline(created_at: datetime, severity: str, cfg: Config) -> datetime:
    return due_end_of_day(created_at, cfg.hours_for(severity), cfg.tz, cfg.calendar)


def actor_of(
    me: Identity | None, *, department_ids: frozenset[int] = frozenset(), system: bool = False
) -> Actor:
    """The rules' view of whoever pressed: their led grids, and the department whose bound
    chat the press came from."""
    if system:
        return Actor(person_id=None, is_system=True)
    if me is None:
        return Actor(person_id=None, department_ids=department_ids)
    return Actor(
        person_id=me.person_id,
        led_grid_ids=me.led_grid_ids,
        department_ids=department_ids,
        is_admin=me.is_admin,
    )


def viewer_of(me: Identity | None, *, department_ids: frozenset[int] = frozenset()) -> Viewer:
    """The visibility rule's view of whoever asks: every grid they hold a role in, and the
    department whose bound chat the request came from."""
    if me is None:
        return Viewer(person_id=None, department_ids=department_ids)
    return Viewer(
        person_id=me.person_id,
        grid_ids=frozenset(me.grid_ids),
        department_ids=department_ids,
        is_admin=me.is_admin,
    )


async def seen_cases(session: AsyncSession, viewer: Viewer, cases: Sequence[Case]) -> list[Case]:
    """Those of `cases` the viewer may see (`domain.visibility.may_see`), in their order."""
    grids = await q.grids_by_id(session, {c.grid_id for c in cases})
    return [c for c in cases if may_see(facts_of(c, grids[c.grid_id]), viewer)]


async def cases_led_in_status(session: AsyncSession, me: Identity, *, status: str) -> list[Case]:
    """The cases in `status` held by the grids `me` leads (the digest's "waiting" buttons),
    oldest first, as far as the visibility rule lets them see."""
    held = await q.cases_of_grids(session, grid_ids=me.led_grid_ids, status=status)
    return await seen_cases(session, viewer_of(me), held)


@dataclass(frozen=True)
class StepInput:
    """The parameters a step may carry (see `domain.cases.decide`)."""

    assignee_person_id: int | None = None
    department_id: int | None = None
    reason: RejectReason | None = None
    rating: Rating | None = None
    note: str | None = None
    photos: tuple[str, ...] = ()
    deadline_at: datetime | None = None
    extension_hours: int | None = None


@dataclass(frozen=True)
class Done:
    case: Case
    event_id: int
    transition: Transition
    held_by: Department | None = None
    """A transfer to a department with no bound chat: held until one is bound (the leader is
    told at once; /today lists it)."""


@dataclass(frozen=True)
class Refused:
    reason: str  # a RefusalReason or a Problem value
    case: Case | None = None


@dataclass
class Loaded:
    case: Case
    grid: Grid
    facts: CaseFacts
    version: int = 0
    extra: dict[str, object] = field(default_factory=dict)


async def load(session: AsyncSession, case_id: int) -> Loaded | None:
    case = await session.get(Case, case_id)
    if case is None:
        return None
    grid = await session.get(Grid, case.grid_id)
    assert grid is not None
    return Loaded(
        case=case,
        grid=grid,
        facts=facts_of(case, grid),
        version=await q.case_version(session, case_id),
    )


def _check_inputs(action: CaseAction, params: StepInput) -> Problem | None:
    if params.note is not None and len(params.note) > MAX_NOTE:
        return Problem.NOTE_TOO_LONG
    needs_note = {
        CaseAction.VERIFY_FAIL,
        CaseAction.ESCALATE,
        CaseAction.REQUEST_EXTENSION,
        CaseAction.TRANSFER,  # the 说明 of the written record (移交单)
        CaseAction.REOPEN,  # why the hazard is back
    }
    if action in needs_note and not (params.note or "").strip():
        return Problem.NOTE_REQUIRED
    if action in (CaseAction.FEEDBACK, CaseAction.DEPT_FEEDBACK, CaseAction.COMMENT) and not (
        (params.note or "").strip() or params.photos
    ):
        return Problem.NOTE_REQUIRED
    if action is CaseAction.REQUEST_EXTENSION and not params.extension_hours:
        return Problem.NOTE_REQUIRED
    return None


async def perform(
    session: AsyncSession,
    *,
    case_id: int,
    actor: Actor,
    action: CaseAction,
    now: datetime,
    texts: CaseTexts,
    cfg: Config,
    params: StepInput | None = None,
    version: int | None = None,
    acting_department_id: int | None = None,
) -> Done | Refused:
    """Take one step, or say politely why not. `version` (from the button) refuses a press on
    a card drawn before the case last changed (comments aside)."""
    params = params or StepInput()
    loaded = await load(session, case_id)
    if loaded is None:
        return Refused(Problem.NO_CASE)
    case, grid, facts = loaded.case, loaded.grid, loaded.facts
    if version is not None and version != loaded.version and action is not CaseAction.COMMENT:
        return Refused(Problem.STALE, case)
    problem = _check_inputs(action, params)
    if problem is not None:
        return Refused(problem, case)
    in_subtree = False
    dept = None
    if params.department_id is not None and action in (CaseAction.ASSIGN, CaseAction.TRANSFER):
        live = {d.id: d for d in await q.live_departments(session)}
        dept = live.get(params.department_id)
        in_subtree = dept is not None
        if action is CaseAction.TRANSFER and dept is None:
            return Refused(Problem.NO_TARGET, case)
    elif action is CaseAction.ASSIGN and params.assignee_person_id is not None:
        in_subtree = await q.in_subtree(
            session, path=grid.path, person_id=params.assignee_person_id
        )
    outcome = decide(
        facts,
        actor,
        action,
        assignee_person_id=params.assignee_person_id,
        department_id=params.department_id,
        target_in_subtree=in_subtree,
        reason=params.reason,
        rating=params.rating,
        within_reopen_window=window_open(case.closed_at, now, cfg.reopen_days),
    )
    if isinstance(outcome, Refusal):
        return Refused(outcome.reason.value, case)
    data = _apply(case, outcome, params, now, cfg)
    held_by = dept if dept is not None and dept.chat_id is None else None
    if held_by is not None:
        data["held"] = True  # the 移交单 waits for the department to bind a chat
    dept_id = acting_department_id
    if dept_id is None and action.by_department and facts.assignee_department_id:
        dept_id = facts.assignee_department_id
    event = await q.append_event(
        session,
        case=case,
        kind=outcome.event.value,
        at=now,
        actor_id=actor.person_id,
        actor_department_id=dept_id if action.by_department else None,
        note=(params.note or "").strip() or None,
        data=data,
    )
    assert event.id is not None
    await announce(session, case=case, event=event, now=now, texts=texts, cfg=cfg)
    return Done(case=case, event_id=event.id, transition=outcome, held_by=held_by)


def _apply(
    case: Case, t: Transition, params: StepInput, now: datetime, cfg: Config
) -> dict[str, object]:
    """Write the transition onto the row; return what the ledger entry records beyond it."""
    after = t.after
    data: dict[str, object] = {"from": t.before.status.value}
    case.status = after.status.value
    case.grid_id = after.grid_id
    case.assignee_person_id = after.assignee_person_id
    case.assignee_department_id = after.assignee_department_id
    case.handler_id = after.handler_id
    case.verifier_id = after.verifier_id
    case.extension_pending = after.extension_pending
    case.rework_count = after.rework_count
    case.escalation_count = after.escalation_count
    case.updated_at = now
    if params.photos:
        data["photos"] = list(params.photos)
    match t.action:
        case CaseAction.ACCEPT:
            case.accepted_at = now
        case CaseAction.REJECT:
            assert t.reject_reason is not None
            data["reason"] = t.reject_reason.value
            case.closed_at = now
        case CaseAction.ASSIGN:
            case.assigned_at = now
            if params.deadline_at is not None:
                data["old_deadline"] = case.deadline_at.isoformat() if case.deadline_at else None
                case.deadline_at = params.deadline_at
            case.extension_hours = None
            data["assignee_person_id"] = after.assignee_person_id
            data["department_id"] = after.assignee_department_id
            data["deadline"] = case.deadline_at.isoformat() if case.deadline_at else None
        case CaseAction.TRANSFER:
            case.assigned_at = now
            if params.deadline_at is not None:
                case.deadline_at = params.deadline_at
            case.extension_hours = None
            data["department_id"] = after.assignee_department_id
            data["deadline"] = case.deadline_at.isoformat() if case.deadline_at else None
        case CaseAction.REQUEST_EXTENSION:
            case.extension_hours = params.extension_hours
            data["hours"] = params.extension_hours
        case CaseAction.APPROVE_EXTENSION:
            hours = case.extension_hours or EXTENSION_CHOICES[0]
            old = case.deadline_at or now
            case.deadline_at = extend_deadline(
                old, hours, now=now, tz=cfg.tz, calendar=cfg.calendar
            )
            data.update(
                hours=hours, old_deadline=old.isoformat(), deadline=case.deadline_at.isoformat()
            )
            case.extension_hours = None
        case CaseAction.REFUSE_EXTENSION:
            data["hours"] = case.extension_hours
            case.extension_hours = None
        case CaseAction.VERIFY_PASS:
            case.closed_at = now
        case CaseAction.VERIFY_FAIL:
            data["rework"] = after.rework_count
        case CaseAction.RATE:
            assert t.rating is not None
            case.rating = t.rating.value
            data["rating"] = t.rating.value
        case CaseAction.ESCALATE:
            data["from_grid"] = t.before.grid_id
            data["to_grid"] = after.grid_id
        case CaseAction.DEPT_RETURN:
            data["department_id"] = t.before.assignee_department_id
        case CaseAction.REOPEN:
            # The closing and the rating no longer stand (the ledger keeps both); the
            # rectification starts again with the severity's time from now.
            data["closed_at"] = case.closed_at.isoformat() if case.closed_at else None
            data["rating"] = case.rating
            data["old_deadline"] = case.deadline_at.isoformat() if case.deadline_at else None
            case.closed_at = None
            case.rating = None
            case.extension_hours = None
            case.deadline_at = initial_deadline(now, case.severity, cfg)
            data["deadline"] = case.deadline_at.isoformat()
        case _:
            pass
    return data


# ---------------------------------------------------------------------------------------
# Changing the deadline (限期整改) of a case being handled

MAX_DEADLINE_DAYS = 366
DEFAULT_DEADLINE_TIME = time(18, 0)


def check_deadline(deadline: datetime, now: datetime) -> Problem | None:
    """A new deadline lies in the future, and within a year."""
    if deadline <= now or deadline > now + timedelta(days=MAX_DEADLINE_DAYS):
        return Problem.BAD_DEADLINE
    return None


def parse_deadline_date(text: str, *, current: datetime | None, tz: ZoneInfo) -> datetime | None:
    """A typed date "YYYY-MM-DD" as a deadline: that day, at the current deadline's local time
    of day (18:00 without one). None when the text is not such a date."""
    raw = text.strip()
    if len(raw) != 10 or raw[4] != "-" or raw[7] != "-":
        return None
    try:
        day = date.fromisoformat(raw)
    except ValueError:
        return None
    at = current.astimezone(tz).timetz().replace(tzinfo=None) if current else DEFAULT_DEADLINE_TIME
    return datetime.combine(day, at, tzinfo=tz).astimezone(UTC)


@dataclass(frozen=True)
class DeadlineChanged:
    case: Case
    event_id: int
    old: datetime | None
    new: datetime


async def change_deadline(
    session: AsyncSession,
    *,
    case_id: int,
    actor: Actor,
    deadline: datetime,
    now: datetime,
    texts: CaseTexts,
    cfg: Config,
    version: int | None = None,
    note: str | None = None,
) -> DeadlineChanged | Refused:
    """Set a new deadline on a case being handled; a ledger entry records old and new, and
    the cards, the assignee and the reporter are told as for any step."""
    loaded = await load(session, case_id)
    if loaded is None:
        return Refused(Problem.NO_CASE)
    case = loaded.case
    if version is not None and version != loaded.version:
        return Refused(Problem.STALE, case)
    refusal = deadline_change_refusal(loaded.facts, actor)
    if refusal is not None:
        return Refused(refusal, case)
    problem = check_deadline(deadline, now)
    if problem is None and note is not None and len(note) > MAX_NOTE:
        problem = Problem.NOTE_TOO_LONG
    if problem is not None:
        return Refused(problem, case)
    old = case.deadline_at
    case.deadline_at = deadline
    case.updated_at = now
    event = await q.append_event(
        session,
        case=case,
        kind=EventKind.DEADLINE_CHANGED.value,
        at=now,
        actor_id=actor.person_id,
        note=(note or "").strip() or None,
        data={
            "from": case.status,
            "old_deadline": old.isoformat() if old else None,
            "deadline": deadline.isoformat(),
        },
    )
    assert event.id is not None
    await announce(session, case=case, event=event, now=now, texts=texts, cfg=cfg)
    return DeadlineChanged(case=case, event_id=event.id, old=old, new=deadline)


# ---------------------------------------------------------------------------------------
# What waits for a person (/my)


@dataclass(frozen=True)
class Waiting:
    case: Case
    actions: frozenset[CaseAction]


async def cases_waiting_for(
    session: AsyncSession,
    identity: Identity,
    now: datetime,
    *,
    department_ids: frozenset[int] = frozenset(),
) -> list[Waiting]:
    """Cases waiting for this person (to accept, assign, handle, verify, rate, approve an
    extension), nearest deadline first (cases without one last, oldest first)."""
    del now  # the order needs no clock; kept so callers need not change when it does
    actor = actor_of(identity, department_ids=department_ids)
    candidates = await q.candidate_cases_for(
        session,
        person_id=identity.person_id,
        led_grid_ids=identity.led_grid_ids,
        department_ids=department_ids,
    )
    grids = await q.grids_by_id(session, {c.grid_id for c in candidates})
    out: list[Waiting] = []
    for case in candidates:
        grid = grids[case.grid_id]
        facts = facts_of(case, grid)
        handler_leads = case.handler_id is not None and (
            await q.leads_grid(session, person_id=case.handler_id, grid_id=case.grid_id)
            if case.status == CaseStatus.FEEDBACK.value
            else False
        )
        duties = waiting_for(facts, actor, handler_leads_grid=handler_leads)
        if duties:
            out.append(Waiting(case=case, actions=duties))
    far = datetime.max.replace(tzinfo=UTC)
    out.sort(key=lambda w: (w.case.deadline_at or far, w.case.created_at, w.case.id or 0))
    return out


def decide_reason(facts: CaseFacts, actor: Actor, action: CaseAction) -> str:
    """Why `actor` may not take `action` now (for a polite answer to a press)."""
    outcome = decide(facts, actor, action)
    return outcome.reason.value if isinstance(outcome, Refusal) else RefusalReason.NOT_ALLOWED.value


def refusal_key(reason: str) -> str:
    """The message key for a refusal (domain reasons and service problems alike)."""
    if reason in RefusalReason.__members__.values() or reason in Problem.__members__.values():
        return f"cases.refused.{reason}"
    return "cases.refused.not_allowed"
