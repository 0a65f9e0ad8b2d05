"""Pure pieces of the patrol feature: quota targets per window, forwarded detection."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from aiogram.types import Message

from bot.render.patrol_buttons import PatrolAct, PatrolItem, PatrolSeverity, PatrolStep
from domain.cases import Severity
from domain.periods import PeriodWindow, QuotaPeriod, window_at
from handlers.patrol import is_forwarded
from services.patrols import target_in_window

TZ = ZoneInfo("Asia/Shanghai")
MARCH = window_at(QuotaPeriod.MONTH, datetime(2026, 3, 10, 2, tzinfo=UTC), TZ)
FEB = window_at(QuotaPeriod.MONTH, datetime(2026, 2, 10, 2, tzinfo=UTC), TZ)
WEEK = window_at(QuotaPeriod.WEEK, datetime(2026, 3, 10, 2, tzinfo=UTC), TZ)
DAY = window_at(QuotaPeriod.DAY, datetime(2026, 3, 10, 2, tzinfo=UTC), TZ)


@pytest.mark.parametrize(
    ("period", "count", "window", "expected"),
    [
        ("month", 5, MARCH, 5),
        ("day", 1, MARCH, 31),
        ("day", 2, FEB, 56),
        ("week", 1, MARCH, 4),  # 31 // 7
        ("week", 1, FEB, 4),
        ("week", 2, WEEK, 2),
        ("day", 1, WEEK, 7),
        ("day", 1, DAY, 1),
        ("month", 5, WEEK, None),  # a monthly quota has no weekly target
        ("week", 1, DAY, None),
        (None, None, MARCH, None),
        ("month", 0, MARCH, None),
    ],
)
def test_target_in_window(
    period: str | None, count: int | None, window: PeriodWindow, expected: int | None
) -> None:
    assert target_in_window(period, count, window, TZ) == expected


def _message(**extra: object) -> Message:
    return Message.model_validate(
        {
            "message_id": 1,
            "date": 1_770_000_000,
            "chat": {"id": 7_500_000_001, "type": "private"},
            "from": {"id": 7_500_000_001, "is_bot": False, "first_name": "A"},
            "location": {"latitude": 23.1, "longitude": 113.2},
            **extra,
        }
    )


def test_forwarded_by_origin_or_by_the_legacy_twins_only() -> None:
    assert not is_forwarded(_message())
    origin = {"type": "hidden_user", "sender_user_name": "X", "date": 1_769_999_000}
    assert is_forwarded(_message(forward_origin=origin))
    assert is_forwarded(_message(forward_date=1_769_999_000))
    assert is_forwarded(_message(forward_sender_name="X"))


def test_callback_data_stays_small() -> None:
    big = 2**40
    for data in (
        PatrolItem(p=big, i=99, ok=False),
        PatrolStep(p=big, a=PatrolAct.FINISH),
        PatrolSeverity(p=big, s=Severity.CRITICAL),
    ):
        assert len(data.pack().encode()) < 64
