"""Case services and queries on a real SQLite file (fire-safety-5-level.yaml imported)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlmodel import col, select

from domain.cases import Actor, CaseAction, RejectReason
from services import cases as svc
from services import reporting
from services.reporting import Draft, DraftProblem
from storage import cases as q
from storage.db import Database
from storage.models import Case, CaseEvent, Delivery
from tests.storage.case_world import (
    COMMUNITY_LEADER,
    GUARD,
    GUARD2,
    NOW,
    PIANQU_LEADER,
    PlainTexts,
    fire,
    grid_id,
    who,
)

__all__ = ["fire"]
TEXTS = PlainTexts()
HERE = (23.1291, 113.2644)


async def open_case(
    db: Database,
    *,
    severity: str = "general",
    at: datetime = NOW,
    category: str = "火灾隐患",
    lat: float | None = HERE[0],
) -> Case:
    async with db.session() as s:
        me = await who(s, GUARD)
        cfg = await svc.load_config(s)
        draft = Draft(
            grid_id=await grid_id(s, "LH-01-1"),
            category=category,
            description="配电箱电线老化",
            photos=["p1"],
            lat=lat,
            lon=HERE[1] if lat is not None else None,
            address=None if lat is not None else "某路1号",
            severity=severity,
        )
        case = await reporting.submit(s, reporter=me, draft=draft, now=at, texts=TEXTS, cfg=cfg)
        assert isinstance(case, Case)
        return case


async def step(
    db: Database, case: Case, tg_id: int, action: CaseAction, **params: Any
) -> svc.Done | svc.Refused:
    async with db.session() as s:
        me = await who(s, tg_id)
        cfg = await svc.load_config(s)
        return await svc.perform(
            s, case_id=case.id or 0, actor=svc.actor_of(me), action=action, now=NOW,
            texts=TEXTS, cfg=cfg, params=svc.StepInput(**params),
        )  # fmt: skip


async def test_codes_are_daily_sequences_and_the_deadline_counts_working_days(
    fire: Database,
) -> None:
    first = await open_case(fire)
    second = await open_case(fire, category="用电隐患", lat=None)
    assert (first.code, second.code) == ("H260310-001", "H260310-002")
    next_day = await open_case(fire, at=NOW + timedelta(days=1), category="燃气隐患", lat=None)
    assert next_day.code == "H260311-001"
    # 168 working hours from Tuesday 09:00 = seven working days, weekends skipped.
    assert first.deadline_at is not None
    assert first.deadline_at.astimezone(NOW.tzinfo).date().isoformat() == "2026-03-19"


async def test_a_report_queues_cards_for_the_leader_and_none_for_strangers(fire: Database) -> None:
    case = await open_case(fire)
    async with fire.reading() as s:
        rows = list(await s.exec(select(Delivery).where(col(Delivery.key).startswith("card:"))))
    assert {r.chat_id for r in rows} == {PIANQU_LEADER}
    assert rows[0].reply_markup == {"actions": ["acc", "rej", "esc"]}
    assert rows[0].photo == "p1" and not rows[0].urgent
    critical = await open_case(fire, severity="critical", category="燃气隐患")
    async with fire.reading() as s:
        rows = list(
            await s.exec(
                select(Delivery).where(col(Delivery.key).startswith(f"card:{critical.id}:"))
            )
        )
    assert len(rows) == 5 and all(r.urgent for r in rows)  # four levels, two district leaders
    assert case.id != critical.id


async def test_every_step_appends_one_event_and_edits_the_cards(fire: Database) -> None:
    case = await open_case(fire)
    done = await step(fire, case, PIANQU_LEADER, CaseAction.ACCEPT)
    assert isinstance(done, svc.Done)
    async with fire.reading() as s:
        guard2 = await who(s, GUARD2)
    done = await step(
        fire, case, PIANQU_LEADER, CaseAction.ASSIGN, assignee_person_id=guard2.person_id
    )
    assert isinstance(done, svc.Done) and done.case.status == "assigned"
    async with fire.reading() as s:
        kinds = [e.kind for e in await q.events_of(s, case.id or 0)]
        edits = list(
            await s.exec(
                select(Delivery).where(col(Delivery.edit_of) == f"card:{case.id}:{PIANQU_LEADER}")
            )
        )
        notes = list(await s.exec(select(Delivery).where(col(Delivery.key).startswith("note:"))))
    assert kinds == ["reported", "accepted", "assigned"]
    assert len(edits) == 2
    assert {n.chat_id for n in notes} == {GUARD}


async def test_refusals_change_nothing(fire: Database) -> None:
    case = await open_case(fire)
    refused = await step(fire, case, GUARD2, CaseAction.ACCEPT)
    assert isinstance(refused, svc.Refused) and refused.reason == "not_allowed"
    refused = await step(fire, case, PIANQU_LEADER, CaseAction.REJECT)
    assert isinstance(refused, svc.Refused) and refused.reason == "missing_parameter"
    refused = await step(fire, case, PIANQU_LEADER, CaseAction.ESCALATE, note="   ")
    assert isinstance(refused, svc.Refused) and refused.reason == "note_required"
    async with fire.session() as s:
        me = await who(s, PIANQU_LEADER)
        cfg = await svc.load_config(s)
        stale = await svc.perform(
            s, case_id=case.id or 0, actor=svc.actor_of(me), action=CaseAction.ACCEPT, now=NOW,
            texts=TEXTS, cfg=cfg, version=999,
        )  # fmt: skip
        assert isinstance(stale, svc.Refused) and stale.reason == "stale"
    async with fire.reading() as s:
        count = len(list(await s.exec(select(CaseEvent).where(CaseEvent.case_id == case.id))))
    assert count == 1
    done = await step(fire, case, PIANQU_LEADER, CaseAction.REJECT, reason=RejectReason.DUPLICATE)
    assert isinstance(done, svc.Done) and done.case.status == "rejected"


async def test_assigning_outside_the_subtree_is_refused(fire: Database) -> None:
    case = await open_case(fire)
    await step(fire, case, PIANQU_LEADER, CaseAction.ACCEPT)
    async with fire.reading() as s:
        outsider = await who(s, COMMUNITY_LEADER)  # leads the grid above, not below
    refused = await step(
        fire, case, PIANQU_LEADER, CaseAction.ASSIGN, assignee_person_id=outsider.person_id
    )
    assert isinstance(refused, svc.Refused) and refused.reason == "target_outside_subtree"


async def test_duplicates_are_same_category_nearby_or_same_grid_this_week(fire: Database) -> None:
    case = await open_case(fire)
    async with fire.reading() as s:
        gid = await grid_id(s, "LH-01-2")
        near = await q.possible_duplicates(
            s, grid_id=gid, category="火灾隐患", lat=HERE[0] + 0.0002, lon=HERE[1], now=NOW
        )
        far = await q.possible_duplicates(
            s, grid_id=gid, category="火灾隐患", lat=HERE[0] + 0.01, lon=HERE[1], now=NOW
        )
        other = await q.possible_duplicates(
            s, grid_id=gid, category="燃气隐患", lat=HERE[0], lon=HERE[1], now=NOW
        )
        same_grid = await q.possible_duplicates(
            s, grid_id=case.grid_id, category="火灾隐患", lat=None, lon=None,
            now=NOW + timedelta(days=6),
        )  # fmt: skip
        stale = await q.possible_duplicates(
            s, grid_id=case.grid_id, category="火灾隐患", lat=None, lon=None,
            now=NOW + timedelta(days=8),
        )  # fmt: skip
    assert [c.id for c in near] == [case.id] and [c.id for c in same_grid] == [case.id]
    assert far == [] and other == [] and stale == []


async def test_lists_and_waiting_for(fire: Database) -> None:
    case = await open_case(fire)
    async with fire.reading() as s:
        leader = await who(s, PIANQU_LEADER)
        community = await who(s, COMMUNITY_LEADER)
        guard = await who(s, GUARD)
        assert [w.case.id for w in await svc.cases_waiting_for(s, leader, NOW)] == [case.id]
        assert await svc.cases_waiting_for(s, community, NOW) == []  # the level below owns it
        assert await svc.cases_waiting_for(s, guard, NOW) == []
        paths = ["/" + "/".join(map(str, community.holdings[0].grid_path)) + "/"]
        rows, total = await q.cases_in_subtrees(s, paths=paths, flt=q.CaseFilter(), now=NOW)
        assert total == 1 and rows[0].id == case.id
        rows, total = await q.cases_in_subtrees(
            s, paths=paths, flt=q.CaseFilter(severity="critical"), now=NOW
        )
        assert total == 0
        rows, total = await q.cases_in_subtrees(
            s, paths=paths, flt=q.CaseFilter(overdue=True), now=NOW + timedelta(days=30)
        )
        assert total == 0  # not assigned yet: no deadline runs against anyone


async def test_a_draft_must_be_complete_and_in_the_reporters_grid(fire: Database) -> None:
    async with fire.session() as s:
        me = await who(s, GUARD)
        cfg = await svc.load_config(s)
        draft = Draft(grid_id=await grid_id(s, "LH-01-1"), category="其他")
        result = await reporting.submit(s, reporter=me, draft=draft, now=NOW, texts=TEXTS, cfg=cfg)
        assert result is DraftProblem.INCOMPLETE
        draft = Draft(
            grid_id=await grid_id(s, "ZJ-01"), category="其他", description="x", address="y",
            severity="general",
        )  # fmt: skip
        result = await reporting.submit(s, reporter=me, draft=draft, now=NOW, texts=TEXTS, cfg=cfg)
        assert result is DraftProblem.NOT_A_GRID
    assert reporting.check_description("x" * 1001) is DraftProblem.TOO_LONG
    assert reporting.check_description("  ") is DraftProblem.EMPTY
    assert Draft.from_data(Draft(photos=["a"]).to_data()).photos == ["a"]
    assert Actor(person_id=1) != Actor(person_id=2)
