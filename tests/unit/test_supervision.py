"""督办 (issue 14 pt 6): the stage a case is in, how much of its limit it has used, yellow at
80 %, red past it; figures computed by hand."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from domain.case_rules import (
    CaseClock,
    CaseRules,
    Flags,
    Level,
    Stage,
    earliest_remind,
    flags_by,
    reminder_thresholds,
    supervision,
    sweep_thresholds,
)

T0 = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)
H = timedelta(hours=1)
M = timedelta(minutes=1)


def clock(status: str, severity: str = "general", deadline: datetime | None = None) -> CaseClock:
    return CaseClock(status, severity, T0, deadline)


def test_accept_stage_of_a_general_case_by_the_default_24_hours() -> None:
    rules = CaseRules()
    at = supervision(clock("reported"), rules, T0 + 12 * H)
    assert at is not None
    assert (at.stage, at.due_at, at.used, at.level) == (Stage.ACCEPT, T0 + 24 * H, 0.5, Level.GREEN)
    yellow = supervision(clock("reported"), rules, T0 + 19 * H + 12 * timedelta(minutes=1))
    assert yellow is not None and yellow.level is Level.YELLOW  # 19.2 / 24 = 80 % exactly
    still = supervision(clock("reported"), rules, T0 + 24 * H)
    assert still is not None and still.level is Level.YELLOW  # the limit itself is not past it
    red = supervision(clock("reported"), rules, T0 + 24 * H + timedelta(seconds=1))
    assert red is not None and red.level is Level.RED


def test_each_stage_by_its_severity_and_the_files_own_limits() -> None:
    rules = CaseRules(limits={"critical": {"acknowledge": 1}, "general": {"verify": 10}})
    ack = supervision(clock("assigned", "critical"), rules, T0 + 50 * timedelta(minutes=1))
    assert ack is not None and ack.stage is Stage.ACKNOWLEDGE and ack.due_at == T0 + H
    assert ack.level is Level.YELLOW  # 50 of 60 minutes: 83 %
    transferred = supervision(clock("transferred", "major"), rules, T0 + 7 * H)
    assert transferred is not None and transferred.due_at == T0 + 8 * H  # 较大: 8 h default
    verify = supervision(clock("feedback"), rules, T0 + 7 * H)
    assert verify is not None and verify.stage is Stage.VERIFY
    assert (verify.due_at, verify.used, verify.level) == (T0 + 10 * H, 0.7, Level.GREEN)


def test_rectification_runs_against_the_cases_own_deadline() -> None:
    rules = CaseRules()
    deadline = T0 + 100 * H
    at = supervision(clock("in_progress", deadline=deadline), rules, T0 + 85 * H)
    assert at is not None and at.stage is Stage.RECTIFY
    assert (at.due_at, at.used, at.level) == (deadline, 0.85, Level.YELLOW)
    assert supervision(clock("in_progress"), rules, T0) is None  # no deadline on record


def test_no_clock_while_waiting_to_be_assigned_or_once_closed() -> None:
    rules = CaseRules()
    for status in ("accepted", "closed", "rated", "rejected"):
        assert supervision(clock(status), rules, T0 + 1000 * H) is None
    assert supervision(CaseClock("reported", "general", None, None), rules, T0) is None


def test_flags_count_per_key() -> None:
    rules = CaseRules()
    now = T0 + 20 * H  # 20 / 24 = 83 % of a general acceptance
    clocks = [
        ("a", clock("reported")),  # yellow
        ("a", clock("reported", "critical")),  # 2 h: red
        ("a", clock("in_progress", deadline=T0 + 100 * H)),  # 20 %: green
        ("b", clock("feedback", "critical")),  # 8 h: red
        ("c", clock("accepted")),  # no clock
    ]
    assert flags_by(clocks, rules, now) == {"a": Flags(yellow=1, red=1), "b": Flags(red=1)}


def test_reminder_thresholds_are_the_yellow_point_and_the_limit() -> None:
    rules = CaseRules(limits={"critical": {"accept": 5}})
    assert reminder_thresholds(rules, "critical", "reported") == (4 * H, 5 * H)
    remind, climb = reminder_thresholds(rules, "general", "assigned") or (H, H)
    assert (remind, climb) == (timedelta(hours=19, minutes=12), 24 * H)
    assert reminder_thresholds(rules, "general", "in_progress") is None  # the deadline's
    assert reminder_thresholds(rules, "general", "accepted") is None


def test_the_sweep_uses_the_files_limits_else_the_deployments_times() -> None:
    rules = CaseRules(limits={"general": {"accept": 10}, "critical": {"acknowledge": 1}})
    default = (2 * H, 24 * H)
    assert sweep_thresholds(rules, "general", "reported", default) == (8 * H, 10 * H)
    assert sweep_thresholds(rules, "general", "assigned", default) == default  # not set
    assert sweep_thresholds(rules, "critical", "assigned", default) == (48 * M, H)
    assert sweep_thresholds(CaseRules(), "general", "reported", default) == default
    assert earliest_remind(rules, 2 * H) == 48 * M
    assert earliest_remind(CaseRules(), 2 * H) == 2 * H
