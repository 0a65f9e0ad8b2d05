"""The notifier's pure parts: token buckets, limits, back-off, what each failure means."""

from __future__ import annotations

import pytest
from aiogram.exceptions import (
    ClientDecodeError,
    TelegramBadRequest,
    TelegramConflictError,
    TelegramForbiddenError,
    TelegramMigrateToChat,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.methods import SendMessage

from bot.notifier import Action, Limits, TokenBucket, classify_failure, is_group_chat
from bot.settings import SettingsError, load_settings

METHOD = SendMessage(chat_id=1, text="x")


# -- token buckets ----------------------------------------------------------------------------


def test_a_bucket_starts_full_with_a_burst_of_one() -> None:
    b = TokenBucket(rate=2.0)
    assert b.wait(100.0) == 0.0
    b.take(100.0)
    assert b.wait(100.0) == pytest.approx(0.5)  # one token at 2 a second
    assert b.wait(100.25) == pytest.approx(0.25)
    assert b.wait(100.5) == 0.0


def test_a_bucket_never_stores_more_than_its_burst() -> None:
    b = TokenBucket(rate=1.0)
    b.take(0.0)
    assert b.wait(1000.0) == 0.0  # a long idle stretch refills one token, not a thousand
    b.take(1000.0)
    assert b.wait(1000.0) == pytest.approx(1.0)


def test_sending_at_the_bucket_rate_is_steady() -> None:
    b, now, stamps = TokenBucket(rate=29.0), 0.0, []
    for _ in range(59):
        now += b.wait(now)
        b.take(now)
        stamps.append(now)
    assert stamps[0] == 0.0
    assert stamps[-1] == pytest.approx(58 / 29.0)  # 58 gaps of 1/29 s: 2 s for 59 messages


def test_an_album_waits_for_a_quiet_chat_and_leaves_it_in_debt() -> None:
    b = TokenBucket(rate=1.0)
    b.take(0.0)
    assert b.wait(1.0) == 0.0  # one message may follow after a second
    assert b.wait(1.0, cost=3) == pytest.approx(2.0)  # three need three quiet seconds
    b.take(3.0, cost=3)
    assert b.wait(3.0) == pytest.approx(3.0)  # and the three are paid for after it
    assert b.wait(6.0) == 0.0


def test_group_bucket_rate_is_under_twenty_a_minute() -> None:
    lim = Limits()
    b = TokenBucket(lim.group_per_minute / 60.0)
    b.take(0.0)
    # Twenty in any minute is Telegram's; a little under leaves room for arrival jitter.
    assert 3.0 < b.wait(0.0) <= 3.3


def test_limits_sit_under_telegrams() -> None:
    lim = Limits()
    assert lim.global_per_second < 30 and lim.chat_per_second <= 1 and lim.group_per_minute < 20


def test_scaled_multiplies_every_rate_and_nothing_else() -> None:
    lim = Limits().scaled(0.5)
    assert lim.global_per_second == pytest.approx(14.5)
    assert lim.chat_per_second == pytest.approx(0.5)
    assert lim.group_per_minute == pytest.approx(9.5)
    assert lim.max_in_flight == Limits().max_in_flight


def test_rate_scale_setting(monkeypatch: pytest.MonkeyPatch, tmp_path: object) -> None:
    monkeypatch.chdir(str(tmp_path))
    assert load_settings().notifier_rate_scale == 1.0
    monkeypatch.setenv("NOTIFIER_RATE_SCALE", "0.25")
    assert load_settings().notifier_rate_scale == 0.25
    for bad in ("0", "-1", "2", "fast"):
        monkeypatch.setenv("NOTIFIER_RATE_SCALE", bad)
        with pytest.raises(SettingsError, match="NOTIFIER_RATE_SCALE"):
            load_settings()


def test_groups_are_the_negative_ids() -> None:
    assert is_group_chat(-4_000_000_001) and is_group_chat(-1001234567890)
    assert not is_group_chat(7_500_000_000)


# -- back-off ---------------------------------------------------------------------------------


def test_backoff_doubles_from_the_base_up_to_the_cap() -> None:
    lim = Limits(base_backoff=1.0, max_backoff=60.0)
    assert [lim.backoff(n) for n in range(1, 9)] == [1, 2, 4, 8, 16, 32, 60, 60]


def test_backoff_total_before_giving_up_is_minutes_not_hours() -> None:
    lim = Limits()
    total = sum(lim.backoff(n) for n in range(1, lim.max_attempts))
    assert 60 <= total <= 600  # 1+2+...+64 = 127 s over 8 attempts


# -- what a failure means ---------------------------------------------------------------------


def test_429_pauses_all_sending_for_retry_after() -> None:
    d = classify_failure(
        TelegramRetryAfter(METHOD, "Too Many Requests: retry after 7", retry_after=7)
    )
    assert d.action is Action.PAUSE_ALL and d.retry_after == 7.0


def test_migrated_group_gives_the_new_chat() -> None:
    d = classify_failure(
        TelegramMigrateToChat(METHOD, "migrated", migrate_to_chat_id=-1001234567890)
    )
    assert d.action is Action.MIGRATE and d.new_chat_id == -1001234567890


@pytest.mark.parametrize(
    "message",
    [
        "Forbidden: bot was blocked by the user",
        "Forbidden: user is deactivated",
        "Forbidden: bot can't initiate conversation with a user",
        "Forbidden: bot was kicked from the group chat",
    ],
)
def test_403_is_unreachable_never_retried(message: str) -> None:
    d = classify_failure(TelegramForbiddenError(METHOD, message))
    assert d.action is Action.UNREACHABLE and d.error == message


def test_an_edit_that_changes_nothing_counts_as_done() -> None:
    d = classify_failure(TelegramBadRequest(METHOD, "Bad Request: message is not modified: ..."))
    assert d.action is Action.ALREADY_DONE


@pytest.mark.parametrize(
    "message",
    ["Bad Request: can't parse entities: unclosed tag", "Bad Request: chat not found"],
)
def test_other_400s_fail_at_once(message: str) -> None:
    assert classify_failure(TelegramBadRequest(METHOD, message)).action is Action.FAIL


@pytest.mark.parametrize(
    "exc",
    [
        TelegramServerError(METHOD, "Bad Gateway"),
        TelegramNetworkError(METHOD, "Request timeout error"),
        ClientDecodeError("garbled", ValueError("x"), "<html>502</html>"),
        TimeoutError(),
        RuntimeError("anything unforeseen"),
    ],
)
def test_5xx_timeouts_and_garbage_are_retried(exc: BaseException) -> None:
    d = classify_failure(exc)
    assert d.action is Action.RETRY and d.error


def test_any_other_api_refusal_fails() -> None:
    assert classify_failure(TelegramConflictError(METHOD, "Conflict")).action is Action.FAIL


def test_a_revoked_token_holds_everything_and_loses_nothing() -> None:
    from aiogram.exceptions import TelegramUnauthorizedError

    d = classify_failure(TelegramUnauthorizedError(METHOD, "Unauthorized"))
    assert d.action is Action.PAUSE_ALL and d.retry_after >= 30
