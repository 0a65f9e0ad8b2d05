"""/my's quota line (issue 12 pt 11): its 按进度应完成 is `Pace.due`, the digest's "due by
now", and 落后 is shown exactly when fewer are done, so the two never contradict; a guard
whose daily patrol is due today reads 应完成1次（落后）, not 应完成0次（落后）."""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from bot.i18n import Translator
from bot.render.patrol import render_quota_line
from domain.pacing import pace
from domain.periods import QuotaPeriod, window_at
from services.patrols import QuotaStatus

SH = ZoneInfo("Asia/Shanghai")


class _App:
    def __init__(self) -> None:
        self.translator = Translator()

    def t(self, key: str, language: str | None = None, /, **params: object) -> str:
        return self.translator.t(key, language or "zh", **params)


def line(period: QuotaPeriod, quota: int, done: int, now: datetime) -> str:
    window = window_at(period, now, SH)
    status = QuotaStatus(
        1, 1, "LH-01-1", "一号网格", 1, "网格员", window, pace(quota, done, window, now, SH)
    )
    return render_quota_line(_App(), "zh", status)


def test_a_daily_patrol_due_today_reads_due_one_and_behind() -> None:
    morning = datetime(2026, 3, 12, 9, 30, tzinfo=SH)
    assert "按进度应完成1次（落后）" in line(QuotaPeriod.DAY, 1, 0, morning)
    done = line(QuotaPeriod.DAY, 1, 1, morning)
    assert "按进度应完成1次，" in done and "落后" not in done


@pytest.mark.parametrize("period", list(QuotaPeriod))
@pytest.mark.parametrize("quota", [1, 2, 5, 8])
@pytest.mark.parametrize("day", [1, 9, 15, 27, 31])
def test_due_and_behind_never_contradict(period: QuotaPeriod, quota: int, day: int) -> None:
    now = datetime(2026, 3, day, 15, 0, tzinfo=SH)
    for done in range(quota + 2):
        text = line(period, quota, done, now)
        found = re.search(r"已完成(\d+)次，按进度应完成(\d+)次", text)
        assert found is not None, text
        behind = int(found[1]) < int(found[2])
        assert ("落后" in text) == behind, text
