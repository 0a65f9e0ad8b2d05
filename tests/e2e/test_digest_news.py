"""Digests that carry only news, counts that add up, shortfalls that reach a leader, joint
patrols (issue 12, points 10-13), through the emulator on fire-safety-5-level.yaml.

Leaders of a 片区 (LH-01-1 ...) are listed without a tg_id in the file: their ids come from
the import (`people_of`). 区长 (800000001) is the admin here; 林和东书记 (800000020) leads
LH-01, 林和街道主任 (800000010) leads LH.
"""

from __future__ import annotations

from datetime import date

from sqlmodel import select

from bot.notifier import OutboxNotifier
from domain.scenario import parse_scenario
from scheduler import jobs
from storage.importer import apply_import
from storage.models import Case, Grid, Person
from tests.conftest import scenario_path
from tests.e2e.harness import ADMIN_TG_ID, World
from tests.e2e.simulation import at, people_of

ROOT_LEADERS = (800000001, 800000002)  # 区长, 分管副区长: both lead Q
LH01_LEADER = 800000020  # 林和东书记
LH_LEADER = 800000010  # 林和街道主任
STAFF = 800000021  # 林和东专管员 (LH-01, monthly)
POLICE = 800000022  # 林和东民警 (LH-01, weekly)
HERE = (23.1291, 113.2644)


async def drain(world: World) -> None:
    notifier = world.app.notifier if world.app else None
    assert isinstance(notifier, OutboxNotifier)
    await notifier.drain(timeout=60)


async def tg_of(world: World, code: str, role: str, i: int = 0) -> int:
    person = (await people_of(world))[(code, role)][i]
    assert person.tg_id is not None
    return person.tg_id


async def admin_sets_quota(world: World, args: str, answer: str) -> None:
    admin = world.user(ADMIN_TG_ID)
    await admin.send(f"/quota {args}")
    await admin.expect_reply(contains=answer)


async def test_a_quiet_leader_gets_no_digest_while_a_busy_one_does(world: World) -> None:
    app = world.app
    assert app is not None
    world.everyone_opened_the_bot()
    # the guards' daily quota goes: a 片区 below then has no quota, no case, nobody behind
    await admin_sets_quota(world, "guard day 0", "已取消 保安巡查员 的巡查考核")
    async with world.db.session() as s:
        grids = {g.code: g.id for g in (await s.exec(select(Grid))).all()}
        reporter = (await s.exec(select(Person).where(Person.tg_id == STAFF))).one()
        s.add(
            Case(
                code="N-1",
                grid_id=grids["LH-01-2"],
                origin_grid_id=grids["LH-01-2"],
                reporter_id=reporter.id or 0,
                category="用电",
                description="楼道私拉电线",
                severity="general",
                status="reported",
                created_at=at(date(2026, 3, 10), 15),
            )
        )
    quiet = world.user(await tg_of(world, "LH-01-1", "leader"))
    busy = world.user(await tg_of(world, "LH-01-2", "leader"))
    above = world.user(LH01_LEADER)

    world.at(at(date(2026, 3, 10), 18))
    run = await jobs.digest_now(app)
    await drain(world)
    # 8 leaders with news (the two at Q, LH, ZJ, LH-01, LH-02, ZJ-01 have quotas below them;
    # LH-01-2 a report); the six other 片区 leaders have nothing to say today
    assert (run.leaders, run.quiet, run.queued) == (8, 6, 8)

    got = await busy.expect_once(contains="日报")
    assert got.kind == "sent" and got.buttons == [["待立案 1"]]
    assert "0/0" not in got.text and "【巡查】" not in got.text
    assert "今日新增 1" in got.text
    await quiet.expect_silence()  # no digest at all today
    community = await above.expect_once(contains="日报")
    assert community.kind == "sent"
    assert "林和东第2片区：未结隐患 1" in community.text  # its child with news
    assert "林和东第1片区" not in community.text  # the quiet child's row is left out

    # asked, the quiet leader hears there is nothing to report, with no buttons
    await quiet.send("/today")
    today = await quiet.expect_reply(contains="今日辖区无新情况")
    assert today.kind == "sent" and today.buttons == []
    assert "林和东第1片区" in today.text.splitlines()[0]


async def test_the_full_list_names_every_laggard_counted(world: World) -> None:
    app = world.app
    assert app is not None
    world.everyone_opened_the_bot()
    # Sunday 03-15 18:00, nobody patrolled: 11 guards (today's patrol) and 3 police (the
    # week's last day) are behind; the monthly quotas are not (14 * 1 // 31 = 0)
    world.at(at(date(2026, 3, 15), 18))
    await jobs.digest_now(app)
    await drain(world)
    root = world.user(ROOT_LEADERS[0])
    digest = await root.expect_once(contains="日报")
    assert digest.kind == "sent"
    assert "【巡查落后】14 人：" in digest.text
    behind = digest.text.split("【巡查落后】")[1].split("\n\n")[0].splitlines()
    names = [line for line in behind if line.startswith("• ")]
    assert len(names) == 10 and behind[-1] == "……另有 4 人（见完整列表）"  # 10 + 4 = 14
    assert digest.buttons == [["完整列表"]]

    await root.press("完整列表")
    assert (await root.expect_answer()).text == "完整列表已发送。"
    await drain(world)
    doc = await root.expect_reply(contains="日报完整列表")
    assert doc.kind == "sent" and doc.document is not None
    body = doc.document_bytes().decode("utf-8")
    head, rest = body.split("\n", 1)
    assert head == "巡查落后人员 14 人（姓名、角色、网格）"
    listed = rest.split("\n\n")[0].splitlines()
    assert len(listed) == 14  # every one counted (it listed the root's own and children's)
    who = await people_of(world)
    for (_code, role), people in who.items():
        if role in ("guard", "police"):
            for p in people:
                assert any(line.startswith(p.name + "\t") for line in listed), p.name


async def test_a_sole_leaders_shortfall_reaches_the_next_leader_up(world: World) -> None:
    app = world.app
    assert app is not None
    world.everyone_opened_the_bot()
    # every leader now owes a patrol a day; nobody patrols on Tuesday 03-10
    await admin_sets_quota(world, "leader day 1", "已设置：网格长 每日巡查 1 次")
    who = await people_of(world)
    sole = who[("LH-01-1", "leader")][0]  # the only leader of LH-01-1
    guard = who[("LH-01-1", "guard")][0]
    world.at(at(date(2026, 3, 11), 9, 30))
    await jobs.nag_now(app)
    await drain(world)

    # the 片区 leader hears of the guards, not of himself...
    assert sole.tg_id is not None
    own = world.user(sole.tg_id)
    await own.expect_reply(contains="您的巡查进度落后了")  # today's own nag
    told = await own.expect_once(contains="以下人员上一周期未完成巡查任务")
    assert told.kind == "sent" and guard.name in told.text and sole.name not in told.text
    # ...the community's leader hears of him (it was told to nobody)
    community = world.user(LH01_LEADER)
    up = await community.expect_once(contains="以下人员上一周期未完成巡查任务")
    assert up.kind == "sent"
    assert f"• {sole.name}（林和东第1片区 网格长）：上一日完成 0/1" in up.text
    assert guard.name not in up.text  # the guards' own leader was told of them
    # and the street's leader hears of the community's leader (the level above)
    street = world.user(LH_LEADER)
    up2 = await street.expect_once(contains="以下人员上一周期未完成巡查任务")
    assert "• 林和东书记（林和东社区 网格长）：上一日完成 0/1" in up2.text


async def test_a_joint_patrol_credits_the_companion_and_the_digest_says_so(world: World) -> None:
    app = world.app
    assert app is not None
    world.everyone_opened_the_bot()
    sunday = date(2026, 3, 15)  # the police's weekly patrol is due today
    world.at(at(sunday, 10))
    staff, leader = world.user(STAFF), world.user(LH01_LEADER)
    await staff.send("/patrol")
    await staff.expect_reply(contains="发送您的当前位置")
    await staff.press("📍 发送当前位置", location=HERE)
    await staff.expect_reply(contains="巡查检查项")
    await staff.press("其余全部正常")
    await staff.expect_answer()
    await staff.press("下一步 ▶")
    await staff.expect_reply(contains="可以发送文字备注")
    await staff.press("👥 同行人员")
    await staff.expect_reply(contains="同行人员")
    await staff.press("⬜ 林和东民警")
    await staff.expect_reply(contains="同行人员：林和东民警")
    await staff.press("↩️ 返回")
    await staff.expect_reply(contains="可以发送文字备注")
    await staff.press("✅ 结束巡查")
    await staff.expect_reply(contains="巡查完成")

    # not counted yet: the deployment does not say so
    world.at(at(sunday, 17))
    await leader.send("/today")
    before = await leader.expect_reply(contains="日报")
    assert "• 林和东民警（林和东社区 社区民警）" in before.text and "联合巡查" not in before.text
    police = world.user(POLICE)
    await police.send("/my")
    mine = await police.expect_reply(contains="巡查考核")
    assert "本周目标1次，已完成0次，按进度应完成1次（落后）" in mine.text

    # the file says so: `patrol: {companions_count: true}`, imported as an admin would
    text = scenario_path("fire-safety-5-level.yaml").read_text(encoding="utf-8")
    text = text.replace("departments:\n", "patrol: {companions_count: true}\ndepartments:\n", 1)
    async with world.db.session() as s:
        result = await apply_import(s, parse_scenario(text), now=at(sunday, 17))
    assert "patrol.companions_count" in "\n".join(result.changes.summary_lines())

    world.at(at(sunday, 18))
    await jobs.digest_now(app)
    await drain(world)
    got = await leader.expect_once(contains="日报")
    assert got.kind == "sent"
    assert "其中联合巡查（同行人员计入）1 次" in got.text
    assert "林和东民警" not in got.text  # credited: no longer behind
    # /my counts by the same rule as the digest (one credited-patrol count)
    await police.send("/my")
    mine = await police.expect_reply(contains="巡查考核")
    assert mine.kind == "sent"
    assert "本周目标1次，已完成1次，按进度应完成1次，还差0次" in mine.text
    assert "落后" not in mine.text
