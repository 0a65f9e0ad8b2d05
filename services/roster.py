"""Importing a roster file: apply it, then tell the leaders who must pick up what leavers
left. The CLI (`gridbot import FILE`) calls this; the rules are in `domain/roster.py` and
the queries in `storage/importer.py`."""

from __future__ import annotations

import html
from collections.abc import Callable
from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from domain.scenario import Scenario
from storage.importer import ImportResult, Leader, LeftCase, apply_import
from storage.outbox import enqueue

Texts = Callable[..., str]

_DESCRIPTION_CHARS = 60  # a reminder of which case it is; the card has the rest
_LISTED = 30  # cases named in one message: 30 short lines stay well under 4,096 characters


async def import_roster(
    session: AsyncSession,
    scenario: Scenario,
    *,
    now: datetime,
    t: Texts,
    default_language: str,
    actor_tg_id: int | None = None,
) -> ImportResult:
    """Bring the database to `scenario` and queue, in the same unit of work, one message to
    each leader who must reassign open cases that waited on someone who left."""
    result = await apply_import(session, scenario, now=now, actor_tg_id=actor_tg_id)
    await queue_reassignments(
        session, result.left_cases, now=now, t=t, default_language=default_language
    )
    return result


async def queue_reassignments(
    session: AsyncSession,
    left: tuple[LeftCase, ...],
    *,
    now: datetime,
    t: Texts,
    default_language: str,
) -> int:
    """One message per leader told, listing their cases; returns how many were queued."""
    batches: dict[int, tuple[Leader, list[LeftCase]]] = {}
    for case in left:
        for leader in case.told:
            batches.setdefault(leader.person_id, (leader, []))[1].append(case)
    queued = 0
    for leader_id, (leader, cases) in batches.items():
        if leader.tg_id is None:
            continue
        lang = leader.language or default_language
        lines = [
            t(
                "roster.reassign_case",
                lang,
                code=html.escape(c.code),
                status=t(f"cases.status.{c.status}", lang),
                grid=html.escape(c.grid_code),
                description=html.escape(_short(c.description)),
                name=html.escape(c.leaver.name),
            )
            for c in cases[:_LISTED]
        ]
        if len(cases) > _LISTED:
            lines.append(t("roster.reassign_more", lang, count=len(cases) - _LISTED))
        text = t("roster.reassign", lang, count=len(cases), cases="\n".join(lines))
        if await enqueue(
            session,
            key=f"roster_reassign:{leader_id}:{now:%Y%m%dT%H%M%S}",
            kind="roster_reassign",
            chat_id=leader.tg_id,
            person_id=leader_id,
            text=text,
            now=now,
        ):
            queued += 1
    return queued


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _DESCRIPTION_CHARS else text[: _DESCRIPTION_CHARS - 1] + "…"


def left_case_lines(left: tuple[LeftCase, ...]) -> list[str]:
    """The import summary's lines about open cases that waited on someone who left."""
    out = []
    for c in left:
        who = f"{c.leaver.name} ({c.leaver.tg_id})"
        if c.told:
            told = ", ".join(f"{x.name} ({x.tg_id})" for x in c.told)
            then = f"{told} of {c.reassign_grid_code} told to reassign it"
        else:
            then = "no leader above it is left: reassign it by hand"
        out.append(f"open case {c.code} ({c.status}) in {c.grid_code} waited on {who}: {then}")
    return out
