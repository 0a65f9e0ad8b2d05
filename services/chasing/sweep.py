"""The sweep: reports nobody accepted and assignments nobody acknowledged get their leader
reminded after `Rules.accept_remind_hours`, and climb one level after
`Rules.accept_escalate_hours`."""

from __future__ import annotations

from datetime import datetime, timedelta

from aiogram import html
from sqlmodel.ext.asyncio.session import AsyncSession

from domain.cases import CaseStatus
from domain.digest import is_critical
from services.chasing.escalation import announce_escalation, escalate_case
from services.chasing.job import ChasingTexts, Outcome, Pusher, Tree, load_tree
from services.chasing.rules import Rules
from storage import chasing as cq

quote = html.quote


async def run_sweep(
    session: AsyncSession,
    *,
    now: datetime,
    rules: Rules,
    texts: ChasingTexts,
    tree: Tree | None = None,
    outcome: Outcome | None = None,
) -> Outcome:
    """Reports nobody accepted and assignments nobody acknowledged: remind, then escalate.

    `tree` and `outcome`: the daily run's, when it runs the sweep too."""
    outcome = outcome or Outcome()
    if tree is None:
        tree, _ = await load_tree(session)
    push = Pusher(session, now=now, rules=rules, texts=texts, people=tree.people, outcome=outcome)
    t, default_language = texts.t, texts.default_language
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
                push,
                case_id=c.id,
                note=t(note_key, default_language, hours=rules.accept_escalate_hours),
            ):
                outcome.escalated.append(c.id)
                reason = (
                    "chasing.reason_unaccepted" if reported else "chasing.reason_unacknowledged"
                )
                await announce_escalation(
                    push, tree, c.id, reason, hours=rules.accept_escalate_hours
                )
                continue
        urgent = is_critical(c.severity)
        stamp = c.since.isoformat(timespec="minutes")
        assignee = ""
        if c.assignee_person_id is not None:
            await tree.refresh_people(session, {c.assignee_person_id})
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
