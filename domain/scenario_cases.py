"""The scenario file's ``cases:`` block (`domain.case_rules`), read with the parser's reader
so that every problem is reported with its line like the rest of the file."""

from __future__ import annotations

from typing import TYPE_CHECKING

from yaml.nodes import Node

from domain.case_rules import LIMITED_STAGES, MAX_LIMIT_HOURS, CaseRules, severity_value
from domain.reopen import DEFAULT_REOPEN_DAYS, MAX_REOPEN_DAYS

if TYPE_CHECKING:
    from domain.scenario_parse import _Reader

CASES_KEYS = ("reopen_days", "limits")


def read_case_rules(r: _Reader, node: Node) -> CaseRules:
    """``cases: {reopen_days: N, limits: {一般: {accept: h, acknowledge: h, verify: h}}}``."""
    m = r.mapping(node, "cases", CASES_KEYS)
    reopen_days = DEFAULT_REOPEN_DAYS
    if "reopen_days" in m:
        reopen_days = r.integer(m["reopen_days"], "cases reopen_days", minimum=0)
        if reopen_days > MAX_REOPEN_DAYS:
            r.fail(
                m["reopen_days"],
                f"cases reopen_days must be at most {MAX_REOPEN_DAYS}, got {reopen_days}",
            )
    limits: dict[str, dict[str, int]] = {}
    if "limits" in m:
        stages = tuple(s.value for s in LIMITED_STAGES)
        for name, value in r.mapping(m["limits"], "cases limits", None).items():
            severity = severity_value(name)
            if severity is None:
                r.fail(value, f"cases limits: unknown severity {name!r} (一般, 较大 or 重大)")
            hours = r.mapping(value, f"cases limits of {name!r}", stages)
            own: dict[str, int] = {}
            for stage, h in hours.items():
                what = f"cases limits {stage} of {name!r}"
                own[stage] = r.integer(h, what, minimum=1)
                if own[stage] > MAX_LIMIT_HOURS:
                    r.fail(h, f"{what} must be at most {MAX_LIMIT_HOURS} hours")
            limits[severity] = own
    return CaseRules(reopen_days=reopen_days, limits=limits)
