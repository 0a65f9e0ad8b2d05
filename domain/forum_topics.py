"""Forum topics for cases (issue 16 pt 5): which cases get one, what it is called, and what
the topic must do as the case moves. Pure.

Where a grid's group is a forum, every open 较大 or 重大 case of the grid gets a topic of its
own, not one topic per sub-grid: a case is what people follow from report to closing, its
steps then read as one thread, the thread closes when the case closes (and opens again when
it is reopened), and the group's list of open topics is the list of serious cases still
open. A sub-grid's topic would never close, and would mix cases in one thread. 一般 cases
stay in the General topic, as in a group without topics.

A topic is kept as a `CaseCard` whose message id is the topic's `message_thread_id` (the id
of the message that created it), of kind OPEN, CLOSED or DONE (closed and the case rated or
rejected: nothing more will happen there unless the case is reopened).
"""

from __future__ import annotations

from datetime import timedelta
from enum import StrEnum
from typing import Final

from domain.cases import CaseStatus, Severity

TOPIC_SEVERITIES: Final = frozenset({Severity.MAJOR.value, Severity.CRITICAL.value})
CLOSED_STATUSES: Final = frozenset(
    {CaseStatus.CLOSED.value, CaseStatus.RATED.value, CaseStatus.REJECTED.value}
)
FINAL_STATUSES: Final = frozenset({CaseStatus.RATED.value, CaseStatus.REJECTED.value})
NAME_LIMIT: Final = 128
_ICON: Final = {Severity.CRITICAL.value: "🔴", Severity.MAJOR.value: "🟠"}
# Telegram's topic colours (createForumTopic's icon_color): red for 重大, yellow for 较大.
COLORS: Final = {Severity.CRITICAL.value: 0xFB6F5F, Severity.MAJOR.value: 0xFFD67E}


CARD_HOLD: Final = timedelta(seconds=60)
"""How long a serious case's first card to a group that keeps topics waits for its topic: the
keeper (it runs every few seconds) opens the topic and lets the card go into it. Past this the
card goes to General: a keeper that is down delays a card, never loses it."""


class TopicKind(StrEnum):
    OPEN = "topic"
    CLOSED = "topic_closed"
    DONE = "topic_done"


class Move(StrEnum):
    CLOSE = "close"
    REOPEN = "reopen"
    FINISH = "finish"  # closed already; the case is rated or rejected


def wants_topic(severity: str, status: str) -> bool:
    """An open 较大 or 重大 case gets a topic (in a forum group)."""
    return severity in TOPIC_SEVERITIES and status not in CLOSED_STATUSES


def card_waits_for_topic(
    severity: str, status: str, *, group_keeps_topics: bool, has_topic: bool
) -> bool:
    """A new card of the case to a group waits (CARD_HOLD at most) for the case's topic: the
    case will get one and the group is known to keep them (the bot has opened topics there).
    A group never seen to keep topics gets its cards at once, in General, as any group."""
    return group_keeps_topics and not has_topic and wants_topic(severity, status)


def topic_name(code: str, category: str, severity: str, *, closed: bool = False) -> str:
    icon = "✅" if closed else _ICON.get(severity, "⚠️")
    return f"{icon} {code} {category}"[:NAME_LIMIT]


def move_for(kind: TopicKind, status: str) -> Move | None:
    """What the topic must do now that the case is in `status` (its steps posted first)."""
    if status in CLOSED_STATUSES:
        if kind is TopicKind.OPEN:
            return Move.CLOSE
        if kind is TopicKind.CLOSED and status in FINAL_STATUSES:
            return Move.FINISH
        return None
    return Move.REOPEN if kind is not TopicKind.OPEN else None
