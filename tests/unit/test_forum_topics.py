"""Which cases get a forum topic and what their topic does (domain/forum_topics.py)."""

from __future__ import annotations

import pytest

from domain.cases import CaseStatus, Severity
from domain.forum_topics import NAME_LIMIT, Move, TopicKind, move_for, topic_name, wants_topic


@pytest.mark.parametrize(
    ("severity", "status", "wanted"),
    [
        (Severity.CRITICAL, CaseStatus.REPORTED, True),
        (Severity.MAJOR, CaseStatus.IN_PROGRESS, True),
        (Severity.GENERAL, CaseStatus.REPORTED, False),
        (Severity.MAJOR, CaseStatus.CLOSED, False),
        (Severity.CRITICAL, CaseStatus.REJECTED, False),
    ],
)
def test_wants_topic(severity: Severity, status: CaseStatus, wanted: bool) -> None:
    assert wants_topic(severity.value, status.value) is wanted


@pytest.mark.parametrize(
    ("kind", "status", "move"),
    [
        (TopicKind.OPEN, CaseStatus.ASSIGNED, None),
        (TopicKind.OPEN, CaseStatus.CLOSED, Move.CLOSE),
        (TopicKind.OPEN, CaseStatus.REJECTED, Move.CLOSE),
        (TopicKind.CLOSED, CaseStatus.CLOSED, None),  # awaiting its rating
        (TopicKind.CLOSED, CaseStatus.RATED, Move.FINISH),
        (TopicKind.CLOSED, CaseStatus.IN_PROGRESS, Move.REOPEN),  # reopened
        (TopicKind.DONE, CaseStatus.RATED, None),
        (TopicKind.DONE, CaseStatus.IN_PROGRESS, Move.REOPEN),
    ],
)
def test_move_for(kind: TopicKind, status: CaseStatus, move: Move | None) -> None:
    assert move_for(kind, status.value) is move


def test_topic_name() -> None:
    assert topic_name("H260310-001", "用电隐患", "critical") == "🔴 H260310-001 用电隐患"
    assert topic_name("H260310-001", "用电隐患", "major", closed=True).startswith("✅ ")
    assert len(topic_name("H1", "长" * 500, "major")) == NAME_LIMIT
