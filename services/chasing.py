"""The chasing (催办): who owes what, told once, at the right hour; cases nobody moves climb.

Called by the scheduler's jobs (scheduler/jobs.py), each in one unit of work:

- `run_daily` at the nag time: patrol laggards (domain.pacing `needs_nag`) get a nag saying
  what is missing and by when; whoever ended yesterday's / last week's / last month's window
  short (`fell_short`) is named to their grid's leader; case assignees are reminded the day
  before the deadline and on the day; the day after it passed a 催办 goes to the assignee,
  copied to the grid's leader; after N working days overdue the case escalates one level up
  by itself; opted-in grid groups get a roll call. It also runs `run_sweep`.
- `run_sweep` every few minutes: reports nobody accepted within `accept_remind_hours` have
  their leader reminded, within `accept_escalate_hours` they escalate; assignments nobody
  acknowledged, the same.

Every push is an outbox row keyed (kind, recipient, period): running a job twice, in two
processes, or again after a crash queues nothing new. Quiet hours hold everything but 重大
cases until they end (`not_before`).

"Leader of a grid" is the nearest leader on the way up: a 楼院 without its own 网格长 is
answered for by its 片区's.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

from aiogram import html
from sqlmodel.ext.asyncio.session import AsyncSession

from domain.calendar import ChinaWorkCalendar, WorkCalendar
from domain.cases import (
    SYSTEM,
    CaseAction,
    CaseFacts,
    CaseStatus,
    Refusal,
    decide,
)
from domain.deadlines import working_days_overdue
from domain.digest import (
    GridNode,
    PersonInfo,
    QuietHours,
    is_critical,
    parse_hhmm,
    windows_at,
)
from domain.pacing import fell_short, pace
from domain.periods import PeriodWindow, previous_window
from storage import chasing as cq
from storage import digest as q
from storage.models import Case, CaseEvent, Deployment, Grid
from storage.outbox import enqueue

quote = html.quote

Texts = Callable[..., str]
CALENDAR: WorkCalendar = ChinaWorkCalendar()
MAX_ROLL_CALL = 30


@dataclass(frozen=True)
class Rules:
    tz: ZoneInfo
    digest_time: str = "18:00"
    nag_time: str = "09:30"
    quiet: QuietHours | None = None
    escalate_working_days: int = 2
    accept_remind_hours: int = 2
    accept_escalate_hours: int = 24


async def load_rules(session: AsyncSession) -> Rules:
    d = await session.get(Deployment, 1) or Deployment(id=1)
    return Rules(
        tz=ZoneInfo(d.timezone or "Asia/Shanghai"),
        digest_time=d.digest_time,
        nag_time=d.nag_time,
        quiet=QuietHours.parse(d.quiet_hours),
        escalate_working_days=d.overdue_escalate_working_days,
        accept_remind_hours=d.accept_remind_hours,
        accept_escalate_hours=d.accept_escalate_hours,
    )


def hold_until(now: datetime, rules: Rules, *, urgent: bool = False) -> datetime | None:
    """When a push queued at `now` may go (its `not_before`): None, at once, outside quiet
    hours and for 重大 cases (`urgent`) at any hour; else the end of the quiet hours."""
    if urgent or rules.quiet is None:
        return None
    return rules.quiet.release_at(now, rules.tz)


@dataclass
class Tree:
    """The grid tree and who leads where, from two grouped queries."""

    grids: dict[int, GridNode]
    leaders: dict[int, list[int]]
    people: dict[int, PersonInfo]
    group_chat: dict[int, int] = field(default_factory=dict)

    def nearest_leaders(self, grid_id: int) -> list[int]:
        gid: int | None = grid_id
        while gid is not None:
            found = self.leaders.get(gid)
            if found:
                return found
            node = self.grids.get(gid)
            gid = node.parent_id if node else None
        return []

    def ancestors(self, grid_id: int) -> list[int]:
        out = []
        gid: int | None = grid_id
        while gid is not None and gid in self.grids:
            out.append(gid)
            gid = self.grids[gid].parent_id
        return out


async def load_tree(session: AsyncSession) -> tuple[Tree, list[Any]]:
    grids = {g.id: g for g in await q.grid_nodes(session)}
    holdings = await q.holdings(session)
    leaders: dict[int, list[int]] = defaultdict(list)
    for h in holdings:
        if h.is_leader and h.person_id not in leaders[h.grid_id]:
            leaders[h.grid_id].append(h.person_id)
    people = await q.people(session)
    return Tree(grids, dict(leaders), people), holdings


@dataclass
class Outcome:
    queued: list[str] = field(default_factory=list)
    escalated: list[int] = field(default_factory=list)


class Pusher:
    """Queues pushes for one job run: language per person, quiet hours, keys."""

    def __init__(
        self,
        session: AsyncSession,
        *,
        now: datetime,
        rules: Rules,
        t: Texts,
        default_language: str,
        people: dict[int, PersonInfo],
        outcome: Outcome,
    ) -> None:
        self.session = session
        self.now = now
        self.rules = rules
        self.t = t
        self.default_language = default_language
        self.people = people
        self.outcome = outcome
        self.hold_until = hold_until(now, rules)

    def lang(self, person_id: int | None) -> str:
        p = self.people.get(person_id) if person_id is not None else None
        return (p.language if p else None) or self.default_language

    async def to_person(
        self, person_id: int, key: str, kind: str, text: str, *, urgent: bool = False
    ) -> None:
        person = self.people.get(person_id)
        if person is None or person.tg_id is None:
            return
        await self.to_chat(person.tg_id, key, kind, text, person_id=person_id, urgent=urgent)

    async def to_chat(
        self,
        chat_id: int,
        key: str,
        kind: str,
        text: str,
        *,
        person_id: int | None = None,
        urgent: bool = False,
    ) -> None:
        not_before = hold_until(self.now, self.rules, urgent=urgent)
        queued = await enqueue(
            self.session,
            key=key,
            kind=kind,
            chat_id=chat_id,
            person_id=person_id,
            text=text,
            now=self.now,
            urgent=urgent,
            not_before=not_before,
        )
        if queued:
            self.outcome.queued.append(key)


def _local(at: datetime, tz: tzinfo) -> str:
    return at.astimezone(tz).strftime("%Y-%m-%d %H:%M")


def _last_day(window: PeriodWindow, tz: tzinfo) -> str:
    return (window.end.astimezone(tz) - timedelta(days=1)).date().isoformat()


async def _refresh_people(session: AsyncSession, tree: Tree, ids: set[int]) -> None:
    missing = {i for i in ids if i not in tree.people}
    for pid, p in (await cq.people_by_ids(session, missing)).items():
        tree.people[pid] = PersonInfo(pid, p.name, p.tg_id, p.language, p.reachable)


# -- patrols -----------------------------------------------------------------------------


async def patrol_nags(
    session: AsyncSession, push: Pusher, tree: Tree, holdings: list[Any]
) -> dict[int, list[tuple[int, str]]]:
    """Nag every laggard once a day; name last window's shortfalls to the leader.

    Returns the laggards per grid (person, role label) for the roll call."""
    now, tz, t = push.now, push.rules.tz, push.t
    today = now.astimezone(tz).date().isoformat()
    windows = windows_at(now, tz)
    done = await q.patrol_done(session, windows, now)
    lines: dict[int, list[str]] = defaultdict(list)
    laggards: dict[int, list[tuple[int, str]]] = defaultdict(list)
    for h in holdings:
        if not h.quota_period or not h.quota_count or h.grid_id not in tree.grids:
            continue
        window = windows[h.quota_period]
        counts = done.get((h.person_id, h.grid_id, h.role_id))
        n = counts.of(h.quota_period) if counts else 0
        p = pace(h.quota_count, n, window, now, tz)
        if not p.needs_nag:
            continue
        laggards[h.grid_id].append((h.person_id, h.role_label))
        lang = push.lang(h.person_id)
        lines[h.person_id].append(
            t(
                "chasing.patrol_line",
                lang,
                grid=quote(tree.grids[h.grid_id].name),
                role=quote(h.role_label),
                period=t(f"chasing.period.{h.quota_period}", lang),
                quota=p.quota,
                done=p.done,
                left=p.left,
                until=_last_day(window, tz),
            )
        )
    for person_id, body in lines.items():
        lang = push.lang(person_id)
        text = "\n".join([t("chasing.patrol_nag", lang), *body])
        await push.to_person(person_id, f"nag:patrol:{person_id}:{today}", "nag", text)

    # Windows that ended at today's local midnight: yesterday always, last week on Mondays,
    # last month on the 1st.
    ended: dict[str, PeriodWindow] = {}
    for period, window in windows.items():
        prev = previous_window(window, tz)
        if prev.end == windows["day"].start:
            ended[period] = prev
    if not ended:
        return laggards
    prev_done = await q.patrol_done(
        session,
        {p: ended.get(p, windows[p]) for p in windows},
        windows["day"].start - timedelta(microseconds=1),
    )
    short: dict[int, list[str]] = defaultdict(list)
    for h in holdings:
        window_or_none = ended.get(h.quota_period or "")
        if window_or_none is None or not h.quota_count or h.grid_id not in tree.grids:
            continue
        counts = prev_done.get((h.person_id, h.grid_id, h.role_id))
        n = counts.of(h.quota_period) if counts else 0
        if not fell_short(h.quota_count, n, window_or_none, now):
            continue
        for leader in tree.nearest_leaders(h.grid_id):
            if leader == h.person_id:
                continue
            lang = push.lang(leader)
            person = tree.people.get(h.person_id)
            short[leader].append(
                t(
                    "chasing.shortfall_line",
                    lang,
                    name=quote(person.name if person else str(h.person_id)),
                    grid=quote(tree.grids[h.grid_id].name),
                    role=quote(h.role_label),
                    period=t(f"chasing.period.{h.quota_period}", lang),
                    done=n,
                    quota=h.quota_count,
                )
            )
    for leader, body in short.items():
        lang = push.lang(leader)
        text = "\n".join([t("chasing.shortfall_head", lang), *body[:60]])
        if len(body) > 60:
            text += "\n" + t("digest.more", lang, n=len(body) - 60)
        await push.to_person(leader, f"nag:shortfall:{leader}:{today}", "nag", text)
    return laggards


# -- cases -------------------------------------------------------------------------------


async def escalate_case(
    session: AsyncSession,
    *,
    case_id: int,
    now: datetime,
    note: str,
    case_texts: Any = None,
) -> bool:
    """Escalate a case one level up as the system (the scheduler).

    Goes through the cases service (`services.cases.perform`: the same door as a leader's
    button, with its cards and notices) when it is there; otherwise decides with
    `domain.cases.decide` and writes the row and its ledger event here."""
    try:
        from services import cases as case_service
    except ImportError:  # pragma: no cover - the cases service is always there in the app
        case_service = None  # type: ignore[assignment]
    if case_service is not None and case_texts is not None:
        cfg = await case_service.load_config(session)
        result = await case_service.perform(
            session,
            case_id=case_id,
            actor=SYSTEM,
            action=CaseAction.ESCALATE,
            now=now,
            texts=case_texts,
            cfg=cfg,
            params=case_service.StepInput(note=note),
        )
        return isinstance(result, case_service.Done)
    case = await session.get(Case, case_id)
    if case is None:
        return False
    grid = await session.get(Grid, case.grid_id)
    if grid is None:
        return False
    facts = CaseFacts(
        status=CaseStatus(case.status),
        grid_path=tuple(grid.ancestor_ids()),
        reporter_id=case.reporter_id,
        assignee_person_id=case.assignee_person_id,
        assignee_department_id=case.assignee_department_id,
        escalation_count=case.escalation_count,
    )
    outcome = decide(facts, SYSTEM, CaseAction.ESCALATE)
    if isinstance(outcome, Refusal):
        return False
    before = case.status
    case.status = outcome.after.status.value
    case.grid_id = outcome.after.grid_id
    case.assignee_person_id = None
    case.assignee_department_id = None
    case.extension_pending = False
    case.escalation_count = outcome.after.escalation_count
    case.updated_at = now
    session.add(case)
    session.add(
        CaseEvent(
            case_id=case_id,
            at=now,
            actor_id=None,
            kind=outcome.event.value,
            status_after=case.status,
            grid_id=case.grid_id,
            note=note,
            data={"from": before, "from_grid": facts.grid_id, "to_grid": case.grid_id},
        )
    )
    await session.flush()
    return True


async def _announce_escalation(
    session: AsyncSession, push: Pusher, tree: Tree, case_id: int, reason_key: str, **params: Any
) -> None:
    case = await session.get(Case, case_id)
    if case is None:
        return
    grid = tree.grids.get(case.grid_id)
    urgent = is_critical(case.severity)
    for leader in tree.nearest_leaders(case.grid_id):
        lang = push.lang(leader)
        text = push.t(
            "chasing.escalated_notice",
            lang,
            code=quote(case.code),
            desc=quote(case.description[:60]),
            reason=push.t(reason_key, lang, **params),
            grid=quote(grid.name if grid else ""),
        )
        key = f"notice:escalated:{case_id}:{case.escalation_count}:{leader}"
        await push.to_person(leader, key, "notice", text, urgent=urgent)


async def case_nags(
    session: AsyncSession, push: Pusher, tree: Tree, *, case_texts: Any = None
) -> list[Any]:
    """Due tomorrow, due today, overdue (催办 + copy), escalation after N working days.

    Returns the overdue cases still held below (for the roll call)."""
    now, tz, t, rules = push.now, push.rules.tz, push.t, push.rules
    today = now.astimezone(tz).date()
    horizon = datetime.combine(today + timedelta(days=2), datetime.min.time(), tzinfo=tz)
    due = await cq.cases_due_before(session, horizon)
    await _refresh_people(
        session, tree, {c.assignee_person_id for c in due if c.assignee_person_id}
    )
    dept_chat = await cq.department_chats(
        session, [c.assignee_department_id for c in due if c.assignee_department_id]
    )
    overdue_left: list[Any] = []
    for c in due:
        urgent = is_critical(c.severity)
        deadline_day = c.deadline_at.astimezone(tz).date()
        stamp = deadline_day.isoformat()
        assignee = c.assignee_person_id
        base = {
            "code": quote(c.code),
            "desc": quote(c.description[:60]),
            "deadline": _local(c.deadline_at, tz),
        }

        async def tell(
            key: str, text_key: str, base: dict[str, str] = base, c: Any = c, urgent: bool = urgent
        ) -> None:
            lang = push.lang(c.assignee_person_id)
            text = t(text_key, lang, **base)
            if c.assignee_person_id is not None:
                await push.to_person(c.assignee_person_id, key, "nag", text, urgent=urgent)
            elif c.assignee_department_id in dept_chat:
                await push.to_chat(dept_chat[c.assignee_department_id], key, "nag", text)

        who = f"p{assignee}" if assignee is not None else f"d{c.assignee_department_id}"
        if c.deadline_at > now:
            if deadline_day == today + timedelta(days=1):
                await tell(f"nag:case_eve:{c.id}:{stamp}:{who}", "chasing.case_due_eve")
            elif deadline_day == today:
                await tell(f"nag:case_day:{c.id}:{stamp}:{who}", "chasing.case_due_day")
            continue
        days = working_days_overdue(c.deadline_at, now, tz, CALENDAR)
        if (
            days >= rules.escalate_working_days
            and c.status != CaseStatus.TRANSFERRED.value
            and await escalate_case(
                session,
                case_id=c.id,
                now=now,
                note=t("chasing.note_overdue", push.default_language, days=days),
                case_texts=case_texts,
            )
        ):
            push.outcome.escalated.append(c.id)
            await _announce_escalation(
                session, push, tree, c.id, "chasing.reason_overdue", days=days
            )
            continue
        overdue_left.append(c)
        if deadline_day >= today:
            continue  # overdue since earlier today: the 催办 goes out tomorrow
        await tell(f"nag:case_overdue:{c.id}:{stamp}:{who}", "chasing.case_overdue")
        name = ""
        if assignee is not None and assignee in tree.people:
            name = tree.people[assignee].name
        for leader in tree.nearest_leaders(c.grid_id):
            if leader == assignee:
                continue
            text = t("chasing.case_overdue_cc", push.lang(leader), assignee=quote(name), **base)
            key = f"nag:case_overdue_cc:{c.id}:{stamp}:{leader}"
            await push.to_person(leader, key, "nag", text, urgent=urgent)
    return overdue_left


async def run_sweep(
    session: AsyncSession,
    *,
    now: datetime,
    rules: Rules,
    t: Texts,
    default_language: str,
    case_texts: Any = None,
    tree: Tree | None = None,
    outcome: Outcome | None = None,
) -> Outcome:
    """Reports nobody accepted and assignments nobody acknowledged: remind, then escalate."""
    outcome = outcome or Outcome()
    if tree is None:
        tree, _ = await load_tree(session)
    push = Pusher(
        session,
        now=now,
        rules=rules,
        t=t,
        default_language=default_language,
        people=tree.people,
        outcome=outcome,
    )
    remind = timedelta(hours=rules.accept_remind_hours)
    climb = timedelta(hours=rules.accept_escalate_hours)
    for c in await cq.untaken_cases(session):
        waited = now - c.since
        if waited < remind:
            continue
        hours = int(waited.total_seconds() // 3600)
        reported = c.status == CaseStatus.REPORTED.value
        if waited >= climb and (c.grid_id in tree.grids and tree.grids[c.grid_id].parent_id):
            note_key = "chasing.note_unaccepted" if reported else "chasing.note_unacknowledged"
            if await escalate_case(
                session,
                case_id=c.id,
                now=now,
                note=t(note_key, default_language, hours=rules.accept_escalate_hours),
                case_texts=case_texts,
            ):
                outcome.escalated.append(c.id)
                reason = (
                    "chasing.reason_unaccepted" if reported else "chasing.reason_unacknowledged"
                )
                await _announce_escalation(
                    session, push, tree, c.id, reason, hours=rules.accept_escalate_hours
                )
                continue
        urgent = is_critical(c.severity)
        stamp = c.since.isoformat(timespec="minutes")
        assignee = ""
        if c.assignee_person_id is not None:
            await _refresh_people(session, tree, {c.assignee_person_id})
            person = tree.people.get(c.assignee_person_id)
            assignee = person.name if person else ""
        for leader in tree.nearest_leaders(c.grid_id):
            lang = push.lang(leader)
            text = t(
                "chasing.accept_remind" if reported else "chasing.ack_remind",
                lang,
                code=quote(c.code),
                desc=quote(c.description[:60]),
                hours=hours,
                assignee=quote(assignee),
            )
            kind = "accept" if reported else "ack"
            key = f"nag:{kind}:{c.id}:{c.grid_id}:{stamp}:{leader}"
            await push.to_person(leader, key, "nag", text, urgent=urgent)
    return outcome


async def roll_calls(
    session: AsyncSession,
    push: Pusher,
    tree: Tree,
    laggards: dict[int, list[tuple[int, str]]],
    overdue: list[Any],
) -> None:
    """One message per opted-in grid group: laggards (mentions) and overdue cases."""
    from sqlmodel import col, select

    rows = (
        await session.exec(
            select(Grid).where(
                col(Grid.roll_call).is_(True),
                col(Grid.group_chat_id).is_not(None),
                col(Grid.archived_at).is_(None),
            )
        )
    ).all()
    if not rows:
        return
    wanted = {g.id: g for g in rows if g.id is not None}
    names: dict[int, list[tuple[int, str]]] = defaultdict(list)
    for grid_id, people in laggards.items():
        for ancestor in tree.ancestors(grid_id):
            if ancestor in wanted:
                names[ancestor].extend(people)
    cases: dict[int, list[Any]] = defaultdict(list)
    for c in overdue:
        for ancestor in tree.ancestors(c.grid_id):
            if ancestor in wanted:
                cases[ancestor].append(c)
    t = push.t
    lang = push.default_language
    today = push.now.astimezone(push.rules.tz).date().isoformat()
    for gid, grid in wanted.items():
        lines = [t("chasing.rollcall_head", lang, grid=quote(grid.name), day=today)]
        seen: set[int] = set()
        mentions = []
        for person_id, _role in names.get(gid, []):
            if person_id in seen:
                continue
            seen.add(person_id)
            p = tree.people.get(person_id)
            if p is None:
                continue
            mentions.append(
                f'<a href="tg://user?id={p.tg_id}">{quote(p.name)}</a>'
                if p.tg_id
                else quote(p.name)
            )
        if mentions:
            shown = mentions[:MAX_ROLL_CALL]
            lines.append(t("chasing.rollcall_behind", lang, names="、".join(shown)))
            if len(mentions) > MAX_ROLL_CALL:
                lines.append(t("digest.more", lang, n=len(mentions) - MAX_ROLL_CALL))
        listed = cases.get(gid, [])
        if listed:
            codes = "、".join(quote(c.code) for c in listed[:MAX_ROLL_CALL])
            lines.append(t("chasing.rollcall_overdue", lang, cases=codes))
            if len(listed) > MAX_ROLL_CALL:
                lines.append(t("digest.more", lang, n=len(listed) - MAX_ROLL_CALL))
        if not mentions and not listed:
            lines.append(t("chasing.rollcall_none", lang))
        assert grid.group_chat_id is not None
        await push.to_chat(
            grid.group_chat_id, f"rollcall:{gid}:{today}", "rollcall", "\n".join(lines)
        )


async def run_daily(
    session: AsyncSession,
    *,
    now: datetime,
    rules: Rules,
    t: Texts,
    default_language: str,
    case_texts: Any = None,
) -> Outcome:
    """The nag-time job: patrol nags and shortfalls, case reminders, 催办 and escalations,
    the untaken sweep, and the roll calls."""
    outcome = Outcome()
    tree, holdings = await load_tree(session)
    push = Pusher(
        session,
        now=now,
        rules=rules,
        t=t,
        default_language=default_language,
        people=tree.people,
        outcome=outcome,
    )
    laggards = await patrol_nags(session, push, tree, holdings)
    overdue = await case_nags(session, push, tree, case_texts=case_texts)
    await run_sweep(
        session,
        now=now,
        rules=rules,
        t=t,
        default_language=default_language,
        case_texts=case_texts,
        tree=tree,
        outcome=outcome,
    )
    await roll_calls(session, push, tree, laggards, overdue)
    return outcome


def local_time_today(now: datetime, hhmm: str, tz: tzinfo) -> datetime:
    """Today's `hhmm` in `tz`, as an aware datetime."""
    return datetime.combine(now.astimezone(tz).date(), parse_hhmm(hhmm), tzinfo=tz)


class ScheduleError(ValueError):
    """A `/schedule` value that is not a time (the message is the value)."""


SCHEDULE_FIELDS = ("digest", "nag", "quiet")


async def update_schedule(session: AsyncSession, *, what: str, value: str) -> Rules:
    """Change the digest time, the nag time or the quiet hours; returns the new rules."""
    d = await session.get(Deployment, 1)
    if d is None:
        d = Deployment(id=1)
        session.add(d)
    value = value.strip()
    try:
        if what == "digest":
            d.digest_time = parse_hhmm(value).strftime("%H:%M")
        elif what == "nag":
            d.nag_time = parse_hhmm(value).strftime("%H:%M")
        elif what == "quiet":
            if value.lower() in ("off", "none", "关闭", "-"):
                d.quiet_hours = ""
            else:
                quiet = QuietHours.parse(value)
                d.quiet_hours = (
                    f"{quiet.start.strftime('%H:%M')}-{quiet.end.strftime('%H:%M')}"
                    if quiet
                    else ""
                )
        else:
            raise ScheduleError(what)
    except ValueError as exc:
        raise ScheduleError(value) from exc
    session.add(d)
    await session.flush()
    return await load_rules(session)
