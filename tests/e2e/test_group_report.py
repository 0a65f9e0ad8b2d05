"""A hazard reported in one group message (issue 16 pt 4), through the emulator in privacy
mode: the caption read, the one-line prompts for what is missing, the one-tap confirmation,
the case filed in the group's grid with its card posted back, the deep link to private, and
every bad input and foreign or stale press (fire-safety-5-level.yaml, group of LH-01-1)."""

from __future__ import annotations

from sqlmodel import col, select

from domain.cases import Severity
from storage.models import Case, Grid
from tests.e2e.case_steps import (
    GUARD,
    GUARD2,
    PIANQU_LEADER,
    crafted_press,
    events,
    set_chat,
    tap,
)
from tests.e2e.harness import ADMIN_TG_ID, BOT_USERNAME, World

OUTSIDER = 800000030  # 林和西书记: not of LH-01-1
BOT = f"@{BOT_USERNAME}"


async def group_of(world: World, *, bound: bool = True, admin: bool = False) -> int:
    chat = world.emu.create_group(
        "林和东第1片区群",
        members=[GUARD, GUARD2, PIANQU_LEADER, OUTSIDER],
        admins=[ADMIN_TG_ID],
        supergroup=True,
        bot_admin=admin,
    )
    if bound:
        await set_chat(world, chat_id=chat.id, grid_code="LH-01-1")
    return chat.id


async def rebind(world: World, chat_id: int, code: str) -> None:
    """The group is bound to grid `code` instead (as /bind does: one grid a group)."""
    async with world.db.session() as s:
        for grid in (await s.exec(select(Grid).where(Grid.group_chat_id == chat_id))).all():
            grid.group_chat_id = None
            s.add(grid)
    await set_chat(world, chat_id=chat_id, grid_code=code)


async def cases(world: World) -> list[Case]:
    async with world.db.session() as s:
        return list((await s.exec(select(Case).order_by(col(Case.id)))).all())


async def grid_id(world: World, code: str) -> int:
    async with world.db.session() as s:
        grid = (await s.exec(select(Grid).where(Grid.code == code))).one()
        assert grid.id is not None
        return grid.id


async def test_one_message_with_everything_is_one_tap_from_a_case(world: World) -> None:
    chat_id = await group_of(world)
    guard = world.user(GUARD).in_group(chat_id)
    await guard.send_photo(caption=f"{BOT} 用电隐患 配电箱电线裸露 地点：3号楼东侧 较大")
    draft = await guard.expect_reply(contains="待确认")
    for part in ("用电隐患", "配电箱电线裸露", "3号楼东侧", "较大", "照片：1 张", "林和东第1片区"):
        assert part in draft.text, draft.text
    assert await cases(world) == []
    await tap(guard, "✅ 提交")
    done = await guard.expect_reply(contains="已上报")
    assert done.edited and done.button_texts == []
    [case] = await cases(world)
    assert case.code in done.text
    assert case.grid_id == await grid_id(world, "LH-01-1")
    assert (case.category, case.severity, case.address) == ("用电隐患", Severity.MAJOR, "3号楼东侧")
    assert case.description == "用电隐患 配电箱电线裸露"
    assert len(case.photos) == 1
    # The card comes back to the group, with the group's buttons.
    card = await guard.expect_reply(contains=f"隐患 {case.code}")
    assert not card.edited and card.message_id != done.message_id and card.button_texts


async def test_missing_category_then_place_are_asked_one_line_each(world: World) -> None:
    chat_id = await group_of(world)
    guard = world.user(GUARD).in_group(chat_id)
    await guard.send_photo(caption="/report 楼道里的管子有味道")
    ask = await guard.expect_reply(contains="还缺隐患类别")
    assert "燃气隐患" in ask.button_texts and "✏️ 在私聊中补充" in ask.button_texts
    # Someone else's press on the reporter's buttons: politely refused, nothing changes.
    await guard2_press(world, chat_id, "燃气隐患", contains="只有上报人本人")
    await tap(guard, "燃气隐患")
    place = await guard.expect_reply(contains="还缺地点")
    assert place.edited and place.message_id == ask.message_id
    # A place too long to keep is answered, not dropped.
    await guard.send("长" * 400, reply_to=place)
    await guard.expect_reply(contains="地址太长")
    await guard.send("5号楼楼道", reply_to=place)
    draft = await guard.expect_reply(contains="待确认")
    assert "燃气隐患" in draft.text and "5号楼楼道" in draft.text and "一般" in draft.text
    await tap(guard, "✅ 提交")
    await guard.expect_reply(contains="已上报")
    [case] = await cases(world)
    assert (case.category, case.address, case.severity) == ("燃气隐患", "5号楼楼道", "general")


async def guard2_press(world: World, chat_id: int, text: str, *, contains: str) -> None:
    other = world.user(GUARD2).in_group(chat_id)
    await other.press(text)
    answer = await other.expect_answer()
    assert contains in (answer.text or ""), answer.text


async def test_a_location_reply_and_a_reply_to_the_bot_start_and_finish_reports(
    world: World,
) -> None:
    chat_id = await group_of(world)
    guard = world.user(GUARD).in_group(chat_id)
    await guard.send("/report")  # the command alone: the deep link, as before
    hint = await guard.expect_reply(contains="私聊")
    # A photo replying to the bot is a report too, with no mention needed.
    world.emu.user_send_photo(GUARD, chat_id, caption="灭火器具过期了", reply_to=hint.message_id)
    place = await guard.expect_reply(contains="还缺地点")
    world.emu.user_send_location(GUARD, 23.1291, 113.2644, chat_id, reply_to=place.message_id)
    draft = await guard.expect_reply(contains="待确认")
    assert "灭火器具缺失失效" in draft.text and "📍 23.12910, 113.26440" in draft.text
    await tap(guard, "✅ 提交")
    await guard.expect_reply(contains="已上报")
    [case] = await cases(world)
    assert (case.lat, case.lon, case.category) == (23.1291, 113.2644, "灭火器具缺失失效")


async def test_bad_inputs_and_stale_or_foreign_presses(world: World) -> None:
    chat_id = await group_of(world)
    guard = world.user(GUARD).in_group(chat_id)
    outsider = world.user(OUTSIDER).in_group(chat_id)
    # Privacy mode: a photo neither for the bot nor replying to it is never seen.
    await guard.send_photo(caption="今天天气不错")
    await guard.expect_silence()
    await outsider.send_photo(caption=f"{BOT} 用电隐患 地点：1号楼")
    await outsider.expect_reply(contains="不是本群网格")
    await guard.send_photo(caption=f"{BOT} 用电隐患 地点：1号楼")
    draft = await guard.expect_reply(contains="待确认")
    submit = draft.button_data["✅ 提交"]
    # The other guard presses Submit on it: refused, and no case.
    other = world.user(GUARD2).in_group(chat_id)
    entries = await crafted_press(world, other, draft, submit)
    assert any("只有上报人本人" in str(e.detail.get("text")) for e in entries)
    assert await cases(world) == []
    await tap(guard, "✖ 放弃")
    await guard.expect_reply(contains="放弃了这条上报")
    entries = await crafted_press(world, guard, draft, submit)
    assert any("已失效" in str(e.detail.get("text")) for e in entries)
    assert await cases(world) == []
    # The group is bound to another grid before the tap: the draft is stale, nothing filed.
    await guard.send_photo(caption=f"{BOT} 用电隐患 地点：1号楼")
    moved = await guard.expect_reply(contains="待确认")
    await rebind(world, chat_id, "LH-01-2")
    entries = await crafted_press(world, guard, moved, moved.button_data["✅ 提交"])
    assert any("已失效" in str(e.detail.get("text")) for e in entries)
    assert await cases(world) == []
    await rebind(world, chat_id, "LH-01-1")
    # A forged category index is refused as stale.
    await guard.send_photo(caption=f"{BOT} 什么东西坏了")
    ask = await guard.expect_reply(contains="还缺隐患类别")
    forged = ask.button_data["燃气隐患"].rsplit(":", 1)[0] + ":99"
    entries = await crafted_press(world, guard, ask, forged)
    assert any("已失效" in str(e.detail.get("text")) for e in entries)


async def test_a_group_bound_to_no_grid_says_so(world: World) -> None:
    chat_id = await group_of(world, bound=False)
    guard = world.user(GUARD).in_group(chat_id)
    await guard.send_photo(caption=f"{BOT} 用电隐患 地点：1号楼")
    await guard.expect_reply(contains="还没有绑定网格")
    assert await cases(world) == []


async def test_an_album_where_the_bot_is_admin_keeps_every_photo(world: World) -> None:
    chat_id = await group_of(world, admin=True)
    guard = world.user(GUARD).in_group(chat_id)
    await guard.send_album(3, caption=f"{BOT} 消防通道堵塞 楼梯口堆满纸箱 地点：2号楼")
    await guard.expect_reply(contains="待确认")
    await tap(guard, "✅ 提交")
    await guard.expect_reply(contains="已上报")
    [case] = await cases(world)
    assert len(case.photos) == 3


async def test_missing_details_go_on_in_private_through_the_deep_link(world: World) -> None:
    chat_id = await group_of(world)
    world.everyone_opened_the_bot()
    guard = world.user(GUARD).in_group(chat_id)
    await guard.send_photo(caption=f"{BOT} 用电隐患 插线板烧黑了")
    ask = await guard.expect_reply(contains="还缺地点")
    link = next(b["url"] for row in ask.entry.buttons for b in row if "url" in b)
    payload = link.split("start=", 1)[1]
    private = world.user(GUARD)
    await private.start(payload)
    await private.expect_reply(contains="继续填写")
    await private.expect_reply(contains="发送位置")
    moved = await guard.expect_reply(contains="改在私聊中继续填写")
    assert moved.edited and moved.button_texts == []
    await private.press("📍 发送当前位置", location=(23.1291, 113.2644))
    summary = await private.expect_reply(contains="请确认隐患信息")
    assert "用电隐患" in summary.text and "插线板烧黑了" in summary.text
    await tap(private, "✅ 提交")
    await private.expect_reply(contains="已上报")
    [case] = await cases(world)
    assert case.grid_id == await grid_id(world, "LH-01-1")
    await guard.expect_reply(contains=f"隐患 {case.code}")  # the card, in the group
    # The group's old prompt, and the link itself, are spent.
    await private.start(payload)
    await private.expect_reply(contains="已失效")


async def test_a_likely_duplicate_can_be_joined_instead(world: World) -> None:
    chat_id = await group_of(world)
    guard = world.user(GUARD).in_group(chat_id)
    await guard.send_photo(caption=f"{BOT} 燃气隐患 厨房有燃气味 地点：食堂")
    await guard.expect_reply(contains="待确认")
    await tap(guard, "✅ 提交")
    await guard.expect_reply(contains="已上报")
    [first] = await cases(world)
    other = world.user(GUARD2).in_group(chat_id)
    other.skip_pending()  # what was said to the first reporter
    await other.send_photo(caption=f"{BOT} 燃气隐患 食堂后厨燃气味很重 地点：食堂")
    draft = await other.expect_reply(contains="待确认")
    assert "附近可能已有相同隐患" in draft.text and first.code in draft.text
    await tap(other, f"作为补充加入 {first.code}")
    done = await other.expect_reply(contains="作为补充意见加入隐患")
    assert done.edited and first.code in done.text and done.button_texts == []
    assert [c.code for c in await cases(world)] == [first.code]
    assert (await events(world, first.code))[-1] == "commented"
