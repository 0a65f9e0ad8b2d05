"""A ledger step written with its leaders (storage.event_leaders.append_event_with_leaders):
the step as append_event writes it, the leaders as `leaders_with_led_grids` reads them (the
people as a query loads them, one held already handed back as it is), and `Lookups` answers
from them for any part of the grids read."""

from __future__ import annotations

from typing import Any

from sqlalchemy import inspect
from sqlalchemy.orm.util import identity_key
from sqlmodel import select

from domain.cases import EventKind
from services.case_handoffs import Lookups
from storage import cases as q
from storage.db import Database
from storage.event_leaders import append_event_with_leaders
from storage.models import Case, CaseEvent, Grid, Person
from tests.storage.case_world import NOW, PIANQU_LEADER, fire, grid_id
from tests.storage.test_cases import open_case

__all__ = ["fire"]


def _looks(person: Person) -> dict[str, Any]:
    state = inspect(person)
    values = {k: (type(v), v) for k, v in person.__dict__.items() if k != "_sa_instance_state"}
    return {
        "values": values,
        "fields_set": person.__pydantic_fields_set__,
        "persistent": state.persistent,
        "modified": state.modified,
        "expired": set(state.expired_attributes),
        "unloaded": set(state.unloaded),
    }


def _answer(leaders: Any) -> tuple[list[tuple[int, dict[str, Any]]], dict[int, frozenset[int]]]:
    rows, led = leaders
    return [(g, _looks(p)) for g, p in rows], led


async def _grid_sets(db: Database) -> list[list[int]]:
    async with db.reading() as s:
        gid = await grid_id(s, "LH-01-1")
        grid = (await s.exec(select(Grid).where(Grid.id == gid))).one()
        every = [g.id for g in await s.exec(select(Grid)) if g.id is not None]
    return [[gid], list(grid.ancestor_ids()), every, [-1]]


async def test_the_step_and_the_leaders_are_as_read_apart(fire: Database) -> None:
    case = await open_case(fire)
    for grids in await _grid_sets(fire):
        step: dict[str, Any] = {
            "kind": EventKind.COMMENTED.value,
            "at": NOW,
            "actor_id": None,
            "note": "说明",
        }
        async with fire.session() as s:
            held = await s.get(Case, case.id)
            assert held is not None
            event, leaders = await append_event_with_leaders(
                s, grid_ids=grids, case=held, data={"photos": ["p"]}, **step
            )
            assert leaders is not None
            ours = _answer(leaders)
            people = [p for _g, p in leaders[0]]  # held while compared
            stored = (await s.exec(select(CaseEvent).where(CaseEvent.id == event.id))).one()
            assert stored.model_dump() == event.model_dump()
            reference = await q.append_event(s, case=held, data={"photos": ["p"]}, **step)
            assert (reference.id or 0) == (event.id or 0) + 1
            assert {**reference.model_dump(), "id": event.id} == event.model_dump()
            assert event.__pydantic_fields_set__ == reference.__pydantic_fields_set__
            await s.rollback()
        async with fire.session() as s:
            assert ours == _answer(await q.leaders_with_led_grids(s, grids))
        assert len(people) == len(ours[0])


async def test_a_leader_held_already_is_handed_back_and_an_expired_one_is_left_to_the_query(
    fire: Database,
) -> None:
    case = await open_case(fire)
    grids = (await _grid_sets(fire))[0]
    async with fire.session() as s:
        me = (await s.exec(select(Person).where(Person.tg_id == PIANQU_LEADER))).one()
        held = await s.get(Case, case.id)
        assert held is not None
        kind = EventKind.COMMENTED.value
        _event, leaders = await append_event_with_leaders(
            s, grid_ids=grids, case=held, kind=kind, at=NOW, actor_id=None
        )
        assert leaders is not None and me in [p for _g, p in leaders[0]]
        s.expire(me)
        _event, leaders = await append_event_with_leaders(
            s, grid_ids=grids, case=held, kind=kind, at=NOW, actor_id=None
        )
        assert leaders is None
        await s.rollback()


async def test_lookups_answer_for_part_of_the_grids_held_as_the_query_does(
    fire: Database,
) -> None:
    grid, path, every, _none = await _grid_sets(fire)
    async with fire.reading() as s:
        lookups = Lookups()
        lookups.hold(every, *await q.leaders_with_led_grids(s, every))
        for part in (grid, path, path[:2], [], every):
            expected = await q.leaders_of(s, part)
            found = await lookups.leaders_of(s, part)
            assert [(g, p.id) for g, p in found] == [(g, p.id) for g, p in expected]
            ids = [p.id or 0 for _g, p in expected]
            assert await lookups.led_grids_of(s, ids) == await q.led_grids_of(s, ids)


def test_the_identity_keys_are_as_the_held_lookups_spell_them() -> None:
    # storage.cases, storage.case_codes and storage.event_leaders look the unit of work's
    # people and grids up by these keys without asking the mapper.
    assert identity_key(Person, 7) == (Person, (7,), None)
    assert identity_key(Grid, 7) == (Grid, (7,), None)
