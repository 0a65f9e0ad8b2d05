"""Digests that carry only news (issue 12, points 10, 11 and 13), on hand-made snapshots.

The tree and the clock are those of test_digest_rollup.py (Thursday 2026-03-12 18:00):

    R [1] 区
    ├── A [2] 街道
    │   ├── A1 [4] 社区
    │   │   └── A1x [6] 片区
    │   └── A2 [5] 社区
    └── B [3] 街道
"""

from __future__ import annotations

import random
import re
from typing import Any

import pytest

from domain.digest import (
    CaseRow,
    DoneCounts,
    GridNode,
    NamedCase,
    digest_for,
    everyone_behind,
    grid_has_news,
    has_news,
    roll_up,
)
from services.digest import Computed, render, render_all
from tests.unit.test_digest_rollup import (
    BUTTONS,
    DAILY,
    LEADER,
    MONTHLY,
    NOW,
    TZ,
    WINDOWS,
    Build,
    T,
)

DAY = "2026-03-12"


def leaders_only() -> Build:
    b = Build()
    for gid in (1, 2, 3, 4, 5, 6):
        b.person(100 + gid, gid, LEADER)
    return b


def test_a_subtree_without_quota_cases_or_laggards_has_nothing_to_say() -> None:
    b = leaders_only()
    snap = b.snapshot()
    rolled = roll_up(snap, WINDOWS, NOW, TZ)
    for leader in range(101, 107):
        d = digest_for(rolled, snap, leader)
        assert d is not None and not has_news(d)
        assert d.children == []  # rows of 0/0 are left out
    computed = Computed(snap, rolled, 0.0, 0.0)
    assert render_all(computed, t=T, buttons=BUTTONS, default_language="zh", day=DAY) == []
    # asked for (/today), the digest says there is nothing to report, with no buttons
    d = digest_for(rolled, snap, 101)
    assert d is not None
    r = render(d, snap, t=T, buttons=BUTTONS, lang="zh", day=DAY)
    assert r.markup is None and "今日辖区无新情况" in r.text and "0/0" not in r.text
    assert (
        "Nothing to report today" in render(d, snap, t=T, buttons=BUTTONS, lang="en", day=DAY).text
    )


NEWS: dict[str, dict[str, Any]] = {
    "an open case": {"open_cases": {(6, "assigned"): 1}},
    "a case reported today": {"cases": (CaseRow(6, "general", new=1),)},
    "a case closed today": {"cases": (CaseRow(6, "general", closed=1),)},
    "an overdue case": {"cases": (CaseRow(6, "major", overdue=1),)},
    "a case escalated today": {"cases": (CaseRow(6, "general", escalated=1),)},
    "a critical case": {"critical": (NamedCase(1, "Z1", 6, "燃气", False),)},
    "a flagged check-in": {"flagged": {6: 1}},
}


@pytest.mark.parametrize("what", sorted(NEWS))
def test_news_reaches_every_leader_above_and_no_one_beside(what: str) -> None:
    snap = leaders_only().snapshot(**NEWS[what])
    rolled = roll_up(snap, WINDOWS, NOW, TZ)
    told = {p for p in range(101, 107) if has_news(_digest(rolled, snap, p))}
    assert told == {101, 102, 104, 106}  # R, A, A1, A1x: not A2, not B
    root = _digest(rolled, snap, 101)
    assert [line.grid.code for line in root.children] == ["A"]  # B says nothing: left out


def test_a_quota_or_a_laggard_or_someone_unreachable_is_news() -> None:
    b = leaders_only()
    b.person(51, 5, MONTHLY, done=5)  # A2: a patrol target, met
    b.person(31, 3, LEADER, reachable=False)  # B: a leader the bot cannot reach
    snap = b.snapshot()
    rolled = roll_up(snap, WINDOWS, NOW, TZ)
    assert grid_has_news(rolled.subtree[5]) and grid_has_news(rolled.subtree[3])
    assert not grid_has_news(rolled.subtree[4])
    text = render(_digest(rolled, snap, 101), snap, t=T, buttons=BUTTONS, lang="zh", day=DAY).text
    assert "A街道：巡查 5/5（应 1）" in text
    assert "B街道：未结隐患 0，按期结案率 —，逾期 0" in text  # no "0/0" for a grid without quota
    assert "巡查落后" not in text


def test_a_leader_without_quota_below_gets_no_patrol_line() -> None:
    snap = leaders_only().snapshot(open_cases={(6, "reported"): 2})
    rolled = roll_up(snap, WINDOWS, NOW, TZ)
    text = render(_digest(rolled, snap, 104), snap, t=T, buttons=BUTTONS, lang="zh", day=DAY).text
    assert "【巡查】" not in text and "0/0" not in text
    assert "1. A1x片区：未结隐患 2" in text


def random_city(seed: int) -> Build:
    """A tree of 1 + 4 + 16 + 64 grids, people with random quotas and patrols."""
    rng = random.Random(seed)
    grids = [GridNode(1, None, "区", "R", 1)]
    level, next_id = [1], 2
    for depth in (2, 3, 4):
        below = []
        for parent in level:
            for _ in range(4):
                grids.append(GridNode(next_id, parent, f"网格{next_id}", f"G{next_id:03d}", depth))
                below.append(next_id)
                next_id += 1
        level = below
    b = Build(tuple(grids))
    pid = 1000
    for g in grids:
        b.person(g.id + 100, g.id, LEADER)
        for _ in range(rng.randrange(4)):
            pid += 1
            b.person(pid, g.id, rng.choice((DAILY, MONTHLY)), done=rng.randrange(3))
    return b


@pytest.mark.parametrize("seed", range(8))
def test_counts_add_up_for_every_leader(seed: int) -> None:
    snap = random_city(seed).snapshot()
    rolled = roll_up(snap, WINDOWS, NOW, TZ)
    for leader in sorted(rolled.led):
        d = _digest(rolled, snap, leader)
        everyone = everyone_behind(rolled, d)
        # the full list names every laggard the count counts, each once
        assert len(everyone) == len(set(everyone)) == d.totals.behind
        assert set(d.behind_named) <= set(everyone)
        # "N due" is never 0 while someone is behind
        assert d.totals.due >= d.totals.behind
        text = render(d, snap, t=T, buttons=BUTTONS, lang="zh", day=DAY).text
        if not d.totals.behind:
            assert "巡查落后" not in text
            continue
        said = int(_one(r"【巡查落后】(\d+) 人", text))
        names = len(re.findall(r"^• 人\d+", text, flags=re.M))
        more = re.search(r"……另有 (\d+) 人", text)
        assert said == d.totals.behind == names + (int(more.group(1)) if more else 0)


def test_companions_credited_are_said_to_be_joint_patrols() -> None:
    b = leaders_only()
    b.person(61, 6, DAILY)
    b.person(62, 6, MONTHLY)
    b.done[(61, 6, DAILY)] = DoneCounts(1, 1, 1, joint_day=1, joint_week=1, joint_month=1)
    b.done[(62, 6, MONTHLY)] = DoneCounts(0, 2, 7, joint_week=1, joint_month=6)
    snap = b.snapshot()
    rolled = roll_up(snap, WINDOWS, NOW, TZ)
    # 61: 1 done, 1 of it joint; 62: 7 done of 5 counts 5, of which at most 5 joint
    assert (rolled.subtree[6].done, rolled.subtree[6].joint) == (6, 6)
    assert rolled.subtree[1].joint == 6
    text = render(_digest(rolled, snap, 104), snap, t=T, buttons=BUTTONS, lang="zh", day=DAY).text
    assert "其中联合巡查（同行人员计入）6 次" in text
    b.done[(61, 6, DAILY)] = DoneCounts(1, 1, 1)
    b.done[(62, 6, MONTHLY)] = DoneCounts(0, 2, 7)
    snap = b.snapshot()
    rolled = roll_up(snap, WINDOWS, NOW, TZ)
    text = render(_digest(rolled, snap, 104), snap, t=T, buttons=BUTTONS, lang="zh", day=DAY).text
    assert "联合巡查" not in text


def _digest(rolled: Any, snap: Any, person_id: int) -> Any:
    d = digest_for(rolled, snap, person_id)
    assert d is not None
    return d


def _one(pattern: str, text: str) -> str:
    found = re.search(pattern, text)
    assert found is not None, text
    return found.group(1)
