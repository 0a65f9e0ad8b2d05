"""Changing a case's deadline (who may, which dates), /cases filter words, the card's length."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.i18n import Translator
from bot.render.cases import CAPTION_LIMIT, CaseRender, _shown_length
from domain.cases import Actor, CaseFacts, CaseStatus
from services import cases as svc
from services.case_notify import CaseView
from storage.models import Case, Grid

TZ = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 3, 10, 1, 0, tzinfo=UTC)  # 09:00 in Shanghai
LEADER = Actor(person_id=5, led_grid_ids=frozenset({2}))
ASSIGNEE = 20


def facts(status: CaseStatus) -> CaseFacts:
    return CaseFacts(
        status=status, grid_path=(1, 2, 3), reporter_id=10, assignee_person_id=ASSIGNEE
    )


@pytest.mark.parametrize("status", [CaseStatus.ASSIGNED, CaseStatus.IN_PROGRESS])
def test_a_leader_above_may_move_the_deadline_of_a_case_being_handled(
    status: CaseStatus,
) -> None:
    assert svc.deadline_change_refusal(facts(status), LEADER) is None
    admin = Actor(person_id=99, is_admin=True)
    assert svc.deadline_change_refusal(facts(status), admin) is None


def test_a_transferred_case_too() -> None:
    held = CaseFacts(
        status=CaseStatus.TRANSFERRED, grid_path=(1, 2, 3), reporter_id=10, assignee_department_id=7
    )
    assert svc.deadline_change_refusal(held, LEADER) is None


@pytest.mark.parametrize(
    "status",
    [
        CaseStatus.REPORTED,
        CaseStatus.ACCEPTED,
        CaseStatus.FEEDBACK,
        CaseStatus.CLOSED,
        CaseStatus.RATED,
        CaseStatus.REJECTED,
    ],
)
def test_not_before_assignment_nor_after_feedback(status: CaseStatus) -> None:
    assert svc.deadline_change_refusal(facts(status), LEADER) == "wrong_state"


def test_not_the_assignee_a_member_a_leader_elsewhere_or_the_scheduler() -> None:
    case = facts(CaseStatus.ASSIGNED)
    assignee_leading = Actor(person_id=ASSIGNEE, led_grid_ids=frozenset({3}))
    assert svc.deadline_change_refusal(case, assignee_leading) == "not_allowed"
    assert svc.deadline_change_refusal(case, Actor(person_id=30)) == "not_allowed"
    elsewhere = Actor(person_id=31, led_grid_ids=frozenset({9}))
    assert svc.deadline_change_refusal(case, elsewhere) == "not_allowed"
    assert svc.deadline_change_refusal(case, Actor(person_id=None, is_system=True)) == (
        "not_allowed"
    )


def test_a_typed_date_keeps_the_time_of_day() -> None:
    current = datetime(2026, 3, 12, 9, 30, tzinfo=UTC)  # 17:30 in Shanghai
    moved = svc.parse_deadline_date(" 2026-03-20 ", current=current, tz=TZ)
    assert moved == datetime(2026, 3, 20, 17, 30, tzinfo=TZ)
    assert moved is not None and moved.tzinfo is UTC
    fresh = svc.parse_deadline_date("2026-03-20", current=None, tz=TZ)
    assert fresh == datetime(2026, 3, 20, 18, 0, tzinfo=TZ)


@pytest.mark.parametrize("text", ["2026-02-30", "20260320", "2026/03/20", "3-20", "明天", ""])
def test_unreadable_dates(text: str) -> None:
    assert svc.parse_deadline_date(text, current=None, tz=TZ) is None


def test_a_deadline_lies_ahead_and_within_a_year() -> None:
    assert svc.check_deadline(NOW + timedelta(minutes=1), NOW) is None
    assert svc.check_deadline(NOW, NOW) is svc.Problem.BAD_DEADLINE
    assert svc.check_deadline(NOW - timedelta(days=1), NOW) is svc.Problem.BAD_DEADLINE
    assert svc.check_deadline(NOW + timedelta(days=366), NOW) is None
    assert svc.check_deadline(NOW + timedelta(days=367), NOW) is svc.Problem.BAD_DEADLINE


class _App:
    def __init__(self) -> None:
        self.translator = Translator()

    def t(self, key: str, language: str | None = None, /, **params: object) -> str:
        return self.translator.t(key, language or "zh", **params)


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("未结", "open"),
        ("未结案", "open"),
        ("逾期", "ovd"),
        ("待我处理", "wait"),
        ("一般", "general"),
        ("较大", "major"),
        ("重大", "critical"),
        ("全部", "all"),
        ("OVD", "ovd"),
        ("open", "open"),
        ("Overdue", "ovd"),
        ("", "all"),
        ("乱写", "all"),
    ],
)
def test_cases_filter_words(word: str, expected: str) -> None:
    from handlers.cases import filter_of

    assert filter_of(word, _App()) == expected


def _render() -> CaseRender:
    return CaseRender(_App().translator, "zh", TZ)


@pytest.mark.parametrize("language", ["zh", "en"])
def test_the_card_fits_a_caption_however_long_the_description_and_address(
    language: str,
) -> None:
    case = Case(
        id=1,
        code="H260310-001",
        grid_id=1,
        origin_grid_id=1,
        reporter_id=1,
        category="<消防通道堵塞>" * 3,
        description="楼道堆放<杂物>&" * 400,
        address="天河区林和东路<1号>&" * 300,
        severity="major",
        status="assigned",
        lat=23.1,
        lon=113.2,
        deadline_at=NOW,
        rework_count=2,
        created_at=NOW,
        updated_at=NOW,
    )
    grid = Grid(id=1, code="LH-01-1", name="林和东第1片区" * 5, path="/1/", level=1)
    view = CaseView(
        case=case,
        grid=grid,
        version=3,
        reporter_name="保安巡查员" * 8,
        assignee_name="林和东第1片区·保安巡查员2" * 4,
        department_name=None,
    )
    text = _render().card_text(view, language)
    assert _shown_length(text) <= CAPTION_LIMIT
    assert "&lt;杂物&gt;" in text and "<杂物>" not in text  # escaped
    assert "…" in text


def test_a_short_card_is_left_whole() -> None:
    case = Case(
        id=1,
        code="H260310-002",
        grid_id=1,
        origin_grid_id=1,
        reporter_id=1,
        category="用电",
        description="配电箱电线老化",
        address="林和东路1号",
        severity="general",
        status="reported",
        created_at=NOW,
        updated_at=NOW,
    )
    grid = Grid(id=1, code="LH-01-1", name="林和东第1片区", path="/1/", level=1)
    view = CaseView(
        case=case,
        grid=grid,
        version=1,
        reporter_name="甲",
        assignee_name=None,
        department_name=None,
    )
    text = _render().card_text(view, "zh")
    assert "配电箱电线老化" in text and "林和东路1号" in text and "…" not in text
