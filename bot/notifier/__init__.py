"""The outbound notifier: one queue for everything the bot pushes, sent within Telegram's limits.

Handlers and jobs never call Telegram to push: they write a `Delivery` row in their own unit
of work (`storage.outbox.enqueue`) and call `wake()` after the commit. `OutboxNotifier`
(`sender.py`) reads the due rows in batches (`storage.outbox.load_due`: id order, at most
`Limits.chat_batch` of any one chat, so one chat's backlog cannot fill a batch) and sends the
next *eligible* row each time (`queue.next_row`): the first, in id order, whose chat has no
earlier row waiting and whose buckets let it go now. Each chat's rows go in id order; a chat
or group waiting on its bucket holds back its own later rows and nothing else. A batch that
left rows out, or missed rows queued since (a `wake()`), is read again every
`Limits.reload_seconds`, and at once when none of its rows may go and a send has ended since.
Rows are sent:

- only once `not_before` has come (quiet hours hold nags that way);
- under three token buckets (`limits.py`): ~30 messages a second overall, 1 a second per chat,
  19 a minute per group (bursts of one, so it never relies on Telegram's burst allowance),
  taken as each call leaves (`_take_turn`); never two sends to the same chat at once;
- a 429 pauses *all* sending for `retry_after`; 5xx answers, timeouts and garbled answers are
  retried with exponential back-off (in memory; a restart retries at once) up to
  `max_attempts`, then the row is `failed` (`failures.py` says which is which);
- 403 (blocked, deactivated, never started) marks the person unreachable (their leader's digest
  shows them) and the row `undeliverable`: it is not retried;
- 400 with `migrate_to_chat_id` rebinds the grid / department to the supergroup, moves the
  other pending rows for the old chat, and sends again; 400 "message thread not found" for
  a row sent into a forum topic (`message_thread_id`: the topic was deleted) sends it to the
  group's General topic instead, once, logged and recorded on the row; any other 400 marks
  the row `failed` with the error;
- photos (caption), albums (`album`: 2 to 10 photos, the caption on the first; an album of n
  counts as n messages, so the chat must have been quiet for n turns before it and stays
  quiet n turns after), documents (`document_name` + `document_body` text or `document_bytes`
  sent as a file), photos uploaded from `document_bytes` (no `document_name`) and edits
  (`edit_of`: the key of an earlier delivery; the edit waits until that one is sent; an edit
  of a photo, album or file changes its caption) — `calls.py`.

Exactly once: a row is marked `sending` (committed) just before the call and `sent` (with
`message_id` and `sent_at`) right after Telegram answers. Only one notifier sends at a time (a
`SingletonLock`, see `scheduler/lock.py`), so a second process never sends the same row. A crash
leaves the unsent rows `pending` and they go out when the bot is back, once each. A batch read
again never holds a row in flight (they are left out by id), so reading often sends nothing
twice.

The window left: a row still `sending` when the process died was in flight, and nobody can tell
whether Telegram got it (the Bot API has no idempotency key and no way to read back what the bot
sent). The next holder of the lock logs those rows and sends them again: a digest twice is
better than a digest lost. At most `max_in_flight` rows (a handful) can be in that window at
the instant of a crash; every other row is sent exactly once (tests/e2e/test_kill_mid_send.py
kills the bot with SIGKILL mid-way and checks exactly that).

Time: `clock` (wall time, the app's injected clock) decides `not_before`; `timer` (monotonic +
sleep) drives the rate limits, so tests can run the buckets on virtual time.
"""

from __future__ import annotations

from typing import Protocol

from bot.notifier.failures import UNAUTHORIZED_PAUSE_S, Action, Decision, classify_failure
from bot.notifier.limits import Buckets, Limits, RealTimer, Timer, TokenBucket, is_group_chat
from bot.notifier.queue import EditTarget, _Row, next_row
from bot.notifier.sender import OutboxNotifier
from bot.notifier.start import start_notifier
from bot.notifier.stats import NotifierStats
from storage.outbox import FAILED, PENDING, SENDING, SENT, UNDELIVERABLE


class Notifier(Protocol):
    def wake(self) -> None:
        """Something new may be in the outbox."""
        ...


__all__ = [
    "FAILED",
    "PENDING",
    "SENDING",
    "SENT",
    "UNAUTHORIZED_PAUSE_S",
    "UNDELIVERABLE",
    "Action",
    "Buckets",
    "Decision",
    "EditTarget",
    "Limits",
    "Notifier",
    "NotifierStats",
    "OutboxNotifier",
    "RealTimer",
    "Timer",
    "TokenBucket",
    "_Row",
    "classify_failure",
    "is_group_chat",
    "next_row",
    "start_notifier",
]
