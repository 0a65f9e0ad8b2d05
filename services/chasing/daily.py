"""The nag-time job, in the order its pushes go out."""

from __future__ import annotations

from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from services.chasing.case_nags import case_nags
from services.chasing.job import ChasingTexts, Outcome, Pusher, load_tree
from services.chasing.patrol_nags import patrol_nags
from services.chasing.roll_call import roll_calls
from services.chasing.rules import Rules
from services.chasing.sweep import run_sweep


async def run_daily(
    session: AsyncSession, *, now: datetime, rules: Rules, texts: ChasingTexts
) -> Outcome:
    """Patrol nags and shortfalls, case reminders, 催办 and escalations, the untaken sweep,
    and the roll calls."""
    outcome = Outcome()
    tree, holdings = await load_tree(session)
    push = Pusher(session, now=now, rules=rules, texts=texts, people=tree.people, outcome=outcome)
    laggards = await patrol_nags(session, push, tree, holdings)
    overdue = await case_nags(session, push, tree)
    await run_sweep(session, now=now, rules=rules, texts=texts, tree=tree, outcome=outcome)
    await roll_calls(session, push, tree, laggards, overdue)
    return outcome
