"""/report through the emulator: wrong input, albums, back and edit, duplicates, groups, and a
restart in the middle of the flow (fire-safety-5-level.yaml)."""

from __future__ import annotations

from bot.render.report import ReportCb, ReportPress
from tests.e2e.case_steps import (
    GUARD,
    GUARD2,
    HERE,
    PIANQU_LEADER,
    case_row,
    crafted_press,
    events,
    meet,
    report,
    set_chat,
    tap,
)
from tests.e2e.harness import World


async def test_wrong_input_keeps_the_step_and_back_and_edit_work(world: World) -> None:
    await meet(world, GUARD)
    u = world.user(GUARD)
    await u.send("上报隐患")  # the menu button
    await u.expect_reply(contains="隐患类别")
    await tap(u, "用电隐患")
    await u.expect_reply(contains="描述隐患")
    await u.send_photo()
    await u.expect_reply(contains="需要文字描述")
    await u.send("长" * 5000)
    await u.expect_reply(contains="5000 字")
    await tap(u, "« 返回")
    await u.expect_reply(contains="隐患类别")
    await tap(u, "燃气隐患")
    await u.expect_reply(contains="描述隐患")
    await u.send("燃气管道 <漏气>")
    await u.expect_reply(contains="发送隐患照片")
    await u.send_document(b"not a photo", "x.pdf")
    await u.expect_reply(contains="贴纸、文件等无法作为照片")
    await u.send_album(3)
    await u.expect_reply(contains="已收到照片")
    await tap(u, "完成")
    await u.expect_reply(contains="发送位置")
    await u.send("某小区3号楼一层")
    await u.expect_reply(contains="已记录地址")
    await u.expect_reply(contains="严重程度")
    await tap(u, "较大")
    summary = await u.expect_reply(contains="请确认隐患信息")
    assert "燃气隐患" in summary.text and "照片：3 张" in summary.text
    assert "&lt;漏气&gt;" not in summary.text and "<漏气>" in summary.text
    await tap(u, "改程度")
    await u.expect_reply(contains="严重程度")
    await tap(u, "一般")
    summary = await u.expect_reply(contains="请确认隐患信息")
    assert "严重程度：一般" in summary.text
    await tap(u, "✅ 提交")
    await u.expect_reply(contains="已上报")


async def test_a_duplicate_is_offered_and_added_as_a_comment(world: World) -> None:
    await meet(world, GUARD, GUARD2, PIANQU_LEADER)
    code = await report(world, GUARD)
    u = world.user(GUARD2)
    await u.send("/report")
    await u.expect_reply(contains="隐患类别")
    await tap(u, "消防通道堵塞")
    await u.expect_reply(contains="描述隐患")
    await u.send("三楼楼道堵了")
    await u.expect_reply(contains="发送隐患照片")
    await tap(u, "完成")
    await u.expect_reply(contains="发送位置")
    await u.press("📍 发送当前位置", location=(HERE[0] + 0.0001, HERE[1]))
    await u.expect_reply(contains="严重程度")
    await tap(u, "一般")
    summary = await u.expect_reply(contains="可能已有相同隐患")
    assert code in summary.text
    await tap(u, f"作为补充加入 {code}")
    await u.expect_reply(contains="补充意见")
    assert await events(world, code) == ["reported", "commented"]
    await world.user(PIANQU_LEADER).expect_reply(contains="三楼楼道堵了")


async def test_report_in_a_group_answers_with_a_deep_link(world: World) -> None:
    group = world.emu.create_group("林和东第1片区群", members=[GUARD])
    await set_chat(world, grid_code="LH-01-1", chat_id=group.id)
    g = world.user(GUARD).in_group(group.id)
    await g.send("/report")
    reply = await g.expect_reply(contains="私聊")
    url = reply.entry.buttons[0][0]["url"]
    assert url.startswith("https://t.me/") and "start=report_" in url
    payload = url.split("start=")[1]
    u = world.user(GUARD)
    await u.start(payload)
    await u.expect_reply(contains="隐患类别")


async def test_a_restart_mid_report_resumes_with_the_photos_already_sent(world: World) -> None:
    await meet(world, GUARD)
    u = world.user(GUARD)
    await u.send("/report")
    await u.expect_reply(contains="隐患类别")
    await tap(u, "火灾隐患")
    await u.expect_reply(contains="描述隐患")
    await u.send("厨房油烟管道积油")
    await u.expect_reply(contains="发送隐患照片")
    await u.send_photo()
    await u.expect_reply(contains="共 1 张")
    await u.send_photo()
    await u.expect_reply(contains="共 2 张")
    await world.restart()
    await u.send_photo()
    await u.expect_reply(contains="共 3 张")
    await tap(u, "完成")
    await u.expect_reply(contains="发送位置")
    await u.press("📍 发送当前位置", location=HERE)
    await u.expect_reply(contains="严重程度")
    await tap(u, "一般")
    await u.expect_reply(contains="照片：3 张")
    await tap(u, "✅ 提交")
    done = await u.expect_reply(contains="已上报")
    code = done.text.split("隐患编号")[1].split("，")[0].strip()
    assert len((await case_row(world, code)).photos) == 3


async def test_a_forged_add_to_button_joins_no_case_that_was_not_offered(world: World) -> None:
    # GUARD's case is a blocked exit; GUARD2 reports wiring elsewhere, so nothing is offered,
    # and then sends the "add to" data with GUARD's case id anyway.
    await meet(world, GUARD, GUARD2)
    code = await report(world, GUARD)
    target = await case_row(world, code)
    u = world.user(GUARD2)
    await u.send("/report")
    await u.expect_reply(contains="隐患类别")
    await tap(u, "用电隐患")
    await u.expect_reply(contains="描述隐患")
    await u.send("配电箱电线裸露")
    await u.expect_reply(contains="发送隐患照片")
    await tap(u, "完成")
    await u.expect_reply(contains="发送位置")
    await u.send("另一小区5号楼")
    await u.expect_reply(contains="已记录地址")
    await u.expect_reply(contains="严重程度")
    await tap(u, "一般")
    summary = await u.expect_reply(contains="请确认隐患信息")
    assert "可能已有相同隐患" not in summary.text
    seen = await crafted_press(
        world, u, summary.entry, ReportCb(k=ReportPress.ADD_TO, x=target.id or 0).pack()
    )
    assert [e.kind for e in seen] == ["press", "callback_answer"], u.transcript_text()
    assert "无法补充到该隐患" in (seen[-1].detail.get("text") or "")
    assert await events(world, code) == ["reported"]
    # The draft is kept: the real submit still works.
    await tap(u, "✅ 提交")
    await u.expect_reply(contains="已上报")
