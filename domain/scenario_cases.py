"""The scenario file's ``cases:`` block (`domain.case_rules`), read with the parser's reader
so that every problem is reported with its line like the rest of the file."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from yaml.nodes import Node

from domain.case_rules import LIMITED_STAGES, MAX_LIMIT_HOURS, CaseRules, Route, severity_value
from domain.categories import Category
from domain.reopen import DEFAULT_REOPEN_DAYS, MAX_REOPEN_DAYS

if TYPE_CHECKING:
    from domain.scenario_parse import _Reader

CASES_KEYS = ("reopen_days", "limits", "routes")
ROUTE_KEYS = ("category", "severity", "department", "skip_to", "copy")

GridRefs = list[tuple[Node, str]]
"""Grid codes the routes name, with their nodes: checked once the tree is read."""


def read_case_rules(
    r: _Reader,
    node: Node,
    *,
    categories: Sequence[Category] = (),
    departments: Sequence[str] = (),
    grid_refs: GridRefs | None = None,
) -> CaseRules:
    """``cases: {reopen_days: N, limits: {一般: {accept: h, acknowledge: h, verify: h}},
    routes: [{category, severity, department | skip_to, copy}]}``; the grid codes the routes
    name go to ``grid_refs`` for the caller to check against the tree."""
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
    routes: list[Route] = []
    if "routes" in m:
        for n in r.sequence(m["routes"], "cases routes"):
            with r.recover():
                routes.append(_route(r, n, categories, departments, grid_refs))
    return CaseRules(reopen_days=reopen_days, limits=limits, routes=tuple(routes))


def _route(
    r: _Reader,
    node: Node,
    categories: Sequence[Category],
    departments: Sequence[str],
    grid_refs: GridRefs | None,
) -> Route:
    what = "a route of cases routes"
    m = r.mapping(node, what, ROUTE_KEYS)
    if "category" not in m and "severity" not in m:
        r.fail(node, f"{what} needs a category or a severity to match")
    if "department" in m and "skip_to" in m:
        r.fail(node, f"{what} takes department or skip_to, not both")
    if "department" not in m and "skip_to" not in m and "copy" not in m:
        r.fail(node, f"{what} needs one of department or skip_to (and may add copy)")
    category = None
    if "category" in m:
        name = r.text(m["category"], "route category")
        found = next((c for c in categories if name in (c.label, c.key)), None)
        if found is None:
            r.fail(m["category"], f"route category {name!r} is not one of the categories")
        category = found.label
    severity = None
    if "severity" in m:
        name = r.text(m["severity"], "route severity")
        severity = severity_value(name)
        if severity is None:
            r.fail(m["severity"], f"route severity {name!r} is unknown (一般, 较大 or 重大)")
    department = None
    if "department" in m:
        department = r.word(m["department"], "route department")
        if department not in departments:
            r.fail(m["department"], f"route department {department!r} is not in departments")
    skip_to = None
    if "skip_to" in m:
        skip_to = r.word(m["skip_to"], "route skip_to")
        if grid_refs is not None:
            grid_refs.append((m["skip_to"], skip_to))
    copy: list[str] = []
    if "copy" in m:
        for n in r.sequence(m["copy"], "route copy"):
            code = r.word(n, "route copy grid")
            copy.append(code)
            if grid_refs is not None:
                grid_refs.append((n, code))
    return Route(category, severity, department, skip_to, tuple(copy))
