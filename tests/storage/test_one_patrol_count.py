"""One credited-patrol count (issue 12 pts 11, 13): what /my and /patrols read
(`storage.patrols.counted_per_membership`, `tallies_under`), what /stats reads
(`storage.stats.done_under`) and what the digest reads (`storage.digest.patrol_done`) agree,
joint patrols (联合巡查) credited to roster companions or not, as the deployment says.

fire-safety-5-level.yaml and the joint patrols of `tests.storage.test_joint_patrols.seed`;
`NOW` is Thursday 2026-03-12 18:00 Shanghai.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import col, select

from domain.stats import Span
from storage import digest as q
from storage import stats
from storage.db import Database
from storage.models import Grid
from storage.patrols import counted_per_membership, tallies_under
from tests.storage.test_digest_queries import NOW, WINDOWS
from tests.storage.test_digest_queries import fire as fire  # the fixture
from tests.storage.test_joint_patrols import seed, set_companions_count

# the digest counts up to now included; the others take [start, end)
END = NOW + timedelta(seconds=1)


@pytest.mark.parametrize("on", [False, True])
async def test_my_patrols_stats_and_the_digest_count_the_same(fire: Database, on: bool) -> None:
    a, b, c, _ = await seed(fire)
    await set_companions_count(fire, on)
    async with fire.reading() as s:
        digest = await q.patrol_done(s, WINDOWS, NOW)
        root = (await s.exec(select(Grid).where(col(Grid.parent_id).is_(None)))).one()
        for period in ("day", "week", "month"):
            start = WINDOWS[period].start
            wanted = {k: getattr(d, period) for k, d in digest.items() if getattr(d, period)}
            everyone = await counted_per_membership(s, start=start, end=END)
            assert everyone == wanted, period
            for who in (a, b, c):  # /my asks for one person
                mine = await counted_per_membership(s, start=start, end=END, person_ids=[who[0]])
                assert mine == {k: n for k, n in wanted.items() if k[0] == who[0]}
            tallies = await tallies_under(s, path_prefix=root.path, start=start, end=END)
            assert {k: t.counted for k, t in tallies.items() if t.counted} == wanted
            by_post = await stats.done_under(
                s, root.path, Span(start.date(), END.date(), start, END, period)
            )
            assert by_post == {(p, g): n for (p, g, _), n in wanted.items()}
    # the companion B is credited exactly when the deployment says so
    assert (b in digest) == on and digest[a].month == 4
