"""A case climbs one level by itself (逐级上报): through the same door as a leader's press
(`services.cases.perform`: the rules, the version, the ledger entry, the cards), then the
new grid's leaders are told why. Each climb is its own short write transaction, taken while
the job reads the city in its read-only unit of work: the climb, its cards and the notices
commit together or not at all, and a case that climbed is no longer in a state that
climbs, so a job run again does not take it up a second level."""

from __future__ import annotations

from typing import Any

from aiogram import html
from sqlmodel.ext.asyncio.session import AsyncSession

from domain.cases import SYSTEM, CaseAction
from domain.digest import is_critical
from services import cases as case_service
from services.chasing.job import Pusher, Tree
from services.chasing.rules import hold_until
from storage.models import Case
from storage.outbox import enqueue

quote = html.quote


async def climb(
    push: Pusher, tree: Tree, *, case_id: int, note: str, reason_key: str, **params: Any
) -> bool:
    """Escalate a case one level up as the system (the scheduler) and tell the leaders it
    climbed to why (`reason_key` with `params`); False if the rules refuse (at the root, a
    state escalation does not apply to), and then nothing is written."""
    if case_id in push.outcome.escalated:
        return True  # climbed earlier in this run (the read snapshot predates it)
    async with push.db.taking_turns(background=True) as session:
        cfg = push.case_config = push.case_config or await case_service.load_config(
            session, default_language=push.default_language, calendar=push.rules.calendar
        )
        result = await case_service.perform(
            session,
            case_id=case_id,
            actor=SYSTEM,
            action=CaseAction.ESCALATE,
            now=push.now,
            texts=push.texts.cases,
            cfg=cfg,
            params=case_service.StepInput(note=note),
        )
        if not isinstance(result, case_service.Done):
            return False
        queued = await _announce(session, push, tree, case_id, reason_key, **params)
    push.outcome.escalated.append(case_id)
    push.outcome.queued.extend(queued)
    return True


async def _announce(
    session: AsyncSession, push: Pusher, tree: Tree, case_id: int, reason_key: str, **params: Any
) -> list[str]:
    """Queue, in the climb's transaction, the notice to the leaders the case climbed to."""
    case = await session.get(Case, case_id)
    if case is None:
        return []
    grid = tree.grids.get(case.grid_id)
    urgent = is_critical(case.severity)
    queued = []
    for leader in tree.nearest_leaders(case.grid_id):
        person = push.people.get(leader)
        if person is None or person.tg_id is None:
            continue
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
        if await enqueue(
            session,
            key=key,
            kind="notice",
            chat_id=person.tg_id,
            person_id=leader,
            text=text,
            now=push.now,
            urgent=urgent,
            not_before=hold_until(push.now, push.rules, urgent=urgent),
        ):
            queued.append(key)
    return queued
