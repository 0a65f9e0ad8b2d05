"""Scenario files: a grid tree and its rules as YAML, parsed and diffed, purely.

The format is ``docs/scenario-format.md``. The caller reads the file and hands the text to
``parse_scenario(text, source=path)``; the result is a ``Scenario`` with every generated grid
and person spelled out. ``diff(Snapshot, Scenario)`` says what loading it would change.

Rules this module fixes where the README leaves room
----------------------------------------------------

Keys. Required: ``name``, ``levels``, ``roles``, ``schedule`` (``digest``, ``nag``; ``quiet``
optional) and ``grids``. Optional: ``timezone`` (default Asia/Shanghai, must be an IANA
name), ``tg_id_start`` (default 900000000), ``checklist``, ``severities``
(``notify_to_root`` defaults to false), ``departments``. Unknown keys, duplicate keys and
wrong types are errors. Codes and role keys are text without spaces; ``code: 01`` is the
text "01" (the raw scalar is used for text fields, so YAML's number/bool guessing does not
bite). Times are ``"HH:MM"`` (unquoted 18:00 works too); ``quiet`` is ``"HH:MM-HH:MM"`` and
may cross midnight, start and end must differ.

Tree order. Grids come out depth first (pre-order): a grid, then its listed ``children``
in file order, then its generated ones (``generate``, or ``children: {generate: ...}``;
one of the two per grid). Each generated grid is followed by its own generated subtree
before the next ``n``. A grid's ``level`` is its depth (root 1) and ``level_label`` is
``levels[level - 1]``; a grid deeper than ``levels`` is an error. ``geofence`` (checked
and normalized by ``domain.geo``) and ``roll_call`` may be given on a listed grid or on a
``generate`` block (then every generated grid gets them).

Placeholders, only inside ``generate`` code and name: ``{n}`` (1..count, format specs
allowed: ``{n:02}`` → 01), ``{parent}``, ``{parent_name}`` (code and name of the grid the
generated one hangs under). Anything else in braces is an error (``{{`` / ``}}`` for a
literal brace); a listed grid's code or name must not contain placeholders; a generate
``code`` without ``{n}`` and ``count`` > 1 is an error.

People. ``{name?, tg_id?, role, count?}``; ``count: k`` (k ≥ 1) stands for k copies of the
entry and cannot be combined with ``tg_id``. In file order, depth first (the grid order
above; within a grid, the ``people`` list in order, copies in order):

- name missing → the name a ``tg_id`` was given elsewhere in the file, if any; otherwise the
  generated name ``{grid name}·{role label}{i}``, where ``i`` counts the generated names of
  that role in that grid, from 1 (so each grid restarts: ``第1片区·网格长1``,
  ``第1片区·保安巡查员1``, ``第1片区·保安巡查员2``; named people do not use up an ``i``).
- tg_id missing → the person's ``place`` is ``"<grid code>/<role key>/<i>"``, ``i``
  counting the people without a tg_id of that role in that grid from 1 (named or not);
  the parser numbers them from ``tg_id_start`` in file order (the first handed out is
  ``tg_id_start`` itself), skipping every tg_id written explicitly anywhere in the file.

The place, not the order, is who such a person is. ``settle_places`` (which ``diff`` and
the importer apply) gives each place the tg_id the database already gave it, so an edit
elsewhere in the file renumbers no one, and a place new to the database the lowest number
nobody in the file or the database holds (a leaver's number is never handed out again).

A tg_id is one person: the same tg_id with two different names is an error, the same
tg_id twice with one name is one person in several grids/roles; the same person twice in
the same grid with the same role is an error. ``Scenario.people`` is unique by tg_id.

Errors raise ``ScenarioError(line, message)``; ``str()`` is ``"<source>:<line>: <reason>"``
with the 1-based line of the offending node. Reading goes on past a bad item (a role, a
grid with its subtree, a person, a top-level key) so that ``err.errors`` holds every
problem, one per line, in line order, up to ``MAX_ERRORS`` (50); ``err.line`` and
``err.message`` are the first. Checks that lean on what could not be read are skipped (no
"unknown role" once a role failed, one "too deep" for short ``levels``). Invalid YAML is one
error. The file is refused whole.

Removals (``domain.scenario_diff``): a person an earlier file listed and this one does not
leaves — their memberships are removed and they are in ``people_removed``; a grid the file
no longer lists is archived.
"""

from __future__ import annotations

from domain.scenario_diff import (
    Changed,
    FieldChange,
    ScenarioChanges,
    Snapshot,
    diff,
    settle_places,
)
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
    ScenarioSettings,
    ScheduleSpec,
    SeveritySpec,
)
from domain.scenario_parse import parse_scenario

__all__ = [
    "DEFAULT_TG_ID_START",
    "DEFAULT_TIMEZONE",
    "MAX_ERRORS",
    "PERIODS",
    "Changed",
    "DepartmentSpec",
    "FieldChange",
    "GridSpec",
    "MembershipSpec",
    "PersonSpec",
    "QuotaSpec",
    "RoleSpec",
    "Scenario",
    "ScenarioChanges",
    "ScenarioError",
    "ScenarioSettings",
    "ScheduleSpec",
    "SeveritySpec",
    "Snapshot",
    "diff",
    "parse_scenario",
    "settle_places",
]
