"""A person's own settings."""

from __future__ import annotations

from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import Person


async def set_language(session: AsyncSession, person: Person, language: str) -> None:
    """The language the bot speaks to `person` from now on (saved with the unit of work)."""
    person.language = language
    session.add(person)
