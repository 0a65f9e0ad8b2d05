"""The speaker's row, carried by the update's first statement (storage/update_opening.py), put
in the session only when something wants the row itself.

Every update works out who is speaking from the row's values (bot/middlewares.py); few change
the row (a new username, a language chosen). Putting the row in the session as if loaded, on
every update, was a whole ORM attach for nothing. The session holds the values instead; the
first `session.get(Person, id)` for that person (storage.db.UnitSession) puts them in as a
loaded row: no select, and a change to it is written by the flush, as before.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.loaded import attach_loaded, held, keep
from storage.models import Person

_HELD = "gridbot_speaker"


def hold_speaker(session: AsyncSession, values: dict[str, Any] | None) -> None:
    """The speaker's columns as the first statement read them (None: no speaker)."""
    info = session.sync_session.info
    if values is None:
        info.pop(_HELD, None)
    else:
        info[_HELD] = values


def forget_held_speaker(session: Session, _previous: object = None) -> None:
    """After a commit or a rollback (storage.db.UnitSession): the values read at the start of
    the transaction are no longer the row's to vouch for; a later get reads it."""
    session.info.pop(_HELD, None)


def attach_held_speaker(session: Session, person_id: Any) -> None:
    """Before `session.get(Person, person_id)` (storage.db.UnitSession): the held row, as
    loaded, when it is that person's and the session has not got the row already."""
    values = session.info.get(_HELD)
    if values is None or values["id"] != person_id:
        return
    del session.info[_HELD]
    if held(session, Person, person_id) is None:
        attach_person(session, values)


def attach_person(session: AsyncSession | Session, values: dict[str, Any]) -> Person:
    """The person with these columns' values, in the session as if loaded by a query, and
    kept there until the session ends (its identity map holds rows only while something else
    does: a change made to it must not be lost before the flush)."""
    person = attach_loaded(session, Person, values)
    keep(session.sync_session if isinstance(session, AsyncSession) else session, person)
    return person
