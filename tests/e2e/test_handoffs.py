"""Hand-offs through the emulator (fire-safety-5-level.yaml): whenever a case moves to someone,
they get a NEW message (not an edit) with the buttons they need, their older card of the
case loses its buttons and points to the new one, and the reporter is told of the step.
The verifier gets the feedback's photos as an album; an escalated card says from where and
why; a transfer to a department without a chat is held, said at once and listed in /today,
and delivered once the department binds its chat."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from bot.render.case_buttons import CardTool, CaseTool
from tests.e2e.case_steps import (
    COMMUNITY_LEADER,
    GUARD,
    GUARD2,
    GUARD2_LABEL,
    PIANQU_LEADER,
    accept,
    accept_and_transfer,
    assign,
    card,
    case_row,
    crafted_press,
    deliveries,
    press_on,
    report,
    set_chat,
    tap,
)
from tests.e2e.conftest import SHANGHAI
from tests.e2e.harness import ADMIN_TG_ID, World

RETIRED = "见下方最新卡片"
OFFICER = 800000011  # stands in for the fire brigade's duty officer in its group


async def handed(u: Any, says: str, buttons: set[str]) -> Any:
    """The next message here saying `says`: a new message (not an edit) with these buttons."""
    msg = await u.expect_reply(contains=says)
    assert msg.kind == "sent", f"an edit is silent: {msg}"
    assert buttons <= set(msg.button_texts), msg.button_texts
    return msg


async def retired(u: Any, old: Any) -> None:
    """The older card `old` is edited to point below and has no buttons left."""
    msg = await u.expect_reply(contains=RETIRED)
    assert msg.edited and msg.message_id == old.message_id
    assert msg.button_texts == []


async def told(world: World, tg_id: int, says: str) -> None:
    """The reporter hears of the step in private."""
    await world.user(tg_id).expect_reply(contains=says)


async def test_each_hand_off_is_a_new_card_and_the_old_one_goes_quiet(world: World) -> None:
    world.everyone_opened_the_bot()
    code = await report(world)
    leader, guard2 = world.user(PIANQU_LEADER), world.user(GUARD2)
    leader_card = await accept(world, code, PIANQU_LEADER)  # the first card, edited

    # 派遣: the assignee gets a new card with what they must do.
    await assign(leader, leader_card, GUARD2_LABEL)
    first = await handed(guard2, "派遣给您", {"签收", "处理反馈", "申请延期"})
    await told(world, GUARD, "已派遣")

    # 处理反馈 with two photos: the verifier gets them as an album with the text, then a new
    # card with the verification's buttons; their older card goes quiet.
    await press_on(guard2, first, "处理反馈")
    await guard2.expect_reply(contains="描述处理情况")
    await guard2.send("杂物已清走，通道畅通")
    await guard2.expect_reply(contains="上传处理后的照片")
    for n in (1, 2):
        await guard2.send_photo()
        await guard2.expect_reply(contains=f"已收到 {n} 张照片")
    await tap(guard2, "完成")
    await guard2.expect_reply(contains="待核查")
    album = await leader.expect_reply(contains="杂物已清走，通道畅通")
    assert album.kind == "sent" and album.photo and album.raw.get("media_group_id")
    second_photo = await leader.expect_reply()
    assert second_photo.photo and second_photo.raw["media_group_id"] == album.raw["media_group_id"]
    verify = await handed(leader, "请核查", {"核查通过", "返工"})
    await retired(leader, leader_card)
    await told(world, GUARD, "处理反馈")

    # 返工: back to the assignee with the leader's reason, on a new card.
    await press_on(leader, verify, "返工")
    await leader.expect_reply(contains="核查未通过的原因")
    await leader.send("楼梯口仍有纸箱")
    await leader.expect_reply(contains="当前状态：处理中")
    rework = await handed(guard2, "返工原因：楼梯口仍有纸箱", {"处理反馈", "申请延期"})
    assert "返工次数：1（返工原因：楼梯口仍有纸箱）" in rework.text
    await retired(guard2, first)
    await told(world, GUARD, "返工")

    # 申请延期: the leader gets a new card to approve or refuse.
    await press_on(guard2, rework, "申请延期")
    await guard2.expect_reply(contains="需要延期多久")
    await tap(guard2, "3 个工作日")
    await guard2.expect_reply(contains="申请延期的原因")
    await guard2.send("需要物业配合清运")
    await guard2.expect_reply(contains="申请延期")
    ask = await handed(leader, "申请延期 3 个工作日", {"同意延期", "不同意延期"})
    await retired(leader, verify)
    await told(world, GUARD, "申请延期")

    # 改派: the new assignee gets a new card; the old one's card is edited in place.
    await assign(leader, ask, "林和东第1片区 · 保安巡查员1")
    await handed(world.user(GUARD), "改派给您", {"签收", "处理反馈"})
    moved_away = await card(guard2, code, "状态：已派遣")
    assert moved_away.edited and "处理反馈" not in moved_away.button_texts
    await told(world, GUARD, "改派")


async def test_an_escalated_card_says_from_where_and_why(world: World) -> None:
    world.everyone_opened_the_bot()
    code = await report(world)
    leader = world.user(PIANQU_LEADER)
    posted = await card(leader, code, "已上报")
    await press_on(leader, posted, "逐级上报")
    await leader.expect_reply(contains="上报上级的原因")
    await leader.send("涉及多个单位，本级无法协调")
    await leader.expect_reply(contains="逐级上报")
    above = await handed(world.user(COMMUNITY_LEADER), "逐级上报至本级", {"立案", "不予立案"})
    assert "逐级上报自 林和东第1片区：涉及多个单位，本级无法协调" in above.text
    # The card the grid below keeps says so too, without the steps it can no longer take.
    below = await card(leader, code)
    assert "逐级上报自 林和东第1片区" in below.text and "立案" not in below.button_texts
    await told(world, GUARD, "逐级上报")


async def test_a_transfer_without_a_chat_is_held_then_delivered_once_bound(world: World) -> None:
    world.everyone_opened_the_bot()
    code = await report(world)
    leader = world.user(PIANQU_LEADER)
    deadline = await accept_and_transfer(world, code, PIANQU_LEADER, "区消防大队")
    assert "确认后填写移交说明并移交" in deadline.text and "派遣" not in deadline.text
    await leader.send("明天")  # a typed deadline keeps the transfer's wording
    typed = await leader.expect_reply(contains="整改期限")
    assert "确认后填写移交说明并移交" in typed.text
    await tap(leader, "确认")
    await leader.expect_reply(contains="请填写移交说明")
    await leader.send("疏散通道被商户长期占用，需执法")
    done = await leader.expect_reply(contains="已移交")
    assert "区消防大队尚未绑定群聊" in done.text and "/bind XFDD" in done.text
    await told(world, GUARD, "移交")
    assert await deliveries(world, f"xfer:{(await case_row(world, code)).id}:") == []

    await leader.send("/today")
    today = await leader.expect_reply(contains="暂存的移交")
    assert f"{code} → 区消防大队" in today.text

    group = world.emu.create_group(
        "区消防大队值班群", members=[OFFICER], admins=[ADMIN_TG_ID], creator=ADMIN_TG_ID
    )
    admin = world.user(ADMIN_TG_ID).in_group(group.id)
    await admin.send("/bind XFDD")
    await admin.expect_reply(contains="暂存的 1 件移交单已送达本群")
    dept = world.user(OFFICER).in_group(group.id)
    dcard = await handed(dept, "移交说明：疏散通道被商户长期占用", {"部门签收", "部门反馈"})
    assert code in dcard.text
    record = await dept.expect_once(contains="隐患移交单")
    assert "说明：疏散通道被商户长期占用，需执法" in record.document_bytes().decode("utf-8")
    await leader.expect_reply(contains="已送达区消防大队")

    # Bound again: nothing goes out twice; /today lists it no more.
    await admin.send("/bind XFDD")
    await admin.expect_reply(contains="无需重复绑定")
    await dept.expect_reply(contains="无需重复绑定")
    await dept.expect_silence()
    await leader.send("/today")
    again = await leader.expect_reply(contains="日报")
    assert "暂存的移交" not in again.text


async def test_the_ledger_sends_every_photo_of_every_step(world: World) -> None:
    world.everyone_opened_the_bot()
    code = await report(world, photos=2)
    leader = world.user(PIANQU_LEADER)
    await leader.send(f"/case {code}")
    await card(leader, code, "已上报")
    ledger = await leader.expect_reply(contains="台账")
    await tap(leader, "📷 照片", message=ledger)
    album = await leader.expect_reply(contains=f"📷 {code}")
    assert "上报" in album.text and album.kind == "sent" and album.photo
    assert album.raw.get("media_group_id")
    assert (await leader.expect_reply()).raw.get("media_group_id") == album.raw["media_group_id"]

    # Someone who may not see the case gets nothing, whatever button data they send.
    outsider = world.user(800000040)
    await outsider.send("/start")
    greeting = await outsider.expect_reply()
    case_id = (await case_row(world, code)).id or 0
    data = CaseTool(id=case_id, a=CardTool.PHOTOS).pack()
    seen = await crafted_press(world, outsider, greeting, data)
    assert not [e for e in seen if e.kind == "sent"]
    await outsider.expect_silence()


async def test_a_changed_deadline_is_a_new_card_for_the_assignee_only(world: World) -> None:
    world.everyone_opened_the_bot()
    code = await report(world)
    leader, guard2 = world.user(PIANQU_LEADER), world.user(GUARD2)
    await assign(leader, await accept(world, code, PIANQU_LEADER), GUARD2_LABEL)
    first = await handed(guard2, "派遣给您", {"签收", "处理反馈"})
    before = (await case_row(world, code)).deadline_at
    assert before is not None
    later = before + timedelta(days=7)

    # 调整期限 +7 days, confirmed.
    await press_on(leader, await card(leader, code, "已派遣"), "调整期限")
    await leader.expect_reply(contains="调整整改期限")
    await tap(leader, "+7")
    await leader.expect_reply(contains="新期限")
    since = len(world.emu.log)
    await tap(leader, "确认")
    await leader.expect_reply(contains="调整期限的原因")
    await leader.send("物业需协调清运车辆")
    await leader.expect_reply(contains="整改期限已改为")

    # The assignee is told with a new message (it makes a sound) naming the new deadline and
    # the old one; their older card goes quiet.
    new = await handed(guard2, f"整改期限调整为 {later.astimezone(SHANGHAI):%Y-%m-%d %H:%M}", set())
    assert f"（原 {before.astimezone(SHANGHAI):%Y-%m-%d %H:%M}）" in new.text
    assert {"签收", "处理反馈", "申请延期"} <= set(new.button_texts)
    assert new.text.startswith("🔔 林和东第1片区·网格长1 将整改期限调整为")
    assert "原因：物业需协调清运车辆" in new.text.split("\n")[0]
    await retired(guard2, first)
    await told(world, GUARD, "调整整改期限")

    # Nobody else gets a new card: the others' cards are edited in place.
    await world.outbox_settled()
    new_cards = [
        e.chat_id
        for e in world.emu.log[since:]
        if e.kind == "sent" and f"隐患 {code}〔" in (e.text or "")
    ]
    assert new_cards == [guard2.chat.id]
    edited = [e.chat_id for e in world.emu.log[since:] if e.kind == "edited"]
    assert leader.chat.id in edited


async def test_a_changed_deadline_of_a_transferred_case_is_a_new_card_for_the_department(
    world: World,
) -> None:
    world.everyone_opened_the_bot()
    group = world.emu.create_group("区消防大队值班群", members=[OFFICER])
    await set_chat(world, dept_code="XFDD", chat_id=group.id)
    code = await report(world)
    leader = world.user(PIANQU_LEADER)
    await accept_and_transfer(world, code, PIANQU_LEADER, "区消防大队")
    await tap(leader, "确认")
    await leader.expect_reply(contains="移交说明")
    await leader.send("占用消防通道，需执法")
    await leader.expect_reply(contains="已移交")
    dept = world.user(OFFICER).in_group(group.id)
    first = await handed(dept, "移交说明：占用消防通道", {"部门签收"})

    await press_on(leader, await card(leader, code, "已移交"), "调整期限")
    await leader.expect_reply(contains="调整整改期限")
    await tap(leader, "+7")
    await leader.expect_reply(contains="新期限")
    await tap(leader, "确认")
    await leader.expect_reply(contains="调整期限的原因")
    await leader.send("执法需要审批时间")
    await leader.expect_reply(contains="整改期限已改为")

    moved = await handed(dept, "原因：执法需要审批时间", {"部门签收", "部门反馈"})
    assert "将整改期限调整为" in moved.text
    await retired(dept, first)
