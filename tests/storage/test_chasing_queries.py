"""The chasing queries (storage/chasing.py) on SQLite, and the sweep's quiet-hours rule on
real rows: one statement each, whatever the number of cases; times aware UTC."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import event
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.i18n import Translator
from domain.cases import CaseStatus
from domain.schedule_times import QuietHours
from services.chasing import ChasingTexts, Rules, run_sweep
from storage import chasing as cq
from storage.db import Database
from storage.models import Case, CaseEvent, Delivery, Department, Grid, Person
from tests.storage.case_world import NOW, SHANGHAI, PlainTexts, fire

__all__ = ["fire"]  # the fixture, imported for pytest

T0 = NOW.astimezone(UTC)


@contextmanager
def statements(db: Database) -> Iterator[list[str]]:
    seen: list[str] = []

    def record(*args: Any) -> None:
        sql = str(args[2])
        if sql.lstrip().upper().startswith("SELECT"):
            seen.append(sql)

    event.listen(db.engine.sync_engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(db.engine.sync_engine, "before_cursor_execute", record)


async def grid(s: AsyncSession, code: str) -> Grid:
    return (await s.exec(select(Grid).where(Grid.code == code))).one()


async def someone(s: AsyncSession) -> Person:
    found = (await s.exec(select(Person).where(col(Person.tg_id).is_not(None)))).first()
    assert found is not None
    return found


def case(n: int, grid_id: int, reporter: int, status: CaseStatus, **kw: Any) -> Case:
    return Case(
        code=f"T{n:04d}",
        grid_id=grid_id,
        origin_grid_id=grid_id,
        reporter_id=reporter,
        category="消防",
        description=f"隐患{n}",
        severity=kw.pop("severity", "一般"),
        status=status.value,
        created_at=kw.pop("created_at", T0),
        **kw,
    )


async def test_cases_due_before(fire: Database) -> None:
    async with fire.session() as s:
        g = await grid(s, "LH-01-1")
        p = await someone(s)
        assert g.id and p.id
        due = T0 + timedelta(days=1)
        rows = [
            case(1, g.id, p.id, CaseStatus.ASSIGNED, deadline_at=due, assignee_person_id=p.id),
            case(2, g.id, p.id, CaseStatus.IN_PROGRESS, deadline_at=due - timedelta(days=3)),
            case(3, g.id, p.id, CaseStatus.TRANSFERRED, deadline_at=due),
            case(4, g.id, p.id, CaseStatus.FEEDBACK, deadline_at=due),  # the handler is done
            case(5, g.id, p.id, CaseStatus.CLOSED, deadline_at=due),
            case(6, g.id, p.id, CaseStatus.ACCEPTED, deadline_at=due),  # nobody holds it yet
            case(7, g.id, p.id, CaseStatus.IN_PROGRESS),  # no deadline
            case(8, g.id, p.id, CaseStatus.IN_PROGRESS, deadline_at=due + timedelta(days=9)),
        ]
        s.add_all(rows)
    async with fire.reading() as s:
        with statements(fire) as seen:
            got = await cq.cases_due_before(s, T0 + timedelta(days=2))
    assert [c.code for c in got] == ["T0001", "T0002", "T0003"]  # in id order
    assert len(seen) == 1
    first = got[0]
    assert first.deadline_at == T0 + timedelta(days=1) and first.deadline_at.tzinfo is not None
    assert first.assignee_person_id == p.id and first.severity == "一般"
    async with fire.reading() as s:
        assert [c.code for c in await cq.cases_due_before(s, T0)] == ["T0002"]
        assert await cq.cases_due_before(s, T0 - timedelta(days=30)) == []


async def test_untaken_reports_and_assignments(fire: Database) -> None:
    async with fire.session() as s:
        g = await grid(s, "ZJ-01-2")
        p = await someone(s)
        dept = Department(code="PS-T", name="派出所", chat_id=-4_000_000_123)
        s.add(dept)
        await s.flush()
        assert g.id and p.id and dept.id
        r1 = case(1, g.id, p.id, CaseStatus.REPORTED, created_at=T0)
        r2 = case(2, g.id, p.id, CaseStatus.REPORTED, created_at=T0)  # climbed since
        a1 = case(
            3, g.id, p.id, CaseStatus.ASSIGNED, assignee_person_id=p.id,
            assigned_at=T0 + timedelta(hours=3),
        )  # fmt: skip
        a2 = case(4, g.id, p.id, CaseStatus.ASSIGNED, assignee_department_id=dept.id)
        ip = case(5, g.id, p.id, CaseStatus.IN_PROGRESS, assignee_person_id=p.id)
        s.add_all([r1, r2, a1, a2, ip])
        await s.flush()
        assert r2.id
        for hours in (5, 26):  # escalated twice: the last climb counts
            s.add(
                CaseEvent(
                    case_id=r2.id, at=T0 + timedelta(hours=hours), kind="escalated",
                    status_after="reported", grid_id=g.id,
                )
            )  # fmt: skip
    async with fire.reading() as s:
        with statements(fire) as seen:
            got = {u.code: u for u in await cq.untaken_cases(s)}
    assert len(seen) == 1
    assert set(got) == {"T0001", "T0002", "T0003"}  # departments answer in their own chat
    assert got["T0001"].since == T0
    assert got["T0002"].since == T0 + timedelta(hours=26)
    assert got["T0003"].since == T0 + timedelta(hours=3)
    assert got["T0003"].assignee_person_id == p.id
    assert all(u.since.tzinfo is not None for u in got.values())


async def test_people_and_department_chats(fire: Database) -> None:
    async with fire.session() as s:
        s.add(Department(code="D1", name="消防站", chat_id=-1001234567890))
        s.add(Department(code="D2", name="未绑定"))
    async with fire.reading() as s:
        people = (await s.exec(select(Person).limit(3))).all()
        ids = [p.id for p in people if p.id]
        with statements(fire) as seen:
            found = await cq.people_by_ids(s, [*ids, *ids, 99_999])
        assert len(seen) == 1
        assert set(found) == set(ids) and all(found[i].id == i for i in ids)
        assert await cq.people_by_ids(s, []) == {}
        depts = {d.code: d.id for d in (await s.exec(select(Department))).all() if d.id}
        chats = await cq.department_chats(s, [depts["D1"], depts["D2"]])
        assert chats == {depts["D1"]: -1001234567890}  # BIGINT kept; unbound left out
        assert await cq.department_chats(s, []) == {}


async def test_the_sweep_holds_reminders_in_quiet_hours_but_not_for_critical(
    fire: Database,
) -> None:
    """At 23:00 two reports have waited three hours: the leader's reminder about the general
    one waits for 07:00; the one about the 重大 one goes at once."""
    late = datetime(2026, 3, 10, 23, 0, tzinfo=SHANGHAI)
    async with fire.session() as s:
        g = await grid(s, "ZJ-01-2")
        p = await someone(s)
        assert g.id and p.id
        s.add(case(1, g.id, p.id, CaseStatus.REPORTED, created_at=late - timedelta(hours=3)))
        s.add(
            case(
                2, g.id, p.id, CaseStatus.REPORTED, severity="重大",
                created_at=late - timedelta(hours=3),
            )
        )  # fmt: skip
    rules = Rules(tz=SHANGHAI, quiet=QuietHours.parse("22:00-07:00"))
    texts = ChasingTexts(t=Translator("zh").t, default_language="zh", cases=PlainTexts())
    outcome = await run_sweep(fire, now=late, rules=rules, texts=texts)
    again = await run_sweep(fire, now=late, rules=rules, texts=texts)
    assert outcome.queued and not outcome.escalated
    assert again.queued == []  # keyed: a second sweep queues nothing
    async with fire.reading() as s:
        rows = (await s.exec(select(Delivery).where(Delivery.kind == "nag"))).all()
        cases = {c.id: c.code for c in (await s.exec(select(Case))).all()}
    by_case: dict[str, list[Delivery]] = {}
    for d in rows:
        by_case.setdefault(cases[int(d.key.split(":")[2])], []).append(d)
    assert set(by_case) == {"T0001", "T0002"}
    morning = datetime(2026, 3, 11, 7, 0, tzinfo=SHANGHAI)
    for d in by_case["T0001"]:
        assert d.not_before == morning and not d.urgent
    for d in by_case["T0002"]:
        assert d.not_before == late and d.urgent
