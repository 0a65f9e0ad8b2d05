"""Helpers for the patrol storage tests: fire-safety-5-level.yaml imported into a fresh DB."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from sqlmodel import select

from domain.identity import Identity
from domain.scenario import parse_scenario
from storage.db import Database
from storage.importer import apply_import
from storage.models import Grid, Membership, Patrol, Person, Role
from storage.people import identity_of
from tests.conftest import scenario_path

SHANGHAI = ZoneInfo("Asia/Shanghai")


def local(month: int, day: int, hour: int = 10, minute: int = 0, year: int = 2026) -> datetime:
    """A Shanghai wall-clock time as the aware UTC instant it is stored as."""
    return datetime(year, month, day, hour, minute, tzinfo=SHANGHAI).astimezone(UTC)


async def import_fire_safety(db: Database) -> None:
    name = "fire-safety-5-level.yaml"
    scenario = parse_scenario(scenario_path(name).read_text(encoding="utf-8"), source=name)
    async with db.session() as s:
        await apply_import(s, scenario, now=local(2, 1))


async def ids(db: Database, tg_id: int, grid_code: str, role_key: str) -> tuple[int, int, int]:
    """(person_id, grid_id, role_id) of one membership."""
    async with db.reading() as s:
        person = (await s.exec(select(Person).where(Person.tg_id == tg_id))).one()
        grid = (await s.exec(select(Grid).where(Grid.code == grid_code))).one()
        role = (await s.exec(select(Role).where(Role.key == role_key))).one()
        assert person.id and grid.id and role.id
        return person.id, grid.id, role.id


async def add_membership(db: Database, tg_id: int, grid_code: str, role_key: str) -> None:
    person_id, grid_id, role_id = await ids(db, tg_id, grid_code, role_key)
    async with db.session() as s:
        s.add(Membership(person_id=person_id, grid_id=grid_id, role_id=role_id))


async def identity(db: Database, tg_id: int) -> Identity:
    async with db.reading() as s:
        person = (await s.exec(select(Person).where(Person.tg_id == tg_id))).one()
        return await identity_of(s, person, default_language="zh", admin_ids=frozenset())


def patrol_row(
    member: tuple[int, int, int],
    at: datetime,
    *,
    counted: bool = True,
    status: str = "done",
    flags: list[str] | None = None,
) -> Patrol:
    """A Patrol row at an injected time (flagged "too_soon" when not counted, unless told)."""
    person_id, grid_id, role_id = member
    return Patrol(
        person_id=person_id,
        grid_id=grid_id,
        role_id=role_id,
        kind="full",
        status=status,
        started_at=at,
        finished_at=None if status == "open" else at,
        lat=23.13,
        lon=113.26,
        counted=counted,
        flags=flags if flags is not None else ([] if counted else ["too_soon"]),
    )


async def insert(db: Database, rows: list[Patrol]) -> None:
    async with db.session() as s:
        s.add_all(rows)
