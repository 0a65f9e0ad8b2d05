"""The demo's web chat in a real browser: a guard reports a hazard by pressing buttons, typing,
uploading a photo and picking a location; the leader, in a second window, 立案s it from the
card; the guard's window shows the hand-off live; the clock jumps to 18:00 and the leader's
evening digest arrives. The screenshot must show something (not a blank page).

GRIDBOT_WEBCHAT_SCREENSHOT=/path.png keeps a copy of the guard's window to look at.
"""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest
from PIL import Image, ImageStat
from playwright.async_api import Browser, Locator, Page, expect

from sandbox.images import make_jpeg

GUARD = 810000001  # 保安巡查员 of 林和东第1片区 (LH-01-1)
LEADER = 810000000  # 网格长 of LH-01-1: the report's card goes to them
WAIT_MS = 30_000


def bot_says(page: Page, text: str) -> Locator:
    return page.locator(".msg.bot", has_text=text).last


async def press(page: Page, on: Locator, label: str) -> None:
    await on.get_by_role("button", name=label, exact=True).click()


async def become(page: Page, url: str, tg_id: int) -> None:
    """Pick the person from the roster (searched by id), then open the bot with 开始."""
    await page.goto(url)
    await page.fill("#roster-filter", str(tg_id))
    await page.locator(f'button.person[data-uid="{tg_id}"]').first.click()
    await expect(page.locator("#me-name")).to_contain_text(str(tg_id))
    await page.click("#start-btn")
    await expect(bot_says(page, "您好")).to_be_visible(timeout=WAIT_MS)


@pytest.mark.sqlite_only("the demo runs on its own embedded SQLite file, as a person starts it")
async def test_a_report_walks_from_the_guard_to_the_leader_and_back(
    browser: Browser, demo: str, tmp_path: Path
) -> None:
    context = await browser.new_context(viewport={"width": 1200, "height": 860}, locale="zh-CN")
    context.set_default_timeout(WAIT_MS)
    guard, leader = await context.new_page(), await context.new_page()
    errors: list[str] = []
    for page in (guard, leader):
        page.on("pageerror", lambda exc: errors.append(str(exc)))

    # The roster groups people by grid and marks leaders.
    await leader.goto(demo)
    await expect(leader.locator("details.grid summary").first).to_contain_text("某区")
    await expect(leader.locator(".badge.leader").first).to_be_visible()
    # Whom to be first: a guard and the leader of the same grid, side by side.
    for tg_id in (GUARD, LEADER):
        await expect(leader.locator(f'.suggest button.person[data-uid="{tg_id}"]')).to_be_visible()
    await become(leader, demo, LEADER)
    await become(guard, demo, GUARD)

    # The guard: the reply keyboard's 上报隐患, then the category's inline button.
    await guard.locator("#keyboard button", has_text="上报隐患").click()
    categories = bot_says(guard, "隐患类别")
    await expect(categories).to_be_visible()
    await press(guard, categories, "消防通道堵塞")
    await expect(bot_says(guard, "描述隐患")).to_be_visible()
    await guard.fill("#text", "三号楼楼道堆放杂物，堵塞安全出口")
    await guard.press("#text", "Enter")
    await expect(bot_says(guard, "发送隐患照片")).to_be_visible()
    photo = tmp_path / "hazard.jpg"
    photo.write_bytes(make_jpeg(320, 240, seed=7))
    await guard.set_input_files("#photo-file", str(photo))
    photo_step = bot_says(guard, "已收到照片")
    await expect(photo_step).to_be_visible()
    await expect(guard.locator(".msg.mine img.photo")).to_be_visible()
    await press(guard, photo_step, "完成")
    await expect(bot_says(guard, "发送位置")).to_be_visible()

    # The location key opens the picker: a spot clicked on the map, then typed coordinates.
    await guard.locator("#keyboard button", has_text="发送当前位置").click()
    await expect(guard.locator("#loc-dialog")).to_be_visible()
    await expect(guard.locator("#loc-map polygon.fence")).to_have_count(1)  # LH-01's
    await expect(guard.locator("#loc-map ellipse.fence")).to_have_count(1)  # LH-02's
    await expect(guard.locator("#loc-map text", has_text="林和东社区")).to_be_visible()
    await guard.locator("#loc-map").click(position={"x": 120, "y": 90})
    await guard.fill("#loc-lat", "23.129100")
    await guard.fill("#loc-lon", "113.264400")
    await guard.click("#loc-send")
    await expect(guard.locator(".msg.mine .loc", has_text="23.12910")).to_be_visible()
    severity = bot_says(guard, "严重程度")
    await expect(severity).to_be_visible()
    await press(guard, severity, "一般")
    summary = bot_says(guard, "请确认隐患信息")
    await expect(summary).to_be_visible()
    await press(guard, summary, "✅ 提交")
    done = bot_says(guard, "已上报")
    await expect(done).to_be_visible()
    code = (await done.inner_text()).split("隐患编号")[1].split("，")[0].strip()
    assert code

    # The leader's window: the card arrived live; 立案 on it.
    card = leader.locator(".msg.bot", has_text=code).filter(has_text="已上报").last
    await expect(card).to_be_visible()
    await press(leader, card, "立案")
    accepted = leader.locator(".msg.bot", has_text=code).filter(has_text="已立案").last
    await expect(accepted).to_be_visible()

    # Back to the guard: the hand-off is there without reloading. The leader's card was
    # edited in place, and says so.
    news = guard.locator(".msg.bot", has_text=code).filter(has_text="已立案").last
    await expect(news).to_be_visible()
    await expect(
        leader.locator(".msg.bot", has_text=code).locator(".meta", has_text="已编辑").last
    ).to_be_visible()

    # An older message's button still works: the category list pressed again is answered.
    await press(guard, categories, "消防通道堵塞")
    await expect(guard.locator("#toast")).to_be_visible()

    # The group of the grid is there too, with its title.
    await guard.locator("button.chat", has_text="网格群").click()
    await expect(guard.locator("#chat-title")).to_contain_text("网格群")
    await guard.locator("button.chat", has_text="网格通").click()
    await expect(news).to_be_visible()

    # The clock jumps to 18:00: the digest job runs and the leader's evening digest arrives.
    await leader.fill("#clock-time", "18:00")
    await leader.click("#clock-jump")
    await expect(leader.locator("#clock-note")).to_contain_text("每日汇总")
    await expect(leader.locator("#clock-now")).to_contain_text("18:00")
    await expect(bot_says(leader, "日报")).to_be_visible()

    await guard.evaluate("document.fonts.ready.then(() => true)")
    shot = await guard.screenshot(full_page=True)
    image = Image.open(io.BytesIO(shot)).convert("L")
    assert image.size[0] >= 1000
    stddev = ImageStat.Stat(image).stddev[0]
    assert stddev > 20, f"the screenshot looks blank (grey-level spread {stddev:.1f})"
    keep = os.environ.get("GRIDBOT_WEBCHAT_SCREENSHOT")
    if keep:
        Path(keep).write_bytes(shot)
        await leader.screenshot(path=str(Path(keep).with_stem(Path(keep).stem + "-leader")))
    assert errors == []
    await context.close()
