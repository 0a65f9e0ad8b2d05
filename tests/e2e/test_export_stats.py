"""/export and /stats through the emulator, as leaders of fire-safety-5-level.yaml.

Now: Tue 2026-03-10 09:00 +08. Cases and patrols are put in the database as they would be
after a week of work: three in 林和东第1片区 (LH-01-1, under 林和街道主任 800000010) and one
in 珠玑第1片区 (ZJ-01-1, under 珠玑街道主任 800000040).
"""

from __future__ import annotations

import io
import struct
from datetime import datetime
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from sqlmodel import col, select

from handlers import export as export_handler
from storage.models import Case, CaseEvent, Grid, Membership, Patrol, Role
from tests.e2e.harness import ADMIN_TG_ID, World

TZ = ZoneInfo("Asia/Shanghai")
LH_LEADER = 800000010
ZJ_LEADER = 800000040
GUARD = 810000001  # a guard of LH-01-1


def at(day: int, hour: int = 10) -> datetime:
    return datetime(2026, 3, day, hour, tzinfo=TZ)


async def seed(world: World) -> None:
    async with world.db.session() as s:
        grids = {g.code: g for g in (await s.exec(select(Grid))).all()}
        guard = (
            await s.exec(
                select(Membership)
                .join(Role, col(Role.id) == col(Membership.role_id))
                .where(Membership.grid_id == grids["LH-01-1"].id, Role.key == "guard")
                .order_by(col(Membership.id))
            )
        ).first()
        assert guard is not None
        lh, zj = grids["LH-01-1"].id or 0, grids["ZJ-01-1"].id or 0

        def case(code: str, grid: int, status: str, **kw: object) -> Case:
            return Case(
                code=code,
                grid_id=grid,
                origin_grid_id=grid,
                reporter_id=guard.person_id,
                category="用电",
                description=f"{code} 配电箱门损坏",
                severity="general",
                status=status,
                created_at=at(2),
                accepted_at=at(2, 11),
                assignee_person_id=guard.person_id,
                **kw,  # type: ignore[arg-type]
            )

        cases = [
            case("LH-A", lh, "rated", deadline_at=at(5), closed_at=at(4), rating="good"),
            case("LH-B", lh, "closed", deadline_at=at(5), closed_at=at(6), rework_count=1),
            case("LH-C", lh, "in_progress", deadline_at=at(8)),
            case("ZJ-A", zj, "closed", deadline_at=at(5), closed_at=at(3)),
        ]
        s.add_all(cases)
        await s.flush()
        s.add_all(
            [
                CaseEvent(
                    case_id=c.id or 0,
                    kind=kind,
                    status_after=status,
                    grid_id=c.grid_id,
                    actor_id=guard.person_id,
                    at=when,
                    note=f"{c.code} {kind}",
                )
                for c in cases
                for kind, status, when in (
                    ("reported", "reported", at(2)),
                    ("accepted", "accepted", at(2, 11)),
                )
            ]
        )
        s.add_all(
            [
                Patrol(
                    person_id=guard.person_id,
                    grid_id=lh,
                    role_id=guard.role_id,
                    status="done",
                    started_at=at(day, 8),
                    finished_at=at(day, 9),
                    counted=True,
                    measures="当场整改",
                    checklist={
                        "items": [
                            {"name": "用电", "status": "problem", "note": "电线裸露"},
                            {"name": "用气", "status": "ok", "note": ""},
                        ],
                        "companions": [{"name": "物业王经理", "person_id": None}],
                    },
                )
                for day in (3, 4, 5)
            ]
        )


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    w, h = struct.unpack(">II", data[16:24])
    return int(w), int(h)


async def test_a_street_leader_exports_the_ledger_of_their_street(world: World) -> None:
    await seed(world)
    leader = world.user(LH_LEADER)
    await leader.send("/export")  # leads one grid: LH, this month so far
    doc = await leader.expect_reply(contains="台账")
    assert "林和街道（LH）台账 · 2026-03-01~2026-03-10" in doc.text
    assert "隐患 3 件，处置记录 6 条，巡查 3 次" in doc.text
    assert doc.document is not None
    assert doc.document["file_name"] == "ledger-LH-2026-03-01_2026-03-10.xlsx"
    book = openpyxl.load_workbook(io.BytesIO(doc.document_bytes()))
    assert book.sheetnames == ["汇总", "隐患台账", "处置记录", "巡查台账"]
    cases = book["隐患台账"]
    assert cases.freeze_panes == "A2"
    header = [c.value for c in cases[1]]
    assert header[0] == "隐患编号" and "是否按期" in header
    rows = [dict(zip(header, r, strict=True)) for r in cases.iter_rows(min_row=2, values_only=True)]
    assert [r["隐患编号"] for r in rows] == ["LH-A", "LH-B", "LH-C"]
    assert [r["是否按期"] for r in rows] == ["按期", "超期", "逾期未结"]
    assert rows[0]["结案时间"] == datetime(2026, 3, 4, 10, 0)  # Excel date, Shanghai time
    assert cases.cell(row=2, column=header.index("结案时间") + 1).is_date
    patrols = book["巡查台账"]
    first = [c.value for c in patrols[2]]
    assert first[0] == datetime(2026, 3, 3, 8, 0)
    assert "物业王经理" in first[4] and "用电：电线裸露" in first[5] and first[6] == "当场整改"
    text = " ".join(
        str(v) for ws in book.worksheets for row in ws.iter_rows(values_only=True) for v in row
    )
    assert "ZJ-A" not in text and "珠玑" not in text
    summary = {r[0]: r for r in book["汇总"].iter_rows(min_row=2, values_only=True) if r[0]}
    assert summary["林和街道（合计）"][5] == 3  # 立案数


async def test_another_streets_leader_gets_none_of_it(world: World) -> None:
    await seed(world)
    other = world.user(ZJ_LEADER)
    await other.send("/export LH")
    refused = await other.expect_reply(contains="只有该网格及上级网格的网格长")
    assert "用法：/export" in refused.text
    await other.expect_silence()  # no progress, no document
    await other.send("/export")
    doc = await other.expect_reply(contains="台账")
    book = openpyxl.load_workbook(io.BytesIO(doc.document_bytes()))
    codes = [r[0] for r in book["隐患台账"].iter_rows(min_row=2, values_only=True)]
    assert codes == ["ZJ-A"]
    assert book["巡查台账"].max_row == 1  # the header only: the patrols are LH's
    await other.send("/stats LH")
    await other.expect_reply(contains="只有该网格及上级网格的网格长")
    await other.expect_silence()


async def test_bad_exports_say_why_and_send_nothing(world: World) -> None:
    leader = world.user(LH_LEADER)
    for args, why in (
        ("NOPE", "没有编号为 NOPE 的网格"),
        ("LH 2026-04-01", "还没到"),
        ("LH 2026-03-09 2026-03-01", "开始日期晚于结束日期"),
        ("LH 2024-01 2026-03", "最多导出一年"),
        ("LH 2026-13", "看不懂日期"),
    ):
        await leader.send(f"/export {args}")
        answer = await leader.expect_reply(contains=why)
        assert "用法：/export" in answer.text
        await leader.expect_silence()
    member = world.user(GUARD)
    await member.send("/export")
    await member.expect_reply(contains="请写明网格编号")
    await member.expect_silence()


async def test_an_admin_exports_any_grid_in_english(world: World) -> None:
    await seed(world)
    admin = world.user(ADMIN_TG_ID)
    await admin.send("/lang en")
    await admin.expect_reply(contains="Choose a language")
    await admin.press("English")
    await admin.expect_answer()
    await admin.send("/export ZJ 2026-03")
    doc = await admin.expect_reply(contains="Ledger of")
    assert "1 cases, 2 case steps, 0 patrols" in doc.text
    book = openpyxl.load_workbook(io.BytesIO(doc.document_bytes()))
    assert book.sheetnames == ["Summary", "Cases", "Case steps", "Patrols"]
    assert [c.value for c in book["Cases"][1]][:2] == ["Case", "Grid"]


async def test_stats_with_a_chart(world: World) -> None:
    await seed(world)
    leader = world.user(LH_LEADER)
    await leader.send("/stats")
    board = await leader.expect_reply(contains="考核统计")
    assert "林和街道（LH）" in board.text and "本月 2026-03" in board.text
    # LH-01: 3 accepted, A on time, B late, C open and overdue: 按期 1/3, 结案 2/3
    assert "• 林和东社区：巡查 3/" in board.text
    assert "结案率 67%" in board.text and "按期 33%" in board.text and "逾期 1" in board.text
    assert "龙虎榜" in board.text and "1. 林和东社区" in board.text
    photo = await leader.expect_reply(contains="📈")
    assert photo.photo is not None
    data = world.emu.file_bytes(photo.photo[-1]["file_id"])
    assert png_size(data) == (1000, 800)
    await leader.send("/stats LH quarter")
    quarter = await leader.expect_reply(contains="考核统计")
    assert "本季度 2026-Q1" in quarter.text
    await leader.expect_reply(contains="📈")


async def test_a_long_export_shows_its_progress_in_one_message(world: World) -> None:
    await seed(world)
    async with world.db.session() as s:
        first = (await s.exec(select(Patrol))).first()
        assert first is not None
        s.add_all(
            [
                Patrol(
                    person_id=first.person_id,
                    grid_id=first.grid_id,
                    role_id=first.role_id,
                    status="done",
                    started_at=at(1 + n % 9, 7),
                    counted=True,
                )
                for n in range(1200)
            ]
        )
    leader = world.user(LH_LEADER)
    await leader.send("/export LH")
    progress = await leader.expect_reply(contains="正在导出")
    assert "已导出 0 / 1,212 条" in progress.text  # 3 cases, 6 steps, 1,203 patrols
    done = await leader.expect_reply(contains="✅ 已导出")
    assert done.edited and done.message_id == progress.message_id
    assert "隐患 3 件，处置记录 6 条，巡查 1,203 次" in done.text
    doc = await leader.expect_reply(contains="台账")
    book = openpyxl.load_workbook(io.BytesIO(doc.document_bytes()), read_only=True)
    assert book["巡查台账"].max_row == 1204


async def test_an_export_over_the_chat_limit_is_refused(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    await seed(world)
    monkeypatch.setattr(export_handler, "MAX_CHAT_ROWS", 11)  # the seed's export has 12 rows
    leader = world.user(LH_LEADER)
    await leader.send("/export")
    refused = await leader.expect_reply(contains="超过聊天里一次导出的上限 11 条")
    assert "这次导出有 12 条" in refused.text and "用法：/export" in refused.text
    await leader.expect_silence()
