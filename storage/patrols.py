"""Patrol queries: counted patrols per person × grid × role, the last counted patrol, and
the subtree roll-up for leaders. Grouped SQL, never a query per person or per grid.

A patrol is *counted* when it was closed with no flag; *flagged* when it was closed (done or
refused) with at least one flag, so it does not count. Open patrols are neither yet. Its time
for quota purposes is ``started_at`` (the moment of the check-in).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Integer,
    Table,
    and_,
    bindparam,
    case,
    cast,
    func,
    literal,
    or_,
    true,
    union_all,
)
from sqlalchemy import select as sa_select
from sqlalchemy.sql.elements import BindParameter
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.direct_sql import all_values
from storage.models import Deployment, Grid, Membership, Patrol, Person, Role

# The patrol ledger's queries (巡查台账) live in storage/patrol_ledger.py.
from storage.patrol_ledger import case_codes_by_patrol as case_codes_by_patrol
from storage.patrol_ledger import grid_mates as grid_mates
from storage.patrol_ledger import patrols_under as patrols_under
from storage.unit_connection import unit_connection

OPEN = "open"
DONE = "done"
REFUSED = "refused"

MembershipKey = tuple[int, int, int]
"""(person_id, grid_id, role_id)."""

PATROL: Table = Patrol.__table__  # type: ignore[attr-defined]
GRID: Table = Grid.__table__  # type: ignore[attr-defined]


def _companion_ids(dialect: str) -> tuple[Any, Any]:
    """The companions a patrol records (`services.patrols.COMPANIONS_KEY` in its checklist
    JSON) as a table joined beside it, and the person id of each (None for a typed name)."""
    if dialect == "postgresql":
        rows = func.json_array_elements(col(Patrol.checklist)["companions"])
        j = rows.table_valued("value").lateral("companion")
        return j, cast(j.c.value.op("->>")("person_id"), Integer)
    j = func.json_each(col(Patrol.checklist), "$.companions").table_valued("value")
    j = j.alias("companion")
    return j, func.json_extract(j.c.value, "$.person_id")


def _in_subtrees(query: Any, paths: Sequence[str] | BindParameter[str] | None) -> Any:
    if paths is None or (not isinstance(paths, BindParameter) and not paths):
        return query
    joined = query.join(Grid, col(Grid.id) == col(Patrol.grid_id))
    if isinstance(paths, BindParameter):
        return joined.where(or_(col(Grid.path).like(paths)))
    return joined.where(or_(*(col(Grid.path).like(p + "%") for p in paths)))


def credits(
    *,
    start: datetime | BindParameter[datetime],
    end: datetime | BindParameter[datetime],
    dialect: str,
    paths: Sequence[str] | BindParameter[str] | None = None,
    person_ids: Iterable[int] | BindParameter[list[int]] | None = None,
    person_id: BindParameter[int] | None = None,
    end_inclusive: bool = False,
) -> Any:
    """Patrols as credits, (person_id, grid_id, role_id, started_at, joint): THE rule by which
    a patrol counts for someone, shared by the digest, the chasing, /my, /patrols and /stats.

    A counted patrol checked in within ``[start, end)`` (``end`` included if asked) credits
    its walker; when the deployment counts companions (`Deployment.patrol_companions_count`,
    read inside the statement, so SQL skips this half when it is off), it also credits each
    companion on the roster of the patrol's grid, in every role they hold there (joint = 1).
    Narrowed to some subtrees (grid path prefixes) and to the credited people if asked.
    Bound parameters may stand for the bounds, the people (expanding) or one person (an
    equality: an expanding list is spelt out anew at each run) and one subtree (its LIKE
    pattern), for a statement built once and run with values (`counted_per_membership`).
    """
    started = col(Patrol.started_at)
    until = started <= end if end_inclusive else started < end
    window = (col(Patrol.counted).is_(True), started >= start, until)
    walkers: Any = sa_select(
        col(Patrol.person_id),
        col(Patrol.grid_id),
        col(Patrol.role_id),
        started.label("started_at"),
        literal(0).label("joint"),
    ).where(*window)
    counts = (
        sa_select(col(Deployment.patrol_companions_count))
        .where(col(Deployment.id) == 1)
        .scalar_subquery()
    )
    companion, companion_id = _companion_ids(dialect)
    companions: Any = (
        sa_select(
            col(Membership.person_id),
            col(Patrol.grid_id),
            col(Membership.role_id),
            started,
            literal(1),
        )
        .select_from(Patrol)
        .join(companion, true())
        .join(
            Membership,
            and_(
                col(Membership.person_id) == companion_id,
                col(Membership.grid_id) == col(Patrol.grid_id),
                col(Membership.person_id) != col(Patrol.person_id),
            ),
        )
        .where(counts == true(), *window)
    )
    if person_ids is not None:
        ids = person_ids if isinstance(person_ids, BindParameter) else list(person_ids)
        walkers = walkers.where(col(Patrol.person_id).in_(ids))
        companions = companions.where(col(Membership.person_id).in_(ids))
    if person_id is not None:
        walkers = walkers.where(col(Patrol.person_id) == person_id)
        companions = companions.where(col(Membership.person_id) == person_id)
    walkers, companions = _in_subtrees(walkers, paths), _in_subtrees(companions, paths)
    return union_all(walkers, companions).subquery("credit")


_COUNTED: dict[tuple[str, bool, bool, bool], Any] = {}


def _counted_statement(dialect: str, *, by_people: bool, by_path: bool, one: bool = False) -> Any:
    """`counted_per_membership`'s grouped count, built once per dialect and narrowing with
    bound values: building the credits union and its column proxies cost more than running
    it (/my and every check-in ask)."""
    key = (dialect, by_people, by_path, one)
    query = _COUNTED.get(key)
    if query is None:
        credit = _bound_credits(dialect, by_people=by_people, by_path=by_path, one=one)
        cols = (credit.c.person_id, credit.c.grid_id, credit.c.role_id)
        query = _COUNTED[key] = sa_select(*cols, func.count()).group_by(*cols)
    return query


def _bound_credits(
    dialect: str, *, by_people: bool, by_path: bool = False, one: bool = False
) -> Any:
    """`credits` of ``[:start, :end)``, narrowed by ``:person_ids`` (``:person_id`` when
    ``one``) and ``:path_like`` when asked: bound values, so the statement is built once."""
    started = PATROL.c.started_at.type
    return credits(
        start=bindparam("start", type_=started),
        end=bindparam("end", type_=started),
        dialect=dialect,
        paths=bindparam("path_like") if by_path else None,
        person_ids=bindparam("person_ids", expanding=True) if by_people and not one else None,
        person_id=bindparam("person_id") if by_people and one else None,
    )


async def counted_per_membership(
    session: AsyncSession,
    *,
    start: datetime,
    end: datetime,
    person_ids: Iterable[int] | None = None,
    path_prefix: str | None = None,
) -> dict[MembershipKey, int]:
    """Patrols credited (`credits`) in ``[start, end)`` grouped by person × grid × role.

    Narrow by people, or by a subtree (a grid path prefix such as ``"/1/4/"``).
    """
    # Run on the unit of work's connection, asked anyway for its dialect.
    connection = await unit_connection(session)
    dialect = connection.dialect.name
    values: dict[str, Any] = {"start": start, "end": end}
    ids = None if person_ids is None else list(person_ids)
    one = ids is not None and len(ids) == 1
    if ids is not None:
        values.update({"person_id": ids[0]} if one else {"person_ids": ids})
    if path_prefix is not None:
        values["path_like"] = path_prefix + "%"
    query = _counted_statement(
        dialect, by_people=ids is not None, by_path=path_prefix is not None, one=one
    )
    rows = await all_values(connection, query, values)
    return {(p, g, r): int(n) for p, g, r, n in rows}


_IN_WINDOWS: dict[tuple[str, int], Any] = {}


def _in_windows_statement(dialect: str, windows: int) -> Any:
    """One person's credits grouped as `counted_per_membership`'s, counted in each of several
    windows at once: the credits of the span they cover, summed per window."""
    key = (dialect, windows)
    query = _IN_WINDOWS.get(key)
    if query is None:
        started = PATROL.c.started_at.type
        credit = _bound_credits(dialect, by_people=True, one=True)
        at = credit.c.started_at
        sums = [
            func.sum(
                case(
                    (
                        and_(
                            at >= bindparam(f"start_{i}", type_=started),
                            at < bindparam(f"end_{i}", type_=started),
                        ),
                        1,
                    ),
                    else_=0,
                )
            )
            for i in range(windows)
        ]
        cols = (credit.c.person_id, credit.c.grid_id, credit.c.role_id)
        query = _IN_WINDOWS[key] = sa_select(*cols, *sums).group_by(*cols)
    return query


async def counted_in_windows(
    session: AsyncSession, *, person_id: int, windows: Sequence[tuple[datetime, datetime]]
) -> list[dict[MembershipKey, int]]:
    """`counted_per_membership` of one person for each window ``[start, end)`` given, in one
    statement (a person holding daily, weekly and monthly quotas asked three)."""
    if len(windows) == 1:
        start, end = windows[0]
        return [await counted_per_membership(session, start=start, end=end, person_ids=[person_id])]
    if not windows:
        return []
    connection = await unit_connection(session)  # as in counted_per_membership
    dialect = connection.dialect.name
    values: dict[str, Any] = {
        "start": min(w[0] for w in windows),
        "end": max(w[1] for w in windows),
        "person_id": person_id,
    }
    for i, (start, end) in enumerate(windows):
        values[f"start_{i}"], values[f"end_{i}"] = start, end
    rows = await connection.execute(_in_windows_statement(dialect, len(windows)), values)
    found: list[dict[MembershipKey, int]] = [{} for _ in windows]
    for p, g, r, *counts in rows:
        for i, n in enumerate(counts):
            if n:
                found[i][(p, g, r)] = int(n)
    return found


async def last_counted(
    session: AsyncSession, *, person_id: int, grid_id: int, exclude_id: int | None = None
) -> Patrol | None:
    """The latest counted patrol of this person in this grid (by check-in time)."""
    query = select(Patrol).where(
        Patrol.person_id == person_id,
        Patrol.grid_id == grid_id,
        col(Patrol.counted).is_(True),
    )
    if exclude_id is not None:
        query = query.where(Patrol.id != exclude_id)
    query = query.order_by(col(Patrol.started_at).desc(), col(Patrol.id).desc()).limit(1)
    return (await session.exec(query)).first()


async def open_patrol_of(session: AsyncSession, *, person_id: int) -> Patrol | None:
    """The person's newest open patrol, if any."""
    query = (
        select(Patrol)
        .where(Patrol.person_id == person_id, Patrol.status == OPEN)
        .order_by(col(Patrol.started_at).desc(), col(Patrol.id).desc())
        .limit(1)
    )
    return (await session.exec(query)).first()


@dataclass(frozen=True)
class MembershipRow:
    """One person's role in one grid of a subtree, with the role's quota."""

    person_id: int
    person_name: str
    grid_id: int
    grid_code: str
    grid_name: str
    grid_path: str
    role_id: int
    role_label: str
    quota_period: str | None
    quota_count: int | None


async def memberships_under(
    session: AsyncSession, *, path_prefix: str, with_quota_only: bool = True
) -> list[MembershipRow]:
    """Every membership in the subtree (one query), ordered by grid path then person."""
    query = (
        select(Membership, Grid, Role, Person)
        .join(Grid, col(Grid.id) == Membership.grid_id)
        .join(Role, col(Role.id) == Membership.role_id)
        .join(Person, col(Person.id) == Membership.person_id)
        .where(col(Grid.path).startswith(path_prefix), col(Grid.archived_at).is_(None))
        .order_by(col(Grid.path), col(Person.name), col(Role.key))
    )
    if with_quota_only:
        query = query.where(col(Role.quota_count).is_not(None), col(Role.quota_period).is_not(None))
    rows = await session.exec(query)
    return [
        MembershipRow(
            person_id=p.id or 0,
            person_name=p.name,
            grid_id=g.id or 0,
            grid_code=g.code,
            grid_name=g.name,
            grid_path=g.path,
            role_id=r.id or 0,
            role_label=r.label,
            quota_period=r.quota_period,
            quota_count=r.quota_count,
        )
        for _m, g, r, p in rows
    ]


@dataclass(frozen=True)
class PatrolTally:
    counted: int
    flagged: int


async def tallies_under(
    session: AsyncSession, *, path_prefix: str, start: datetime, end: datetime
) -> dict[MembershipKey, PatrolTally]:
    """Patrols credited (`credits`) and flagged patrols walked in ``[start, end)`` per
    person × grid × role of a subtree: one statement."""
    dialect = (await session.connection()).dialect.name
    credit = credits(start=start, end=end, dialect=dialect, paths=[path_prefix])
    counted = sa_select(
        credit.c.person_id, credit.c.grid_id, credit.c.role_id, literal(1), literal(0)
    )
    started = col(Patrol.started_at)
    flagged = _in_subtrees(
        sa_select(
            col(Patrol.person_id), col(Patrol.grid_id), col(Patrol.role_id), literal(0), literal(1)
        ).where(
            col(Patrol.status).in_([DONE, REFUSED]),
            col(Patrol.counted).is_(False),
            started >= start,
            started < end,
        ),
        [path_prefix],
    )
    both = union_all(counted, flagged).subquery("tally")
    key = (both.c.person_id, both.c.grid_id, both.c.role_id)
    c, f = both.c[3], both.c[4]
    query = sa_select(*key, func.sum(c), func.sum(f)).group_by(*key)
    rows = await session.execute(query)
    return {(p, g, r): PatrolTally(int(c or 0), int(f or 0)) for p, g, r, c, f in rows}


async def flagged_under(
    session: AsyncSession, *, path_prefix: str, start: datetime, end: datetime
) -> Sequence[tuple[Patrol, Grid, Person]]:
    """Flagged check-ins in a subtree in ``[start, end)`` (for the leader's digest)."""
    query = (
        select(Patrol, Grid, Person)
        .join(Grid, col(Grid.id) == Patrol.grid_id)
        .join(Person, col(Person.id) == Patrol.person_id)
        .where(
            col(Grid.path).startswith(path_prefix),
            col(Patrol.status).in_([DONE, REFUSED]),
            col(Patrol.counted).is_(False),
            col(Patrol.started_at) >= start,
            col(Patrol.started_at) < end,
        )
        .order_by(col(Patrol.started_at))
    )
    return list((await session.exec(query)).all())
