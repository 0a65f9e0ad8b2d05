"""What a failed Telegram call means for its row (pure: the notifier then acts on it)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from aiogram.exceptions import (
    ClientDecodeError,
    TelegramAPIError,
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramMigrateToChat,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
    TelegramUnauthorizedError,
)


class Action(StrEnum):
    PAUSE_ALL = "pause_all"  # 429 or 401: nothing goes out for `retry_after`, then this again
    MIGRATE = "migrate"  # the group is a supergroup now: rebind, send there
    UNREACHABLE = "unreachable"  # 403: blocked / deactivated / never started; never retried
    ALREADY_DONE = "already_done"  # an edit that changes nothing: the message is as wanted
    NO_TOPIC = "no_topic"  # the forum topic is gone (deleted): send to General instead, once
    RETRY = "retry"  # 5xx, timeouts, garbled answers: again after a back-off
    FAIL = "fail"  # any other refusal (a 400): retrying cannot help


@dataclass(frozen=True)
class Decision:
    action: Action
    error: str = ""
    retry_after: float = 0.0
    new_chat_id: int | None = None


UNAUTHORIZED_PAUSE_S = 60.0
TOPIC_GONE = ("message thread not found", "TOPIC_DELETED")
"""Telegram's words for a send into a forum topic that no longer exists."""


def classify_failure(exc: BaseException) -> Decision:
    """What a failed call means for its row."""
    if isinstance(exc, TelegramRetryAfter):
        return Decision(Action.PAUSE_ALL, exc.message, retry_after=float(exc.retry_after))
    if isinstance(exc, TelegramMigrateToChat):
        return Decision(Action.MIGRATE, exc.message, new_chat_id=exc.migrate_to_chat_id)
    if isinstance(exc, TelegramForbiddenError):
        return Decision(Action.UNREACHABLE, exc.message)
    if isinstance(exc, TelegramBadRequest):
        if "message is not modified" in exc.message:
            return Decision(Action.ALREADY_DONE, exc.message)
        if any(words in exc.message for words in TOPIC_GONE):
            return Decision(Action.NO_TOPIC, exc.message)
        return Decision(Action.FAIL, exc.message)
    if isinstance(exc, TelegramServerError | TelegramNetworkError | ClientDecodeError):
        return Decision(Action.RETRY, str(exc))
    if isinstance(exc, TimeoutError):
        return Decision(Action.RETRY, str(exc) or "timeout")
    if isinstance(exc, TelegramUnauthorizedError):
        # The token was revoked or mistyped: no message can go out, and none may be lost.
        # Hold everything and try again later; the log says why.
        return Decision(Action.PAUSE_ALL, exc.message, retry_after=UNAUTHORIZED_PAUSE_S)
    if isinstance(exc, TelegramAPIError):
        return Decision(Action.FAIL, exc.message)
    return Decision(Action.RETRY, repr(exc))
