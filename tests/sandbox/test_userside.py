"""What people do, as the bot receives it (parsed by aiogram into Updates)."""

from __future__ import annotations

import pytest
from aiogram import Bot
from aiogram.types import (
    InaccessibleMessage,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    MessageOriginHiddenUser,
    MessageOriginUser,
)

from sandbox import GROUP_ANONYMOUS_BOT_ID, Emulator, PressError
from tests.sandbox.conftest import ALICE, BOB, BOT_USERNAME, CAROL


async def test_commands_and_deep_links(bot: Bot, emu: Emulator) -> None:
    alice = emu.user(ALICE)
    await alice.start("case_42")
    await alice.send("/report")
    updates = await bot.get_updates()
    start, report = (u.message for u in updates)
    assert start is not None and report is not None
    assert start.text == "/start case_42"
    assert start.entities and start.entities[0].type == "bot_command"
    assert start.entities[0].length == len("/start")
    assert report.from_user is not None and report.from_user.id == ALICE
    assert report.chat.id == ALICE and report.chat.type == "private"


async def test_group_privacy_mode(bot: Bot, emu: Emulator) -> None:
    group = emu.create_group("一网格", members=[ALICE, BOB])
    alice = emu.user(ALICE).in_group(group)
    await alice.send("just chatting")  # not for the bot
    await alice.send("/report")
    await alice.send(f"/report@{BOT_USERNAME}")
    await alice.send("/report@some_other_bot")
    await alice.send(f"hey @{BOT_USERNAME}")
    await alice.send_location(30.0, 120.0)  # not for the bot either
    bot_msg = await bot.send_message(group.id, "bot here")
    await alice.send("a reply", reply_to=bot_msg.message_id)
    texts = [u.message.text for u in await bot.get_updates() if u.message]
    assert texts == ["/report", f"/report@{BOT_USERNAME}", f"hey @{BOT_USERNAME}", "a reply"]
    assert len(emu.chat_transcript(group.id)) == 8  # the transcript has everything


async def test_admin_bot_sees_everything(bot: Bot, emu: Emulator) -> None:
    group = emu.create_group("管理群", members=[ALICE], bot_admin=True)
    await emu.user(ALICE).in_group(group).send("plain text")
    assert [u.message.text for u in await bot.get_updates() if u.message] == ["plain text"]


async def test_anonymous_admin(bot: Bot, emu: Emulator) -> None:
    group = emu.create_group("二网格", members=[ALICE], admins=[BOB])
    await emu.user(BOB).in_group(group).send("/assign", anonymous=True)
    message = (await bot.get_updates())[-1].message
    assert message is not None
    assert message.from_user is not None and message.from_user.id == GROUP_ANONYMOUS_BOT_ID
    assert message.from_user.is_bot and message.from_user.username == "GroupAnonymousBot"
    assert message.sender_chat is not None and message.sender_chat.id == group.id
    with pytest.raises(PermissionError):
        await emu.user(ALICE).in_group(group).send("/x", anonymous=True)


async def test_bot_added_and_removed(bot: Bot, emu: Emulator) -> None:
    group = emu.create_group("新群", members=[ALICE, BOB], bot_member=False)
    emu.add_bot_to_group(group.id, by=ALICE)
    added, service = await bot.get_updates()
    assert added.my_chat_member is not None
    assert added.my_chat_member.old_chat_member.status == "left"
    assert added.my_chat_member.new_chat_member.status == "member"
    assert added.my_chat_member.from_user.id == ALICE
    assert service.message is not None and service.message.new_chat_members is not None
    assert service.message.new_chat_members[0].id == bot.id
    raw = emu.group(group.id).messages[service.message.message_id].data
    assert raw["new_chat_member"]["id"] == bot.id  # the legacy twin
    assert raw["new_chat_participant"]["id"] == bot.id
    emu.promote_bot(group.id, by=ALICE)
    emu.remove_bot_from_group(group.id, by=ALICE)
    updates = await bot.get_updates(offset=service.update_id + 1)
    statuses = [u.my_chat_member.new_chat_member.status for u in updates if u.my_chat_member]
    assert statuses == ["administrator", "left"]


async def test_migration_updates(bot: Bot, emu: Emulator) -> None:
    group = emu.create_group("升级群", members=[ALICE], admins=[BOB])
    new = emu.migrate_to_supergroup(group.id)
    to_msg, from_msg = (u.message for u in await bot.get_updates())
    assert to_msg is not None and to_msg.migrate_to_chat_id == new.id
    assert to_msg.chat.id == group.id
    assert from_msg is not None and from_msg.migrate_from_chat_id == group.id
    assert from_msg.chat.id == new.id and from_msg.chat.type == "supergroup"
    assert new.id < -1_000_000_000_000
    # people carry over
    await emu.user(ALICE).in_group(new).send("/report")
    last = (await bot.get_updates(offset=-1))[0].message
    assert last is not None and last.chat.id == new.id


async def test_supergroup_reply_has_thread_id(bot: Bot, emu: Emulator) -> None:
    group = emu.create_group("超级群", members=[ALICE], supergroup=True)
    root = await bot.send_message(group.id, "root")
    await emu.user(ALICE).in_group(group).send("reply", reply_to=root.message_id)
    message = (await bot.get_updates())[-1].message
    assert message is not None and message.message_thread_id == root.message_id
    assert message.reply_to_message is not None


async def test_locations_forwarded_and_live(bot: Bot, emu: Emulator) -> None:
    alice = emu.user(ALICE)
    await alice.send_location(39.9, 116.4, horizontal_accuracy=15)
    await alice.send_location(31.2, 121.5, forwarded_from=emu.user(BOB))
    await alice.send_location(22.5, 114.0, forwarded_from="隐藏的人")
    live = await alice.send_live_location(30.0, 120.0, live_period=900)
    await live.move(30.001, 120.002)
    await live.stop()
    updates = await bot.get_updates()
    plain, fwd, hidden, started = (u.message for u in updates[:4])
    assert plain is not None and plain.location is not None
    assert plain.location.horizontal_accuracy == 15
    assert fwd is not None and isinstance(fwd.forward_origin, MessageOriginUser)
    assert fwd.forward_origin.sender_user.id == BOB
    raw = emu.chat(ALICE).messages[fwd.message_id].data
    assert raw["forward_from"]["id"] == BOB and raw["forward_date"] == raw["forward_origin"]["date"]
    assert hidden is not None and isinstance(hidden.forward_origin, MessageOriginHiddenUser)
    assert started is not None and started.location is not None
    assert started.location.live_period == 900
    moved, stopped = (u.edited_message for u in updates[4:])
    assert moved is not None and moved.location is not None and moved.edit_date
    assert moved.location.latitude == 30.001 and moved.message_id == started.message_id
    assert stopped is not None and stopped.location is not None
    assert stopped.location.live_period is None


async def test_photos_albums_documents_contacts(bot: Bot, emu: Emulator) -> None:
    alice = emu.user(ALICE)
    await alice.send_photo(caption="现场照片")
    await alice.send_album(3, caption="三张")
    await alice.send_document(b"%PDF-1.4 test", "report.pdf")
    await alice.send_contact()
    msgs = [u.message for u in await bot.get_updates()]
    photo = msgs[0]
    assert photo is not None and photo.photo and photo.caption == "现场照片"
    album = msgs[1:4]
    assert len({m.media_group_id for m in album if m}) == 1
    assert album[0] is not None and album[0].caption == "三张"
    file = await bot.get_file(photo.photo[-1].file_id)
    assert file.file_path is not None
    data = await bot.download_file(file.file_path)
    assert data is not None and data.read().startswith(b"\xff\xd8")  # a JPEG
    doc = msgs[4]
    assert doc is not None and doc.document is not None
    assert doc.document.mime_type == "application/pdf"
    contact = msgs[5]
    assert contact is not None and contact.contact is not None
    assert contact.contact.user_id == ALICE


async def test_press_on_a_message_the_bot_can_no_longer_see(bot: Bot, emu: Emulator) -> None:
    markup = InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text="办结", callback_data="close:1")]]
    )
    msg = await bot.send_message(ALICE, "case", reply_markup=markup)
    alice = emu.user(ALICE)
    await alice.press("办结", inaccessible=True)
    query = (await bot.get_updates())[-1].callback_query
    assert query is not None and isinstance(query.message, InaccessibleMessage)
    assert query.message.message_id == msg.message_id and query.message.chat.id == ALICE
    assert query.data == "close:1"


async def test_press_lists_buttons_when_missing(bot: Bot, emu: Emulator) -> None:
    markup = InlineKeyboardMarkup(
        inline_keyboard=[
            [
                InlineKeyboardButton(text="甲", callback_data="a"),
                InlineKeyboardButton(text="乙", callback_data="b"),
            ]
        ]
    )
    await bot.send_message(ALICE, "pick", reply_markup=markup)
    with pytest.raises(PressError, match=r"'甲'.*'乙'"):
        await emu.user(ALICE).press("丙")
    press = await emu.user(ALICE).press(number=2)
    assert not isinstance(press, dict) and press.data == "b"


async def test_ids_beyond_32_bits_round_trip(bot: Bot, emu: Emulator) -> None:
    big = 9_876_543_210
    emu.ensure_user(big, "Big")
    await emu.user(big).send("hi")
    message = (await bot.get_updates())[-1].message
    assert isinstance(message, Message) and message.chat.id == big
    await bot.send_message(big, "ok")
    assert emu.user(CAROL).id == CAROL
