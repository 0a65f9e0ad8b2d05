"""Cases against their deadline: due tomorrow, due today, overdue (催办, copied to the
leader), and past `Rules.escalate_working_days` working days overdue, one level up."""

from __future__ import annotations

from datetime import datetime, timedelta, tzinfo

from aiogram import html
from sqlmodel.ext.asyncio.session import AsyncSession

from domain.cases import CaseStatus
from domain.deadlines import working_days_overdue
from domain.digest import is_critical
from services.chasing.escalation import climb
from services.chasing.job import Pusher, Tree, give_way
from storage import chasing as cq
from storage.chasing import CaseDue

quote = html.quote


def _local(at: datetime, tz: tzinfo) -> str:
    return at.astimezone(tz).strftime("%Y-%m-%d %H:%M")


async def case_nags(session: AsyncSession, push: Pusher, tree: Tree) -> list[CaseDue]:
    """Due tomorrow, due today, overdue (催办 + copy), escalation after N working days.

    Returns the overdue cases still held below (for the roll call)."""
    now, tz, t, rules = push.now, push.rules.tz, push.t, push.rules
    today = now.astimezone(tz).date()
    horizon = datetime.combine(today + timedelta(days=2), datetime.min.time(), tzinfo=tz)
    due = await cq.cases_due_before(session, horizon)
    await tree.refresh_people(session, {c.assignee_person_id for c in due if c.assignee_person_id})
    dept_chat = await cq.department_chats(
        session, [c.assignee_department_id for c in due if c.assignee_department_id]
    )
    overdue_left: list[CaseDue] = []
    for n, c in enumerate(due, start=1):
        await give_way(n)
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
            key: str,
            text_key: str,
            base: dict[str, str] = base,
            c: CaseDue = c,
            urgent: bool = urgent,
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
        days = working_days_overdue(c.deadline_at, now, tz, rules.calendar)
        if (
            days >= rules.escalate_working_days
            and c.status != CaseStatus.TRANSFERRED.value
            and await climb(
                push,
                tree,
                case_id=c.id,
                note=t("chasing.note_overdue", push.default_language, days=days),
                reason_key="chasing.reason_overdue",
                days=days,
            )
        ):
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
