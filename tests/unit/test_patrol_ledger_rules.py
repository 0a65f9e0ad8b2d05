"""Pure pieces of the patrol ledger: months, measures, typed companions, callback sizes."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from bot.i18n import Translator
from bot.render.patrol import render_ledger_page
from bot.render.patrol_buttons import PatrolAct, PatrolLog, PatrolMate, PatrolStep
from services.patrols import (
    MAX_MEASURES,
    Companion,
    LedgerEntry,
    LedgerPage,
    check_measures,
    companions_of,
    parse_companion_names,
    parse_month,
)
from storage.models import Grid, Patrol

TZ = ZoneInfo("Asia/Shanghai")
# 2026-03-31 17:00 UTC is already 1 April in Shanghai.
LATE_MARCH_UTC = datetime(2026, 3, 31, 17, 0, tzinfo=UTC)


def test_this_month_is_the_local_month() -> None:
    found = parse_month(None, LATE_MARCH_UTC, TZ)
    assert found is not None
    key, start, end = found
    assert key == "2026-04"
    assert start == datetime(2026, 4, 1, tzinfo=TZ) and end == datetime(2026, 5, 1, tzinfo=TZ)


@pytest.mark.parametrize("text", ["2026-03", "202603", "2026/03", "2026.03"])
def test_a_month_in_any_usual_spelling(text: str) -> None:
    found = parse_month(text, LATE_MARCH_UTC, TZ)
    assert found is not None and found[0] == "2026-03"


def test_december_ends_at_the_next_new_year() -> None:
    found = parse_month("2025-12", LATE_MARCH_UTC, TZ)
    assert found is not None and found[2] == datetime(2026, 1, 1, tzinfo=TZ)


@pytest.mark.parametrize("text", ["2026-13", "2026-00", "26-03", "march", "1999-05", "2026-3"])
def test_unreadable_months(text: str) -> None:
    assert parse_month(text, LATE_MARCH_UTC, TZ) is None


def test_measures_must_be_text_within_the_limit() -> None:
    assert check_measures("已通知物业") is None
    assert check_measures("  ") == "patrol.measures_empty"
    assert check_measures(None) == "patrol.measures_empty"
    assert check_measures("x" * MAX_MEASURES) is None
    assert check_measures("x" * (MAX_MEASURES + 1)) == "patrol.measures_too_long"


def test_typed_companions_split_on_the_usual_separators() -> None:
    assert parse_companion_names("张三、李四,王五，赵六\n钱七；孙八") == [
        "张三",
        "李四",
        "王五",
        "赵六",
        "钱七",
        "孙八",
    ]
    assert parse_companion_names(" , 、 ") is None
    assert parse_companion_names("x" * 41) is None


def test_companions_read_from_the_checklist_json_and_skip_junk() -> None:
    patrol = Patrol(
        person_id=1,
        grid_id=1,
        role_id=1,
        checklist={
            "items": [],
            "companions": [
                {"name": "林和东民警", "person_id": 7},
                {"name": "物业", "person_id": None},
                {"name": ""},
                "junk",
            ],
        },
    )
    assert companions_of(patrol) == (Companion("林和东民警", 7), Companion("物业", None))
    assert companions_of(Patrol(person_id=1, grid_id=1, role_id=1)) == ()


def test_callback_data_stays_small() -> None:
    big = 2**40
    for data in (
        PatrolMate(p=big, x=big),
        PatrolLog(g=big, m=209912, n=10_000, doc=True),
        PatrolStep(p=big, a=PatrolAct.MEASURES),
    ):
        assert len(data.pack().encode()) < 64


class _App:
    def __init__(self) -> None:
        self.translator = Translator()

    def t(self, key: str, language: str | None = None, /, **params: object) -> str:
        return self.translator.t(key, language or "zh", **params)


def _entry(n: int, text: str) -> LedgerEntry:
    patrol = Patrol(
        id=n,
        person_id=1,
        grid_id=1,
        role_id=1,
        started_at=datetime(2026, 3, 10, 1, n, tzinfo=UTC),
        lat=23.1,
        lon=113.2,
        notes=text,
        measures=text,
        flags=["too_soon"],
        checklist={"items": [{"name": "用电", "status": "problem", "note": ""}]},
    )
    return LedgerEntry(
        patrol=patrol,
        person_name="林和东专管员<1>",
        grid_code="LH-01",
        grid_name="林和东社区",
        problems=("用电",),
        case_codes=("H260310-001",),
        companions=tuple(Companion(name=f"同行{i}" * 10) for i in range(10)),
    )


@pytest.mark.parametrize("text", ["短", "<措施>&" * 400])
def test_a_ledger_page_always_fits_a_message(text: str) -> None:
    grid = Grid(id=1, code="LH-01", name="林和东社区", path="/1/", level=3)
    page = LedgerPage(
        grid=grid,
        month="2026-03",
        page=0,
        total=20,
        entries=[_entry(n, text) for n in range(8)],
    )
    shown, markup = render_ledger_page(_App(), "zh", page, TZ)
    assert len(shown) <= 4096
    assert "林和东专管员&lt;1&gt;" in shown and "<1>" not in shown
    assert "H260310-001" in shown
    assert markup is not None and len(markup.inline_keyboard) == 2  # next page, export
