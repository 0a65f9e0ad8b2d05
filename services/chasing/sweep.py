"""The sweep: reports nobody accepted and assignments nobody acknowledged get their leader
reminded after `Rules.accept_remind_hours`, and climb one level after
`Rules.accept_escalate_hours`; where the scenario file sets a 督办 limit for the case's
severity and stage (``cases: limits:``), reminded at 80 % of it and climbing at the limit
(`domain.case_rules.sweep_thresholds`)."""

from __future__ import annotations

from datetime import datetime, timedelta

from aiogram import html
from sqlmodel.ext.asyncio.session import AsyncSession

from domain.case_rules import earliest_remind, sweep_thresholds
from domain.cases import CaseStatus
from domain.digest import is_critical
from services.chasing.escalation import climb
from services.chasing.job import (
    PUSHES_PER_TRANSACTION,
    AfterChunk,
    ChasingTexts,
    Outcome,
    Pusher,
    Tree,
    collector_held,
    give_way,
    load_tree,
)
from services.chasing.rules import Rules
from storage import chasing as cq
from storage.case_rules import case_rules
from storage.db import Database

quote = html.quote


async def run_sweep(
    db: Database,
    *,
    now: datetime,
    rules: Rules,
    texts: ChasingTexts,
    chunk: int = PUSHES_PER_TRANSACTION,
    after_chunk: AfterChunk | None = None,
) -> Outcome:
    """Reports nobody accepted and assignments nobody acknowledged: remind, then escalate.

    Read in a read-only unit of work (the tree only when some case waited long enough);
    each climb commits on its own, the reminders are queued `chunk` rows a transaction."""
    outcome = Outcome()
    remind = timedelta(hours=rules.accept_remind_hours)
    with collector_held():
        async with db.reading() as reader:
            remind = earliest_remind(await case_rules(reader), remind)
            untaken = [c for c in await cq.untaken_cases(reader) if now - c.since >= remind]
            if not untaken:
                return outcome
    with collector_held():
        async with db.reading() as reader:
            tree, _ = await load_tree(reader)
            push = Pusher(
                reader,
                db=db,
                now=now,
                rules=rules,
                texts=texts,
                people=tree.people,
                outcome=outcome,
            )
            await sweep(reader, push, tree, untaken)
        del tree
        await push.write(chunk=chunk, after_chunk=after_chunk)
    return outcome


async def sweep(
    session: AsyncSession, push: Pusher, tree: Tree, untaken: list[cq.Untaken] | None = None
) -> None:
    """The sweep's climbs and reminders (`untaken`: the cases, when already read)."""
    now, rules, t = push.now, push.rules, push.t
    default_language = push.default_language
    remind = timedelta(hours=rules.accept_remind_hours)
    climb_after = timedelta(hours=rules.accept_escalate_hours)
    if untaken is None:
        untaken = await cq.untaken_cases(session)
    limits = await case_rules(session)
    default = (remind, climb_after)
    for n, c in enumerate(untaken, start=1):
        await give_way(n)
        if c.id in push.outcome.escalated:
            continue  # climbed earlier in this run: no longer waiting where it was
        waited = now - c.since
        remind, climb_after = sweep_thresholds(limits, c.severity, c.status, default)
        climb_hours = int(climb_after.total_seconds() // 3600)
        if waited < remind:
            continue
        hours = int(waited.total_seconds() // 3600)
        reported = c.status == CaseStatus.REPORTED.value
        if waited >= climb_after and (c.grid_id in tree.grids and tree.grids[c.grid_id].parent_id):
            note_key = "chasing.note_unaccepted" if reported else "chasing.note_unacknowledged"
            reason = "chasing.reason_unaccepted" if reported else "chasing.reason_unacknowledged"
            if await climb(
                push,
                tree,
                case_id=c.id,
                note=t(note_key, default_language, hours=climb_hours),
                reason_key=reason,
                hours=climb_hours,
            ):
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
