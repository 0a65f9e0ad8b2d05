"""Patrols through the emulator on fire-safety-5-level.yaml (now: Tue 2026-03-10 09:00 +08).

People: 800000021 林和东专管员 (community_staff in LH-01, 1 a month), 810000001 a guard of
LH-01-1 (1 a day), 800000001 区长 (admin), 800000020 林和东书记 (leader of LH-01).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlmodel import col, select

from storage.models import Case, Patrol, Person
from tests.e2e.harness import World

STAFF = 800000021
GUARD = 810000001
ADMIN = 800000001
LEADER = 800000020
HERE = (23.1291, 113.2644)


async def patrols_of(world: World, tg_id: int) -> list[Patrol]:
    # A write session (BEGIN IMMEDIATE) waits for the bot's unit of work still holding the
    # write lock after it sent its reply, so what the reply announced is committed here.
    async with world.db.session() as s:
        person = (await s.exec(select(Person).where(Person.tg_id == tg_id))).one()
        rows = await s.exec(
            select(Patrol).where(Patrol.person_id == person.id).order_by(col(Patrol.id))
        )
        return list(rows.all())


async def tap(u: Any, text: str) -> None:
    """Press an inline button and wait for the bot's answer, so presses stay in order."""
    await u.press(text)
    await u.expect_answer()


async def finish(u: Any, *, all_ok: bool = True) -> Any:
    if all_ok:
        await tap(u, "其余全部正常")
    await tap(u, "下一步 ▶")
    await u.expect_reply(contains="可以发送文字备注")
    await tap(u, "✅ 结束巡查")
    return await u.expect_reply(contains="巡查完成")


async def quick_check_in(u: Any, at: tuple[float, float] = HERE) -> Any:
    await u.send("/patrol")
    await u.expect_reply(contains="快速打卡")
    await tap(u, "⚡ 快速打卡")
    await u.expect_reply(contains="请点击下方按钮发送您的当前位置")
    await u.press("📍 发送当前位置", location=at)
    return await u.expect_reply(contains="已快速打卡")


async def test_full_patrol_with_a_problem_opens_a_hazard_and_comes_back(world: World) -> None:
    admin = world.user(ADMIN)
    await admin.send("/quota community_staff month 5")
    await admin.expect_reply(contains="每月巡查 5 次")

    staff = world.user(STAFF)
    await staff.send("巡查打卡")  # the menu button
    await staff.expect_reply(contains="发送您的当前位置")
    await staff.press("📍 发送当前位置", location=HERE)
    await staff.expect_reply(contains="已签到")
    checklist = await staff.expect_reply(contains="巡查检查项")
    assert "安全疏散 正常" in checklist.button_texts

    await tap(staff, "安全疏散 正常")
    await tap(staff, "用电 有问题")
    await staff.expect_reply(contains="请描述发现的隐患")
    await staff.send("配电箱电线老化 <裸露>")
    await staff.expect_reply(contains="发送隐患照片")
    await tap(staff, "完成")
    await staff.expect_reply(contains="隐患等级")
    await tap(staff, "较大")
    await staff.expect_reply(contains="请确认隐患信息")
    await tap(staff, "✅ 提交")
    opened = await staff.expect_reply(contains="隐患已上报")
    back = await staff.expect_reply(contains="巡查检查项")
    assert "用电 有问题" in back.text and "&lt;裸露&gt;" not in back.text  # escaped, not raw
    await tap(staff, "其余全部正常")
    await tap(staff, "下一步 ▶")
    await staff.expect_reply(contains="可以发送文字备注")
    await staff.send("已通知物业整改")
    await staff.expect_reply(contains="已添加备注")
    await tap(staff, "✅ 结束巡查")
    done = await staff.expect_reply(contains="巡查完成")
    assert "发现问题 1 项" in done.text
    assert "本月第1次巡查，目标5次，还差4次，剩22天" in done.text

    [patrol] = await patrols_of(world, STAFF)
    assert patrol.counted and patrol.status == "done" and patrol.notes == "已通知物业整改"
    items = {i["name"]: i for i in patrol.checklist["items"]}
    assert items["用电"]["status"] == "problem" and items["安全疏散"]["status"] == "ok"
    async with world.db.session() as s:
        case = (await s.exec(select(Case).where(Case.patrol_id == patrol.id))).one()
    assert case.category == "用电隐患" and case.grid_id == patrol.grid_id
    assert case.lat == HERE[0] and case.code in opened.text


async def test_quick_check_in_for_a_daily_role(world: World) -> None:
    guard = world.user(GUARD)
    done = await quick_check_in(guard)
    assert "今日第1次巡查，目标1次，已完成" in done.text
    [patrol] = await patrols_of(world, GUARD)
    assert patrol.kind == "quick" and patrol.counted and patrol.flags == []


async def test_live_location_patrol_keeps_the_route(world: World) -> None:
    staff = world.user(STAFF)
    await staff.send("/patrol")
    await staff.expect_reply(contains="发送您的当前位置")
    live = await staff.send_live_location(*HERE)
    await staff.expect_reply(contains="实时位置轨迹")
    await staff.expect_reply(contains="巡查检查项")
    world.clock.advance(timedelta(minutes=10))
    await live.move(HERE[0] + 0.001, HERE[1])  # ~111 m north
    world.clock.advance(timedelta(minutes=10))
    await live.move(HERE[0] + 0.002, HERE[1])
    done = await finish(staff)
    assert "轨迹" in done.text and "20 分钟" in done.text
    [patrol] = await patrols_of(world, STAFF)
    assert patrol.route is not None and patrol.route["points_count"] == 3
    assert 215 < patrol.route["distance_m"] < 230
    assert patrol.route["duration_s"] == 1200


async def test_a_check_in_outside_the_geofence_is_flagged(world: World) -> None:
    admin = world.user(ADMIN)
    await admin.send("/geofence LH-01-1 23.1000 113.2000 300")
    await admin.expect_reply(contains="已为「林和东第1片区」设置电子围栏")
    guard = world.user(GUARD)
    done = await quick_check_in(guard)  # ~7 km away
    assert "不计入考核" in done.text and "位置不在网格范围内" in done.text
    [patrol] = await patrols_of(world, GUARD)
    assert not patrol.counted and patrol.flags == ["outside_geofence"]

    leader = world.user(LEADER)
    await leader.send("/patrols LH-01 day")
    stats = await leader.expect_reply(contains="巡查情况")
    assert "异常打卡（不计入考核）共 1 次" in stats.text


async def test_a_forwarded_location_is_refused_and_the_attempt_kept(world: World) -> None:
    guard = world.user(GUARD)
    await guard.send("/patrol")
    await guard.expect_reply(contains="快速打卡")
    await tap(guard, "⚡ 快速打卡")
    await guard.expect_reply(contains="发送您的当前位置")
    await guard.send_location(*HERE, forwarded_from=810000002)
    await guard.expect_reply(contains="转发的位置不能用于巡查打卡")
    await guard.press("📍 发送当前位置", location=HERE)
    done = await guard.expect_reply(contains="已快速打卡")
    assert "今日第1次巡查" in done.text and "不计入" not in done.text
    refused, counted = await patrols_of(world, GUARD)
    assert refused.status == "refused" and refused.flags == ["forwarded"] and not refused.counted
    assert counted.counted


async def test_too_frequent_patrols_do_not_count(world: World) -> None:
    staff = world.user(STAFF)
    for minutes, where in ((0, HERE), (20, (HERE[0] + 0.001, HERE[1]))):
        world.clock.advance(timedelta(minutes=minutes))
        await staff.send("/patrol")
        await staff.expect_reply(contains="发送您的当前位置")
        await staff.press("📍 发送当前位置", location=where)
        await staff.expect_reply(contains="已签到")
        await staff.expect_reply(contains="巡查检查项")
        done = await finish(staff)
    assert "间隔太短" in done.text
    assert "本月第1次巡查，目标1次，已完成" in done.text
    first, second = await patrols_of(world, STAFF)
    assert first.counted and not second.counted and second.flags == ["too_soon"]


async def test_my_shows_each_quota_and_patrols_is_for_leaders(world: World) -> None:
    guard = world.user(GUARD)
    await quick_check_in(guard)
    await guard.send("/my")
    my = await guard.expect_reply(contains="巡查考核")
    assert "今日目标1次，已完成1次，按进度应完成1次，还差0次，剩1天" in my.text
    await guard.send("/patrols LH-01")
    await guard.expect_reply(contains="只有该网格及上级网格的网格长")

    head = world.user(800000010)  # 林和街道主任, leader of LH (above LH-01)
    await head.send("/patrols LH-01 day")
    stats = await head.expect_reply(contains="巡查情况")
    assert "林和东第1片区（LH-01-1）：1/2" in stats.text


async def test_patrol_in_a_group_answers_with_a_deep_link_into_private(world: World) -> None:
    chat = world.emu.create_group(
        "林和东社区群", members=[STAFF], admins=[LEADER], bot_member=True, creator=LEADER
    )
    staff = world.user(STAFF)
    in_group = staff.in_group(chat.id)
    await in_group.send("/patrol")
    reply = await in_group.expect_reply(contains="私聊")
    inline = reply.raw["reply_markup"]["inline_keyboard"]
    [url] = [b["url"] for row in inline for b in row if "url" in b]
    payload = url.split("?start=", 1)[1]
    assert payload == "patrol"
    await staff.start(payload)
    await staff.expect_reply(contains="发送您的当前位置")
