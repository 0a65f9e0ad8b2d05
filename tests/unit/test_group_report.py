"""Reading a group report's caption, and what it still lacks (domain/group_report.py)."""

from __future__ import annotations

import pytest

from domain.cases import Severity
from domain.categories import KNOWN, OTHER
from domain.group_report import (
    PENDING_LIMIT,
    Missing,
    Pending,
    PendingReport,
    missing_of,
    read_caption,
)

CATEGORIES = (*KNOWN, OTHER)


@pytest.mark.parametrize(
    ("caption", "category", "severity", "address", "description"),
    [
        ("@gridbot_bot 用电隐患 电线裸露 地点：3号楼东侧 较大", "用电隐患", Severity.MAJOR,
         "3号楼东侧", "用电隐患 电线裸露"),
        ("/report@gridbot_bot 楼道 用气 有味道\n位置: 5号楼", "燃气隐患", None, "5号楼",
         "楼道 用气 有味道"),
        ("/report", None, None, None, ""),
        ("@GRIDBOT_BOT Blocked fire exit at the back, location: gate 2 critical",
         "消防通道堵塞", Severity.CRITICAL, "gate 2", "Blocked fire exit at the back"),
        # The earliest category named wins; a longer name at the same place beats a shorter.
        ("用火 用电", "火灾隐患", None, None, "用火 用电"),
        (None, None, None, None, ""),
    ],
)  # fmt: skip
def test_read_caption(
    caption: str | None,
    category: str | None,
    severity: Severity | None,
    address: str | None,
    description: str,
) -> None:
    got = read_caption(caption, bot_username="gridbot_bot", categories=CATEGORIES)
    assert (got.category, got.severity, got.address, got.description) == (
        category,
        severity,
        address,
        description,
    )


def test_a_mention_of_another_bot_stays_in_the_text() -> None:
    got = read_caption("@otherbot 用电", bot_username="gridbot_bot", categories=CATEGORIES)
    assert got.description == "@otherbot 用电"


def test_missing_is_asked_category_first_then_place() -> None:
    assert missing_of({}) is Missing.CATEGORY
    assert missing_of({"category": "用电隐患"}) is Missing.PLACE
    assert missing_of({"category": "用电隐患", "lat": 0.0}) is None
    assert missing_of({"category": "用电隐患", "address": "1号楼"}) is None


def test_pending_keeps_the_newest_few_and_round_trips() -> None:
    pending = Pending()
    for source in range(PENDING_LIMIT + 2):
        pending.put(PendingReport(source=source, draft={"photos": []}, shown=100 + source))
    assert [r.source for r in pending.reports] == list(range(2, PENDING_LIMIT + 2))
    report = pending.by_shown(103)
    assert report is not None and report.source == 3
    report.missing = Missing.PLACE
    report.album = "a1"
    pending.put(report)
    again = Pending.from_state({"group_reports": pending.to_state()})
    assert again.by_album("a1") == report and again.reports[-1].source == 3
    again.drop(3)
    assert again.by_source(3) is None
