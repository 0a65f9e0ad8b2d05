"""The patrol ledger (巡查台账) through the emulator: measures taken and companions recorded at
the finish, the summary posted to the grid's group, /patrol_log for leaders, and a patrol
that survives a restart in the middle of its checklist.

Now: Tue 2026-03-10 09:00 +08 (fire-safety-5-level.yaml). 800000021 林和东专管员 patrols
LH-01 (林和东社区) with 林和东民警 (800000022); 800000020 林和东书记 leads LH-01.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlmodel import col, select

from storage.models import Grid, Patrol, Person
from tests.e2e.harness import World

STAFF = 800000021
POLICE = 800000022
LEADER = 800000020
HERE = (23.1291, 113.2644)


async def tap(u: Any, text: str) -> None:
    await u.press(text)
    await u.expect_answer()


async def patrols_of(world: World, tg_id: int) -> list[Patrol]:
    async with world.db.session() as s:
        person = (await s.exec(select(Person).where(Person.tg_id == tg_id))).one()
        rows = await s.exec(
            select(Patrol).where(Patrol.person_id == person.id).order_by(col(Patrol.id))
        )
        return list(rows.all())


async def bind_group(world: World, code: str) -> int:
    chat = world.emu.create_group(
        "林和东社区群", members=[STAFF], admins=[LEADER], bot_member=True, creator=LEADER
    )
    async with world.db.session() as s:
        grid = (await s.exec(select(Grid).where(Grid.code == code))).one()
        grid.group_chat_id = chat.id
        s.add(grid)
    return int(chat.id)


async def check_in(u: Any) -> None:
    await u.send("/patrol")
    await u.expect_reply(contains="发送您的当前位置")
    await u.press("📍 发送当前位置", location=HERE)
    await u.expect_reply(contains="已签到")
    await u.expect_reply(contains="巡查检查项")


async def test_measures_and_companions_are_kept_posted_to_the_group_and_in_the_ledger(
    world: World,
) -> None:
    group_id = await bind_group(world, "LH-01")
    staff = world.user(STAFF)
    await check_in(staff)
    await tap(staff, "用气 有问题")
    await staff.expect_reply(contains="请描述发现的隐患")
    await tap(staff, "跳过")
    await staff.expect_reply(contains="巡查检查项")
    await tap(staff, "其余全部正常")
    await tap(staff, "下一步 ▶")
    await staff.expect_reply(contains="可以发送文字备注")

    await tap(staff, "📝 采取措施")
    await staff.expect_reply(contains="请用文字描述本次巡查采取的措施")
    await staff.send("   ")
    await staff.expect_reply(contains="措施不能为空")
    await staff.send("x" * 1001)
    await staff.expect_reply(contains="1000字以内")
    await staff.send("当场关闭气阀 <b>并</b> 通知燃气公司")
    await staff.expect_reply(contains="已记录采取的措施")

    await tap(staff, "👥 同行人员")
    picker = await staff.expect_reply(contains="同行人员")
    assert "⬜ 林和东民警" in picker.button_texts
    assert not any("林和东专管员" in b for b in picker.button_texts)  # not oneself
    await tap(staff, "⬜ 林和东民警")
    toggled = await staff.expect_reply(contains="同行人员：林和东民警")
    assert "☑️ 林和东民警" in toggled.button_texts
    await staff.send("物业王经理、<张三>")
    typed = await staff.expect_reply(contains="物业王经理")
    assert "&lt;张三&gt;" not in typed.text and "<张三>" in typed.text  # escaped, shown as typed
    await tap(staff, "↩️ 返回")
    await staff.expect_reply(contains="可以发送文字备注")
    await tap(staff, "✅ 结束巡查")
    done = await staff.expect_reply(contains="巡查完成")
    assert "发现问题 1 项" in done.text

    [patrol] = await patrols_of(world, STAFF)
    assert patrol.measures == "当场关闭气阀 <b>并</b> 通知燃气公司"
    assert [c["name"] for c in patrol.checklist["companions"]] == [
        "林和东民警",
        "物业王经理",
        "<张三>",
    ]
    items = {i["name"]: i["status"] for i in patrol.checklist["items"]}
    assert items["用气"] == "problem" and items["用电"] == "ok"

    in_group = staff.in_group(group_id)
    posted = await in_group.expect_reply(contains="巡查记录")
    assert "林和东专管员" in posted.text and "检查发现问题：用气" in posted.text
    assert "采取措施：当场关闭气阀 <b>并</b> 通知燃气公司" in posted.text  # shown as typed
    assert "同行人员：林和东民警、物业王经理、<张三>" in posted.text

    leader = world.user(LEADER)
    await leader.send("/patrol_log")  # leads one grid: LH-01, this month
    log = await leader.expect_reply(contains="巡查台账")
    assert "2026-03，共 1 条" in log.text
    assert "林和东专管员" in log.text and "用气" in log.text and "当场关闭气阀" in log.text
    await tap(leader, "📄 导出本月台账")
    doc = await leader.expect_reply(contains="巡查台账")
    body = doc.document_bytes().decode("utf-8-sig")
    assert "当场关闭气阀 <b>并</b> 通知燃气公司" in body and "林和东民警" in body

    await staff.send("/patrol_log LH-01")
    await staff.expect_reply(contains="只有该网格及上级网格的网格长")


async def test_the_ledger_pages_and_lists_findings(world: World) -> None:
    staff = world.user(STAFF)
    await check_in(staff)
    await tap(staff, "用电 有问题")
    await staff.expect_reply(contains="请描述发现的隐患")
    await staff.send("配电箱破损")
    await staff.expect_reply(contains="发送隐患照片")
    await tap(staff, "完成")
    await staff.expect_reply(contains="隐患等级")
    await tap(staff, "一般")
    await staff.expect_reply(contains="请确认隐患信息")
    await tap(staff, "✅ 提交")
    opened = await staff.expect_reply(contains="隐患已上报")
    await staff.expect_reply(contains="巡查检查项")
    await tap(staff, "其余全部正常")
    await tap(staff, "下一步 ▶")
    await staff.expect_reply(contains="可以发送文字备注")
    await tap(staff, "✅ 结束巡查")
    await staff.expect_reply(contains="巡查完成")
    code = opened.text.split("编号 ")[1].split("。")[0]
    # Eight more patrols later in the month (walking each is tested above): two pages.
    [first_patrol] = await patrols_of(world, STAFF)
    async with world.db.session() as s:
        for n in range(1, 9):
            s.add(
                Patrol(
                    person_id=first_patrol.person_id,
                    grid_id=first_patrol.grid_id,
                    role_id=first_patrol.role_id,
                    status="done",
                    started_at=first_patrol.started_at + timedelta(days=n),
                    finished_at=first_patrol.started_at + timedelta(days=n, minutes=30),
                    lat=HERE[0] + n / 1000,
                    lon=HERE[1],
                    counted=True,
                )
            )

    head = world.user(800000010)  # 林和街道主任, above LH-01
    await head.send("/patrol_log LH 2026-03")
    first = await head.expect_reply(contains="巡查台账")
    assert "共 9 条" in first.text and f"上报隐患：{code}" in first.text
    await tap(head, "›")
    second = await head.expect_reply(contains="巡查台账")
    assert second.edited and f"上报隐患：{code}" not in second.text
    assert "03-18" in second.text  # the last one, on the second page
    await head.send("/patrol_log LH 2026-13")
    await head.expect_reply(contains="月份「2026-13」无效")


async def test_a_restart_in_the_middle_of_the_checklist_resumes_the_patrol(world: World) -> None:
    staff = world.user(STAFF)
    await check_in(staff)
    await tap(staff, "安全疏散 正常")
    await tap(staff, "消防设施 正常")
    await tap(staff, "用电 有问题")
    await staff.expect_reply(contains="请描述发现的隐患")

    await world.restart()

    await staff.send("插座烧焦")  # the finding step goes on where it was
    await staff.expect_reply(contains="发送隐患照片")
    await tap(staff, "完成")
    await staff.expect_reply(contains="隐患等级")
    await tap(staff, "较大")
    await staff.expect_reply(contains="请确认隐患信息")
    await tap(staff, "✅ 提交")
    await staff.expect_reply(contains="隐患已上报")
    back = await staff.expect_reply(contains="巡查检查项")
    assert "✅ 安全疏散" in back.text and "✅ 消防设施" in back.text and "⚠️ 用电" in back.text
    assert "⬜ 灭火器具" in back.text  # unanswered before the restart, still open
    await tap(staff, "灭火器具 有问题")
    await staff.expect_reply(contains="请描述发现的隐患")
    await tap(staff, "跳过")
    await staff.expect_reply(contains="巡查检查项")

    await world.restart()

    await tap(staff, "其余全部正常")
    await tap(staff, "下一步 ▶")
    await staff.expect_reply(contains="可以发送文字备注")
    await staff.send("已现场提醒")
    await staff.expect_reply(contains="已添加备注")
    await tap(staff, "✅ 结束巡查")
    done = await staff.expect_reply(contains="巡查完成")
    assert "发现问题 2 项" in done.text
    [patrol] = await patrols_of(world, STAFF)
    assert patrol.status == "done" and patrol.counted and patrol.notes == "已现场提醒"
    items = {i["name"]: i["status"] for i in patrol.checklist["items"]}
    assert items == {
        "安全疏散": "ok",
        "消防设施": "ok",
        "灭火器具": "problem",
        "用火": "ok",
        "用电": "problem",
        "用气": "ok",
        "用油": "ok",
    }
