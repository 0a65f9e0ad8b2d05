"""Every photo of every step of a case, on request (the ledger's 照片 button): one album per
step (the report's photos, each feedback's, each comment's), captioned with the step's ledger
line, queued through the outbox so that albums keep Telegram's pace.

Whoever asks has been checked by the visibility rule (`domain.visibility.may_see`) before.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from services.case_view import CaseTexts, build_view, name_of_actor
from storage import cases as q
from storage.models import Case, CaseEvent
from storage.outbox import enqueue_albums


def steps_with_photos(
    case: Case, events: Sequence[CaseEvent]
) -> list[tuple[CaseEvent | None, list[str]]]:
    """(the step, its photos) in ledger order; None for the report itself."""
    steps: list[tuple[CaseEvent | None, list[str]]] = []
    if case.photos:
        steps.append((None, list(case.photos)))
    for e in events:
        photos = [str(p) for p in (e.data or {}).get("photos") or []]
        if photos:
            steps.append((e, photos))
    return steps


async def has_photos(session: AsyncSession, case: Case) -> bool:
    return bool(steps_with_photos(case, await q.events_of(session, case.id or 0)))


async def send_photos(
    session: AsyncSession,
    *,
    case: Case,
    chat_id: int,
    person_id: int | None,
    request: str,
    now: datetime,
    texts: CaseTexts,
    language: str,
) -> int:
    """Queue the case's photos to `chat_id`, an album per step; how many steps had photos.
    `request` tells one request from another (a press's id): asking again sends again."""
    assert case.id is not None
    view = await build_view(session, case)
    steps = steps_with_photos(case, await q.events_of(session, case.id))
    for place, (event, photos) in enumerate(steps):
        actor = await name_of_actor(session, event) if event is not None else None
        await enqueue_albums(
            session,
            key=f"photos:{case.id}:{chat_id}:{request}:{place}",
            kind="case_photos",
            chat_id=chat_id,
            person_id=person_id,
            caption=texts.photos_caption(view, event, actor, language),
            photos=photos,
            now=now,
        )
    return len(steps)
