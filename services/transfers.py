"""Transfers (移交) held for a department that has no bound chat.

A transfer to such a department cannot reach it: the step is taken (the case is the
department's, the ledger entry is marked `held`), the leader is told at once, and /today
lists it. When the department's chat is bound, each held transfer is announced again: the
outbox keys make every push that already went out a no-op, so only the department's card and
its 移交单 go out now, and the leader who transferred it hears that it arrived.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from functools import partial
from html import escape

from sqlmodel.ext.asyncio.session import AsyncSession

from domain.cases import EventKind
from services.case_notify import CaseTexts, announce
from services.case_rules import Config
from services.case_view import tell
from storage import cases as q
from storage import transfers as held_q
from storage.models import Department, Person
from storage.outbox import queued

Texts = Callable[..., str]
"""`t(key, language, **params) -> str` (the translator)."""

HELD_SHOWN = 10


async def deliver_held(
    session: AsyncSession, *, department_id: int, now: datetime, texts: CaseTexts, cfg: Config
) -> int:
    """Deliver the transfers held for a department that now has a chat; how many went out."""
    dept = await session.get(Department, department_id)
    if dept is None or dept.chat_id is None:
        return 0
    delivered = 0
    for case in await held_q.transferred_to(session, department_id):
        assert case.id is not None
        last = await q.latest_events(session, case.id, [EventKind.TRANSFERRED.value])
        event = last.get(EventKind.TRANSFERRED.value)
        if event is None or not event.data.get("held"):
            continue
        if await queued(session, f"xfer:{case.id}:{event.id}"):
            continue  # delivered at an earlier bind
        await announce(session, case=case, event=event, now=now, texts=texts, cfg=cfg)
        delivered += 1
        leader = await session.get(Person, event.actor_id) if event.actor_id else None
        await tell(
            session,
            leader,
            key=f"xfer-delivered:{case.id}:{event.id}",
            text=partial(texts.transfer_delivered, case, dept),
            texts=texts,
            now=now,
        )
    return delivered


async def held_lines(
    session: AsyncSession, *, paths: Sequence[str], t: Texts, lang: str
) -> list[str]:
    """The transfers held under `paths`, as lines for /today (none: no lines)."""
    held = await held_q.held_transfers(session, paths=paths)
    if not held:
        return []
    lines = [t("cases.held_title", lang, n=len(held))]
    lines += [
        t(
            "cases.held_line",
            lang,
            code=escape(case.code),
            department=escape(dept.name),
            dept_code=escape(dept.code),
        )
        for case, dept in held[:HELD_SHOWN]
    ]
    if len(held) > HELD_SHOWN:
        lines.append(t("cases.held_more", lang, n=len(held) - HELD_SHOWN))
    return lines
