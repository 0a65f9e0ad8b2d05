"""The speaker's row comes with the update's first statement and enters the session only when
something gets it (storage/speaker_row.py): no statement, the same values, changes written."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlmodel import select

from storage.cases import people_by_id
from storage.db import Database
from storage.models import Person
from storage.sql_tally import Cost, SqlTally
from storage.update_opening import open_update
from tests.storage.patrol_db import import_fire_safety

BOT = 7000000001
GUARD = 810000001
OTHER_GUARD = 810000002


@contextmanager
def counted(db: Database) -> Iterator[Cost]:
    """The statements run on `db` in the block."""
    tally = SqlTally.install(db.engine)
    try:
        with SqlTally.counting() as cost:
            yield cost
    finally:
        tally.remove()


async def _plain(db: Database, tg_id: int) -> Person:
    async with db.reading() as s:
        return (await s.exec(select(Person).where(Person.tg_id == tg_id))).one()


async def test_the_row_is_out_of_the_session_until_a_get_puts_it_in(db: Database) -> None:
    await import_fire_safety(db)
    plain = await _plain(db, GUARD)
    async with db.session() as s:
        opening = await open_update(s, bot_id=BOT, update_id=1, fsm_key=None, tg_id=GUARD)
        assert opening is not None and opening.person is not None
        assert not any(isinstance(o, Person) for o in s.identity_map.values())
        with counted(db) as cost:
            got = await s.get(Person, plain.id)
            again = await s.get(Person, plain.id)
            listed = await people_by_id(s, [plain.id])
    assert cost.statements == 0, cost.sql
    assert got is not None and again is got and listed == {plain.id: got}
    assert got.model_dump() == plain.model_dump()


async def test_a_change_to_the_row_got_is_written(db: Database) -> None:
    await import_fire_safety(db)
    plain = await _plain(db, GUARD)
    async with db.session() as s:
        assert await open_update(s, bot_id=BOT, update_id=2, fsm_key=None, tg_id=GUARD)
        got = await s.get(Person, plain.id)
        assert got is not None
        got.username = "guard_one"
        s.add(got)
        del got  # kept by the session until it ends, not by this test
        assert (await s.get(Person, plain.id)).username == "guard_one"  # type: ignore[union-attr]
    assert (await _plain(db, GUARD)).username == "guard_one"


async def test_another_persons_get_reads_their_row(db: Database) -> None:
    await import_fire_safety(db)
    other = await _plain(db, OTHER_GUARD)
    async with db.session() as s:
        assert await open_update(s, bot_id=BOT, update_id=3, fsm_key=None, tg_id=GUARD)
        with counted(db) as cost:
            got = await s.get(Person, other.id)
    assert cost.statements == 1, cost.sql
    assert got is not None and got.model_dump() == other.model_dump()


async def test_after_a_commit_the_row_is_read_again(db: Database) -> None:
    await import_fire_safety(db)
    plain = await _plain(db, GUARD)
    async with db.session() as s:
        assert await open_update(s, bot_id=BOT, update_id=4, fsm_key=None, tg_id=GUARD)
        await s.commit()
        with counted(db) as cost:
            got = await s.get(Person, plain.id)
    assert cost.statements == 1, cost.sql
    assert got is not None and got.model_dump() == plain.model_dump()
