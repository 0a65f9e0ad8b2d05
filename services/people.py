"""A person's own settings, and what Telegram tells of them as they speak."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import Person


async def set_language(session: AsyncSession, person_id: int, language: str) -> None:
    """The language the bot speaks to the person from now on (saved with the unit of work)."""
    await note_contact(session, person_id, {"language": language})


async def note_contact(session: AsyncSession, person_id: int, changes: Mapping[str, Any]) -> None:
    """Changes to the person's row (saved with the unit of work). The speaker's row is in
    hand from the update's first statement: the get reads nothing (storage/speaker_row.py)."""
    person = await session.get(Person, person_id)
    if person is None:
        return
    for name, value in changes.items():
        setattr(person, name, value)
    session.add(person)
