"""The patrol ledger on a real SQLite file: measures, companions, the group post, the pages."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import select

from services import patrols as svc
from storage.db import Database
from storage.models import Case, Delivery, Grid, Patrol
from tests.storage.patrol_db import SHANGHAI, identity, ids, import_fire_safety, local

STAFF = 800000021  # community_staff of LH-01
POLICE = 800000022  # police of LH-01
HERE = (23.1291, 113.2644)
T0 = local(3, 10, 8)


async def start(db: Database, at: datetime = T0) -> int:
    person_id, grid_id, role_id = await ids(db, STAFF, "LH-01", "community_staff")
    async with db.session() as s:
        rules = await svc.patrol_rules(s, default_tz=SHANGHAI)
        checked = await svc.check_in(
            s,
            person_id=person_id,
            grid_id=grid_id,
            role_id=role_id,
            kind=svc.FULL,
            lat=HERE[0],
            lon=HERE[1],
            forwarded=False,
            live=False,
            now=at,
            rules=rules,
        )
        assert checked.patrol.id is not None
        return checked.patrol.id


async def test_companions_and_measures_survive_the_checklist_and_the_finish(
    db: Database,
) -> None:
    await import_fire_safety(db)
    pid = await start(db)
    police_id, _g, _r = await ids(db, POLICE, "LH-01", "police")
    me = await identity(db, STAFF)
    async with db.session() as s:
        patrol = await s.get(Patrol, pid)
        assert patrol is not None
        mates = dict(await svc.companion_candidates(s, patrol))
        assert police_id in mates and me.person_id not in mates
        assert await svc.toggle_companion(s, patrol, police_id)
        assert not await svc.toggle_companion(s, patrol, 999_999)  # not in the grid
        assert await svc.add_typed_companions(s, patrol, "物业王经理，林和东民警")
        assert not await svc.add_typed_companions(s, patrol, "、")
        assert await svc.set_measures(s, patrol, "  ") == "patrol.measures_empty"
        assert await svc.set_measures(s, patrol, " 当场整改 ") is None
        await svc.mark_item(s, patrol, index=2, ok=False, note="灭火器过期")
        await svc.mark_rest_ok(s, patrol)
        rules = await svc.patrol_rules(s, default_tz=SHANGHAI)
        await svc.finish_patrol(s, patrol, identity=me, now=T0 + timedelta(minutes=30), rules=rules)
    async with db.reading() as s:
        patrol = await s.get(Patrol, pid)
        assert patrol is not None and patrol.measures == "当场整改"
        # The typed name equal to a picked member's is not added twice.
        assert [c.name for c in svc.companions_of(patrol)] == ["林和东民警", "物业王经理"]
        assert svc.checklist_of(patrol).items[2].note == "灭火器过期"
    async with db.session() as s:
        patrol = await s.get(Patrol, pid)
        assert patrol is not None
        await svc.toggle_companion(s, patrol, police_id)  # a second press removes
        assert [c.name for c in svc.companions_of(patrol)] == ["物业王经理"]


async def test_the_finished_patrol_goes_to_the_bound_group_once(db: Database) -> None:
    await import_fire_safety(db)
    me = await identity(db, STAFF)
    async with db.session() as s:
        grid = (await s.exec(select(Grid).where(Grid.code == "LH-01"))).one()
        grid.group_chat_id = -4_000_000_123
        s.add(grid)
    seen: list[svc.LedgerEntry] = []

    def summary(entry: svc.LedgerEntry) -> str:
        seen.append(entry)
        return f"{entry.person_name}:{','.join(entry.problems)}"

    for n in range(2):
        pid = await start(db, T0 + timedelta(hours=2 * n))
        async with db.session() as s:
            patrol = await s.get(Patrol, pid)
            assert patrol is not None
            await svc.mark_item(s, patrol, index=4, ok=False)
            rules = await svc.patrol_rules(s, default_tz=SHANGHAI)
            await svc.finish_patrol(
                s,
                patrol,
                identity=me,
                now=T0 + timedelta(hours=2 * n, minutes=5),
                rules=rules,
                summary=summary,
            )
    async with db.reading() as s:
        rows = list(await s.exec(select(Delivery).where(Delivery.kind == "patrol_summary")))
    assert [r.chat_id for r in rows] == [-4_000_000_123] * 2
    assert rows[0].text == "林和东专管员:用电" and len({r.key for r in rows}) == 2
    assert seen[0].grid_code == "LH-01"


async def test_no_group_no_post(db: Database) -> None:
    await import_fire_safety(db)
    me = await identity(db, STAFF)
    pid = await start(db)
    async with db.session() as s:
        patrol = await s.get(Patrol, pid)
        assert patrol is not None
        rules = await svc.patrol_rules(s, default_tz=SHANGHAI)
        await svc.finish_patrol(s, patrol, identity=me, now=T0, rules=rules, summary=str)
    async with db.reading() as s:
        assert list(await s.exec(select(Delivery).where(Delivery.kind == "patrol_summary"))) == []


async def test_ledger_pages_the_subtree_by_month_with_findings(db: Database) -> None:
    await import_fire_safety(db)
    pids = [await start(db, T0 + timedelta(hours=3 * n)) for n in range(svc.LEDGER_PAGE_SIZE + 1)]
    await start(db, local(4, 1, 9))  # April: not in March's ledger
    reporter, grid_id, _r = await ids(db, STAFF, "LH-01", "community_staff")
    async with db.session() as s:
        s.add(
            Case(
                code="H260310-001",
                grid_id=grid_id,
                origin_grid_id=grid_id,
                reporter_id=reporter,
                category="用电",
                description="x",
                severity="general",
                status="reported",
                patrol_id=pids[0],
                created_at=T0,
                updated_at=T0,
            )
        )
    march = svc.parse_month("2026-03", T0, SHANGHAI)
    assert march is not None
    async with db.reading() as s:
        street = (await s.exec(select(Grid).where(Grid.code == "LH"))).one()
        first = await svc.ledger_page(s, street, month=march, page=0)
        second = await svc.ledger_page(s, street, month=march, page=1)
        other = (await s.exec(select(Grid).where(Grid.code == "LH-02"))).one()
        none = await svc.ledger_page(s, other, month=march, page=0)
        everything = await svc.ledger_all(s, street, month=march)
    assert first.total == svc.LEDGER_PAGE_SIZE + 1 and first.has_next
    assert [e.patrol.id for e in first.entries] == pids[: svc.LEDGER_PAGE_SIZE]
    assert first.entries[0].case_codes == ("H260310-001",)
    assert first.entries[1].case_codes == ()
    assert [e.patrol.id for e in second.entries] == pids[svc.LEDGER_PAGE_SIZE :]
    assert not second.has_next
    assert none.total == 0 and none.entries == []
    assert len(everything) == svc.LEDGER_PAGE_SIZE + 1
    assert first.entries[0].person_name == "林和东专管员"
