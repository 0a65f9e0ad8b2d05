"""`load_config` keeps the rules it parsed per content of the deployment row: a changed row
(even one changed in place) is read again at once, the same content is not."""

from __future__ import annotations

from services.case_rules import _parsed


def test_same_content_is_parsed_once() -> None:
    a = _parsed({"一般": {"deadline_hours": 48}}, {"reopen_days": 3}, "Asia/Shanghai")
    b = _parsed({"一般": {"deadline_hours": 48}}, {"reopen_days": 3}, "Asia/Shanghai")
    assert a is b


def test_a_changed_row_is_seen_at_once() -> None:
    severities: dict[str, dict[str, object]] = {"一般": {"deadline_hours": 48}}
    rules: dict[str, object] = {"reopen_days": 3}
    first = _parsed(severities, rules, "Asia/Shanghai")
    severities["一般"]["deadline_hours"] = 24
    severities["重大"] = {"notify_to_root": True}
    rules["reopen_days"] = 5
    second = _parsed(severities, rules, "Asia/Shanghai")
    assert first.rules.reopen_days == 3 and second.rules.reopen_days == 5
    assert first.hours != second.hours and second.hours["general"] == 24
    assert second.root == frozenset({"critical"})
    other = _parsed(severities, rules, "Asia/Urumqi")
    assert str(other.tz) == "Asia/Urumqi" and other.hours == second.hours


def test_no_severities_notify_the_root_of_critical_ones() -> None:
    assert _parsed(None, None, None).root == frozenset({"critical"})
    assert str(_parsed(None, None, None).tz) == "Asia/Shanghai"
