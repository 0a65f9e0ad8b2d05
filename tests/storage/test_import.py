"""Importing scenario files into a real database (SQLite, and PostgreSQL on its pass)."""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection, func, inspect, text
from sqlmodel import col, select

from bot.app import create_app
from bot.commands_cli import import_file
from bot.context import AppContext
from bot.i18n import Translator
from bot.render.digest import DigestButtonData
from bot.settings import load_settings
from domain.cases import CaseAction
from domain.clock import ManualClock
from domain.scenario import MembershipSpec, PersonSpec, ScenarioChanges, parse_scenario
from services import cases, reporting
from services.digest import compute_and_render
from services.reporting import Draft
from services.roster import import_roster
from storage.db import Database
from storage.importer import apply_import
from storage.models import (
    AuditEntry,
    Case,
    CaseEvent,
    Delivery,
    Deployment,
    Grid,
    Membership,
    Person,
    Role,
)
from tests.conftest import scenario_path
from tests.storage.case_world import GUARD, SHANGHAI, PlainTexts, fire, grid_id, who
from tests.storage.case_world import NOW as CASE_NOW

__all__ = ["fire"]

NOW = datetime(2026, 11, 2, 1, 0, tzinfo=UTC)


async def load(db: Database, text: str, source: str = "test.yaml") -> list[str]:
    scenario = parse_scenario(text, source=source)
    async with db.session() as session:
        result = await apply_import(session, scenario, now=NOW)
    return result.changes.summary_lines()


async def count(db: Database, model: type) -> int:
    async with db.reading() as session:
        return int((await session.exec(select(func.count()).select_from(model))).one())


@pytest.mark.parametrize(
    ("name", "grids", "people"),
    [("fire-safety-5-level.yaml", 29, 49), ("zijingshan-party-grid.yaml", 58, 462)],
)
async def test_shared_scenarios_give_the_stated_totals(
    db: Database, name: str, grids: int, people: int
) -> None:
    await load(db, scenario_path(name).read_text(encoding="utf-8"), name)
    assert await count(db, Grid) == grids
    assert await count(db, Person) == people
    assert await count(db, Membership) == people  # every person holds one role in these files


async def test_tree_paths_and_levels(db: Database) -> None:
    await load(db, scenario_path("fire-safety-5-level.yaml").read_text(encoding="utf-8"))
    async with db.reading() as session:
        grids = {g.code: g for g in (await session.exec(select(Grid))).all()}
    leaf = grids["LH-01-2-3"]
    assert leaf.name == "林和东第2片区3号楼院"
    assert leaf.level == 5 and leaf.level_label == "楼院"
    chain = [grids[c].id for c in ("Q", "LH", "LH-01", "LH-01-2", "LH-01-2-3")]
    assert leaf.ancestor_ids() == chain
    under_lh = [g for g in grids.values() if g.path.startswith(grids["LH"].path)]
    assert len(under_lh) == 1 + 2 + 4 + 10


async def test_reimport_changes_nothing(db: Database) -> None:
    text = scenario_path("fire-safety-5-level.yaml").read_text(encoding="utf-8")
    await load(db, text)
    audits_before = await count(db, AuditEntry)
    lines = await load(db, text)
    assert lines == ["no changes"]
    assert await count(db, AuditEntry) == audits_before


async def test_edited_file_applies_the_difference(db: Database) -> None:
    text = scenario_path("fire-safety-5-level.yaml").read_text(encoding="utf-8")
    await load(db, text)
    edited = (
        text.replace("name: 珠玑街道\n", "name: 珠玑街道办事处\n")
        .replace('digest: "18:00"', 'digest: "19:30"')
        .replace(
            "          - {name: 林和安监员, tg_id: 800000011, role: street_officer}",
            "          - {name: 林和安监员, tg_id: 800000011, role: street_officer}\n"
            "          - {name: 新安监员, tg_id: 800000099, role: street_officer}",
        )
    )
    # the second street loses its only community's third block
    edited = edited.replace(
        'count: 3\n              code: "ZJ-01-{n}"', 'count: 2\n              code: "ZJ-01-{n}"'
    )
    lines = await load(db, edited)
    text_out = "\n".join(lines)
    assert "ZJ" in text_out and "珠玑街道办事处" in text_out
    assert "19:30" in text_out
    assert "新安监员" in text_out
    async with db.reading() as session:
        zj = (await session.exec(select(Grid).where(Grid.code == "ZJ"))).one()
        assert zj.name == "珠玑街道办事处"
        gone = (await session.exec(select(Grid).where(Grid.code == "ZJ-01-3"))).one()
        assert gone.archived_at is not None
        gone_child = (await session.exec(select(Grid).where(Grid.code == "ZJ-01-3-1"))).one()
        assert gone_child.archived_at is not None
        deployment = await session.get(Deployment, 1)
        assert deployment is not None and deployment.digest_time == "19:30"
        new = (await session.exec(select(Person).where(Person.tg_id == 800000099))).one()
        assert new.name == "新安监员"
    # and loading the edited file again is a no-op
    assert await load(db, edited) == ["no changes"]


async def dump(db_url: str) -> dict[str, list[str]]:
    """Every row of every table, and the schema itself (each table's columns, keys and
    indexes), read through a connection of its own, in an order that does not depend on the
    database's."""

    def schema(conn: Connection) -> tuple[list[str], list[str]]:
        seen = inspect(conn)
        tables = sorted(seen.get_table_names())
        # JSON with str() for what is not JSON: a type, a partial index's WHERE as its SQL.
        shape = [
            json.dumps(
                [
                    t,
                    seen.get_columns(t),
                    seen.get_pk_constraint(t),
                    seen.get_foreign_keys(t),
                    seen.get_unique_constraints(t),
                    seen.get_indexes(t),
                ],
                default=str,
                sort_keys=True,
            )
            for t in tables
        ]
        return tables, shape

    db = Database(db_url)
    try:
        async with db.engine.connect() as conn:
            tables, shape = await conn.run_sync(schema)
            out = {"schema": shape}
            for table in tables:
                rows = (await conn.execute(text(f'SELECT * FROM "{table}"'))).all()
                out[table] = sorted(repr(tuple(row)) for row in rows)
    finally:
        await db.dispose()
    return out


async def test_bad_file_is_refused_whole(db_url: str, tmp_path: Path) -> None:
    from bot.commands_cli import CliError, cmd_import
    from bot.settings import load_settings

    text = scenario_path("fire-safety-5-level.yaml").read_text(encoding="utf-8")
    settings = load_settings(database_url=db_url)
    good = tmp_path / "fire.yaml"
    good.write_text(text, encoding="utf-8")
    empty = await dump(db_url)
    assert await cmd_import(settings, argparse.Namespace(file=good, dry_run=False)) == 0
    before = await dump(db_url)
    assert before != empty  # the dump sees what an import writes

    broken = text
    for old, new in [
        ('digest: "18:00"', 'digest: "25:00"'),
        ("{code: AJK, name: 街道安监科}", "{code: XFDD, name: 街道安监科}"),
        ("role: police}", "role: policeman}"),
    ]:
        assert old in broken
        broken = broken.replace(old, new, 1)
    bad = tmp_path / "broken.yaml"
    bad.write_text(broken, encoding="utf-8")
    with pytest.raises(CliError) as caught:
        await cmd_import(settings, argparse.Namespace(file=bad, dry_run=False))
    lines = str(caught.value).splitlines()
    assert lines[0] == "refused, nothing changed: 3 errors"
    at = [
        line_of(broken, m)
        for m in ('digest: "25:00"', "{code: XFDD, name: 街道安监科}", "policeman")
    ]
    assert len(lines) == 4
    assert lines[1].startswith(f"  {bad}:{at[0]}: schedule digest must be a time")
    assert lines[2] == f"  {bad}:{at[1]}: duplicate department code 'XFDD'"
    assert lines[3].startswith(f"  {bad}:{at[2]}: unknown role 'policeman'")
    assert await dump(db_url) == before


def line_of(text: str, marker: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if marker in line)


async def test_cli_import_prints_a_summary(
    db_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from bot.commands_cli import cmd_import
    from bot.settings import load_settings

    settings = load_settings(database_url=db_url)
    args = argparse.Namespace(file=scenario_path("fire-safety-5-level.yaml"), dry_run=False)
    assert await cmd_import(settings, args) == 0
    out = capsys.readouterr().out.strip().splitlines()
    assert out[-1] == (
        "imported fire-safety-5-level.yaml: 29 grids, 49 people, 49 memberships, 4 departments"
    )


# --------------------------------------------------------------------------- leavers


LEADER_LINE = "              - {name: 林和东书记, tg_id: 800000020, role: leader}\n"
STAFF, STREET_LEADER = 800000021, 800000010


async def report(db: Database, tg_id: int, grid_code: str, description: str) -> Case:
    async with db.session() as s:
        me = await who(s, tg_id)
        draft = Draft(
            grid_id=await grid_id(s, grid_code),
            category="火灾隐患",
            description=description,
            photos=["p1"],
            lat=23.1291,
            lon=113.2644,
            severity="general",
        )
        cfg = await cases.load_config(s)
        case = await reporting.submit(
            s, reporter=me, draft=draft, now=CASE_NOW, texts=PlainTexts(), cfg=cfg
        )
        assert isinstance(case, Case)
        return case


async def act(db: Database, case: Case, tg_id: int, action: CaseAction, **params: Any) -> None:
    async with db.session() as s:
        me = await who(s, tg_id)
        done = await cases.perform(
            s,
            case_id=case.id or 0,
            actor=cases.actor_of(me),
            action=action,
            now=CASE_NOW,
            texts=PlainTexts(),
            cfg=await cases.load_config(s),
            params=cases.StepInput(**params),
        )
        assert isinstance(done, cases.Done), done


async def digest_recipients(app: AppContext, at: datetime) -> set[int]:
    """The people the digest job would send today's digest to."""
    async with app.db.reading() as s:
        _, rendered = await compute_and_render(
            s,
            now=at,
            tz=SHANGHAI,
            t=app.translator.t,
            buttons=DigestButtonData(),
            default_language="zh",
        )
    return {person_id for person_id, _ in rendered}


async def ledger(db: Database) -> tuple[list[Any], list[Any]]:
    async with db.reading() as s:
        events = (await s.exec(select(CaseEvent).order_by(col(CaseEvent.id)))).all()
        rows = (await s.exec(select(Case).order_by(col(Case.id)))).all()
        return [e.model_dump() for e in events], [c.model_dump() for c in rows]


async def test_a_leader_removed_from_the_file_leaves_the_roster(
    fire: Database, db_url: str, tmp_path: Path
) -> None:
    waiting = await report(fire, STAFF, "LH-01", "楼道堆放杂物")  # waits on LH-01's leader
    accepted = await report(fire, STAFF, "LH-01", "消防栓被遮挡")
    await act(fire, accepted, 800000020, CaseAction.ACCEPT)  # waits on LH-01's leader to assign
    elsewhere = await report(fire, GUARD, "LH-01-1", "电动车楼道充电")  # LH-01-1's own leader
    later = CASE_NOW + timedelta(days=1)
    app = create_app(load_settings(database_url=db_url), clock=ManualClock(later))
    async with fire.reading() as s:
        leader = (await s.exec(select(Person).where(Person.tg_id == 800000020))).one()
        street = (await s.exec(select(Person).where(Person.tg_id == STREET_LEADER))).one()
    assert leader.id in await digest_recipients(app, later)
    ledger_before = await ledger(fire)

    text = scenario_path("fire-safety-5-level.yaml").read_text(encoding="utf-8")
    assert LEADER_LINE in text
    edited = tmp_path / "fire-edited.yaml"
    edited.write_text(text.replace(LEADER_LINE, ""), encoding="utf-8")
    try:
        lines = await import_file(app, edited)
    finally:
        await app.db.dispose()

    # Listed, with the cases it leaves behind; the totals are the database's.
    assert "person 800000020 removed (leaves the roster, history kept): 林和东书记" in lines
    assert "membership removed: 林和东书记 (800000020) as leader in LH-01" in lines
    told = "林和街道主任 (800000010) of LH told to reassign it"
    assert [line for line in lines if line.startswith("open case ")] == [
        f"open case {waiting.code} (reported) in LH-01 waited on 林和东书记 (800000020): {told}",
        f"open case {accepted.code} (accepted) in LH-01 waited on 林和东书记 (800000020): {told}",
    ]
    assert (
        lines[-1] == "imported fire-edited.yaml: 29 grids, 48 people, 48 memberships, 4 departments"
    )

    async with fire.reading() as s:
        # The membership has ended: no query that reads memberships sees it.
        held = (await s.exec(select(Membership).where(Membership.person_id == leader.id))).all()
        assert held == []
        me = await who(s, 800000020)
        assert me.holdings == () and me.led_grid_ids == frozenset()
        # The person stays (the ledger names them), no longer listed by the file.
        still = await s.get(Person, leader.id)
        assert still is not None and still.name == "林和东书记" and not still.listed
        # History: who, where, which role, when.
        (ended,) = (
            await s.exec(select(AuditEntry).where(AuditEntry.action == "membership_end"))
        ).all()
        assert ended.at == later
        assert ended.detail["person_id"] == leader.id and ended.detail["tg_id"] == 800000020
        assert (ended.detail["grid"], ended.detail["role"]) == ("LH-01", "leader")
        assert ended.detail["ended_at"] == later.astimezone(UTC).isoformat()
        # The street's leader is told to reassign the two cases, once.
        (notice,) = (await s.exec(select(Delivery).where(Delivery.kind == "roster_reassign"))).all()
        assert notice.chat_id == STREET_LEADER and notice.person_id == street.id
        assert "林和东书记" in notice.text
        assert waiting.code in notice.text and accepted.code in notice.text
        assert elsewhere.code not in notice.text
    assert await ledger(fire) == ledger_before  # the ledger is untouched

    app = create_app(load_settings(database_url=db_url), clock=ManualClock(later))
    try:
        recipients = await digest_recipients(app, later)
        assert leader.id not in recipients and street.id in recipients
        # Loading the edited file again changes nothing and tells no one twice.
        again = await import_file(app, edited)
        assert again[0] == "no changes" and not [x for x in again if x.startswith("open case")]
    finally:
        await app.db.dispose()
    async with fire.reading() as s:
        assert (
            len((await s.exec(select(Delivery).where(Delivery.kind == "roster_reassign"))).all())
            == 1
        )


async def test_a_removed_grid_is_archived_and_its_open_cases_go_up_a_level(
    fire: Database, db_url: str, tmp_path: Path
) -> None:
    # 林和东第2片区 (LH-01-2): leader 810000006, guards 810000007 and 810000008.
    reported = await report(fire, 810000007, "LH-01-2", "消防通道堵塞")
    assigned = await report(fire, 810000007, "LH-01-2", "灭火器过期")
    await act(fire, assigned, 810000006, CaseAction.ACCEPT)
    async with fire.reading() as s:
        guard2 = (await s.exec(select(Person).where(Person.tg_id == 810000008))).one()
    await act(fire, assigned, 810000006, CaseAction.ASSIGN, assignee_person_id=guard2.id)
    text = scenario_path("fire-safety-5-level.yaml").read_text(encoding="utf-8")
    one_block = 'count: 2\n              code: "LH-01-{n}"'
    assert one_block in text
    edited = tmp_path / "fire-edited.yaml"
    edited.write_text(text.replace(one_block, one_block.replace("2", "1", 1)), encoding="utf-8")
    app = create_app(load_settings(database_url=db_url), clock=ManualClock(CASE_NOW))
    try:
        lines = await import_file(app, edited)
    finally:
        await app.db.dispose()

    assert "grid LH-01-2 archived (not in the file): 林和东第2片区" in lines
    told = "林和东书记 (800000020) of LH-01 told to reassign it"
    assert [line for line in lines if line.startswith("open case ")] == [
        f"open case {reported.code} (reported) in LH-01-2 waited on "
        f"林和东第2片区·网格长1 (810000006): {told}",
        f"open case {assigned.code} (assigned) in LH-01-2 waited on "
        f"林和东第2片区·保安巡查员2 (810000008): {told}",
    ]
    # 1 + 3 grids archived, their 3 + 3 people gone
    assert (
        lines[-1] == "imported fire-edited.yaml: 25 grids, 43 people, 43 memberships, 4 departments"
    )
    async with fire.reading() as s:
        block = (await s.exec(select(Grid).where(Grid.code == "LH-01-2"))).one()
        assert block.archived_at == CASE_NOW  # kept, archived, not dropped
        kept = (await s.exec(select(Case).where(Case.grid_id == block.id))).all()
        assert {c.code for c in kept} == {reported.code, assigned.code}
        (notice,) = (await s.exec(select(Delivery).where(Delivery.kind == "roster_reassign"))).all()
        assert notice.chat_id == 800000020
        assert reported.code in notice.text and assigned.code in notice.text


async def test_removing_an_auto_numbered_person_near_the_top_renumbers_nobody(
    db: Database,
) -> None:
    text = scenario_path("fire-safety-5-level.yaml").read_text(encoding="utf-8")
    anchor = "          - {name: 林和安监员, tg_id: 800000011, role: street_officer}\n"
    extra = text.replace(anchor, anchor + "          - {role: guard}\n", 1)

    async def load_roster(source: str) -> ScenarioChanges:
        async with db.session() as s:
            result = await import_roster(
                s, parse_scenario(source), now=NOW, t=Translator().t, default_language="zh"
            )
        return result.changes

    async def by_place() -> dict[str | None, int | None]:
        async with db.reading() as s:
            return {p.place: p.tg_id for p in (await s.exec(select(Person))).all() if p.place}

    await load_roster(extra)  # a guard without a tg_id in 林和街道, before every generated one
    places = await by_place()
    assert places["LH/guard/1"] == 810000000 and places["LH-01-1/leader/1"] == 810000001

    removed = await load_roster(text)
    assert removed.memberships_removed == (MembershipSpec(810000000, "LH", "guard"),)
    assert removed.memberships_added == () and removed.people_changed == ()
    assert removed.people_removed == (PersonSpec(810000000, "林和街道·保安巡查员1", "LH/guard/1"),)
    places.pop("LH/guard/1")
    assert await by_place() == places  # everyone else keeps their number

    back = await load_roster(extra)  # a new guard there: the next number no one holds
    assert back.memberships_added == (MembershipSpec(810000035, "LH", "guard"),)
    assert back.memberships_removed == () and back.people_changed == ()
    assert await by_place() == {**places, "LH/guard/1": 810000035}


async def test_a_database_imported_before_0003_keeps_every_number(db: Database) -> None:
    """Upgrading: people a file gave are marked listed (invited ones are not), and the next
    import finds the people without a tg_id by grid, role and name, renumbering no one."""
    from alembic import command

    from services.invites import create_invite, redeem_invite
    from storage.migrate import alembic_config, upgrade

    text = scenario_path("fire-safety-5-level.yaml").read_text(encoding="utf-8")
    await load(db, text)
    async with db.session() as s:
        grid = (await s.exec(select(Grid).where(Grid.code == "LH-01-1"))).one()
        role = (await s.exec(select(Role).where(Role.key == "guard"))).one()
        invite = await create_invite(
            s, grid=grid, role=role, uses=1, days=7, now=NOW, created_by=None
        )
    async with db.session() as s:
        joined = await redeem_invite(
            s, token=invite.token, tg_id=7_500_000_001, name="新保安", username=None,
            language=None, now=NOW,
        )  # fmt: skip
        assert not isinstance(joined, str)
    async with db.reading() as s:
        numbers = {p.tg_id: p.name for p in (await s.exec(select(Person))).all()}

    config = alembic_config(db.url)

    def down(connection: Any) -> None:
        config.attributes["connection"] = connection
        command.downgrade(config, "0002")

    async with db.engine.begin() as conn:
        await conn.run_sync(down)
    await upgrade(db)

    async with db.reading() as s:
        people = (await s.exec(select(Person))).all()
    assert {p.tg_id for p in people if p.listed} == set(numbers) - {7_500_000_001}
    assert all(p.place is None for p in people)

    # The file now lacks 林和东第1片区's second guard: only that one leaves.
    edited = text.replace(
        'people: [{role: leader}, {role: guard, count: 2}]\n              children:\n'
        '                generate: {count: 3,',
        'people: [{role: leader}, {role: guard}]\n              children:\n'
        '                generate: {count: 3,',
        1,
    )  # fmt: skip
    assert edited != text
    lines = await load(db, edited)
    assert lines[-1].endswith("2 people removed, 2 memberships removed"), lines[-1]
    async with db.reading() as s:
        after = {p.tg_id: p for p in (await s.exec(select(Person))).all()}
        invited = (
            await s.exec(select(Membership).where(Membership.person_id == after[7_500_000_001].id))
        ).all()
    assert {tg: p.name for tg, p in after.items()} == numbers
    assert len(invited) == 1  # the invited guard keeps their role
    gone = {tg for tg, p in after.items() if tg != 7_500_000_001 and not p.listed}
    assert {after[tg].name for tg in gone} == {
        "林和东第1片区·保安巡查员2",
        "林和东第2片区·保安巡查员2",
    }
    assert after[810000000].place == "LH-01-1/leader/1"
