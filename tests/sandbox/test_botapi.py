"""Bot API methods through a real aiogram Bot: aiogram must parse every answer."""

from __future__ import annotations

import pytest
from aiogram import Bot
from aiogram.client.default import DefaultBotProperties
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramNotFound,
    TelegramUnauthorizedError,
)
from aiogram.methods import TelegramMethod
from aiogram.types import (
    BotCommand,
    BotCommandScopeAllGroupChats,
    BotCommandScopeChat,
    BufferedInputFile,
    ChatMemberAdministrator,
    ChatMemberMember,
    ChatMemberOwner,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputMediaPhoto,
    KeyboardButton,
    MediaUnion,
    Message,
    ReplyKeyboardMarkup,
    ReplyParameters,
)

from sandbox import Emulator
from sandbox.images import make_jpeg, make_png
from tests.sandbox.conftest import ALICE, BOB, BOT_USERNAME, CAROL, TOKEN


def kb(*pairs: tuple[str, str]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text=t, callback_data=d)] for t, d in pairs]
    )


async def test_get_me(bot: Bot) -> None:
    me = await bot.get_me()
    assert me.id == 7000000001
    assert me.is_bot and me.username == BOT_USERNAME
    assert me.can_read_all_group_messages is False


async def test_unknown_token_is_401(emu: Emulator) -> None:
    stranger = Bot("1234:unknown", session=emu.bot_session())
    try:
        with pytest.raises(TelegramUnauthorizedError, match="Unauthorized"):
            await stranger.get_me()
    finally:
        await stranger.session.close()


async def test_unknown_method_is_404(bot: Bot, emu: Emulator) -> None:
    class NoSuchMethod(TelegramMethod[bool]):
        __returning__ = bool
        __api_method__ = "noSuchMethod"

    with pytest.raises(TelegramNotFound, match="Not Found"):
        await bot(NoSuchMethod())


async def test_method_names_are_case_insensitive_get_json_and_form(emu: Emulator) -> None:
    import aiohttp

    async with aiohttp.ClientSession() as http:
        async with http.get(f"{emu.base_url}/bot{TOKEN}/GETME") as resp:
            body = await resp.json()
        assert body["ok"] and body["result"]["username"] == BOT_USERNAME
        url = f"{emu.base_url}/bot{TOKEN}/sendmessage"
        async with http.post(url, json={"chat_id": ALICE, "text": "json"}) as resp:
            assert (await resp.json())["result"]["text"] == "json"
        async with http.post(url, data={"chat_id": str(ALICE), "text": "form"}) as resp:
            assert (await resp.json())["result"]["text"] == "form"
        async with http.get(url, params={"chat_id": str(ALICE), "text": "query"}) as resp:
            assert (await resp.json())["result"]["text"] == "query"
        async with http.post(f"{emu.base_url}/bot{TOKEN}/nope") as resp:
            assert resp.status == 404
            assert await resp.json() == {"ok": False, "error_code": 404, "description": "Not Found"}
    assert emu.stats.count("sendMessage") == 3


async def test_send_message_html_shape(bot: Bot, emu: Emulator) -> None:
    msg = await bot.send_message(
        ALICE, "<b>巡查</b> 提醒 &lt;3", parse_mode="HTML", reply_markup=kb(("确认", "ok"))
    )
    assert isinstance(msg, Message)
    assert msg.text == "巡查 提醒 <3"
    assert msg.entities is not None and msg.entities[0].type == "bold"
    assert (msg.entities[0].offset, msg.entities[0].length) == (0, 2)
    assert msg.from_user is not None and msg.from_user.id == bot.id
    assert msg.chat.id == ALICE and msg.chat.type == "private"
    assert msg.reply_markup is not None
    assert msg.reply_markup.inline_keyboard[0][0].callback_data == "ok"
    entry = emu.chat_transcript(ALICE)[-1]
    assert entry.kind == "sent" and entry.button_texts == ["确认"]


@pytest.mark.parametrize(
    ("html", "error"),
    [
        ("<foo>x</foo>", 'Unsupported start tag "foo" at byte offset 0'),
        ("a < b", 'Unsupported start tag "" at byte offset 2'),
        ("<b>open", 'Can\'t find end tag corresponding to start tag "b"'),
        ("<b>x</i>", 'Unmatched end tag at byte offset 4, expected "</b>", found "</i>"'),
        ("x</b>", "Unexpected end tag at byte offset 1"),
        ("<b", "Unclosed start tag at byte offset 0"),
    ],
)
async def test_html_errors(bot: Bot, html: str, error: str) -> None:
    with pytest.raises(TelegramBadRequest) as info:
        await bot.send_message(ALICE, html, parse_mode="HTML")
    assert info.value.message == f"Bad Request: can't parse entities: {error}"


async def test_default_parse_mode_and_unknown_entities_stay(emu: Emulator) -> None:
    html_bot = Bot(
        TOKEN, session=emu.bot_session(), default=DefaultBotProperties(parse_mode="HTML")
    )
    try:
        msg = await html_bot.send_message(ALICE, "A&amp;B &copy; <i>i</i>")
        assert msg.text == "A&B &copy; i"
    finally:
        await html_bot.session.close()


async def test_text_limits(bot: Bot) -> None:
    await bot.send_message(ALICE, "字" * 4096)
    # tags do not count: 4096 characters after entity parsing are fine
    await bot.send_message(ALICE, "<b>" + "x" * 4096 + "</b>", parse_mode="HTML")
    with pytest.raises(TelegramBadRequest, match="Bad Request: message is too long"):
        await bot.send_message(ALICE, "x" * 4097)
    with pytest.raises(TelegramBadRequest, match="Bad Request: message text is empty"):
        await bot.send_message(ALICE, "   ")
    with pytest.raises(TelegramBadRequest, match="Bad Request: message text is empty"):
        await bot.send_message(ALICE, "<b></b>", parse_mode="HTML")


async def test_callback_data_limit(bot: Bot) -> None:
    await bot.send_message(ALICE, "ok", reply_markup=kb(("a", "x" * 64)))
    with pytest.raises(TelegramBadRequest, match="Bad Request: BUTTON_DATA_INVALID"):
        await bot.send_message(ALICE, "no", reply_markup=kb(("a", "x" * 65)))
    # bytes, not characters: 22 CJK characters are 66 bytes
    with pytest.raises(TelegramBadRequest, match="BUTTON_DATA_INVALID"):
        await bot.send_message(ALICE, "no", reply_markup=kb(("a", "隐" * 22)))


async def test_reply_keyboard_with_location_button(bot: Bot, emu: Emulator) -> None:
    markup = ReplyKeyboardMarkup(
        keyboard=[[KeyboardButton(text="📍 发送位置", request_location=True)]],
        resize_keyboard=True,
    )
    msg = await bot.send_message(ALICE, "请发送位置", reply_markup=markup)
    assert msg.reply_markup is None  # Telegram echoes inline keyboards only
    entry = emu.chat_transcript(ALICE)[-1]
    assert entry.keyboard[0][0]["request_location"] is True
    sent = emu.press(ALICE, "📍 发送位置", location=(31.2, 121.5))
    assert isinstance(sent, dict) and sent["location"]["latitude"] == 31.2


async def test_reply_to_message(bot: Bot, emu: Emulator) -> None:
    first = await bot.send_message(ALICE, "first")
    reply = await bot.send_message(
        ALICE, "second", reply_parameters=ReplyParameters(message_id=first.message_id)
    )
    assert reply.reply_to_message is not None
    assert reply.reply_to_message.message_id == first.message_id
    with pytest.raises(TelegramBadRequest, match="message to be replied not found"):
        await bot.send_message(ALICE, "x", reply_parameters=ReplyParameters(message_id=999))


async def test_edit_text_markup_caption_and_not_modified(bot: Bot, emu: Emulator) -> None:
    msg = await bot.send_message(ALICE, "v1", reply_markup=kb(("a", "a")))
    edited = await bot.edit_message_text(
        text="v2", chat_id=ALICE, message_id=msg.message_id, reply_markup=kb(("b", "b"))
    )
    assert isinstance(edited, Message) and edited.text == "v2" and edited.edit_date
    with pytest.raises(TelegramBadRequest, match="message is not modified: specified new"):
        await bot.edit_message_text(
            text="v2", chat_id=ALICE, message_id=msg.message_id, reply_markup=kb(("b", "b"))
        )
    # leaving reply_markup out removes the keyboard, as Telegram does
    bare = await bot.edit_message_text(text="v2", chat_id=ALICE, message_id=msg.message_id)
    assert isinstance(bare, Message) and bare.reply_markup is None
    again = await bot.edit_message_reply_markup(
        chat_id=ALICE, message_id=msg.message_id, reply_markup=kb(("c", "c"))
    )
    assert isinstance(again, Message) and again.reply_markup is not None
    with pytest.raises(TelegramBadRequest, match="message is not modified"):
        await bot.edit_message_reply_markup(
            chat_id=ALICE, message_id=msg.message_id, reply_markup=kb(("c", "c"))
        )
    with pytest.raises(TelegramBadRequest, match="message to edit not found"):
        await bot.edit_message_text(text="x", chat_id=ALICE, message_id=9999)
    with pytest.raises(TelegramBadRequest, match="there is no caption in the message to edit"):
        await bot.edit_message_caption(chat_id=ALICE, message_id=msg.message_id, caption="c")
    photo = await bot.send_photo(ALICE, BufferedInputFile(make_jpeg(), "p.jpg"), caption="旧")
    cap = await bot.edit_message_caption(
        chat_id=ALICE, message_id=photo.message_id, caption="<b>新</b>", parse_mode="HTML"
    )
    assert isinstance(cap, Message) and cap.caption == "新"
    with pytest.raises(TelegramBadRequest, match="message is not modified"):
        await bot.edit_message_caption(
            chat_id=ALICE, message_id=photo.message_id, caption="<b>新</b>", parse_mode="HTML"
        )
    kinds = [e.kind for e in emu.chat_transcript(ALICE)]
    assert kinds == ["sent", "edited", "edited", "edited", "sent", "edited"]


async def test_user_message_cannot_be_edited(bot: Bot, emu: Emulator) -> None:
    sent = emu.user_send(ALICE, "hello")
    with pytest.raises(TelegramBadRequest, match="message can't be edited"):
        await bot.edit_message_text(text="x", chat_id=ALICE, message_id=sent["message_id"])


async def test_delete_message(bot: Bot, emu: Emulator) -> None:
    msg = await bot.send_message(ALICE, "bye")
    assert await bot.delete_message(ALICE, msg.message_id) is True
    with pytest.raises(TelegramBadRequest, match="message to delete not found"):
        await bot.delete_message(ALICE, msg.message_id)
    assert emu.chat_transcript(ALICE)[-1].kind == "deleted"
    assert emu.bot_messages(ALICE) == []


async def test_answer_callback_query(bot: Bot, emu: Emulator) -> None:
    msg = await bot.send_message(ALICE, "pick", reply_markup=kb(("甲", "a")))
    press = emu.press(ALICE, "甲")
    assert not isinstance(press, dict)
    assert await bot.answer_callback_query(press.id, text="收到", show_alert=True) is True
    assert press.answered and press.text == "收到" and press.show_alert
    with pytest.raises(TelegramBadRequest, match="query is too old"):
        await bot.answer_callback_query(press.id)
    updates = await bot.get_updates()
    query = updates[-1].callback_query
    assert query is not None and query.data == "a" and query.from_user.id == ALICE
    assert isinstance(query.message, Message) and query.message.message_id == msg.message_id


async def test_send_photo_upload_and_file_id_and_caption_limit(bot: Bot, emu: Emulator) -> None:
    data = make_png(640, 480)
    msg = await bot.send_photo(ALICE, BufferedInputFile(data, "p.png"), caption="现场")
    assert msg.photo is not None and len(msg.photo) >= 2
    biggest = msg.photo[-1]
    assert (biggest.width, biggest.height) == (640, 480)
    again = await bot.send_photo(ALICE, biggest.file_id)
    assert again.photo is not None and again.photo[-1].file_unique_id == biggest.file_unique_id
    await bot.send_photo(ALICE, biggest.file_id, caption="字" * 1024)
    with pytest.raises(TelegramBadRequest, match="Bad Request: message caption is too long"):
        await bot.send_photo(ALICE, biggest.file_id, caption="字" * 1025)
    with pytest.raises(TelegramBadRequest, match="wrong file identifier"):
        await bot.send_photo(ALICE, "AgACnonsense")
    file = await bot.get_file(biggest.file_id)
    assert file.file_path is not None
    downloaded = await bot.download_file(file.file_path)
    assert downloaded is not None and downloaded.read() == data


async def test_send_media_group(bot: Bot) -> None:
    media: list[MediaUnion] = [
        InputMediaPhoto(
            media=BufferedInputFile(make_jpeg(seed=k), f"{k}.jpg"),
            caption="相册" if k == 0 else None,
        )
        for k in range(3)
    ]
    messages = await bot.send_media_group(ALICE, media)
    assert len(messages) == 3
    assert len({m.media_group_id for m in messages}) == 1 and messages[0].media_group_id
    assert messages[0].caption == "相册" and messages[1].caption is None


async def test_send_document_keeps_bytes(bot: Bot, emu: Emulator) -> None:
    content = "序号,隐患\n1,消防通道堵塞\n".encode()
    msg = await bot.send_document(ALICE, BufferedInputFile(content, "台账.csv"), caption="台账")
    assert msg.document is not None and msg.document.file_name == "台账.csv"
    assert emu.file_bytes(msg.document.file_id) == content
    file = await bot.get_file(msg.document.file_id)
    assert file.file_size == len(content)
    with pytest.raises(TelegramBadRequest, match="invalid file_id"):
        await bot.get_file("nope")


async def test_send_location_and_chat_action(bot: Bot, emu: Emulator) -> None:
    msg = await bot.send_location(ALICE, 39.9, 116.4)
    assert msg.location is not None and msg.location.latitude == 39.9
    assert await bot.send_chat_action(ALICE, "typing") is True
    assert emu.bot.chat_actions == [(ALICE, "typing")]


async def test_commands_per_scope_and_language(bot: Bot, emu: Emulator) -> None:
    group = emu.create_group("一网格", members=[ALICE], admins=[BOB])
    assert await bot.set_my_commands([BotCommand(command="report", description="上报隐患")])
    assert await bot.set_my_commands(
        [BotCommand(command="report", description="Report")], language_code="en"
    )
    scope = BotCommandScopeChat(chat_id=group.id)
    await bot.set_my_commands([BotCommand(command="bind", description="绑定网格")], scope=scope)
    assert [c.command for c in await bot.get_my_commands()] == ["report"]
    assert (await bot.get_my_commands(language_code="en"))[0].description == "Report"
    assert [c.command for c in await bot.get_my_commands(scope=scope)] == ["bind"]
    assert await bot.get_my_commands(scope=BotCommandScopeAllGroupChats()) == []
    assert emu.visible_commands(ALICE, group.id)[0]["command"] == "bind"
    assert emu.visible_commands(ALICE)[0]["description"] == "上报隐患"
    emu.ensure_user(CAROL, language_code="en")
    assert emu.visible_commands(CAROL)[0]["description"] == "Report"
    assert await bot.delete_my_commands(scope=scope)
    assert await bot.get_my_commands(scope=scope) == []
    with pytest.raises(TelegramBadRequest, match="BOT_COMMAND_INVALID"):
        await bot.set_my_commands([BotCommand(command="Bad-Name", description="x")])


async def test_descriptions(bot: Bot) -> None:
    assert await bot.set_my_description("网格通：隐患上报与巡查")
    assert await bot.set_my_short_description("网格通")
    assert (await bot.get_my_description()).description == "网格通：隐患上报与巡查"
    assert (await bot.get_my_short_description()).short_description == "网格通"


async def test_get_chat_members_admins_pin(bot: Bot, emu: Emulator) -> None:
    group = emu.create_group("二网格", members=[ALICE, CAROL], admins=[BOB], bot_admin=True)
    info = await bot.get_chat(group.id)
    assert info.id == group.id and info.type == "group" and info.title == "二网格"
    assert group.id < -4_000_000_000
    private = await bot.get_chat(ALICE)
    assert private.type == "private" and private.first_name == "Alice"
    owner = await bot.get_chat_member(group.id, BOB)
    assert isinstance(owner, ChatMemberOwner)
    member = await bot.get_chat_member(group.id, ALICE)
    assert isinstance(member, ChatMemberMember)
    admins = await bot.get_chat_administrators(group.id)
    assert {a.user.id for a in admins} == {BOB, bot.id}
    assert any(isinstance(a, ChatMemberAdministrator) for a in admins)
    msg = await bot.send_message(group.id, "公告")
    assert await bot.pin_chat_message(group.id, msg.message_id)
    assert emu.chat_transcript(group.id)[-1].kind == "pinned"
    assert group.pinned == [msg.message_id]
    with pytest.raises(TelegramBadRequest, match="there are no administrators in the private"):
        await bot.get_chat_administrators(ALICE)


async def test_pin_needs_rights_in_groups(bot: Bot, emu: Emulator) -> None:
    group = emu.create_group("三网格", members=[ALICE])
    msg = await bot.send_message(group.id, "x")
    with pytest.raises(TelegramBadRequest, match="not enough rights"):
        await bot.pin_chat_message(group.id, msg.message_id)


async def test_supergroup_ids_are_big(bot: Bot, emu: Emulator) -> None:
    group = emu.create_group("街道", members=[ALICE], supergroup=True)
    assert group.id < -1_000_000_000_000
    msg = await bot.send_message(group.id, "hi")
    assert msg.chat.id == group.id and msg.chat.type == "supergroup"


async def test_chat_errors(bot: Bot, emu: Emulator) -> None:
    with pytest.raises(TelegramBadRequest, match="Bad Request: chat not found"):
        await bot.send_message(-4_999_999_999, "x")
    with pytest.raises(TelegramBadRequest, match="Bad Request: chat not found"):
        await bot.send_message(8_888_888_888, "x")
    emu.ensure_user(7_600_000_000, "NotStarted", started=False)
    with pytest.raises(TelegramForbiddenError, match="bot can't initiate conversation"):
        await bot.send_message(7_600_000_000, "x")
    group = emu.create_group("无机器人", members=[ALICE], bot_member=False)
    with pytest.raises(TelegramForbiddenError, match="bot is not a member of the group chat"):
        await bot.send_message(group.id, "x")
