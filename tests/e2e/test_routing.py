"""Routing rules (issue 14 pt 7) through the emulator: fire-safety-5-level.yaml with a
``cases: routes:`` block, parsed as the import reads it and stored as the import stores it.

* 燃气隐患 → 林和派出所 (PCS-LH), copy to 林和街道 (LH): the report is the police station's
  at once (TRANSFERRED, its card and 移交单 in its bound group), the street's leader gets the
  copy, the 片区's leader is not asked to accept it;
* 较大 → 越级 to 林和街道 (LH), copy to 某区 (Q) and 林和东社区 (LH-01): the street's
  leader is asked to accept it; the district's leaders get the copy; LH-01 is below the grid
  the case landed at, so its leader may not see it and gets nothing.
"""

from __future__ import annotations

from sqlmodel import col, select

from domain.scenario import parse_scenario
from storage.case_rules import save_case_rules
from storage.models import CaseEvent, Department, Grid
from tests.conftest import scenario_path
from tests.e2e.case_steps import (
    COMMUNITY_LEADER,
    DISTRICT_LEADERS,
    GUARD,
    PIANQU_LEADER,
    STREET_LEADER,
    case_row,
    events,
    report,
    set_chat,
)
from tests.e2e.harness import ADMIN_TG_ID, World

OFFICER = 800000011  # stands in for the police station's duty officer in its group
ROUTES = """cases:
  routes:
    - {category: 燃气隐患, department: PCS-LH, copy: [LH]}
    - {severity: 较大, skip_to: LH, copy: [Q, LH-01]}
"""


async def routed_world(world: World) -> None:
    text = scenario_path("fire-safety-5-level.yaml").read_text(encoding="utf-8")
    scenario = parse_scenario(text.replace("departments:\n", ROUTES + "departments:\n", 1))
    async with world.db.session() as s:
        await save_case_rules(s, scenario.case_rules)
    world.everyone_opened_the_bot()


async def test_a_category_routed_to_a_department_lands_there_at_once(world: World) -> None:
    await routed_world(world)
    group = world.emu.create_group(
        "林和派出所值班群", members=[OFFICER], admins=[ADMIN_TG_ID], creator=ADMIN_TG_ID
    )
    await set_chat(world, chat_id=group.id, dept_code="PCS-LH")
    code = await report(world, category="燃气隐患", description="燃气管道私接软管")
    await world.outbox_settled()

    row = await case_row(world, code)
    async with world.db.session() as s:
        dept = (await s.exec(select(Department).where(Department.code == "PCS-LH"))).one()
        last = (
            await s.exec(
                select(CaseEvent)
                .where(CaseEvent.case_id == row.id)
                .order_by(col(CaseEvent.id).desc())
            )
        ).first()
    assert row.status == "transferred" and row.assignee_department_id == dept.id
    assert row.accepted_at is not None and row.assigned_at is not None
    assert await events(world, code) == ["reported", "transferred"]
    assert last is not None and last.actor_id is None and last.data["routed"] is True

    station = world.user(OFFICER).in_group(group.id)
    dcard = await station.expect_reply(contains=code)
    assert {"部门签收", "部门反馈"} <= set(dcard.button_texts)
    await station.expect_reply(contains="隐患移交单")

    copy = await world.user(STREET_LEADER).expect_reply(contains=code)
    assert "移交" in copy.text and not copy.button_texts
    await world.user(GUARD).expect_reply(contains="移交")  # the reporter hears of it
    leader = world.user(PIANQU_LEADER)
    for msg in leader.transcript():
        assert "立案" not in str(msg), "the 片区 is not asked to accept a routed report"


async def test_a_severity_that_skips_levels_goes_up_with_its_copies(world: World) -> None:
    await routed_world(world)
    code = await report(world, severity="较大", description="配电箱冒烟")
    await world.outbox_settled()

    row = await case_row(world, code)
    async with world.db.session() as s:
        lh = (await s.exec(select(Grid).where(Grid.code == "LH"))).one()
        lh1 = (await s.exec(select(Grid).where(Grid.code == "LH-01-1"))).one()
    assert (row.status, row.grid_id, row.origin_grid_id) == ("reported", lh.id, lh1.id)
    assert await events(world, code) == ["reported", "escalated"]

    street = world.user(STREET_LEADER)
    handed = await street.expect_reply(contains=code)
    assert "立案" in handed.button_texts
    for tg_id in DISTRICT_LEADERS:
        copy = await world.user(tg_id).expect_reply(contains=code)
        assert not copy.button_texts
    await world.user(COMMUNITY_LEADER).expect_silence()  # below LH: may not see it


async def test_a_report_no_rule_matches_goes_the_usual_way(world: World) -> None:
    await routed_world(world)
    code = await report(world, category="消防通道堵塞")
    await world.outbox_settled()
    assert await events(world, code) == ["reported"]
    assert (await case_row(world, code)).status == "reported"
    await world.user(PIANQU_LEADER).expect_reply(contains=code)
