"""parse_scenario: the shared scenario files, placeholders, generated people, every error."""

from __future__ import annotations

import pickle
from collections import Counter
from datetime import time
from pathlib import Path

import pytest

from domain.scenario import (
    DEFAULT_TG_ID_START,
    MAX_ERRORS,
    GridSpec,
    MembershipSpec,
    PersonSpec,
    QuotaSpec,
    RoleSpec,
    Scenario,
    ScenarioError,
    ScheduleSpec,
    SeveritySpec,
    parse_scenario,
)
from tests.conftest import scenario_path


def scenario_dir() -> Path:
    return scenario_path("fire-safety-5-level.yaml").parent


def load(name: str) -> Scenario:
    path = scenario_dir() / name
    return parse_scenario(path.read_text(encoding="utf-8"), source=str(path))


# --------------------------------------------------------------------------- shared files


def test_fire_safety_totals_match_readme() -> None:
    s = load("fire-safety-5-level.yaml")
    assert s.totals() == {
        "grids": 29,
        "people": 49,
        "memberships": 49,
        "roles": 6,
        "departments": 4,
    }
    assert s.name == "某区消防安全网格"
    assert s.timezone == "Asia/Shanghai"
    assert s.tg_id_start == 810000000
    assert s.levels == ("区", "街道", "社区", "责任片区", "楼院")
    assert Counter(g.level for g in s.grids) == {1: 1, 2: 2, 3: 3, 4: 7, 5: 16}
    assert Counter(m.role_key for m in s.memberships) == {
        "building_head": 16,
        "leader": 14,
        "guard": 11,
        "community_staff": 3,
        "police": 3,
        "street_officer": 2,
    }
    assert [d.code for d in s.departments] == ["XFDD", "PCS-LH", "PCS-ZJ", "AJK"]
    assert s.roles[4] == RoleSpec("guard", "保安巡查员", False, QuotaSpec("day", 1))
    assert s.roles[0] == RoleSpec("leader", "网格长", True, None)
    assert s.checklist == ("安全疏散", "消防设施", "灭火器具", "用火", "用电", "用气", "用油")
    assert s.severities == (
        SeveritySpec("一般", 168, False),
        SeveritySpec("较大", 72, False),
        SeveritySpec("重大", 24, True),
    )
    assert s.schedule == ScheduleSpec(time(18), time(9, 30), time(22), time(7))


def test_fire_safety_generated_grids_and_people() -> None:
    s = load("fire-safety-5-level.yaml")
    assert s.grid("LH-01-2-3") == GridSpec(
        code="LH-01-2-3",
        name="林和东第2片区3号楼院",
        parent_code="LH-01-2",
        level=5,
        level_label="楼院",
    )
    # Depth first: each 片区 is followed by its 楼院 before the next 片区.
    codes = [g.code for g in s.grids]
    assert codes[:11] == [
        "Q",
        "LH",
        "LH-01",
        "LH-01-1",
        "LH-01-1-1",
        "LH-01-1-2",
        "LH-01-1-3",
        "LH-01-2",
        "LH-01-2-1",
        "LH-01-2-2",
        "LH-01-2-3",
    ]
    assert codes[-1] == "ZJ-01-3-2"
    # Generated people count up from tg_id_start in file order, depth first.
    # A person without a tg_id is known by their place: grid, role, i-th such in the grid.
    assert s.person(810000000) == PersonSpec(810000000, "林和东第1片区·网格长1", "LH-01-1/leader/1")
    assert s.person(810000001).name == "林和东第1片区·保安巡查员1"
    assert s.person(810000002).name == "林和东第1片区·保安巡查员2"
    assert s.person(810000003).name == "林和东第1片区1号楼院·楼院长1"
    assert s.person(810000011) == PersonSpec(
        810000011, "林和东第2片区3号楼院·楼院长1", "LH-01-2-3/building_head/1"
    )
    assert MembershipSpec(810000011, "LH-01-2-3", "building_head") in s.memberships
    generated = sorted(p.tg_id for p in s.people if p.tg_id >= 810000000)
    assert generated == list(range(810000000, 810000034))  # 34 generated, no gaps
    assert s.person(800000001) == PersonSpec(800000001, "区长")


def test_zijingshan_totals_match_readme() -> None:
    s = load("zijingshan-party-grid.yaml")
    assert s.totals() == {
        "grids": 58,
        "people": 462,
        "memberships": 462,
        "roles": 3,
        "departments": 2,
    }
    assert Counter(g.level for g in s.grids) == {1: 1, 2: 1, 3: 12, 4: 44}
    assert Counter(m.role_key for m in s.memberships) == {
        "volunteer": 291,
        "member": 112,
        "leader": 59,
    }
    assert s.roles[1].quota == QuotaSpec("week", 2)


def test_zijingshan_generated_ids_skip_explicit_ones() -> None:
    s = load("zijingshan-party-grid.yaml")
    # 820000001, 820000010 and 820000011 are written in the file: never handed out again.
    assert s.person(820000000).name == "紫荆山南路第1社区网格·网格长1"
    assert s.person(820000001).name == "区委组织部长"
    assert s.person(820000002).name == "紫荆山南路第1社区网格·网格员1"
    assert s.person(820000003).name == "紫荆山南路第1社区网格·网格员2"
    assert s.person(820000004).name == "紫荆山南路第1社区网格·党员志愿者1"
    assert s.person(820000009).name == "紫荆山南路第1社区网格·党员志愿者6"
    assert s.person(820000010).name == "街道党工委书记"
    assert s.person(820000012).name == "紫荆山南路第1社区网格·党员志愿者7"
    assert s.person(820000028).name == "紫荆山南路第1社区网格·党员志愿者23"
    # ZJS-01 people (28) come before its 片区, then ZJS-01-1's three people.
    assert s.person(820000031).name == "第1社区第1片区·网格长1"
    assert s.grid("ZJS-12-3").name == "第12社区第3片区"
    assert s.grid("ZJS-12-3").parent_code == "ZJS-12"
    assert len({p.tg_id for p in s.people}) == 462
    assert max(p.tg_id for p in s.people) == 820000000 + 459 + 3 - 1


def test_tg_id_start_defaults() -> None:
    s = parse_scenario(MINI.replace("tg_id_start: 1000\n", ""))
    assert s.tg_id_start == DEFAULT_TG_ID_START
    assert min(p.tg_id for p in s.people if p.tg_id > 7) == 900000000


# --------------------------------------------------------------------------- a small file

MINI = """\
name: 测试
timezone: Asia/Shanghai
tg_id_start: 1000
levels: [区, 街道, 社区, 小区]
roles:
  - {key: leader, label: 网格长, leader: true}
  - {key: member, label: 网格员, quota: {period: week, count: 2}}
checklist: [安全疏散, 用电]
severities:
  一般: {deadline_hours: 168}
  重大: {deadline_hours: 24, notify_to_root: true}
schedule: {digest: "18:00", nag: "09:30", quiet: "22:00-07:00"}
departments:
  - {code: PCS, name: 派出所}
grids:
  - code: D
    name: 某区
    people:
      - {name: 张三, tg_id: 1, role: leader}
    children:
      - code: S1
        name: 一街道
        people: [{role: leader}, {role: member, count: 2}, {name: 李四, role: member}]
        children:
          - code: S1-X
            name: 一街道直属
        generate: {count: 2, code: "S1-{n:02}", name: "{parent_name}第{n}社区",
                   people: [{role: member}],
                   children: {generate: {count: 2, code: "{parent}.{n}", name: "{n}号院"}}}
      - code: S2
        name: 二街道
        geofence: {center: [34.75, 113.68], radius_m: 300}
        roll_call: true
        people: [{tg_id: 7, role: member}, {tg_id: 1, role: member}]
"""


def test_mini_order_placeholders_and_generated_people() -> None:
    s = parse_scenario(MINI)
    assert [(g.code, g.name, g.parent_code, g.level) for g in s.grids] == [
        ("D", "某区", None, 1),
        ("S1", "一街道", "D", 2),
        ("S1-X", "一街道直属", "S1", 3),  # listed children first
        ("S1-01", "一街道第1社区", "S1", 3),
        ("S1-01.1", "1号院", "S1-01", 4),
        ("S1-01.2", "2号院", "S1-01", 4),
        ("S1-02", "一街道第2社区", "S1", 3),
        ("S1-02.1", "1号院", "S1-02", 4),
        ("S1-02.2", "2号院", "S1-02", 4),
        ("S2", "二街道", "D", 2),
    ]
    assert s.grid("S1-02.2").level_label == "小区"
    assert s.grid("S2").geofence == {"center": [34.75, 113.68], "radius_m": 300.0}
    assert s.grid("S2").roll_call is True
    assert s.grid("S1").geofence is None and s.grid("S1").roll_call is False
    assert [(p.tg_id, p.name) for p in s.people] == [
        (1, "张三"),
        (1000, "一街道·网格长1"),
        (1001, "一街道·网格员1"),
        (1002, "一街道·网格员2"),
        (1003, "李四"),  # named: keeps its name, gets the next id, uses up no i
        (1004, "一街道第1社区·网格员1"),
        (1005, "一街道第2社区·网格员1"),
        (7, "二街道·网格员1"),  # tg_id without name: generated name
    ]
    # Places count the people without a tg_id per role and grid, named or not.
    assert [p.place for p in s.people] == [
        None,
        "S1/leader/1",
        "S1/member/1",
        "S1/member/2",
        "S1/member/3",
        "S1-01/member/1",
        "S1-02/member/1",
        None,
    ]
    # tg_id 1 listed again without a name: the same person (张三), a second membership.
    assert s.memberships[-2:] == (
        MembershipSpec(7, "S2", "member"),
        MembershipSpec(1, "S2", "member"),
    )
    assert s.totals()["memberships"] == 9
    assert s.schedule.quiet == "22:00-07:00"


def test_unquoted_times_and_numeric_codes() -> None:
    text = MINI.replace('digest: "18:00"', "digest: 18:00").replace("code: S2", "code: 02")
    s = parse_scenario(text)
    assert s.schedule.digest == time(18)
    assert s.grid("02").name == "二街道"


def test_placeholder_format_specs() -> None:
    text = MINI.replace('code: "S1-{n:02}"', 'code: "S1-{n:03d}"').replace(
        'name: "{n}号院"', 'name: "{{{n}}}号院"'
    )
    s = parse_scenario(text)
    assert s.grid("S1-001").name == "一街道第1社区"
    assert s.grid("S1-002.2").name == "{2}号院"


def test_polygon_geofence_normalized() -> None:
    text = MINI.replace(
        "geofence: {center: [34.75, 113.68], radius_m: 300}",
        "geofence: {polygon: [[34.7, 113.6], [34.7, 113.7], [34.8, 113.7], [34.7, 113.6]]}",
    )
    s = parse_scenario(text)
    assert s.grid("S2").geofence == {"polygon": [[34.7, 113.6], [34.7, 113.7], [34.8, 113.7]]}


def test_quiet_hours() -> None:
    s = parse_scenario(MINI).schedule
    assert s.is_quiet(time(23)) and s.is_quiet(time(6, 59)) and s.is_quiet(time(22))
    assert not s.is_quiet(time(7)) and not s.is_quiet(time(12))
    day = parse_scenario(MINI.replace("22:00-07:00", "12:00-13:30")).schedule
    assert day.is_quiet(time(13)) and not day.is_quiet(time(13, 30))
    none = parse_scenario(MINI.replace(', quiet: "22:00-07:00"', "")).schedule
    assert none.quiet is None and not none.is_quiet(time(23))


# --------------------------------------------------------------------------- errors


def line_of(text: str, marker: str) -> int:
    for i, line in enumerate(text.splitlines(), 1):
        if marker in line:
            return i
    raise AssertionError(f"{marker!r} not in text")


def edit(old: str, new: str) -> str:
    assert old in MINI, old
    return MINI.replace(old, new, 1)


# (case id, edited text, marker on the expected line, fragment of the message)
ERRORS = [
    (
        "yaml-syntax",
        edit("schedule: {digest", "schedule: digest: {digest"),
        "schedule:",
        "invalid YAML",
    ),
    ("yaml-unclosed", edit("[安全疏散, 用电]", "[安全疏散, 用电"), "severities:", "invalid YAML"),
    (
        "unknown-key-typo",
        edit("    children:\n      - code: S1", "    chidren:\n      - code: S1"),
        "chidren:",
        "unknown key 'chidren' in grid; did you mean 'children'?",
    ),
    (
        "unknown-root-key",
        edit("checklist:", "check_list:"),
        "check_list:",
        "unknown key 'check_list' in the scenario",
    ),
    (
        "unknown-person-key",
        edit("{name: 张三, tg_id: 1,", "{name: 张三, tgid: 1,"),
        "tgid",
        "did you mean 'tg_id'?",
    ),
    (
        "duplicate-key",
        edit("    name: 某区\n", "    name: 某区\n    name: 某区二\n"),
        "某区二",
        "duplicate key 'name'",
    ),
    (
        "missing-grid-name",
        edit("        name: 一街道\n", ""),
        "- code: S1",
        "grid 'S1' is missing required key 'name'",
    ),
    (
        "missing-role",
        edit("{name: 张三, tg_id: 1, role: leader}", "{name: 张三, tg_id: 1}"),
        "张三",
        "missing required key 'role'",
    ),
    (
        "missing-root-key",
        edit("levels: [区, 街道, 社区, 小区]\n", ""),
        "name: 测试",
        "missing required key 'levels'",
    ),
    (
        "type-int",
        edit("tg_id_start: 1000", "tg_id_start: abc"),
        "tg_id_start",
        "tg_id_start must be a whole number, got 'abc'",
    ),
    (
        "type-bool",
        edit("leader: true}", 'leader: "yes"}'),
        '"yes"',
        "leader of role 'leader' must be true or false",
    ),
    (
        "type-list",
        edit("checklist: [安全疏散, 用电]", "checklist: 安全疏散"),
        "checklist:",
        "checklist must be a list",
    ),
    (
        "type-mapping",
        edit("people: [{tg_id: 7, role: member}, {tg_id: 1, role: member}]", "people: 3"),
        "people: 3",
        "people of grid 'S2' must be a list",
    ),
    (
        "duplicate-grid-code",
        edit("code: S1-X", "code: S1-01"),
        'code: "S1-{n:02}"',
        "duplicate grid code 'S1-01' (first at line 25)",
    ),
    (
        "duplicate-generated-code",
        edit("code: S2\n", "code: S1-02.1\n"),
        "code: S1-02.1",
        "duplicate grid code 'S1-02.1' (first at line 29)",
    ),
    (
        "unknown-role",
        edit("{role: member, count: 2}", "{role: membr, count: 2}"),
        "membr",
        "unknown role 'membr'; did you mean 'member'?",
    ),
    (
        "duplicate-role",
        edit("  - {key: member,", "  - {key: leader,"),
        "label: 网格员",
        "duplicate role key 'leader'",
    ),
    (
        "unknown-period",
        edit("period: week", "period: fortnight"),
        "fortnight",
        "unknown quota period 'fortnight' for role 'member' (use day, week or month)",
    ),
    (
        "quota-count",
        edit("period: week, count: 2", "period: week, count: 0"),
        "period: week",
        "quota count of role 'member' must be at least 1, got 0",
    ),
    (
        "bad-time",
        edit('digest: "18:00"', 'digest: "25:00"'),
        "schedule:",
        "schedule digest must be a time \"HH:MM\" between 00:00 and 23:59, got '25:00'",
    ),
    ("bad-time-text", edit('nag: "09:30"', 'nag: "morning"'), "schedule:", "schedule nag"),
    (
        "bad-quiet",
        edit('quiet: "22:00-07:00"', 'quiet: "22:00"'),
        "schedule:",
        'schedule quiet must be a window "HH:MM-HH:MM"',
    ),
    (
        "empty-quiet",
        edit('quiet: "22:00-07:00"', 'quiet: "07:00-07:00"'),
        "schedule:",
        "starts and ends at the same time",
    ),
    (
        "missing-digest",
        edit('digest: "18:00", ', ""),
        "schedule:",
        "schedule is missing required key 'digest'",
    ),
    (
        "tg-id-two-names",
        edit("{tg_id: 7, role: member}", "{name: 王五, tg_id: 1, role: member}"),
        "王五",
        "tg_id 1 is given to two people with different names: '张三' (line 19) and '王五'",
    ),
    (
        "duplicate-membership",
        edit(
            "      - {name: 张三, tg_id: 1, role: leader}\n",
            "      - {name: 张三, tg_id: 1, role: leader}\n      - {tg_id: 1, role: leader}\n",
        ),
        "      - {tg_id: 1, role: leader}",
        "张三 (1) is listed twice as 'leader' in grid 'D'",
    ),
    (
        "too-deep-generated",
        edit("levels: [区, 街道, 社区, 小区]", "levels: [区, 街道, 社区]"),
        "children: {generate:",
        "grid 'S1-01.1' would be at level 4, but levels names only 3",
    ),
    (
        "too-deep-listed",
        edit("levels: [区, 街道, 社区, 小区]", "levels: [区]"),
        "- code: S1",
        "grid 'S1' would be at level 2, but levels names only 1 (区)",
    ),
    (
        "person-count-0",
        edit("{role: member, count: 2}", "{role: member, count: 0}"),
        "count: 0",
        "count of people must be at least 1, got 0",
    ),
    (
        "generate-count-0",
        edit("generate: {count: 2,", "generate: {count: 0,"),
        "count: 0",
        "generate count must be at least 1, got 0",
    ),
    (
        "count-with-tg-id",
        edit("{tg_id: 7, role: member}", "{tg_id: 7, role: member, count: 2}"),
        "count: 2}, {tg_id: 1",
        "count 2 with tg_id 7: one tg_id is one person",
    ),
    (
        "placeholder-unknown",
        edit('name: "{parent_name}第{n}社区"', 'name: "{parent_nam}第{n}社区"'),
        "parent_nam",
        "unknown placeholder {parent_nam}",
    ),
    (
        "placeholder-spec",
        edit('code: "S1-{n:02}"', 'code: "S1-{n:zz}"'),
        "S1-{n:zz}",
        "bad format spec",
    ),
    ("placeholder-brace", edit('code: "S1-{n:02}"', 'code: "S1-{n"'), '"S1-{n"', "bad placeholder"),
    (
        "placeholder-conversion",
        edit('code: "S1-{n:02}"', 'code: "S1-{n!r}"'),
        "S1-{n!r}",
        "conversions like !r are not supported",
    ),
    (
        "placeholder-empty",
        edit('code: "S1-{n:02}"', 'code: "S1-{}"'),
        "S1-{}",
        "empty placeholder {}",
    ),
    (
        "placeholder-attr",
        edit('code: "S1-{n:02}"', 'code: "S1-{n.real}"'),
        "S1-{n.real}",
        "unknown placeholder {n.real}",
    ),
    (
        "code-without-n",
        edit('code: "S1-{n:02}"', 'code: "S1-{parent}"'),
        "S1-{parent}",
        "generate code 'S1-{parent}' has no {n}: all 2 generated grids would get the same code",
    ),
    (
        "placeholder-in-listed",
        edit("code: S1-X", 'code: "S1-{n}"'),
        '"S1-{n}"',
        "placeholders like {n} only work inside generate",
    ),
    (
        "nested-generate-key",
        edit(
            'children: {generate: {count: 2, code: "{parent}.{n}", name: "{n}号院"}}}',
            'generate: {count: 2, code: "{parent}.{n}", name: "{n}号院"}}',
        ),
        'generate: {count: 2, code: "{parent}',
        "go in 'children: {generate: ...}'",
    ),
    (
        "geofence-no-radius",
        edit("radius_m: 300}", "radius: 300}"),
        "geofence:",
        "grid 'S2': geofence circle has unknown keys: radius",
    ),
    (
        "geofence-polygon",
        edit(
            "{center: [34.75, 113.68], radius_m: 300}", "{polygon: [[34.7, 113.6], [34.7, 113.7]]}"
        ),
        "geofence:",
        "needs at least 3 distinct points",
    ),
    (
        "geofence-lat",
        edit("center: [34.75, 113.68]", "center: [134.75, 113.68]"),
        "geofence:",
        "latitude 134.75 is outside [-90, 90]",
    ),
    (
        "geofence-type",
        edit("{center: [34.75, 113.68], radius_m: 300}", "here"),
        "geofence:",
        "geofence must be a mapping",
    ),
    (
        "timezone",
        edit("Asia/Shanghai", "Asia/Shangai"),
        "timezone:",
        "unknown time zone 'Asia/Shangai'",
    ),
    (
        "duplicate-department",
        edit(
            "  - {code: PCS, name: 派出所}\n",
            "  - {code: PCS, name: 派出所}\n  - {code: PCS, name: 二所}\n",
        ),
        "二所",
        "duplicate department code 'PCS'",
    ),
    ("code-with-space", edit("code: S1-X", "code: S1 X"), "S1 X", "must not contain spaces"),
    (
        "empty-grids",
        edit(MINI[MINI.index("grids:") :], "grids: []\n"),
        "grids:",
        "grids must list at least one grid",
    ),
]


@pytest.mark.parametrize(
    ("text", "marker", "fragment"), [e[1:] for e in ERRORS], ids=[e[0] for e in ERRORS]
)
def test_errors_name_line_and_reason(text: str, marker: str, fragment: str) -> None:
    with pytest.raises(ScenarioError) as info:
        parse_scenario(text, source="demo.yaml")
    err = info.value
    assert fragment in err.message
    assert err.line == line_of(text, marker), str(err)
    assert str(err) == f"demo.yaml:{err.line}: {err.message}"


def test_error_without_line_and_default_source() -> None:
    with pytest.raises(ScenarioError) as info:
        parse_scenario("")
    assert info.value.line is None
    assert str(info.value) == "<scenario>: the file is empty"
    with pytest.raises(ScenarioError) as info:
        parse_scenario("- just\n- a list\n")
    assert str(info.value) == "<scenario>:1: the scenario must be a mapping, got a list"


def test_scenario_error_is_a_value_error_and_pickles() -> None:
    import pickle

    err = ScenarioError(3, "bad", source="f.yaml")
    assert isinstance(err, ValueError)
    again = pickle.loads(pickle.dumps(err))
    assert (again.line, again.message, again.source, str(again)) == (
        3,
        "bad",
        "f.yaml",
        "f.yaml:3: bad",
    )


def test_a_bad_file_reports_every_error_with_its_line() -> None:
    text = MINI
    for old, new in [
        ('digest: "18:00"', 'digest: "25:00"'),
        (
            "  - {code: PCS, name: 派出所}\n",
            "  - {code: PCS, name: 派出所}\n  - {code: PCS, name: 二所}\n",
        ),
        ("{role: member, count: 2}", "{role: membr, count: 2}"),
    ]:
        assert old in text
        text = text.replace(old, new, 1)
    with pytest.raises(ScenarioError) as info:
        parse_scenario(text, source="demo.yaml")
    err = info.value
    found = [(e.line, e.message) for e in err.errors]
    assert [line for line, _ in found] == [
        line_of(text, "schedule:"),
        line_of(text, "二所"),
        line_of(text, "membr"),
    ]
    assert "schedule digest must be a time" in found[0][1]
    assert "duplicate department code 'PCS'" in found[1][1]
    assert "unknown role 'membr'; did you mean 'member'?" in found[2][1]
    assert (err.line, err.message) == found[0]
    assert str(err).splitlines() == [f"demo.yaml:{line}: {message}" for line, message in found]
    again = pickle.loads(pickle.dumps(err))
    assert (str(again), len(again.errors)) == (str(err), 3)


def test_errors_stop_at_fifty() -> None:
    people = "".join(f"      - {{name: 人{i}, tg_id: {i}, role: nobody}}\n" for i in range(1, 71))
    text = MINI.replace(
        "      - {name: 张三, tg_id: 1, role: leader}\n",
        "      - {name: 张三, tg_id: 1, role: leader}\n"
        + people.replace("tg_id: 1,", "tg_id: 101,"),
    )
    with pytest.raises(ScenarioError) as info:
        parse_scenario(text, source="demo.yaml")
    assert len(info.value.errors) == MAX_ERRORS == 50
    assert all("unknown role 'nobody'" in e.message for e in info.value.errors)
