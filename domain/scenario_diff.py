"""What loading a scenario would change: ``diff(Snapshot, Scenario) -> ScenarioChanges``.

Pure. The storage layer builds a ``Snapshot`` of what the database holds, in the same spec
shapes the parser produces, and applies the returned changes. Keys: codes for grids and
departments, keys for roles, tg_id for people; a membership is the triple (tg_id, grid,
role). Grids missing from the file are ``archived`` (never deleted); an archived grid that
the file lists again is ``restored``. Roles and departments missing from the file are
reported ``removed``.

The file manages the people it lists and the people an earlier file listed
(``Snapshot.listed``): a membership of theirs that the file no longer gives is removed,
and a listed person the file no longer names is in ``people_removed`` (their row stays, for
the ledger; they leave the roster). People who came another way (an invite, an admin's
/role) and were never in a file keep what they hold.

A person the file lists without a tg_id is known by their place (``PersonSpec.place``): the
tg_id the database gave that place is theirs again, however the file around them changed,
and a place new to the database gets the next number nobody holds (``settle_places``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, fields, replace
from datetime import time
from typing import Any, Generic, TypeVar

from domain.case_rules import changes as case_rule_changes
from domain.categories import Category
from domain.scenario_model import (
    DepartmentSpec,
    GridSpec,
    MembershipSpec,
    PersonSpec,
    QuotaSpec,
    RoleSpec,
    Scenario,
    ScenarioSettings,
    SeveritySpec,
)

__all__ = ["Changed", "FieldChange", "ScenarioChanges", "Snapshot", "diff", "settle_places"]

T = TypeVar("T")


@dataclass(frozen=True)
class FieldChange:
    """One field's ``old`` → ``new`` value (``old`` None: not set before)."""

    field: str
    old: Any
    new: Any


@dataclass(frozen=True)
class Changed(Generic[T]):
    """An item present on both sides whose fields differ (``fields`` in declaration order)."""

    key: str | int
    old: T
    new: T
    fields: tuple[FieldChange, ...]

    def field_names(self) -> tuple[str, ...]:
        return tuple(f.field for f in self.fields)


@dataclass(frozen=True)
class Snapshot:
    """What the database holds now, in spec shapes. ``settings`` None: never configured.

    ``grids`` are the active grids (with ``parent_code``, ``level``, ``level_label``);
    ``archived_grids`` the archived ones, so that a grid listed again is restored rather
    than added twice. ``people`` are everyone with a tg_id (with their place, if any);
    ``memberships`` those in active grids; ``listed`` the tg_ids an imported file listed.
    """

    roles: tuple[RoleSpec, ...] = ()
    departments: tuple[DepartmentSpec, ...] = ()
    grids: tuple[GridSpec, ...] = ()
    people: tuple[PersonSpec, ...] = ()
    memberships: tuple[MembershipSpec, ...] = ()
    settings: ScenarioSettings | None = None
    archived_grids: tuple[GridSpec, ...] = ()
    listed: frozenset[int] = frozenset()

    @classmethod
    def from_scenario(cls, scenario: Scenario) -> Snapshot:
        """The snapshot of a database that holds exactly ``scenario``."""
        return cls(
            roles=scenario.roles,
            departments=scenario.departments,
            grids=scenario.grids,
            people=scenario.people,
            memberships=scenario.memberships,
            settings=scenario.settings,
            listed=frozenset(p.tg_id for p in scenario.people),
        )


@dataclass(frozen=True)
class ScenarioChanges:
    settings: tuple[FieldChange, ...] = ()
    roles_added: tuple[RoleSpec, ...] = ()
    roles_changed: tuple[Changed[RoleSpec], ...] = ()
    roles_removed: tuple[RoleSpec, ...] = ()
    departments_added: tuple[DepartmentSpec, ...] = ()
    departments_changed: tuple[Changed[DepartmentSpec], ...] = ()
    departments_removed: tuple[DepartmentSpec, ...] = ()
    grids_added: tuple[GridSpec, ...] = ()
    grids_changed: tuple[Changed[GridSpec], ...] = ()
    grids_archived: tuple[GridSpec, ...] = ()
    grids_restored: tuple[Changed[GridSpec], ...] = ()
    people_added: tuple[PersonSpec, ...] = ()
    people_changed: tuple[Changed[PersonSpec], ...] = ()
    people_removed: tuple[PersonSpec, ...] = ()
    memberships_added: tuple[MembershipSpec, ...] = ()
    memberships_removed: tuple[MembershipSpec, ...] = ()
    # tg_id -> name (file first, then database), only to render membership lines
    names: dict[int, str] = field(default_factory=dict, compare=False, repr=False)

    @property
    def is_empty(self) -> bool:
        return not any(n for n in self.counts().values())

    def counts(self) -> dict[str, int]:
        """Number of items per change list, by field name (``"grids_added"``: 2, ...)."""
        return {f.name: len(getattr(self, f.name)) for f in fields(self) if f.name != "names"}

    def summary_lines(self, limit: int | None = None) -> list[str]:
        """Human-readable lines, one per change, then a one-line count summary.

        ``limit`` caps the detail lines of each kind (the rest become "… and N more").
        """
        lines: list[str] = []

        def section(
            items: Sequence[Any], render: Callable[[Any], Iterable[str]], what: str
        ) -> None:
            shown = items if limit is None else items[:limit]
            for item in shown:
                lines.extend(render(item))
            if len(items) > len(shown):
                lines.append(f"… and {len(items) - len(shown)} more {what}")

        section(
            self.settings,
            lambda c: [f"setting {c.field}: {_fmt(c.old)} → {_fmt(c.new)}"],
            "setting changes",
        )
        section(self.roles_added, lambda r: [f"role {r.key} added: {_role(r)}"], "roles added")
        section(self.roles_changed, lambda c: _field_lines("role", c), "roles changed")
        section(self.roles_removed, lambda r: [f"role {r.key} removed: {r.label}"], "roles removed")
        section(
            self.departments_added,
            lambda d: [f"department {d.code} added: {d.name}"],
            "departments added",
        )
        section(
            self.departments_changed, lambda c: _field_lines("department", c), "departments changed"
        )
        section(
            self.departments_removed,
            lambda d: [f"department {d.code} removed: {d.name}"],
            "departments removed",
        )
        section(
            self.grids_added,
            lambda g: [f"grid {g.code} added: {g.name} ({_where(g)})"],
            "grids added",
        )
        section(
            self.grids_restored,
            lambda c: [
                f"grid {c.key} restored from the archive: {c.new.name} ({_where(c.new)})",
                *_field_lines("grid", c),
            ],
            "grids restored",
        )
        section(self.grids_changed, lambda c: _field_lines("grid", c), "grids changed")
        section(
            self.grids_archived,
            lambda g: [f"grid {g.code} archived (not in the file): {g.name}"],
            "grids archived",
        )
        section(self.people_added, lambda p: [f"person {p.tg_id} added: {p.name}"], "people added")
        section(self.people_changed, lambda c: _field_lines("person", c), "people changed")
        section(
            self.people_removed,
            lambda p: [f"person {p.tg_id} removed (leaves the roster, history kept): {p.name}"],
            "people removed",
        )
        section(
            self.memberships_added,
            lambda m: [f"membership added: {self._who(m)} as {m.role_key} in {m.grid_code}"],
            "memberships added",
        )
        section(
            self.memberships_removed,
            lambda m: [f"membership removed: {self._who(m)} as {m.role_key} in {m.grid_code}"],
            "memberships removed",
        )
        lines.append(self.count_line())
        return lines

    def count_line(self) -> str:
        """One line: "no changes", or "changes: 1 grid added, 2 memberships removed, ..."."""
        parts = []
        for name, n in self.counts().items():
            if n:
                kind, _, verb = name.partition("_")
                if kind == "settings":
                    parts.append(f"{n} {'setting' if n == 1 else 'settings'} changed")
                else:
                    parts.append(f"{n} {_SINGULAR[kind] if n == 1 else kind} {verb}")
        return "changes: " + ", ".join(parts) if parts else "no changes"

    def _who(self, m: MembershipSpec) -> str:
        name = self.names.get(m.tg_id)
        return f"{name} ({m.tg_id})" if name else str(m.tg_id)


_SINGULAR = {
    "roles": "role",
    "departments": "department",
    "grids": "grid",
    "people": "person",
    "memberships": "membership",
}


def _fmt(value: Any) -> str:
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, time):
        return f"{value:%H:%M}"
    if isinstance(value, tuple):
        return "[" + ", ".join(_fmt(v) for v in value) + "]"
    if isinstance(value, QuotaSpec | SeveritySpec):
        return str(value)
    if isinstance(value, dict):
        if "center" in value:
            lat, lon = value["center"]
            return f"circle r={value['radius_m']:g}m around ({lat:g}, {lon:g})"
        if "polygon" in value:
            return f"polygon of {len(value['polygon'])} points"
    return str(value)


def _role(r: RoleSpec) -> str:
    extra = []
    if r.leader:
        extra.append("leader")
    if r.quota:
        extra.append(f"quota {r.quota}")
    return r.label + (f" ({', '.join(extra)})" if extra else "")


def _where(g: GridSpec) -> str:
    at = f"level {g.level} {g.level_label}"
    return f"under {g.parent_code}, {at}" if g.parent_code else f"top, {at}"


_VERBS = {"name": "renamed", "parent_code": "moved"}


def _field_lines(kind: str, c: Changed[Any]) -> list[str]:
    out = []
    names = c.field_names()
    for f in c.fields:
        if kind == "grid" and f.field == "level_label" and "level" in names:
            continue  # shown with the level
        if kind == "grid" and f.field in ("level", "level_label"):
            old, new = c.old, c.new
            out.append(
                f"grid {c.key} level: {old.level} {old.level_label} → {new.level} {new.level_label}"
            )
            continue
        label = _VERBS.get(f.field, f.field)
        if kind == "grid" and f.field == "parent_code":
            out.append(f"grid {c.key} moved: {f.old or '(top)'} → {f.new or '(top)'}")
            continue
        out.append(f"{kind} {c.key} {label}: {_fmt(f.old)} → {_fmt(f.new)}")
    return out


# --------------------------------------------------------------------------- diff


def _compare(old: T, new: T, names: Sequence[str]) -> tuple[FieldChange, ...]:
    return tuple(
        FieldChange(n, getattr(old, n), getattr(new, n))
        for n in names
        if getattr(old, n) != getattr(new, n)
    )


_ROLE_FIELDS = ("label", "leader", "quota")
_DEPARTMENT_FIELDS = ("name",)
_GRID_FIELDS = ("name", "parent_code", "level", "level_label", "geofence", "roll_call")
_PERSON_FIELDS = ("name", "place")


def _keyed(
    current: Sequence[T],
    desired: Sequence[T],
    key: Callable[[T], str | int],
    names: Sequence[str],
) -> tuple[tuple[T, ...], tuple[Changed[T], ...], tuple[T, ...]]:
    """(added, changed, removed): added/changed in desired order, removed in current order."""
    old = {key(x): x for x in current}
    new_keys = {key(x) for x in desired}
    added: list[T] = []
    changed: list[Changed[T]] = []
    for item in desired:
        k = key(item)
        before = old.get(k)
        if before is None:
            added.append(item)
        else:
            diffs = _compare(before, item, names)
            if diffs:
                changed.append(Changed(k, before, item, diffs))
    removed = tuple(x for x in current if key(x) not in new_keys)
    return tuple(added), tuple(changed), removed


def _settings(current: ScenarioSettings | None, desired: ScenarioSettings) -> list[FieldChange]:
    out: list[FieldChange] = []

    def cmp(name: str, old: Any, new: Any) -> None:
        if old != new:
            out.append(FieldChange(name, old, new))

    cur = current
    cmp("name", cur and cur.name, desired.name)
    cmp("timezone", cur and cur.timezone, desired.timezone)
    cmp("levels", cur and cur.levels, desired.levels)
    cmp("checklist", cur and cur.checklist, desired.checklist)
    cmp("categories", cur and _category_words(cur.categories), _category_words(desired.categories))
    old_sev = {s.name: s for s in cur.severities} if cur else {}
    new_sev = {s.name: s for s in desired.severities}
    for name, sev in new_sev.items():
        cmp(f"severities.{name}", old_sev.get(name), sev)
    for name, sev in old_sev.items():
        if name not in new_sev:
            cmp(f"severities.{name}", sev, None)
    old_sched = cur.schedule if cur else None
    for name in ("digest", "nag", "quiet"):
        cmp(
            f"schedule.{name}",
            old_sched and getattr(old_sched, name),
            getattr(desired.schedule, name),
        )
    # off unless a file says so: a first load that does not mention it changes nothing
    was = cur.companions_count if cur else False
    cmp("patrol.companions_count", was, desired.companions_count)
    for name, old, new in case_rule_changes(cur.case_rules if cur else None, desired.case_rules):
        cmp(name, old, new)
    return out


def _category_words(categories: tuple[Category, ...]) -> tuple[str, ...]:
    """As the change list shows them: "key 中文 / English (→ checklist item)"."""
    return tuple(
        f"{c.key} {c.label} / {c.en}" + (f" → {c.checklist}" if c.checklist else "")
        for c in categories
    )


def settle_places(current: Snapshot, desired: Scenario) -> Scenario:
    """``desired`` with each person without a tg_id numbered by their place, not their rank.

    The parser numbers such people in file order, which is right only for a first import.
    Here a place the database knows keeps its tg_id; a place it does not know yet is taken
    by a person of the database with no place, not named with a tg_id in the file, who
    holds that role in that grid under the same name (people imported before places were
    kept); any other place gets the lowest number from ``tg_id_start`` that no one in the
    file or the database holds. Idempotent: settling a settled scenario changes nothing.
    """
    seated = [p for p in desired.people if p.place is not None]
    if not seated:
        return desired
    written = {p.tg_id for p in desired.people if p.place is None}
    known = {p.place: p.tg_id for p in current.people if p.place is not None}
    by_tg = {p.tg_id: p for p in current.people}
    seat_of = {p.tg_id: p.place for p in seated}
    memberships = {m.tg_id: m for m in desired.memberships if m.tg_id in seat_of}
    unplaced = {
        (m.grid_code, m.role_key, by_tg[m.tg_id].name): m.tg_id
        for m in current.memberships
        if m.tg_id in by_tg and by_tg[m.tg_id].place is None and m.tg_id not in written
    }

    chosen: dict[int, int] = {}  # tg_id the parser gave -> the settled one
    taken = set(written)
    for p in seated:
        keep = known.get(p.place) if p.place is not None else None
        if keep is None:
            m = memberships[p.tg_id]
            keep = unplaced.get((m.grid_code, m.role_key, p.name))
        if keep is not None and keep not in taken:
            chosen[p.tg_id] = keep
            taken.add(keep)
    taken |= by_tg.keys()
    next_id = desired.tg_id_start
    for p in seated:
        if p.tg_id in chosen:
            continue
        while next_id in taken:
            next_id += 1
        chosen[p.tg_id] = next_id
        taken.add(next_id)

    if all(old == new for old, new in chosen.items()):
        return desired
    return replace(
        desired,
        people=tuple(
            replace(p, tg_id=chosen[p.tg_id]) if p.place is not None else p for p in desired.people
        ),
        memberships=tuple(
            replace(m, tg_id=chosen[m.tg_id]) if m.tg_id in chosen else m
            for m in desired.memberships
        ),
    )


def diff(current: Snapshot, desired: Scenario) -> ScenarioChanges:
    """What loading ``desired`` over ``current`` changes; empty when they already agree.

    ``desired`` is settled first (``settle_places``); apply the changes to the settled one.
    """
    roles = _keyed(current.roles, desired.roles, lambda r: r.key, _ROLE_FIELDS)
    departments = _keyed(
        current.departments, desired.departments, lambda d: d.code, _DEPARTMENT_FIELDS
    )

    active = {g.code for g in current.grids}
    archived = {g.code: g for g in current.archived_grids if g.code not in active}
    restored: list[Changed[GridSpec]] = []
    for g in desired.grids:
        before = archived.get(g.code)
        if before is not None:
            restored.append(Changed(g.code, before, g, _compare(before, g, _GRID_FIELDS)))
    grids_added, grids_changed, grids_archived = _keyed(
        current.grids,
        [g for g in desired.grids if g.code not in archived],
        lambda g: g.code,
        _GRID_FIELDS,
    )

    desired = settle_places(current, desired)
    people_added, people_changed, _unlisted = _keyed(
        current.people, desired.people, lambda p: p.tg_id, _PERSON_FIELDS
    )
    in_file = {p.tg_id for p in desired.people}
    managed = [m for m in current.memberships if m.tg_id in in_file or m.tg_id in current.listed]
    people_removed = tuple(
        p for p in current.people if p.tg_id in current.listed and p.tg_id not in in_file
    )

    old_m = set(managed)
    new_m = set(desired.memberships)
    names = {p.tg_id: p.name for p in current.people}
    names.update((p.tg_id, p.name) for p in desired.people)

    return ScenarioChanges(
        settings=tuple(_settings(current.settings, desired.settings)),
        roles_added=roles[0],
        roles_changed=roles[1],
        roles_removed=roles[2],
        departments_added=departments[0],
        departments_changed=departments[1],
        departments_removed=departments[2],
        grids_added=grids_added,
        grids_changed=grids_changed,
        grids_archived=grids_archived,
        grids_restored=tuple(restored),
        people_added=people_added,
        people_changed=people_changed,
        people_removed=people_removed,
        memberships_added=tuple(m for m in desired.memberships if m not in old_m),
        memberships_removed=tuple(m for m in managed if m not in new_m),
        names=names,
    )
