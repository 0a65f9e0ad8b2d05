"""diff(Snapshot, Scenario): idempotent loads and exactly the edits made."""

from __future__ import annotations

from dataclasses import replace
from datetime import time

from hypothesis import given, settings
from hypothesis import strategies as st

from domain.scenario import (
    Changed,
    FieldChange,
    GridSpec,
    MembershipSpec,
    PersonSpec,
    QuotaSpec,
    Scenario,
    ScenarioChanges,
    Snapshot,
    diff,
    parse_scenario,
)
from tests.conftest import scenario_path


def shared(name: str) -> Scenario:
    path = scenario_path(name)
    return parse_scenario(path.read_text(encoding="utf-8"), source=str(path))


BASE = """\
name: 测试区
levels: [区, 街道, 社区]
roles:
  - {key: leader, label: 网格长, leader: true}
  - {key: member, label: 网格员, quota: {period: week, count: 2}}
schedule: {digest: "18:00", nag: "09:30", quiet: "22:00-07:00"}
departments:
  - {code: PCS, name: 派出所}
grids:
  - code: D
    name: 某区
    people: [{name: 张三, tg_id: 1, role: leader}]
    children:
      - code: S1
        name: 一街道
        people: [{name: 李四, tg_id: 2, role: member}]
      - code: S2
        name: 二街道
        children:
          - code: S2-A
            name: 二街道甲社区
            people: [{name: 赵六, tg_id: 6, role: member}]
      - code: S3
        name: 三街道
"""


def edited() -> str:
    text = BASE
    for old, new in [
        ('digest: "18:00"', 'digest: "19:00"'),  # change the digest time
        ("period: week, count: 2", "period: day, count: 1"),  # change a quota
        ("name: 二街道\n", "name: 二街道新\n"),  # rename a grid
        (  # move S2-A from S2 to S1 (same level)
            "        people: [{name: 李四, tg_id: 2, role: member}]\n",
            "        people: [{name: 李四, tg_id: 2, role: member}]\n"
            "        children:\n"
            "          - code: S2-A\n"
            "            name: 二街道甲社区\n"
            "            people: [{name: 赵六, tg_id: 6, role: member}]\n",
        ),
        (
            "        children:\n"
            "          - code: S2-A\n"
            "            name: 二街道甲社区\n"
            "            people: [{name: 赵六, tg_id: 6, role: member}]\n"
            "      - code: S3\n",
            "        people: [{name: 王五, tg_id: 5, role: member}]\n"  # add a person
            "      - code: S3\n",
        ),
        ("      - code: S3\n        name: 三街道\n", "      - code: S4\n        name: 四街道\n"),
    ]:
        assert old in text, old
        text = text.replace(old, new, 1)
    return text


def test_same_file_twice_changes_nothing() -> None:
    for s in (
        parse_scenario(BASE),
        shared("fire-safety-5-level.yaml"),
        shared("zijingshan-party-grid.yaml"),
    ):
        changes = diff(Snapshot.from_scenario(s), s)
        assert changes.is_empty
        assert changes == ScenarioChanges()
        assert changes.summary_lines() == ["no changes"]


def test_first_load_into_an_empty_database_adds_everything() -> None:
    s = shared("zijingshan-party-grid.yaml")
    changes = diff(Snapshot(), s)
    assert changes.grids_added == s.grids
    assert changes.people_added == s.people
    assert changes.memberships_added == s.memberships
    assert changes.roles_added == s.roles
    assert changes.departments_added == s.departments
    assert not (changes.grids_changed or changes.grids_archived or changes.memberships_removed)
    assert {c.field for c in changes.settings} == {
        "name",
        "timezone",
        "levels",
        "checklist",
        "categories",
        "severities.一般",
        "severities.较大",
        "severities.重大",
        "schedule.digest",
        "schedule.nag",
        "schedule.quiet",
    }
    assert all(c.old is None for c in changes.settings)
    assert changes.summary_lines()[-1] == (
        "changes: 11 settings changed, 3 roles added, 2 departments added, 58 grids added, "
        "462 people added, 462 memberships added"
    )


def test_edited_file_gives_exactly_those_changes() -> None:
    before = parse_scenario(BASE)
    after = parse_scenario(edited())
    changes = diff(Snapshot.from_scenario(before), after)

    member_before = before.roles[1]
    assert changes == ScenarioChanges(
        settings=(FieldChange("schedule.digest", time(18), time(19)),),
        roles_changed=(
            Changed(
                "member",
                member_before,
                replace(member_before, quota=QuotaSpec("day", 1)),
                (FieldChange("quota", QuotaSpec("week", 2), QuotaSpec("day", 1)),),
            ),
        ),
        grids_added=(GridSpec("S4", "四街道", "D", 2, "街道"),),
        grids_changed=(
            Changed(
                "S2-A",
                GridSpec("S2-A", "二街道甲社区", "S2", 3, "社区"),
                GridSpec("S2-A", "二街道甲社区", "S1", 3, "社区"),
                (FieldChange("parent_code", "S2", "S1"),),
            ),
            Changed(
                "S2",
                GridSpec("S2", "二街道", "D", 2, "街道"),
                GridSpec("S2", "二街道新", "D", 2, "街道"),
                (FieldChange("name", "二街道", "二街道新"),),
            ),
        ),
        grids_archived=(GridSpec("S3", "三街道", "D", 2, "街道"),),
        people_added=(PersonSpec(5, "王五"),),
        memberships_added=(MembershipSpec(5, "S2", "member"),),
    )
    assert changes.summary_lines() == [
        "setting schedule.digest: 18:00 → 19:00",
        "role member quota: 2/week → 1/day",
        "grid S4 added: 四街道 (under D, level 2 街道)",
        "grid S2-A moved: S2 → S1",
        "grid S2 renamed: 二街道 → 二街道新",
        "grid S3 archived (not in the file): 三街道",
        "person 5 added: 王五",
        "membership added: 王五 (5) as member in S2",
        "changes: 1 setting changed, 1 role changed, 1 grid added, 2 grids changed, "
        "1 grid archived, 1 person added, 1 membership added",
    ]
    # Loading the edited file again changes nothing more.
    assert diff(Snapshot.from_scenario(after), after).is_empty


def test_move_to_another_level_renames_people_removes_memberships() -> None:
    before = parse_scenario(BASE)
    text = (
        BASE.replace("levels: [区, 街道, 社区]", "levels: [区, 街道, 社区, 楼院]")
        .replace(
            "      - code: S3\n        name: 三街道\n",
            "          - code: S3\n            name: 三街道\n",
        )  # S3 moves under S2
        .replace("name: 赵六", "name: 赵六六")
        .replace(
            "people: [{name: 李四, tg_id: 2, role: member}]",
            "people: [{name: 李四, tg_id: 2, role: leader}]",
        )
    )
    after = parse_scenario(text)
    changes = diff(Snapshot.from_scenario(before), after)
    (s3,) = changes.grids_changed
    assert s3.key == "S3"
    assert s3.fields == (
        FieldChange("parent_code", "D", "S2"),
        FieldChange("level", 2, 3),
        FieldChange("level_label", "街道", "社区"),
    )
    assert changes.people_changed == (
        Changed(
            6,
            PersonSpec(6, "赵六"),
            PersonSpec(6, "赵六六"),
            (FieldChange("name", "赵六", "赵六六"),),
        ),
    )
    assert changes.memberships_added == (MembershipSpec(2, "S1", "leader"),)
    assert changes.memberships_removed == (MembershipSpec(2, "S1", "member"),)
    assert [c.field for c in changes.settings] == ["levels"]
    lines = changes.summary_lines()
    assert "grid S3 moved: D → S2" in lines
    assert "grid S3 level: 2 街道 → 3 社区" in lines
    assert "person 6 renamed: 赵六 → 赵六六" in lines
    assert "membership removed: 李四 (2) as member in S1" in lines
    assert "setting levels: [区, 街道, 社区] → [区, 街道, 社区, 楼院]" in lines


def test_archived_grid_listed_again_is_restored_not_added() -> None:
    s = parse_scenario(BASE)
    s3 = s.grid("S3")
    snap = Snapshot.from_scenario(s)
    snap = replace(
        snap,
        grids=tuple(g for g in snap.grids if g.code != "S3"),
        archived_grids=(replace(s3, name="旧三街道"),),
    )
    changes = diff(snap, s)
    assert changes.grids_added == () and changes.grids_archived == ()
    assert changes.grids_restored == (
        Changed(
            "S3", replace(s3, name="旧三街道"), s3, (FieldChange("name", "旧三街道", "三街道"),)
        ),
    )
    assert changes.summary_lines()[:2] == [
        "grid S3 restored from the archive: 三街道 (under D, level 2 街道)",
        "grid S3 renamed: 旧三街道 → 三街道",
    ]


def test_roles_departments_geofence_roll_call_and_people_not_in_file() -> None:
    s = parse_scenario(BASE)
    text = (
        BASE.replace(
            "  - {key: member, label: 网格员, quota: {period: week, count: 2}}\n",
            "  - {key: member, label: 网格员, quota: {period: week, count: 2}}\n"
            "  - {key: guard, label: 保安}\n",
        )
        .replace("  - {code: PCS, name: 派出所}\n", "  - {code: XF, name: 消防大队}\n")
        .replace(
            "        name: 三街道\n",
            "        name: 三街道\n        geofence: {center: [34.5, 113.5], radius_m: 250}\n"
            "        roll_call: true\n",
        )
    )
    snap = replace(Snapshot.from_scenario(s), people=(*s.people, PersonSpec(99, "邀请来的")))
    changes = diff(snap, parse_scenario(text))
    assert [r.key for r in changes.roles_added] == ["guard"]
    assert [d.code for d in changes.departments_added] == ["XF"]
    assert [d.code for d in changes.departments_removed] == ["PCS"]
    assert changes.people_added == () and changes.people_changed == ()  # 99 is left alone
    (g,) = changes.grids_changed
    assert g.field_names() == ("geofence", "roll_call")
    assert changes.summary_lines() == [
        "role guard added: 保安",
        "department XF added: 消防大队",
        "department PCS removed: 派出所",
        "grid S3 geofence: none → circle r=250m around (34.5, 113.5)",
        "grid S3 roll_call: no → yes",
        "changes: 1 role added, 1 department added, 1 department removed, 1 grid changed",
    ]


def test_summary_limit() -> None:
    changes = diff(Snapshot(), shared("fire-safety-5-level.yaml"))
    lines = changes.summary_lines(limit=2)
    assert "… and 27 more grids added" in lines
    assert "… and 47 more memberships added" in lines
    assert lines[-1].startswith("changes: ")
    assert len(changes.summary_lines()) > len(lines)


# --------------------------------------------------------------------------- properties


@st.composite
def generated_trees(draw: st.DrawFn) -> tuple[str, list[int], list[int]]:
    depth = draw(st.integers(1, 3))
    counts = [draw(st.integers(1, 4)) for _ in range(depth)]
    people = [draw(st.integers(0, 3)) for _ in range(depth)]
    gen = ""
    for level in reversed(range(depth)):
        people_yaml = f", people: [{{role: m, count: {people[level]}}}]" if people[level] else ""
        child = f", children: {{generate: {gen}}}" if gen else ""
        gen = (
            f'{{count: {counts[level]}, code: "{{parent}}-{{n}}", '
            f'name: "{{parent_name}}/{{n}}"{people_yaml}{child}}}'
        )
    text = (
        "name: t\ntg_id_start: 500\nlevels: [a, b, c, d]\nroles: [{key: m, label: M}]\n"
        'schedule: {digest: "18:00", nag: "09:00"}\n'
        f"grids:\n  - {{code: R, name: R, people: [{{name: X, tg_id: 502, role: m}}],\n"
        f"     generate: {gen}}}\n"
    )
    return text, counts, people


@settings(max_examples=60, deadline=None)
@given(generated_trees())
def test_generated_counts_ids_and_idempotence(case: tuple[str, list[int], list[int]]) -> None:
    text, counts, people = case
    s = parse_scenario(text)
    grids_per_level = []
    n = 1
    for c in counts:
        n *= c
        grids_per_level.append(n)
    assert len(s.grids) == 1 + sum(grids_per_level)
    generated = sum(g * p for g, p in zip(grids_per_level, people, strict=True))
    assert len(s.people) == 1 + generated
    ids = sorted(p.tg_id for p in s.people if p.tg_id != 502)
    expected = [i for i in range(500, 500 + generated + 1) if i != 502][:generated]
    assert ids == expected
    assert len({g.code for g in s.grids}) == len(s.grids)
    assert all(g.level == g.code.count("-") + 1 for g in s.grids)
    assert diff(Snapshot.from_scenario(s), s).is_empty


# --------------------------------------------------------------------------- leavers and places


def test_removed_people_memberships_and_grids_are_listed() -> None:
    before = parse_scenario(BASE)
    text = BASE.replace(  # the district's leader leaves, and so does 李四
        "    people: [{name: 张三, tg_id: 1, role: leader}]\n", ""
    ).replace("        people: [{name: 李四, tg_id: 2, role: member}]\n", "")
    text = text.replace(  # S2-A goes, with 赵六 in it
        "        children:\n"
        "          - code: S2-A\n"
        "            name: 二街道甲社区\n"
        "            people: [{name: 赵六, tg_id: 6, role: member}]\n",
        "",
    )
    after = parse_scenario(text)
    invited = MembershipSpec(99, "S1", "member")  # joined by invite: never in a file
    snap = replace(
        Snapshot.from_scenario(before),
        people=(*before.people, PersonSpec(99, "邀请来的")),
        memberships=(*before.memberships, invited),
    )
    changes = diff(snap, after)
    assert changes.people_removed == (
        PersonSpec(1, "张三"),
        PersonSpec(2, "李四"),
        PersonSpec(6, "赵六"),
    )
    assert changes.memberships_removed == (
        MembershipSpec(1, "D", "leader"),
        MembershipSpec(2, "S1", "member"),
        MembershipSpec(6, "S2-A", "member"),
    )
    assert changes.grids_archived == (GridSpec("S2-A", "二街道甲社区", "S2", 3, "社区"),)
    assert not (changes.people_added or changes.memberships_added or changes.people_changed)
    lines = changes.summary_lines()
    assert "person 1 removed (leaves the roster, history kept): 张三" in lines
    assert "membership removed: 张三 (1) as leader in D" in lines
    assert "grid S2-A archived (not in the file): 二街道甲社区" in lines
    assert lines[-1] == "changes: 1 grid archived, 3 people removed, 3 memberships removed"
    # Loading the same file again removes nothing more.
    assert diff(Snapshot.from_scenario(after), after).is_empty


def _with_extra_guard(text: str) -> str:
    """fire-safety-5-level.yaml with one guard without a tg_id in 林和街道, near the top:
    depth first, every generated person of the file comes after them."""
    anchor = "          - {name: 林和安监员, tg_id: 800000011, role: street_officer}\n"
    assert anchor in text
    return text.replace(anchor, anchor + "          - {role: guard}\n", 1)


def test_removing_an_auto_numbered_person_near_the_top_renumbers_nobody() -> None:
    text = scenario_path("fire-safety-5-level.yaml").read_text(encoding="utf-8")
    before = parse_scenario(_with_extra_guard(text))
    leaver = PersonSpec(810000000, "林和街道·保安巡查员1", "LH/guard/1")
    assert before.person(810000000) == leaver  # a first import numbers in file order
    changes = diff(Snapshot.from_scenario(before), parse_scenario(text))
    assert changes.memberships_removed == (MembershipSpec(810000000, "LH", "guard"),)
    assert changes.memberships_added == ()
    assert changes.people_removed == (leaver,)
    assert changes.people_added == () and changes.people_changed == ()


def test_a_new_auto_numbered_person_gets_the_next_unused_number() -> None:
    text = scenario_path("fire-safety-5-level.yaml").read_text(encoding="utf-8")
    before = parse_scenario(text)
    # 810000034 left earlier: their row stays, so their number is not handed out again
    gone = PersonSpec(810000034, "林和东第1片区·保安巡查员3")
    snap = replace(Snapshot.from_scenario(before), people=(*before.people, gone))
    changes = diff(snap, parse_scenario(_with_extra_guard(text)))
    newcomer = PersonSpec(810000035, "林和街道·保安巡查员1", "LH/guard/1")
    assert changes.people_added == (newcomer,)
    assert changes.memberships_added == (MembershipSpec(810000035, "LH", "guard"),)
    assert changes.memberships_removed == () and changes.people_changed == ()
    assert changes.people_removed == ()


def test_people_imported_before_places_were_kept_are_found_by_grid_role_and_name() -> None:
    s = shared("zijingshan-party-grid.yaml")
    unplaced = tuple(replace(p, place=None) for p in s.people)
    snap = replace(Snapshot.from_scenario(s), people=unplaced)
    changes = diff(snap, s)
    # No one is renumbered: each only gets their place recorded.
    assert changes.people_added == () and changes.people_removed == ()
    assert changes.memberships_added == () and changes.memberships_removed == ()
    assert {c.field_names() for c in changes.people_changed} == {("place",)}
    assert len(changes.people_changed) == sum(1 for p in s.people if p.place)
