"""The emulator refuses what Telegram refuses: albums, message age, file size and owner,
photo dimensions, locations, privacy mode and inline buttons (issue 10, points 4-8).

Error texts are Telegram's own, read from the Bot API server's source (tdlib/telegram-bot-api
Client.cpp and the TDLib it builds on) or from real answers quoted in bug reports; the
few the emulator has to word itself say so where they are raised (sandbox/botapi.py).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest
from aiogram.types import (
    BufferedInputFile,
    InaccessibleMessage,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputMediaAudio,
    InputMediaDocument,
    InputMediaPhoto,
    InputMediaVideo,
    LoginUrl,
    MediaUnion,
    Message,
)

from sandbox import Emulator, ManualClock, PressError
from sandbox.images import make_jpeg
from tests.sandbox.conftest import ALICE, BOB, BOT_USERNAME, TOKEN

OTHER_TOKEN = "7000000002:AAother-sandbox-bot"
TWO_DAYS = 48 * 3600
MIB = 1024 * 1024


def photo(seed: int = 0, width: int = 64, height: int = 48) -> InputMediaPhoto:
    return InputMediaPhoto(media=BufferedInputFile(make_jpeg(width, height, seed), f"{seed}.jpg"))


def document(name: str = "a.txt") -> InputMediaDocument:
    return InputMediaDocument(media=BufferedInputFile(b"row\n", name))


def audio(name: str = "a.mp3") -> InputMediaAudio:
    return InputMediaAudio(media=BufferedInputFile(b"ID3\x03fake", name))


def video(name: str = "a.mp4") -> InputMediaVideo:
    return InputMediaVideo(media=BufferedInputFile(b"\x00\x00\x00\x18ftypmp42", name))


def button_markup(**button: Any) -> dict[str, Any]:
    return {"inline_keyboard": [[{"text": "按钮", **button}]]}


async def raw_call(emu: Emulator, method: str, token: str = TOKEN, **params: Any) -> dict[str, Any]:
    """A Bot API call as JSON, for parameters aiogram's types do not let a test send."""
    async with (
        aiohttp.ClientSession() as http,
        http.post(f"{emu.base_url}/bot{token}/{method}", json=params) as resp,
    ):
        body: dict[str, Any] = await resp.json()
        return body


@pytest.fixture
async def other_bot(emu: Emulator) -> AsyncIterator[Bot]:
    emu.add_bot(OTHER_TOKEN, "other_grid_bot", "别的机器人")
    b = Bot(OTHER_TOKEN, session=emu.bot_session(timeout=5))
    yield b
    await b.session.close()


# -- 4. sendMediaGroup ---------------------------------------------------------------------
async def test_an_album_holds_two_to_ten_items(bot: Bot, emu: Emulator) -> None:
    with pytest.raises(TelegramBadRequest) as empty:
        await bot.send_media_group(ALICE, [])
    assert empty.value.message == "Bad Request: there are no messages to send"
    with pytest.raises(TelegramBadRequest) as eleven:
        await bot.send_media_group(ALICE, [photo(k) for k in range(11)])
    assert eleven.value.message == "Bad Request: too many messages to send as an album"
    with pytest.raises(TelegramBadRequest) as one:
        await bot.send_media_group(ALICE, [photo()])
    assert one.value.message == "Bad Request: media must include 2-10 items"
    assert emu.bot_messages(ALICE) == []
    ten = await bot.send_media_group(ALICE, [photo(k) for k in range(10)])
    assert len(ten) == 10 and len({m.media_group_id for m in ten}) == 1
    # sendMediaGroup has no reply_markup: one given is ignored, as the Bot API server does
    file_id = ten[0].photo[-1].file_id if ten[0].photo else ""
    body = await raw_call(
        emu,
        "sendMediaGroup",
        chat_id=ALICE,
        media=[{"type": "photo", "media": file_id}, {"type": "photo", "media": file_id}],
        reply_markup=button_markup(callback_data="x"),
    )
    assert body["ok"], body
    assert all("reply_markup" not in m for m in body["result"])
    assert all(not e.buttons for e in emu.chat_transcript(ALICE))


async def test_documents_and_audio_stay_among_their_own_kind(bot: Bot, emu: Emulator) -> None:
    refused: list[tuple[list[MediaUnion], str]] = [
        ([photo(), document()], "Bad Request: document can't be mixed with other media types"),
        ([document(), video()], "Bad Request: document can't be mixed with other media types"),
        ([audio(), photo()], "Bad Request: audio can't be mixed with other media types"),
    ]
    for media, error in refused:
        with pytest.raises(TelegramBadRequest) as info:
            await bot.send_media_group(ALICE, media)
        assert info.value.message == error
    assert emu.bot_messages(ALICE) == []
    mixed = await bot.send_media_group(ALICE, [photo(), video()])
    assert mixed[0].photo and mixed[1].video
    docs = await bot.send_media_group(ALICE, [document("a.csv"), document("b.csv")])
    assert [m.document.file_name for m in docs if m.document] == ["a.csv", "b.csv"]
    tracks = await bot.send_media_group(ALICE, [audio("a.mp3"), audio("b.mp3")])
    assert all(m.audio for m in tracks)


async def test_a_refused_item_is_named_by_its_place_and_nothing_is_sent(
    bot: Bot, other_bot: Bot, emu: Emulator
) -> None:
    theirs = await other_bot.send_photo(ALICE, BufferedInputFile(make_jpeg(), "p.jpg"))
    assert theirs.photo is not None
    foreign = InputMediaPhoto(media=theirs.photo[-1].file_id)
    before = len(emu.bot_messages(ALICE))
    with pytest.raises(TelegramBadRequest) as info:
        await bot.send_media_group(ALICE, [photo(1), foreign, photo(2)])
    assert info.value.message == (
        'Bad Request: failed to send message #2 with the error message "Wrong file '
        'identifier/HTTP URL specified"'
    )
    with pytest.raises(TelegramBadRequest) as wide:
        await bot.send_media_group(ALICE, [photo(1, 2100, 100), photo(2)])
    assert wide.value.message == (
        'Bad Request: failed to send message #1 with the error message "PHOTO_INVALID_DIMENSIONS"'
    )
    assert len(emu.bot_messages(ALICE)) == before


# -- 5. age and size limits ---------------------------------------------------------------
async def test_delete_message_within_48_hours_only(
    bot: Bot, emu: Emulator, clock: ManualClock
) -> None:
    old = await bot.send_message(ALICE, "两天前")
    clock.advance(TWO_DAYS - 1)
    recent = await bot.send_message(ALICE, "刚才")
    young = await bot.send_message(ALICE, "将删")
    assert await bot.delete_message(ALICE, young.message_id)  # one second short of two days
    clock.advance(1)
    with pytest.raises(TelegramBadRequest) as info:
        await bot.delete_message(ALICE, old.message_id)
    assert info.value.message == "Bad Request: message can't be deleted for everyone"
    # deleteMessages skips what it cannot delete and deletes the rest
    assert await bot.delete_messages(ALICE, [old.message_id, recent.message_id])
    assert [m["text"] for m in emu.bot_messages(ALICE)] == ["两天前"]
    group = emu.create_group("一网格", members=[ALICE], bot_admin=True)
    said = emu.user_send(ALICE, "旧消息", chat_id=group.id)
    clock.advance(TWO_DAYS)
    with pytest.raises(TelegramBadRequest, match="message can't be deleted for everyone"):
        await bot.delete_message(group.id, said["message_id"])


async def test_get_file_up_to_20_mib(bot: Bot, emu: Emulator) -> None:
    fits = emu.user_send_document(ALICE, b"x" * (20 * MIB), "fits.bin")
    file = await bot.get_file(fits["document"]["file_id"])
    assert file.file_size == 20 * MIB and file.file_path
    big = emu.user_send_document(ALICE, b"x" * (20 * MIB + 1), "big.bin")
    with pytest.raises(TelegramBadRequest) as info:
        await bot.get_file(big["document"]["file_id"])
    assert info.value.message == "Bad Request: file is too big"


async def test_file_ids_belong_to_the_bot_that_got_them(
    bot: Bot, other_bot: Bot, emu: Emulator
) -> None:
    sent = await bot.send_photo(ALICE, BufferedInputFile(make_jpeg(), "p.jpg"))
    assert sent.photo is not None
    mine = sent.photo[-1].file_id
    assert (await bot.send_photo(BOB, mine)).photo  # the uploader may reuse it anywhere
    with pytest.raises(TelegramBadRequest) as reused:
        await other_bot.send_photo(ALICE, mine)
    assert reused.value.message == "Bad Request: wrong file identifier/HTTP URL specified"
    with pytest.raises(TelegramBadRequest) as fetched:
        await other_bot.get_file(mine)
    assert fetched.value.message == (
        "Bad Request: wrong file_id or the file is temporarily unavailable"
    )
    # a person's photo: the bot it was sent to gets the file, another bot does not
    theirs = emu.user_send_photo(ALICE)
    received = theirs["photo"][-1]["file_id"]
    assert (await bot.get_file(received)).file_path
    with pytest.raises(TelegramBadRequest, match="wrong file identifier/HTTP URL specified"):
        await other_bot.send_photo(ALICE, received)
    # in a group under privacy mode a bot that does not see the photo does not get it
    group = emu.create_group("一网格", members=[ALICE])
    unseen = emu.user_send_photo(ALICE, chat_id=group.id, caption="现场")
    with pytest.raises(TelegramBadRequest, match="wrong file_id or the file"):
        await bot.get_file(unseen["photo"][-1]["file_id"])


async def test_photo_dimensions(bot: Bot) -> None:
    for width, height in ((9000, 1001), (2100, 100), (100, 2001)):
        with pytest.raises(TelegramBadRequest) as info:
            await bot.send_photo(ALICE, BufferedInputFile(make_jpeg(width, height), "p.jpg"))
        assert info.value.message == "Bad Request: PHOTO_INVALID_DIMENSIONS", (width, height)
    for width, height in ((9000, 1000), (2000, 100)):
        sent = await bot.send_photo(ALICE, BufferedInputFile(make_jpeg(width, height), "p.jpg"))
        assert sent.photo is not None  # its largest size is scaled to 1280, as Telegram's
        biggest = sent.photo[-1]
        assert (biggest.width, biggest.height) == (1280, round(1280 * height / width))


# -- 6. locations --------------------------------------------------------------------------
async def test_location_parameters_outside_telegram_ranges_are_refused(bot: Bot) -> None:
    refused: list[tuple[dict[str, Any], str]] = [
        ({"latitude": 91.0}, "Bad Request: wrong location specified"),
        ({"longitude": -181.0}, "Bad Request: wrong location specified"),
        ({"live_period": 59}, "Bad Request: wrong live location period specified"),
        ({"live_period": 86401}, "Bad Request: wrong live location period specified"),
        (
            {"heading": 361, "live_period": 600},
            "Bad Request: wrong live location heading specified",
        ),
        ({"heading": -1}, "Bad Request: wrong live location heading specified"),
        (
            {"live_period": 600, "proximity_alert_radius": 100001},
            "Bad Request: wrong live location proximity alert radius specified",
        ),
    ]
    for extra, error in refused:
        params: dict[str, Any] = {"latitude": 23.13, "longitude": 113.26, **extra}
        with pytest.raises(TelegramBadRequest) as info:
            await bot.send_location(ALICE, **params)
        assert info.value.message == error, extra
    for period in (60, 86400, 0x7FFFFFFF):
        live = await bot.send_location(ALICE, 23.13, 113.26, live_period=period, heading=360)
        assert live.location is not None and live.location.live_period == period
        assert live.location.heading == 360


async def test_horizontal_accuracy_is_clamped_as_telegram_does(bot: Bot) -> None:
    wide = await bot.send_location(ALICE, 23.13, 113.26, horizontal_accuracy=5000)
    assert wide.location is not None and wide.location.horizontal_accuracy == 1500
    none = await bot.send_location(ALICE, 23.13, 113.26, horizontal_accuracy=-3)
    assert none.location is not None and none.location.horizontal_accuracy is None
    # a plain location carries no live fields, even if they were given
    plain = await bot.send_location(ALICE, 23.13, 113.26, heading=90)
    assert plain.location is not None and plain.location.heading is None


async def test_live_location_edits_until_stopped_or_expired(
    bot: Bot, emu: Emulator, clock: ManualClock
) -> None:
    live = await bot.send_location(ALICE, 23.13, 113.26, live_period=900)
    moved = await bot.edit_message_live_location(
        latitude=23.14, longitude=113.27, chat_id=ALICE, message_id=live.message_id, heading=90
    )
    assert isinstance(moved, Message) and moved.location is not None
    assert (moved.location.latitude, moved.location.heading) == (23.14, 90)
    assert moved.edit_date and moved.location.live_period == 900
    with pytest.raises(TelegramBadRequest, match="message is not modified: specified new"):
        await bot.edit_message_live_location(
            latitude=23.14, longitude=113.27, chat_id=ALICE, message_id=live.message_id, heading=90
        )
    with pytest.raises(TelegramBadRequest) as bad_heading:
        await bot.edit_message_live_location(
            latitude=23.15, longitude=113.27, chat_id=ALICE, message_id=live.message_id, heading=400
        )
    assert bad_heading.value.message == "Bad Request: wrong live location heading specified"
    stopped = await bot.stop_message_live_location(chat_id=ALICE, message_id=live.message_id)
    assert isinstance(stopped, Message) and stopped.location is not None
    assert stopped.location.live_period is None and stopped.location.latitude == 23.14
    for call in (
        bot.edit_message_live_location(
            latitude=1.0, longitude=2.0, chat_id=ALICE, message_id=live.message_id
        ),
        bot.stop_message_live_location(chat_id=ALICE, message_id=live.message_id),
    ):
        with pytest.raises(TelegramBadRequest) as after_stop:
            await call
        assert after_stop.value.message == "Bad Request: message can't be edited"

    short = await bot.send_location(ALICE, 23.13, 113.26, live_period=60)
    clock.advance(59)
    await bot.edit_message_live_location(
        latitude=23.2, longitude=113.3, chat_id=ALICE, message_id=short.message_id
    )
    clock.advance(1)
    with pytest.raises(TelegramBadRequest) as expired:
        await bot.edit_message_live_location(
            latitude=23.3, longitude=113.3, chat_id=ALICE, message_id=short.message_id
        )
    assert expired.value.message == "Bad Request: message can't be edited"

    plain = await bot.send_location(ALICE, 23.13, 113.26)
    with pytest.raises(TelegramBadRequest) as not_live:
        await bot.edit_message_live_location(
            latitude=23.2, longitude=113.3, chat_id=ALICE, message_id=plain.message_id
        )
    assert not_live.value.message == "Bad Request: there is no live location in the message to edit"
    with pytest.raises(TelegramBadRequest, match="Bad Request: message to edit not found"):
        await bot.stop_message_live_location(chat_id=ALICE, message_id=9999)
    kinds = [e.kind for e in emu.chat_transcript(ALICE)]
    assert kinds.count("edited") == 3  # the move, the stop, the edit before expiry


# -- 7. privacy mode -------------------------------------------------------------------------
async def test_privacy_mode_takes_commands_at_the_start_and_mentions_of_itself(
    bot: Bot, emu: Emulator
) -> None:
    group = emu.create_group("一网格", members=[ALICE, BOB])
    alice = emu.user(ALICE).in_group(group)
    for text in (
        "hello /report",  # a command inside a sentence is not addressed to bots
        "/report@some_other_bot",
        "@some_other_bot /report",
        "see @some_other_bot",
        "/report",
        f"/report@{BOT_USERNAME} now",
        f"thanks @{BOT_USERNAME}",
    ):
        await alice.send(text)
    texts = [u.message.text for u in await bot.get_updates() if u.message]
    assert texts == ["/report", f"/report@{BOT_USERNAME} now", f"thanks @{BOT_USERNAME}"]


# -- 8. inline buttons -------------------------------------------------------------------------
async def test_an_inline_button_needs_an_action_and_keeps_only_the_first(
    bot: Bot, emu: Emulator
) -> None:
    for markup in (button_markup(), button_markup(callback_data=""), button_markup(url="")):
        body = await raw_call(emu, "sendMessage", chat_id=ALICE, text="x", reply_markup=markup)
        assert body["description"] == (
            "Bad Request: can't parse inline keyboard button: Text buttons are unallowed in the "
            "inline keyboard"
        ), markup
    # with two actions Telegram keeps the first it knows (url before callback_data) and
    # drops the other without a word: the press never reaches the bot
    body = await raw_call(
        emu,
        "sendMessage",
        chat_id=ALICE,
        text="两个动作",
        reply_markup=button_markup(url="https://example.org/case/1", callback_data="case:1"),
    )
    assert body["result"]["reply_markup"]["inline_keyboard"] == [
        [{"text": "按钮", "url": "https://example.org/case/1"}]
    ]
    with pytest.raises(PressError, match="is not a callback button"):
        emu.press(ALICE, "按钮")


async def test_login_url_needs_the_bot_domain(emu: Emulator) -> None:
    login = InlineKeyboardMarkup(
        inline_keyboard=[
            [
                InlineKeyboardButton(
                    text="登录", login_url=LoginUrl(url="https://grid.example.org/in")
                )
            ]
        ]
    )
    plain = Bot(TOKEN, session=emu.bot_session())
    emu.add_bot("7000000003:AAwith-domain", "domain_grid_bot", domain="grid.example.org")
    with_domain = Bot("7000000003:AAwith-domain", session=emu.bot_session())
    try:
        with pytest.raises(TelegramBadRequest) as info:
            await plain.send_message(ALICE, "登录", reply_markup=login)
        assert info.value.message == "Bad Request: BOT_DOMAIN_INVALID"
        sent = await with_domain.send_message(ALICE, "登录", reply_markup=login)
        assert sent.reply_markup is not None
        button = sent.reply_markup.inline_keyboard[0][0]
        assert button.login_url is not None and button.login_url.url.endswith("/in")
        elsewhere = InlineKeyboardMarkup(
            inline_keyboard=[
                [
                    InlineKeyboardButton(
                        text="登录", login_url=LoginUrl(url="https://evil.example/in")
                    )
                ]
            ]
        )
        with pytest.raises(TelegramBadRequest, match="Bad Request: BOT_DOMAIN_INVALID"):
            await with_domain.send_message(ALICE, "登录", reply_markup=elsewhere)
    finally:
        await plain.session.close()
        await with_domain.session.close()


async def test_a_press_on_an_old_or_deleted_message_arrives_inaccessible(
    bot: Bot, emu: Emulator, clock: ManualClock
) -> None:
    keyboard = InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text="办结", callback_data="close:1")]]
    )
    fresh = await bot.send_message(ALICE, "案件 1", reply_markup=keyboard)
    gone = await bot.send_message(ALICE, "案件 2", reply_markup=keyboard)
    assert await bot.delete_message(ALICE, gone.message_id)
    alice = emu.user(ALICE)
    await alice.press("办结", message=fresh.message_id)
    await alice.press("办结", message=gone.message_id)
    clock.advance(TWO_DAYS)
    await alice.press("办结")  # found by its text: the newest message still showing it
    queries = [u.callback_query for u in await bot.get_updates() if u.callback_query]
    assert len(queries) == 3
    assert isinstance(queries[0].message, Message) and queries[0].message.text == "案件 1"
    for query, mid in ((queries[1], gone.message_id), (queries[2], fresh.message_id)):
        assert isinstance(query.message, InaccessibleMessage)
        assert query.message.date == 0
        assert query.message.message_id == mid and query.message.chat.id == ALICE
    # The press on the deleted message was made two days ago: far too late to answer it.
    with pytest.raises(TelegramBadRequest, match="query is too old"):
        await bot.answer_callback_query(queries[1].id, text="该消息已过期")
    assert await bot.answer_callback_query(queries[2].id, text="该消息已过期")
    answer = await alice.expect_answer()
    assert answer.text == "该消息已过期"
