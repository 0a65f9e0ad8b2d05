"""A case's view and a step's actor, given the update's speaker (services.case_view): the
names are those read from the people's rows without it, whether the speaker is among the
case's people or not, and the speaker's row is not read for their name."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import event
from sqlmodel import select

from services.case_view import build_view, name_of_actor
from storage.db import Database
from storage.models import Case, CaseEvent
from tests.storage.case_world import GUARD, PIANQU_LEADER, fire, who
from tests.storage.test_cases import open_case

__all__ = ["fire"]


@pytest.mark.parametrize("speaking", [GUARD, PIANQU_LEADER])
async def test_the_speaker_given_changes_no_name(fire: Database, speaking: int) -> None:
    opened = await open_case(fire)
    people_read: list[str] = []

    def count(*args: Any) -> None:
        if args[2].startswith("SELECT person."):
            people_read.append(args[2])

    async with fire.session() as s:
        speaker = await who(s, speaking)
        s.expunge_all()  # who() loaded the speaker's row: here it is read again, or not at all
        case = await s.get(Case, opened.id)
        assert case is not None
        step = (await s.exec(select(CaseEvent).where(CaseEvent.case_id == case.id))).one()
        event.listen(fire.engine.sync_engine, "before_cursor_execute", count)
        try:
            given = await build_view(s, case, speaker=speaker)
            given_actor = await name_of_actor(s, step, speaker)
        finally:
            event.remove(fire.engine.sync_engine, "before_cursor_execute", count)
        plain = await build_view(s, case)
        plain_actor = await name_of_actor(s, step)
    assert given == plain and given_actor == plain_actor
    assert plain.reporter_name and plain_actor == plain.reporter_name
    # The reporter (the case's only person yet) is read only when someone else is speaking.
    assert bool(people_read) == (speaking != GUARD)
