"""A patrol's problem is reported like /report (photos, then a confirmation) under the
deployment's category for the checklist item; categories are the deployment's and the
English UI shows their English labels; starting /patrol or /report in the middle of the
other (or /report again) asks whether to keep the draft. fire-safety-5-level.yaml."""

from __future__ import annotations

from sqlmodel import select

from storage.models import Case, Patrol, Person
from tests.e2e.case_steps import COMMUNITY_LEADER, GUARD, HERE, card, report_up_to_photos, tap
from tests.e2e.harness import World

STAFF = 800000021  # 林和东专管员, community staff of 林和东社区 (LH-01), monthly quota
DISTRICT = 800000001  # 区长, told of every 重大 hazard at once
KEEP = ["继续填写", "放弃并开始新的"]


async def check_in(world: World) -> None:
    staff = world.user(STAFF)
    await staff.send("/patrol")
    await staff.expect_reply(contains="发送您的当前位置")
    await staff.press("📍 发送当前位置", location=HERE)
    await staff.expect_reply(contains="已签到")
    await staff.expect_reply(contains="巡查检查项")


async def cases_of(world: World) -> list[Case]:
    async with world.db.session() as s:
        return list((await s.exec(select(Case))).all())


async def test_a_patrol_problem_walks_photos_and_a_confirmation(world: World) -> None:
    world.everyone_opened_the_bot()
    staff = world.user(STAFF)
    await check_in(world)
    await tap(staff, "用气 有问题")
    await staff.expect_reply(contains="请描述发现的隐患")
    await staff.send("燃气管道接口漏气")
    photos = await staff.expect_reply(contains="发送隐患照片")
    assert photos.kind == "sent" and photos.button_texts == ["完成"]
    await staff.send_photo()
    await staff.expect_reply(contains="已收到照片")
    await tap(staff, "完成")
    await staff.expect_reply(contains="隐患等级")
    await tap(staff, "重大")
    sure = await staff.expect_reply(contains="请确认隐患信息")
    assert sure.kind == "sent"
    assert sure.button_texts == ["✅ 提交", "« 返回", "不上报，只记录问题"]
    assert "类别：燃气隐患" in sure.text and "照片：1 张" in sure.text
    assert "严重程度：重大" in sure.text
    assert await cases_of(world) == []  # nothing filed before the confirmation, even 重大
    district = world.user(DISTRICT)
    await district.expect_silence()

    await tap(staff, "« 返回", message=sure)
    await staff.expect_reply(contains="隐患等级")
    await tap(staff, "较大")
    sure = await staff.expect_reply(contains="请确认隐患信息")
    assert "严重程度：较大" in sure.text
    await tap(staff, "✅ 提交", message=sure)
    opened = await staff.expect_reply(contains="隐患已上报")
    await staff.expect_reply(contains="巡查检查项")

    [case] = await cases_of(world)
    assert case.category == "燃气隐患"  # the deployment's category for 用气, not "用气"
    assert case.severity == "major" and len(case.photos) == 1
    assert case.code in opened.text
    async with world.db.session() as s:
        patrol = (await s.exec(select(Patrol).where(Patrol.id == case.patrol_id))).one()
    assert patrol.person_id is not None
    leader = world.user(COMMUNITY_LEADER)
    new_card = await card(leader, case.code, "已上报")
    assert new_card.kind == "sent" and "立案" in new_card.button_texts
    await district.expect_silence()  # a 较大 hazard is not pushed to the root


async def test_the_english_ui_shows_the_deployments_categories_in_english(world: World) -> None:
    world.everyone_opened_the_bot()
    async with world.db.session() as s:
        guard = (await s.exec(select(Person).where(Person.tg_id == GUARD))).one()
        guard.language = "en"
        s.add(guard)
    u = world.user(GUARD)
    await u.send("/report")
    asked = await u.expect_reply()
    assert asked.kind == "sent"
    shown = [b for b in asked.button_texts if b != "« Back"]
    assert shown == [
        "Blocked fire exit",
        "Damaged fire equipment",
        "Missing or expired extinguisher",
        "Fire hazard",
        "Electrical hazard",
        "Gas hazard",
        "Fuel and oil hazard",
        "Other",
    ], asked.button_texts
    answer = await tap(u, "Electrical hazard")
    assert answer.text == "Electrical hazard"
    await u.expect_reply(contains="Describe the hazard")
    await u.send("Exposed wires in the stairwell")
    await u.expect_reply(contains="Send photos")
    await tap(u, "Done")
    await u.expect_reply(contains="send the location")
    await u.send("Building 3, ground floor")
    await u.expect_reply(contains="How serious")
    await tap(u, "general")
    summary = await u.expect_reply()
    assert "Electrical hazard" in summary.text and "用电隐患" not in summary.text


async def test_patrol_in_the_middle_of_a_report_asks_to_keep_the_draft(world: World) -> None:
    world.everyone_opened_the_bot()
    staff = world.user(STAFF)
    await report_up_to_photos(staff, category="用电隐患", description="配电箱门损坏")

    await staff.send("/patrol")
    asked = await staff.expect_reply(contains="尚未提交的隐患上报草稿")
    assert asked.kind == "sent" and asked.button_texts == KEEP
    await tap(staff, "继续填写", message=asked)
    await staff.expect_reply(contains="草稿已保留")
    again = await staff.expect_reply(contains="发送隐患照片")  # the step it was at
    assert again.kind == "sent" and "完成" in again.button_texts
    await tap(staff, "完成")
    await staff.expect_reply(contains="发送位置")

    await staff.send("/report")  # /report again asks too
    asked = await staff.expect_reply(contains="尚未提交的隐患上报草稿")
    assert asked.button_texts == KEEP

    await staff.send("/patrol")
    asked = await staff.expect_reply(contains="尚未提交的隐患上报草稿")
    await tap(staff, "放弃并开始新的", message=asked)
    await staff.expect_reply(contains="发送您的当前位置")  # the patrol starts
    await staff.press("📍 发送当前位置", location=HERE)
    await staff.expect_reply(contains="巡查检查项")
    assert await cases_of(world) == []

    await staff.send("/report")  # now a patrol is open: asked about it
    asked = await staff.expect_reply(contains="尚未结束的巡查")
    assert asked.button_texts == KEEP
    await tap(staff, "继续填写", message=asked)
    await staff.expect_reply(contains="巡查继续进行")
    checklist = await staff.expect_reply(contains="巡查检查项")
    assert "用电 有问题" in checklist.button_texts
    await staff.send("/report")
    asked = await staff.expect_reply(contains="尚未结束的巡查")
    await tap(staff, "放弃并开始新的", message=asked)
    await staff.expect_reply(contains="隐患类别")  # the report starts
