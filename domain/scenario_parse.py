"""Parse a scenario file (``scenarios/README.md`` format) into a ``Scenario``.

Pure: takes the YAML text, returns frozen values or raises ``ScenarioError`` with the 1-based
line of the offending node. The rules are documented in ``domain.scenario``.
"""

from __future__ import annotations

import difflib
import re
import string
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import time
from typing import Any, NoReturn
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from domain.case_rules import CaseRules
from domain.categories import Category, default_categories
from domain.geo import parse_geofence
from domain.scenario_cases import GridRefs, read_case_rules
from domain.scenario_model import (
    DEFAULT_TG_ID_START,
    DEFAULT_TIMEZONE,
    MAX_ERRORS,
    PERIODS,
    DepartmentSpec,
    GridSpec,
    MembershipSpec,
    PersonSpec,
    QuotaSpec,
    RoleSpec,
    Scenario,
    ScenarioError,
    ScheduleSpec,
    SeveritySpec,
    place_of,
)

__all__ = ["parse_scenario"]

_NULL = "tag:yaml.org,2002:null"
_INT = "tag:yaml.org,2002:int"
_BOOL = "tag:yaml.org,2002:bool"

_ROOT_KEYS = (
    "name",
    "timezone",
    "tg_id_start",
    "levels",
    "roles",
    "checklist",
    "categories",
    "severities",
    "schedule",
    "departments",
    "patrol",
    "cases",
    "grids",
)
_GRID_KEYS = ("code", "name", "people", "children", "generate", "geofence", "roll_call")
_GENERATE_KEYS = ("count", "code", "name", "people", "children", "geofence", "roll_call")
_PERSON_KEYS = ("name", "tg_id", "role", "count")
_PLACEHOLDERS = ("n", "parent", "parent_name")
_CLOCK = re.compile(r"^(\d{1,2}):(\d{2})$")
_QUIET = re.compile(r"^\s*(\d{1,2}:\d{2})\s*-\s*(\d{1,2}:\d{2})\s*$")


# --------------------------------------------------------------------------- templates


@dataclass(frozen=True)
class _PersonT:
    name: str | None
    tg_id: int | None
    role: str
    count: int
    node: Node


@dataclass(frozen=True)
class _GenerateT:
    node: Node
    count: int
    code: str
    code_node: Node
    name: str
    people: tuple[_PersonT, ...]
    child: _GenerateT | None
    geofence: dict[str, Any] | None
    roll_call: bool


@dataclass(frozen=True)
class _GridT:
    node: Node
    code: str
    code_node: Node
    name: str
    people: tuple[_PersonT, ...]
    children: tuple[_GridT, ...]
    generate: _GenerateT | None
    geofence: dict[str, Any] | None
    roll_call: bool


@dataclass
class _Slot:
    """One person-in-a-grid, before generated tg_ids are handed out."""

    name: str
    tg_id: int | None
    role: str
    grid_code: str
    node: Node
    place: str | None = None


class _Enough(Exception):
    """MAX_ERRORS problems found: stop reading, report those."""


class _Skipped(Exception):
    """Leave this item out without a word: its problem has been reported already."""


# --------------------------------------------------------------------------- node reader


def _line(node: Node | None) -> int | None:
    if node is None:
        return None
    return int(node.start_mark.line) + 1


def _describe(node: Node) -> str:
    if isinstance(node, MappingNode):
        return "a mapping"
    if isinstance(node, SequenceNode):
        return "a list"
    if isinstance(node, ScalarNode) and node.tag == _NULL:
        return "nothing (null)"
    return repr(node.value)


class _Reader:
    """Reads nodes; a problem raises ``ScenarioError``, which ``recover()`` notes so that
    reading goes on with the next item and the file's problems are reported together."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.constructor = SafeConstructor()
        self.errors: list[ScenarioError] = []
        self._lines: set[int] = set()

    def error(self, node: Node | None, message: str) -> ScenarioError:
        return ScenarioError(_line(node), message, source=self.source)

    def fail(self, node: Node | None, message: str) -> NoReturn:
        raise self.error(node, message)

    def note(self, err: ScenarioError) -> None:
        # One problem a line: a generate template that fails fails once for every grid it
        # makes, and a skipped item must not be reported again by what depended on it.
        if err.line is not None:
            if err.line in self._lines:
                return
            self._lines.add(err.line)
        self.errors.append(err)
        if len(self.errors) >= MAX_ERRORS:
            raise _Enough

    @contextmanager
    def recover(self) -> Iterator[None]:
        """Note a problem raised inside and carry on after the block."""
        try:
            yield
        except ScenarioError as err:
            for each in err.errors:
                self.note(each)
        except _Skipped:
            pass

    def refusal(self) -> ScenarioError:
        """Every problem noted, in line order, as one error (the first one's line and reason)."""
        found = sorted(self.errors, key=lambda e: e.line or 0)
        first = found[0]
        return ScenarioError(first.line, first.message, source=self.source, errors=found)

    # -- containers

    def mapping(
        self,
        node: Node,
        what: str,
        allowed: Sequence[str] | None,
        required: Sequence[str] = (),
        *,
        lenient: bool = False,
    ) -> dict[str, Node]:
        """The mapping's values by key; ``allowed`` None accepts any key.

        Every bad, duplicate, unknown or missing key is a problem; the first is raised (the
        others noted), unless ``lenient``: then all are noted and the good keys returned."""
        if not isinstance(node, MappingNode):
            self.fail(node, f"{what} must be a mapping, got {_describe(node)}")
        self.constructor.flatten_mapping(node)  # resolves YAML merge keys (<<)
        out: dict[str, Node] = {}
        problems: list[ScenarioError] = []
        seen: set[str] = set()
        for key_node, value_node in node.value:
            if not isinstance(key_node, ScalarNode) or key_node.tag == _NULL:
                problems.append(
                    self.error(
                        key_node, f"{what}: a key must be a plain word, got {_describe(key_node)}"
                    )
                )
                continue
            key = str(key_node.value)
            if key in seen:
                problems.append(self.error(key_node, f"{what}: duplicate key {key!r}"))
                continue
            seen.add(key)
            if allowed is not None and key not in allowed:
                close = difflib.get_close_matches(key, allowed, n=1)
                hint = (
                    f"; did you mean {close[0]!r}?"
                    if close
                    else f" (allowed: {', '.join(allowed)})"
                )
                problems.append(self.error(key_node, f"unknown key {key!r} in {what}{hint}"))
                continue
            out[key] = value_node
        for key in required:
            if key not in seen:
                problems.append(self.error(node, f"{what} is missing required key {key!r}"))
        if problems and not lenient:
            first = problems[0]
            raise ScenarioError(first.line, first.message, source=self.source, errors=problems)
        for problem in problems:
            self.note(problem)
        return out

    def sequence(self, node: Node, what: str, *, null_ok: bool = True) -> list[Node]:
        if null_ok and isinstance(node, ScalarNode) and node.tag == _NULL:
            return []
        if not isinstance(node, SequenceNode):
            self.fail(node, f"{what} must be a list, got {_describe(node)}")
        return list(node.value)

    # -- scalars

    def text(self, node: Node, what: str) -> str:
        """A non-empty string; any plain scalar counts (``code: 01`` is the text "01")."""
        if not isinstance(node, ScalarNode) or node.tag == _NULL:
            self.fail(node, f"{what} must be text, got {_describe(node)}")
        value = str(node.value).strip()
        if not value:
            self.fail(node, f"{what} must not be empty")
        return value

    def word(self, node: Node, what: str) -> str:
        """Text without whitespace: codes and keys that admins type."""
        value = self.text(node, what)
        if any(ch.isspace() for ch in value):
            self.fail(node, f"{what} {value!r} must not contain spaces")
        return value

    def integer(self, node: Node, what: str, *, minimum: int | None = None) -> int:
        if not isinstance(node, ScalarNode) or node.tag != _INT:
            self.fail(node, f"{what} must be a whole number, got {_describe(node)}")
        value = int(self.constructor.construct_yaml_int(node))
        if minimum is not None and value < minimum:
            self.fail(node, f"{what} must be at least {minimum}, got {value}")
        return value

    def boolean(self, node: Node, what: str) -> bool:
        if not isinstance(node, ScalarNode) or node.tag != _BOOL:
            self.fail(node, f"{what} must be true or false, got {_describe(node)}")
        return bool(self.constructor.construct_yaml_bool(node))

    def clock(self, node: Node, what: str) -> time:
        # Read the raw text: unquoted 18:00 is a YAML 1.1 sexagesimal int (1080).
        if not isinstance(node, ScalarNode) or node.tag == _NULL:
            self.fail(node, f'{what} must be a time like "18:00", got {_describe(node)}')
        return self._clock_text(node, str(node.value).strip(), what)

    def _clock_text(self, node: Node, raw: str, what: str) -> time:
        m = _CLOCK.match(raw)
        if not m or int(m.group(1)) > 23 or int(m.group(2)) > 59:
            self.fail(node, f'{what} must be a time "HH:MM" between 00:00 and 23:59, got {raw!r}')
        return time(int(m.group(1)), int(m.group(2)))

    def quiet(self, node: Node, what: str) -> tuple[time, time]:
        if not isinstance(node, ScalarNode) or node.tag == _NULL:
            self.fail(node, f'{what} must be a window like "22:00-07:00", got {_describe(node)}')
        raw = str(node.value)
        m = _QUIET.match(raw)
        if not m:
            self.fail(
                node, f'{what} must be a window "HH:MM-HH:MM" like "22:00-07:00", got {raw!r}'
            )
        start = self._clock_text(node, m.group(1), f"{what} start")
        end = self._clock_text(node, m.group(2), f"{what} end")
        if start == end:
            self.fail(node, f"{what} {raw!r} starts and ends at the same time")
        return start, end

    def template(self, node: Node, what: str) -> tuple[str, set[str]]:
        """A generate template and the placeholders it uses, checked by formatting it once."""
        value = self.text(node, what)
        try:
            parts = list(string.Formatter().parse(value))
        except ValueError as exc:
            self.fail(
                node, f"{what} {value!r}: bad placeholder: {exc} (write {{{{ or }}}} for a brace)"
            )
        used: set[str] = set()
        for _literal, field, spec, conversion in parts:
            if field is None:
                continue
            if field == "":
                self.fail(
                    node,
                    f"{what} {value!r}: empty placeholder {{}}; use {{n}}, {{parent}} "
                    "or {parent_name}",
                )
            if field not in _PLACEHOLDERS:
                self.fail(
                    node,
                    f"{what} {value!r}: unknown placeholder {{{field}}}; use {{n}}, "
                    "{parent} or {parent_name}",
                )
            if conversion is not None:
                self.fail(
                    node, f"{what} {value!r}: conversions like !{conversion} are not supported"
                )
            if spec and ("{" in spec or "}" in spec):
                self.fail(node, f"{what} {value!r}: nested placeholders are not supported")
            used.add(field)
        try:
            value.format(n=1, parent="P", parent_name="P")
        except (ValueError, TypeError) as exc:
            self.fail(node, f"{what} {value!r}: bad format spec: {exc}")
        return value, used

    def literal(self, node: Node, what: str, *, code: bool) -> str:
        """A listed grid's code or name: text, and no placeholders (those belong in generate)."""
        value = self.word(node, what) if code else self.text(node, what)
        try:
            fields = [f for _, f, _, _ in string.Formatter().parse(value) if f is not None]
        except ValueError:
            fields = []
        if fields:
            self.fail(
                node,
                f"{what} {value!r}: placeholders like {{{fields[0]}}} only work inside generate",
            )
        return value

    def geofence(self, node: Node, what: str) -> dict[str, Any]:
        data = self.constructor.construct_object(node, deep=True)
        try:
            fence = parse_geofence(data)
        except ValueError as exc:
            self.fail(node, f"{what}: {exc}")
        return fence.to_dict()


# --------------------------------------------------------------------------- the parser


class _Parser:
    def __init__(self, source: str) -> None:
        self.r = _Reader(source)
        self.levels: tuple[str, ...] = ()
        self.roles: dict[str, RoleSpec] = {}
        # tg_id -> (name, line) for every person given both, anywhere in the file
        self.named_ids: dict[int, tuple[str, int | None]] = {}
        self.explicit_ids: set[int] = set()
        # False once levels or roles could not be read: checks that lean on them would
        # only repeat that problem, so they are skipped
        self.levels_known = True
        self.roles_known = True

    # -- top level

    def parse(self, root: Node) -> Scenario:
        r = self.r
        top = r.mapping(
            root,
            "the scenario",
            _ROOT_KEYS,
            ("name", "levels", "roles", "schedule", "grids"),
            lenient=True,
        )
        name = ""
        timezone = DEFAULT_TIMEZONE
        tg_id_start = DEFAULT_TG_ID_START
        checklist: tuple[str, ...] = ()
        severities: tuple[SeveritySpec, ...] = ()
        schedule = ScheduleSpec(digest=time(0), nag=time(0))
        departments: tuple[DepartmentSpec, ...] = ()
        with r.recover():
            if "name" in top:
                name = r.text(top["name"], "name")
        with r.recover():
            if "timezone" in top:
                timezone = self.timezone(top["timezone"])
        with r.recover():
            if "tg_id_start" in top:
                tg_id_start = r.integer(top["tg_id_start"], "tg_id_start", minimum=1)
        with r.recover():
            if "levels" in top:
                self.levels = self.text_list(top["levels"], "levels", "level", allow_empty=False)
        self.levels_known = bool(self.levels)
        self.roles_known = "roles" in top
        if "roles" in top:
            with r.recover():
                self.roles = {role.key: role for role in self.role_list(top["roles"])}
        with r.recover():
            if "checklist" in top:
                checklist = self.text_list(top["checklist"], "checklist", "checklist item")
        categories = default_categories(checklist)
        with r.recover():
            if "categories" in top:
                categories = self.category_list(top["categories"], checklist)
        with r.recover():
            if "severities" in top:
                severities = self.severity_map(top["severities"])
        with r.recover():
            if "schedule" in top:
                schedule = self.schedule(top["schedule"])
        with r.recover():
            if "departments" in top:
                departments = self.department_list(top["departments"])
        companions_count = False
        with r.recover():
            if "patrol" in top:
                companions_count = self.patrol(top["patrol"])
        case_rules = CaseRules()
        route_grids: GridRefs = []
        with r.recover():
            if "cases" in top:
                case_rules = read_case_rules(
                    r,
                    top["cases"],
                    categories=categories,
                    departments=[d.code for d in departments],
                    grid_refs=route_grids,
                )

        trees: list[_GridT] = []
        with r.recover():
            if "grids" in top:
                grid_nodes = r.sequence(top["grids"], "grids", null_ok=False)
                if not grid_nodes:
                    r.fail(top["grids"], "grids must list at least one grid")
                for node in grid_nodes:
                    with r.recover():
                        trees.append(self.grid(node))

        ex = _Expander(self, tg_id_start)
        for tree in trees:
            ex.listed(tree, None, 1)
        people, memberships = ex.people_and_memberships()
        codes = {g.code for g in ex.grids}
        for node, code in route_grids:
            if code not in codes:
                r.note(r.error(node, f"route grid {code!r} is not a grid of this file"))
        if r.errors:
            raise r.refusal()
        return Scenario(
            name=name,
            timezone=timezone,
            tg_id_start=tg_id_start,
            levels=self.levels,
            roles=tuple(self.roles.values()),
            checklist=checklist,
            categories=categories,
            severities=severities,
            schedule=schedule,
            departments=departments,
            companions_count=companions_count,
            case_rules=case_rules,
            grids=tuple(ex.grids),
            people=people,
            memberships=memberships,
        )

    def timezone(self, node: Node) -> str:
        value = self.r.text(node, "timezone")
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            self.r.fail(node, f"unknown time zone {value!r} (use an IANA name like Asia/Shanghai)")
        return value

    def text_list(
        self, node: Node, what: str, item: str, *, allow_empty: bool = True
    ) -> tuple[str, ...]:
        nodes = self.r.sequence(node, what, null_ok=allow_empty)
        if not nodes and not allow_empty:
            self.r.fail(node, f"{what} must not be empty")
        out: list[str] = []
        for n in nodes:
            value = self.r.text(n, item)
            if value in out:
                self.r.fail(n, f"duplicate {item} {value!r} in {what}")
            out.append(value)
        return tuple(out)

    def role_list(self, node: Node) -> list[RoleSpec]:
        r = self.r
        nodes = r.sequence(node, "roles", null_ok=False)
        if not nodes:
            r.fail(node, "roles must list at least one role")
        roles: list[RoleSpec] = []
        seen: set[str] = set()
        read = 0
        for n in nodes:
            with r.recover():
                roles.append(self.role(n, seen))
                read += 1
        if read < len(nodes):
            self.roles_known = False
        return roles

    def role(self, n: Node, seen: set[str]) -> RoleSpec:
        r = self.r
        m = r.mapping(n, "role", ("key", "label", "leader", "quota"), ("key", "label"))
        key = r.word(m["key"], "role key")
        if key in seen:
            r.fail(m["key"], f"duplicate role key {key!r}")
        seen.add(key)
        label = r.text(m["label"], f"label of role {key!r}")
        leader = r.boolean(m["leader"], f"leader of role {key!r}") if "leader" in m else False
        quota = None
        if "quota" in m and not _is_null(m["quota"]):
            q = r.mapping(
                m["quota"], f"quota of role {key!r}", ("period", "count"), ("period", "count")
            )
            period = r.text(q["period"], "quota period")
            if period not in PERIODS:
                r.fail(
                    q["period"],
                    f"unknown quota period {period!r} for role {key!r} (use day, week or month)",
                )
            count = r.integer(q["count"], f"quota count of role {key!r}", minimum=1)
            quota = QuotaSpec(period=period, count=count)
        return RoleSpec(key=key, label=label, leader=leader, quota=quota)

    def severity_map(self, node: Node) -> tuple[SeveritySpec, ...]:
        r = self.r
        m = r.mapping(node, "severities", None)
        if not m:
            r.fail(node, "severities must name at least one severity")
        out: list[SeveritySpec] = []
        for name, value in m.items():
            s = r.mapping(
                value,
                f"severity {name!r}",
                ("deadline_hours", "notify_to_root"),
                ("deadline_hours",),
            )
            hours = r.integer(
                s["deadline_hours"], f"deadline_hours of severity {name!r}", minimum=1
            )
            notify = (
                r.boolean(s["notify_to_root"], f"notify_to_root of severity {name!r}")
                if "notify_to_root" in s
                else False
            )
            out.append(SeveritySpec(name=name, deadline_hours=hours, notify_to_root=notify))
        return tuple(out)

    def schedule(self, node: Node) -> ScheduleSpec:
        r = self.r
        m = r.mapping(node, "schedule", ("digest", "nag", "quiet"), ("digest", "nag"))
        quiet_start = quiet_end = None
        if "quiet" in m and not _is_null(m["quiet"]):
            quiet_start, quiet_end = r.quiet(m["quiet"], "schedule quiet")
        return ScheduleSpec(
            digest=r.clock(m["digest"], "schedule digest"),
            nag=r.clock(m["nag"], "schedule nag"),
            quiet_start=quiet_start,
            quiet_end=quiet_end,
        )

    def patrol(self, node: Node) -> bool:
        """``patrol: {companions_count: true}``: whether a joint patrol (联合巡查) counts for
        its companions on the roster too."""
        m = self.r.mapping(node, "patrol", ("companions_count",))
        if "companions_count" not in m:
            return False
        return self.r.boolean(m["companions_count"], "patrol companions_count")

    def category_list(self, node: Node, checklist: Sequence[str]) -> tuple[Category, ...]:
        """``categories:`` each ``{key, label, en, checklist?}``; keys and labels unique, a
        ``checklist`` link one of the checklist's items, each item linked once at most."""
        r = self.r
        nodes = r.sequence(node, "categories", null_ok=False)
        if not nodes:
            r.fail(node, "categories must list at least one category")
        out: list[Category] = []
        for n in nodes:
            with r.recover():
                out.append(self.category(n, out, checklist))
        return tuple(out)

    def category(self, n: Node, seen: Sequence[Category], checklist: Sequence[str]) -> Category:
        r = self.r
        m = r.mapping(n, "category", ("key", "label", "en", "checklist"), ("key", "label", "en"))
        key = r.word(m["key"], "category key")
        if any(c.key == key for c in seen):
            r.fail(m["key"], f"duplicate category key {key!r}")
        label = r.text(m["label"], f"label of category {key!r}")
        if any(c.label == label for c in seen):
            r.fail(m["label"], f"duplicate category label {label!r}")
        en = r.text(m["en"], f"en of category {key!r}")
        item = None
        if "checklist" in m and not _is_null(m["checklist"]):
            item = r.text(m["checklist"], f"checklist of category {key!r}")
            if item not in checklist:
                known = ", ".join(checklist) or "none"
                r.fail(m["checklist"], f"category {key!r}: {item!r} is no checklist item ({known})")
            if any(c.checklist == item for c in seen):
                r.fail(m["checklist"], f"checklist item {item!r} is linked to two categories")
        return Category(key=key, label=label, en=en, checklist=item)

    def department_list(self, node: Node) -> tuple[DepartmentSpec, ...]:
        r = self.r
        out: list[DepartmentSpec] = []
        seen: set[str] = set()
        for n in r.sequence(node, "departments"):
            m = r.mapping(n, "department", ("code", "name"), ("code", "name"))
            code = r.word(m["code"], "department code")
            if code in seen:
                r.fail(m["code"], f"duplicate department code {code!r}")
            seen.add(code)
            out.append(
                DepartmentSpec(code=code, name=r.text(m["name"], f"name of department {code!r}"))
            )
        return tuple(out)

    # -- grids (templates; expansion is _Expander's)

    def grid(self, node: Node) -> _GridT:
        r = self.r
        m = r.mapping(node, "grid", _GRID_KEYS, ("code",))
        code = r.literal(m["code"], "grid code", code=True)
        if "name" not in m:
            r.fail(node, f"grid {code!r} is missing required key 'name'")
        name = r.literal(m["name"], f"name of grid {code!r}", code=False)
        people = self.people(m.get("people"), f"grid {code!r}")
        children: list[_GridT] = []
        generate: _GenerateT | None = None
        if "children" in m:
            ch = m["children"]
            if isinstance(ch, MappingNode):  # children: {generate: ...}
                generate = self.generate_wrapper(ch, f"children of grid {code!r}")
            else:
                for n in r.sequence(ch, f"children of grid {code!r}"):
                    with r.recover():  # a bad child is left out with its subtree
                        children.append(self.grid(n))
        if "generate" in m:
            if generate is not None:
                r.fail(
                    m["generate"],
                    f"grid {code!r} has both 'generate' and "
                    "'children: {generate: ...}'; give one",
                )
            generate = self.generate(m["generate"])
        return _GridT(
            node=node,
            code=code,
            code_node=m["code"],
            name=name,
            people=people,
            children=tuple(children),
            generate=generate,
            geofence=self.geofence(m, f"grid {code!r}"),
            roll_call=r.boolean(m["roll_call"], "roll_call") if "roll_call" in m else False,
        )

    def generate_wrapper(self, node: Node, what: str) -> _GenerateT:
        m = self.r.mapping(node, what, ("generate",), ("generate",))
        return self.generate(m["generate"])

    def generate(self, node: Node) -> _GenerateT:
        r = self.r
        if isinstance(node, MappingNode) and any(
            isinstance(k, ScalarNode) and k.value == "generate" for k, _ in node.value
        ):
            key = next(
                k for k, _ in node.value if isinstance(k, ScalarNode) and k.value == "generate"
            )
            r.fail(
                key,
                "a generated grid's own children go in 'children: {generate: ...}', "
                "not 'generate:'",
            )
        m = r.mapping(node, "generate", _GENERATE_KEYS, ("count", "code", "name"))
        count = r.integer(m["count"], "generate count", minimum=1)
        code, code_fields = r.template(m["code"], "generate code")
        name, _ = r.template(m["name"], "generate name")
        if count > 1 and "n" not in code_fields:
            r.fail(
                m["code"],
                f"generate code {code!r} has no {{n}}: all {count} generated grids "
                "would get the same code",
            )
        child = None
        if "children" in m and not _is_null(m["children"]):
            ch = m["children"]
            if not isinstance(ch, MappingNode):
                r.fail(
                    ch,
                    "children of generated grids must be {generate: {...}}, got "
                    f"{_describe(ch)}",
                )
            child = self.generate_wrapper(ch, "children of generated grids")
        return _GenerateT(
            node=node,
            count=count,
            code=code,
            code_node=m["code"],
            name=name,
            people=self.people(m.get("people"), "generated grids"),
            child=child,
            geofence=self.geofence(m, "generated grids"),
            roll_call=r.boolean(m["roll_call"], "roll_call") if "roll_call" in m else False,
        )

    def geofence(self, m: dict[str, Node], what: str) -> dict[str, Any] | None:
        if "geofence" not in m or _is_null(m["geofence"]):
            return None
        return self.r.geofence(m["geofence"], what)

    def people(self, node: Node | None, where: str) -> tuple[_PersonT, ...]:
        r = self.r
        if node is None:
            return ()
        out: list[_PersonT] = []
        for n in r.sequence(node, f"people of {where}"):
            with r.recover():  # a bad entry is left out; the others are still checked
                person = self.person(n, where)
                if person is not None:
                    out.append(person)
        return tuple(out)

    def person(self, n: Node, where: str) -> _PersonT | None:
        """One entry of a people list; None when its role is one that could not be read."""
        r = self.r
        m = r.mapping(n, f"person in {where}", _PERSON_KEYS, ("role",))
        role = r.word(m["role"], "role")
        if role not in self.roles:
            if not self.roles_known:
                return None
            close = difflib.get_close_matches(role, list(self.roles), n=1)
            hint = (
                f"; did you mean {close[0]!r}?" if close else f" (roles: {', '.join(self.roles)})"
            )
            r.fail(m["role"], f"unknown role {role!r}{hint}")
        name = r.text(m["name"], "person name") if "name" in m else None
        tg_id = r.integer(m["tg_id"], "tg_id", minimum=1) if "tg_id" in m else None
        count = r.integer(m["count"], "count of people", minimum=1) if "count" in m else 1
        if tg_id is not None and count > 1:
            r.fail(m["count"], f"count {count} with tg_id {tg_id}: one tg_id is one person")
        if tg_id is not None:
            self.explicit_ids.add(tg_id)
            if name is not None:
                known = self.named_ids.get(tg_id)
                if known is not None and known[0] != name:
                    r.fail(
                        n,
                        f"tg_id {tg_id} is given to two people with different names: "
                        f"{known[0]!r} (line {known[1]}) and {name!r}",
                    )
                self.named_ids.setdefault(tg_id, (name, _line(n)))
        return _PersonT(name=name, tg_id=tg_id, role=role, count=count, node=n)


def _is_null(node: Node) -> bool:
    return isinstance(node, ScalarNode) and node.tag == _NULL


class _Expander:
    """Spells the templates out depth first; hands out generated names and tg_ids."""

    def __init__(self, p: _Parser, tg_id_start: int) -> None:
        self.p = p
        self.r = p.r
        self.tg_id_start = tg_id_start
        self.grids: list[GridSpec] = []
        self.too_deep = False
        self.code_lines: dict[str, int | None] = {}
        self.slots: list[_Slot] = []
        self.names: dict[int, str] = {tg: name for tg, (name, _) in p.named_ids.items()}

    def add_grid(
        self,
        code: str,
        name: str,
        parent: GridSpec | None,
        depth: int,
        node: Node,
        code_node: Node,
        geofence: dict[str, Any] | None,
        roll_call: bool,
    ) -> GridSpec:
        levels = self.p.levels
        if not self.p.levels_known:
            levels = (*levels, *([""] * depth))
        elif depth > len(levels):
            if self.too_deep:
                raise _Skipped  # one line about `levels` is enough
            self.too_deep = True
            self.r.fail(
                node,
                f"grid {code!r} would be at level {depth}, but levels names only "
                f"{len(levels)} ({', '.join(levels)})",
            )
        if not code or any(ch.isspace() for ch in code):
            self.r.fail(code_node, f"generated grid code {code!r} is empty or contains spaces")
        if code in self.code_lines:
            self.r.fail(
                code_node, f"duplicate grid code {code!r} (first at line {self.code_lines[code]})"
            )
        self.code_lines[code] = _line(code_node)
        grid = GridSpec(
            code=code,
            name=name,
            parent_code=parent.code if parent else None,
            level=depth,
            level_label=levels[depth - 1],
            geofence=geofence,
            roll_call=roll_call,
        )
        self.grids.append(grid)
        return grid

    def listed(self, t: _GridT, parent: GridSpec | None, depth: int) -> None:
        with self.r.recover():  # a grid that cannot be placed is left out with its subtree
            grid = self.add_grid(
                t.code, t.name, parent, depth, t.node, t.code_node, t.geofence, t.roll_call
            )
            self.people(grid, t.people)
            self.below(t, grid, depth)

    def below(self, t: _GridT, grid: GridSpec, depth: int) -> None:
        for child in t.children:
            self.listed(child, grid, depth + 1)
        if t.generate is not None:
            self.generate(t.generate, grid, depth + 1)

    def generate(self, t: _GenerateT, parent: GridSpec, depth: int) -> None:
        for n in range(1, t.count + 1):
            values = {"n": n, "parent": parent.code, "parent_name": parent.name}
            with self.r.recover():
                grid = self.add_grid(
                    t.code.format(**values),
                    t.name.format(**values),
                    parent,
                    depth,
                    t.node,
                    t.code_node,
                    t.geofence,
                    t.roll_call,
                )
                self.people(grid, t.people)
                if t.child is not None:
                    self.generate(t.child, grid, depth + 1)

    def people(self, grid: GridSpec, templates: Sequence[_PersonT]) -> None:
        seq: dict[str, int] = {}  # role -> last i handed out in this grid
        seats: dict[str, int] = {}  # role -> people without a tg_id so far in this grid
        for t in templates:
            for _ in range(t.count):
                place = None
                if t.tg_id is None:
                    seats[t.role] = seats.get(t.role, 0) + 1
                    place = place_of(grid.code, t.role, seats[t.role])
                if t.name is not None:
                    name = t.name
                elif t.tg_id is not None and t.tg_id in self.names:
                    name = self.names[t.tg_id]
                else:
                    i = seq.get(t.role, 0) + 1
                    seq[t.role] = i
                    name = f"{grid.name}·{self.p.roles[t.role].label}{i}"
                    if t.tg_id is not None:
                        self.names[t.tg_id] = name
                self.slots.append(_Slot(name, t.tg_id, t.role, grid.code, t.node, place))

    def people_and_memberships(
        self,
    ) -> tuple[tuple[PersonSpec, ...], tuple[MembershipSpec, ...]]:
        next_id = self.tg_id_start
        taken = self.p.explicit_ids
        people: dict[int, PersonSpec] = {}
        memberships: dict[tuple[int, str, str], MembershipSpec] = {}
        for slot in self.slots:
            if slot.tg_id is None:
                while next_id in taken:
                    next_id += 1
                slot.tg_id = next_id
                next_id += 1
            tg_id = slot.tg_id
            person = people.setdefault(
                tg_id, PersonSpec(tg_id=tg_id, name=slot.name, place=slot.place)
            )
            if person.name != slot.name:  # pragma: no cover - caught while reading people
                self.r.note(
                    self.r.error(
                        slot.node,
                        f"tg_id {tg_id} is given to two people with different "
                        f"names: {person.name!r} and {slot.name!r}",
                    )
                )
                continue
            key = (tg_id, slot.grid_code, slot.role)
            if key in memberships:
                self.r.note(
                    self.r.error(
                        slot.node,
                        f"{slot.name} ({tg_id}) is listed twice as {slot.role!r} "
                        f"in grid {slot.grid_code!r}",
                    )
                )
                continue
            memberships[key] = MembershipSpec(
                tg_id=tg_id, grid_code=slot.grid_code, role_key=slot.role
            )
        return tuple(people.values()), tuple(memberships.values())


# --------------------------------------------------------------------------- entry point


def parse_scenario(text: str, *, source: str = "<scenario>") -> Scenario:
    """Parse scenario YAML ``text``; ``source`` names it in error messages (the file path).

    Raises ``ScenarioError`` (a ``ValueError``) for any problem, with the 1-based line;
    its ``errors`` lists every problem found (up to ``MAX_ERRORS``), in line order.
    """
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        if root is None:
            raise ScenarioError(None, "the file is empty", source=source)
        parser = _Parser(source)
        try:
            return parser.parse(root)
        except _Enough:
            raise parser.r.refusal() from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = int(mark.line) + 1 if mark is not None else None
        reason = " ".join(str(p) for p in (exc.context, exc.problem) if p)
        raise ScenarioError(line, f"invalid YAML: {reason}", source=source) from None
    except yaml.YAMLError as exc:
        raise ScenarioError(
            _reader_line(text, exc), f"invalid YAML: {exc}", source=source
        ) from None


def _reader_line(text: str, exc: yaml.YAMLError) -> int | None:
    position = getattr(exc, "position", None)
    if isinstance(position, int):
        return text.count("\n", 0, position) + 1
    return None
