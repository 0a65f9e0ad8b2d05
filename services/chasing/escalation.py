"""A case climbs one level by itself (逐级上报): through the same door as a leader's press
(`services.cases.perform`: the rules, the version, the ledger entry, the cards), then the
new grid's leaders are told why."""

from __future__ import annotations

from typing import Any

from aiogram import html

from domain.cases import SYSTEM, CaseAction
from domain.digest import is_critical
from services import cases as case_service
from services.chasing.job import Pusher, Tree
from storage.models import Case

quote = html.quote


async def escalate_case(push: Pusher, *, case_id: int, note: str) -> bool:
    """Escalate a case one level up as the system (the scheduler); False if the rules refuse
    (at the root, a state escalation does not apply to)."""
    cfg = await case_service.load_config(
        push.session, default_language=push.default_language, calendar=push.rules.calendar
    )
    result = await case_service.perform(
        push.session,
        case_id=case_id,
        actor=SYSTEM,
        action=CaseAction.ESCALATE,
        now=push.now,
        texts=push.texts.cases,
        cfg=cfg,
        params=case_service.StepInput(note=note),
    )
    return isinstance(result, case_service.Done)


async def announce_escalation(
    push: Pusher, tree: Tree, case_id: int, reason_key: str, **params: Any
) -> None:
    """Tell the leaders the case climbed to why (`reason_key` with `params`)."""
    case = await push.session.get(Case, case_id)
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
