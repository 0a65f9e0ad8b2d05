"""The digest roll-up (domain/digest.py) and its rendering, on hand-made snapshots.

The tree used below (ids in brackets), with Thursday 2026-03-12 18:00 Shanghai as `now`:

    R [1] 区
    ├── A [2] 街道
    │   ├── A1 [4] 社区
    │   │   └── A1x [6] 片区
    │   └── A2 [5] 社区
    └── B [3] 街道

Daily quota 1: done 0 by 18:00 is behind (urgent: one left, one day left), expected 0, but
due 1 (it is due today). Monthly quota 5 on the 12th: 11 of 31 days completed, expected
5 * 11 // 31 = 1, due 1.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.i18n import Translator
from bot.render.digest import DigestButtonData, DigestCB
from domain.cases import Severity
from domain.digest import (
    SAMPLE,
    CaseRow,
    DoneCounts,
    GridNode,
    Holding,
    NamedCase,
    PersonInfo,
    Snapshot,
    digest_for,
    roll_up,
    windows_at,
)
from services.digest import MAX_TEXT, render, render_all
from services.digest import Computed as _Computed

TZ = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 3, 12, 18, 0, tzinfo=TZ)
WINDOWS = windows_at(NOW, TZ)
T = Translator("zh").t
BUTTONS = DigestButtonData()

LEADER, DAILY, MONTHLY = 1, 2, 3  # role ids

GRIDS = (
    GridNode(1, None, "某区", "R", 1),
    GridNode(2, 1, "A街道", "A", 2),
    GridNode(3, 1, "B街道", "B", 2),
    GridNode(4, 2, "A1社区", "A1", 3),
    GridNode(5, 2, "A2社区", "A2", 3),
    GridNode(6, 4, "A1x片区", "A1x", 4),
)


class Build:
    """A snapshot under construction: people, holdings, patrol counts."""

    def __init__(self, grids: tuple[GridNode, ...] = GRIDS) -> None:
        self.grids = grids
        self.people: dict[int, PersonInfo] = {}
        self.holdings: list[Holding] = []
        self.done: dict[tuple[int, int, int], DoneCounts] = {}

    def person(
        self, pid: int, grid: int, role: int, *, done: int = 0, reachable: bool = True
    ) -> int:
        self.people.setdefault(
            pid, PersonInfo(pid, f"人{pid}", 7_000_000_000 + pid, None, reachable)
        )
        period, count, label = {
            LEADER: (None, None, "网格长"),
            DAILY: ("day", 1, "保安巡查员"),
            MONTHLY: ("month", 5, "社区消防专管员"),
        }[role]
        self.holdings.append(
            Holding(len(self.holdings) + 1, pid, grid, role, label, role == LEADER, period, count)
        )
        if done:
            counts = DoneCounts(day=done, week=done, month=done)
            self.done[(pid, grid, role)] = counts
        return pid

    def snapshot(
        self,
        *,
        cases: tuple[CaseRow, ...] = (),
        flagged: Mapping[int, int] | None = None,
        closure: Mapping[int, tuple[int, int]] | None = None,
        open_cases: Mapping[tuple[int, str], int] | None = None,
        critical: tuple[NamedCase, ...] = (),
    ) -> Snapshot:
        return Snapshot(
            grids=self.grids,
            people=self.people,
            holdings=tuple(self.holdings),
            done=self.done,
            cases=cases,
            flagged=flagged or {},
            closure=closure or {},
            open_cases=open_cases or {},
            critical=critical,
        )


def tree_with_people() -> Build:
    b = Build()
    for gid in (1, 2, 3, 4, 5, 6):
        b.person(100 + gid, gid, LEADER)
    b.person(21, 2, MONTHLY, done=0)  # A: monthly, behind (expected 1)
    b.person(22, 2, DAILY, done=1)  # A: daily, done
    b.person(31, 3, DAILY, done=0)  # B: daily, behind
    b.person(41, 4, DAILY, done=0)  # A1: behind
    b.person(42, 4, MONTHLY, done=3)  # A1: ahead
    b.person(61, 6, DAILY, done=0)  # A1x: behind
    b.person(62, 6, DAILY, done=0, reachable=False)  # A1x: behind and blocked the bot
    b.person(51, 5, DAILY, done=2)  # A2: done (counts once against a quota of 1)
    return b


def test_patrol_figures_roll_up_over_the_tree() -> None:
    snap = tree_with_people().snapshot()
    rolled = roll_up(snap, WINDOWS, NOW, TZ)
    own = {g: (s.required, s.done, s.due, s.behind) for g, s in rolled.own.items()}
    assert own == {
        1: (0, 0, 0, 0),
        2: (6, 1, 2, 1),  # monthly 5 (0 done, 1 due) + daily 1 (1 done, 1 due)
        3: (1, 0, 1, 1),
        4: (6, 3, 2, 1),  # daily 0/1 behind + monthly 3/5 ahead
        5: (1, 1, 1, 0),  # two patrols count once
        6: (2, 0, 2, 2),
    }
    sub = {g: (s.required, s.done, s.due, s.behind) for g, s in rolled.subtree.items()}
    assert sub[6] == (2, 0, 2, 2)
    assert sub[4] == (8, 3, 4, 3)
    assert sub[2] == (6 + 8 + 1, 1 + 3 + 1, 2 + 4 + 1, 1 + 3)
    assert sub[1] == (15 + 1, 5, 8, 5)
    assert rolled.subtree[1].unreachable == 1
    assert rolled.subtree[1].unreachable_sample == [62]
    assert rolled.subtree[3].unreachable == 0


def test_names_nearest_first_then_further_down() -> None:
    snap = tree_with_people().snapshot()
    rolled = roll_up(snap, WINDOWS, NOW, TZ)
    root = digest_for(rolled, snap, 101)
    assert root is not None
    assert [g.code for g in root.tops] == ["R"]
    # the root's own people (none), its direct children's, then a sample from further down
    assert root.behind_named == [
        (21, 2, "社区消防专管员"),
        (31, 3, "保安巡查员"),
        (41, 4, "保安巡查员"),
        (61, 6, "保安巡查员"),
        (62, 6, "保安巡查员"),
    ]
    a = digest_for(rolled, snap, 102)
    assert a is not None
    assert a.behind_named == [
        (21, 2, "社区消防专管员"),
        (41, 4, "保安巡查员"),
        (61, 6, "保安巡查员"),
        (62, 6, "保安巡查员"),
    ]
    assert digest_for(rolled, snap, 21) is None  # not a leader

    text = render(root, snap, t=T, buttons=BUTTONS, lang="zh", day="2026-03-12").text
    assert "人21（A街道 社区消防专管员）" in text
    assert "人31（B街道 保安巡查员）" in text
    assert "人41（A1社区 保安巡查员）" in text and "人61（A1x片区 保安巡查员）" in text
    assert "【巡查落后】5 人" in text and "另有" not in text
    assert "【无法联系】1 人：人62" in text


def test_cases_roll_up_by_severity_with_critical_ones_named() -> None:
    crit = [NamedCase(i, f"Z{i:03d}", 6, f"重大隐患{i}", i % 2 == 0) for i in range(1, 16)]
    snap = tree_with_people().snapshot(
        cases=(
            CaseRow(6, "general", new=2, accepted=1, overdue=3),
            CaseRow(4, "一般", closed=1),  # the Chinese name is the same severity
            CaseRow(3, "major", new=1, escalated=1),
            CaseRow(6, "critical", new=1, overdue=1),
            CaseRow(5, "奇怪", new=1),  # an unknown one is kept by its name
        ),
        flagged={6: 2, 3: 1},
        critical=tuple(crit),
    )
    rolled = roll_up(snap, WINDOWS, NOW, TZ)
    root = rolled.subtree[1]
    assert root.cases[Severity.GENERAL] == [2, 1, 1, 3, 0]
    assert root.cases[Severity.MAJOR] == [1, 0, 0, 0, 1]
    assert root.cases[Severity.CRITICAL] == [1, 0, 0, 1, 0]
    assert root.cases["奇怪"] == [1, 0, 0, 0, 0]
    assert [root.case_total(i) for i in range(5)] == [5, 1, 1, 4, 1]
    assert rolled.subtree[2].case_total(3) == 4 and rolled.subtree[3].case_total(3) == 0
    assert root.flagged == 3
    assert root.critical == 15 and len(root.critical_sample) == SAMPLE
    d = digest_for(rolled, snap, 101)
    assert d is not None
    text = render(d, snap, t=T, buttons=BUTTONS, lang="zh", day="2026-03-12").text
    assert "今日新增 5，立案 1，结案 1，逐级上报 1；当前逾期 4" in text
    assert "一般：新增 2 · 立案 1 · 结案 1 · 逾期 3 · 逐级上报 0" in text
    assert "⚠️ 未结重大隐患 15 件：" in text
    assert "Z002 重大隐患2（已逾期）" in text and "Z001 重大隐患1\n" in text
    assert "……另有 5 项" in text  # 10 shown of 15
    assert "【异常打卡】今日 3 次" in text


def test_children_ranked_by_on_time_closure_then_patrol_completion() -> None:
    grids = (
        GridNode(1, None, "某区", "R", 1),
        *tuple(
            GridNode(i, 1, f"街道{c}", c, 2) for i, c in ((2, "A"), (3, "B"), (4, "C"), (5, "D"))
        ),
    )
    b = Build(grids)
    b.person(101, 1, LEADER)
    b.person(20, 2, DAILY, done=1)  # A: 100% completion
    b.person(30, 3, DAILY, done=0)  # B: 0%
    b.person(40, 4, DAILY, done=1)  # C: 100%
    b.person(50, 5, DAILY, done=1)  # D: 100%, but no case closed: rate unknown
    snap = b.snapshot(closure={2: (4, 2), 3: (2, 2), 4: (2, 1)})
    rolled = roll_up(snap, WINDOWS, NOW, TZ)
    d = digest_for(rolled, snap, 101)
    assert d is not None
    # B 100% on time; A and C 50%: A wins on the code after equal completion; D unknown: last
    assert [line.grid.code for line in d.children] == ["B", "A", "C", "D"]
    assert [line.stats.on_time_rate for line in d.children] == [1.0, 0.5, 0.5, None]
    text = render(d, snap, t=T, buttons=BUTTONS, lang="zh", day="2026-03-12").text
    assert "1. 街道B：巡查 0/1（应 1），按期结案率 100%，逾期 0，落后 1 人" in text
    assert "4. 街道D：巡查 1/1（应 1），按期结案率 —，逾期 0，落后 0 人" in text
    # completion breaks a tie on the closure rate
    snap = b.snapshot(closure={2: (2, 1), 3: (2, 1)})
    d = digest_for(roll_up(snap, WINDOWS, NOW, TZ), snap, 101)
    assert d is not None and [line.grid.code for line in d.children][:2] == ["A", "B"]


def test_one_message_with_more_and_the_full_list_button() -> None:
    n = 30
    grids = (
        GridNode(1, None, "某区", "R", 1),
        *tuple(GridNode(i, 1, f"第{i}街道", f"S{i:02d}", 2) for i in range(2, n + 2)),
    )
    b = Build(grids)
    b.person(101, 1, LEADER)
    for gid in range(2, n + 2):
        b.person(1000 + gid, gid, DAILY, done=0)
    snap = b.snapshot(open_cases={(1, "reported"): 2, (1, "feedback"): 1})
    d = digest_for(roll_up(snap, WINDOWS, NOW, TZ), snap, 101)
    assert d is not None and len(d.behind_named) == n
    r = render(d, snap, t=T, buttons=BUTTONS, lang="zh", day="2026-03-12")
    assert r.truncated
    assert "……另有 20 项" in r.text  # 10 of 30 children
    assert "……另有 20 人（见完整列表）" in r.text  # 10 of 30 names
    assert r.markup is not None
    rows = r.markup["inline_keyboard"]
    assert [b["text"] for b in rows[0]] == ["待立案 2", "待核查 1"]
    assert rows[0][0]["callback_data"] == DigestCB(what="w", status="reported").pack()
    assert rows[1] == [{"text": "完整列表", "callback_data": DigestCB(what="full").pack()}]

    # names so long that even 10 lines overflow: fewer lines, still one message
    grids = (
        GridNode(1, None, "某区", "R", 1),
        *tuple(
            GridNode(i, 1, f"第{i}街道" + "很长的名字" * 40, f"S{i:02d}", 2)
            for i in range(2, n + 2)
        ),
    )
    b.grids = grids
    snap = b.snapshot()
    d = digest_for(roll_up(snap, WINDOWS, NOW, TZ), snap, 101)
    assert d is not None
    r = render(d, snap, t=T, buttons=BUTTONS, lang="zh", day="2026-03-12")
    assert len(r.text) <= MAX_TEXT
    assert r.truncated and "……另有" in r.text
    assert r.markup is not None and r.markup["inline_keyboard"][-1][0]["text"] == "完整列表"

    # a short one: no "more", no full-list button, nothing waiting
    small = Build()
    small.person(101, 1, LEADER)
    small.person(7, 1, DAILY, done=1)
    snap = small.snapshot()
    d = digest_for(roll_up(snap, WINDOWS, NOW, TZ), snap, 101)
    assert d is not None
    r = render(d, snap, t=T, buttons=BUTTONS, lang="zh", day="2026-03-12")
    assert not r.truncated and r.markup is None
    assert "……另有" not in r.text and "【待我处理】暂无" in r.text


def test_a_leader_of_several_grids_gets_one_digest() -> None:
    b = tree_with_people()
    b.person(104, 3, LEADER)  # the A1 leader also leads B (disjoint subtrees)
    b.person(102, 4, LEADER)  # the A leader also leads A1, inside A: A counts once
    snap = b.snapshot(open_cases={(4, "reported"): 1, (3, "accepted"): 2, (6, "reported"): 5})
    rolled = roll_up(snap, WINDOWS, NOW, TZ)

    two = digest_for(rolled, snap, 104)
    assert two is not None
    assert [g.code for g in two.tops] == ["B", "A1"]  # by depth, then code
    assert two.totals.behind == rolled.subtree[3].behind + rolled.subtree[4].behind == 4
    assert two.totals.required == rolled.subtree[3].required + rolled.subtree[4].required
    assert two.waiting == {"reported": 1, "accepted": 2, "feedback": 0}  # led grids only

    nested = digest_for(rolled, snap, 102)
    assert nested is not None
    assert [g.code for g in nested.tops] == ["A"]
    assert nested.totals.behind == rolled.subtree[2].behind == 4
    assert nested.waiting == {"reported": 1, "accepted": 0, "feedback": 0}

    computed = _Computed(snap, rolled, 0.0, 0.0)
    rendered = render_all(computed, t=T, buttons=BUTTONS, default_language="zh", day="2026-03-12")
    ids = [pid for pid, _ in rendered]
    assert len(ids) == len(set(ids)) == 6  # six leaders, one digest each
    text = dict(rendered)[104].text
    assert text.splitlines()[0] == "📋 <b>2026-03-12 日报</b> · B街道、A1社区"


def test_render_escapes_names() -> None:
    grids = (GridNode(1, None, "<b>某区</b>", "R", 1), GridNode(2, 1, "A&B", "A", 2))
    b = Build(grids)
    b.person(101, 1, LEADER)
    b.people[7] = PersonInfo(7, "<i>张</i>", 7, None, True)
    b.holdings.append(Holding(99, 7, 2, DAILY, "保安<巡查>", False, "day", 1))
    snap = b.snapshot()
    d = digest_for(roll_up(snap, WINDOWS, NOW, TZ), snap, 101)
    assert d is not None
    text = render(d, snap, t=T, buttons=BUTTONS, lang="en", day="2026-03-12").text
    assert "&lt;b&gt;某区&lt;/b&gt;" in text and "A&amp;B" in text
    assert "&lt;i&gt;张&lt;/i&gt;" in text and "保安&lt;巡查&gt;" in text
    assert "<i>" not in text
