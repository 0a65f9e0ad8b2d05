"""A simulated month (March 2026) of chasing on fire-safety-5-level.yaml.

The emulator is Telegram and the clock is injected. Patrols and cases are inserted as rows
with exact times (a scripted pattern); each day the nag job runs at 09:30 and the digest job
at 18:00 (the job functions, not APScheduler), and the notifier delivers. Everything the
test expects is computed by hand below. March 2026 has no public holiday and no adjusted
working day: working days are Monday to Friday. The 1st is a Sunday.

The script (besides it, everybody meets their quota):
- the day before the month, every guard patrolled (02-28), every police officer in the week
  of 02-23, everyone with a monthly quota in February: nothing is owed on the 1st;
- guards patrol every day at 08:00, except X (LH-01-1's first guard), who patrols on
  weekdays only: nagged at 09:30 on each Saturday and Sunday (daily quota, nothing done),
  and named to LH-01-1's leader the next morning (yesterday's shortfall);
- the police patrol on Mondays at 08:00, except P (林和东民警), who skips the week of
  03-16: nagged on Sunday 03-22 (one left, one day left), named to LH-01's leader on Monday
  03-23 (last week's shortfall);
- monthly quotas (community staff, street officers; 1 a month): only S (林和东专管员)
  patrols, on 03-10. The others are never behind before the last day (1 * 30 // 31 = 0
  expected) and are nagged on 03-31 alone (one left, one day left);
- case K (一般), held by guard G of LH-02-1, due Friday 03-06 17:00: reminded on Thursday
  03-05 (due tomorrow) and Friday (due today); 催办 on Saturday 03-07 to G, copied to
  LH-02-1's leader; overdue working days: Monday 03-09 and Tuesday 03-10 → escalated to
  LH-02 at 09:30 on Wednesday 03-11, which its leader is told;
- report R at ZJ-01-2, reported Friday 03-20 10:00, never accepted: 23.5 h on 03-21 →
  its leader is reminded; 47.5 h on 03-22 → climbs to ZJ-01; 24 h later to ZJ, then to the
  root Q (03-24); the root cannot climb: both Q leaders are reminded on 03-25, once;
- Sunday 03-15 the bot comes back late: the digest job runs at 22:30, in the quiet hours
  (22:00-07:00); those digests wait until Monday 07:00.

The notifier's and the emulator's flood limits are lifted here (their own tests hold them):
this test is about who is told what, on which day.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import date, datetime, time, timedelta
from typing import Any

import pytest
from sqlmodel import col, select

from bot import notifier as notifier_module
from bot.notifier import OutboxNotifier
from sandbox.emulator import Emulator
from sandbox.flood import FloodLimits
from scheduler import jobs
from storage.models import Case, CaseEvent, Delivery, Grid, Patrol, Person, Role
from tests.e2e.harness import BOT_USERNAME, TOKEN, World
from tests.e2e.simulation import TZ, at, people_of

MARCH = [date(2026, 3, 1) + timedelta(days=i) for i in range(31)]
LATE_DAY = date(2026, 3, 15)


def iso(month: int, day: int) -> str:
    return date(2026, month, day).isoformat()


@pytest.fixture
async def emulator() -> AsyncIterator[Emulator]:
    """This module's emulator: no flood limits (the notifier tests hold those)."""
    async with Emulator(limits=FloodLimits(enabled=False)) as emu:
        emu.add_bot(TOKEN, BOT_USERNAME)
        yield emu


@pytest.fixture
def fast_notifier(monkeypatch: pytest.MonkeyPatch) -> None:
    def scaled(self: notifier_module.Limits, factor: float) -> notifier_module.Limits:
        return replace(
            self, global_per_second=10_000.0, chat_per_second=10_000.0, group_per_minute=1e6
        )

    monkeypatch.setattr(notifier_module.Limits, "scaled", scaled)


def pid(person: Person) -> int:
    assert person.id is not None
    return person.id


async def test_a_month_of_chasing(fast_notifier: None, world: World) -> None:
    app = world.app
    assert app is not None and isinstance(app.notifier, OutboxNotifier)
    notifier = app.notifier
    who = await people_of(world)
    async with world.db.session() as s:
        roles = {r.key: r.id for r in (await s.exec(select(Role))).all()}
        grids = {g.code: g.id for g in (await s.exec(select(Grid))).all()}
    for ps in who.values():
        for p in ps:
            assert p.tg_id is not None
            world.emu.ensure_user(p.tg_id, started=True)  # all have opened the bot

    def one(code: str, role: str, i: int = 0) -> Person:
        return who[(code, role)][i]

    leader = {code: who[(code, "leader")] for code in grids if (code, "leader") in who}
    all_leaders = [p for ps in leader.values() for p in ps]
    assert len(all_leaders) == 14
    guards = [(c, p) for (c, k), ps in who.items() if k == "guard" for p in ps]
    police = [(c, p) for (c, k), ps in who.items() if k == "police" for p in ps]
    monthly = [
        (c, k, p)
        for (c, k), ps in who.items()
        if k in ("community_staff", "street_officer")
        for p in ps
    ]
    assert (len(guards), len(police), len(monthly)) == (11, 3, 5)
    x, g, p_, s_ = (
        one("LH-01-1", "guard"),
        one("LH-02-1", "guard"),
        one("LH-01", "police"),
        one("LH-01", "community_staff"),
    )

    def patrol(person: Person, code: str, role: str, when: datetime) -> Patrol:
        return Patrol(
            person_id=pid(person),
            grid_id=grids[code],
            role_id=roles[role],
            kind="quick",
            status="done",
            started_at=when,
            finished_at=when,
            counted=True,
        )

    async with world.db.session() as s:
        s.add_all(patrol(p, c, "guard", at(date(2026, 2, 28), 8)) for c, p in guards)
        s.add_all(patrol(p, c, "police", at(date(2026, 2, 23), 8)) for c, p in police)
        s.add_all(patrol(p, c, k, at(date(2026, 2, 10), 8)) for c, k, p in monthly)
        s.add(
            Case(
                code="K-1",
                grid_id=grids["LH-02-1"],
                origin_grid_id=grids["LH-02-1"],
                reporter_id=pid(g),
                category="消防设施",
                description="灭火器过期",
                severity="general",
                status="in_progress",
                assignee_person_id=g.id,
                deadline_at=at(date(2026, 3, 6), 17),
                created_at=at(date(2026, 2, 27), 10),
                accepted_at=at(date(2026, 2, 27), 11),
                assigned_at=at(date(2026, 2, 27), 11),
            )
        )

    async def drain() -> None:
        await notifier.drain(timeout=60)

    for day in MARCH:
        weekend = day.weekday() >= 5
        async with world.db.session() as s:
            s.add_all(
                patrol(p, c, "guard", at(day, 8))
                for c, p in guards
                if not (p.id == x.id and weekend)
            )
            if day.weekday() == 0:
                s.add_all(
                    patrol(p, c, "police", at(day, 8))
                    for c, p in police
                    if not (p.id == p_.id and day == date(2026, 3, 16))
                )
            if day == date(2026, 3, 10):
                s.add(patrol(s_, "LH-01", "community_staff", at(day, 8)))
        world.at(at(day, 9, 30))
        await jobs.nag_now(app)
        await drain()
        if day == date(2026, 3, 20):
            async with world.db.session() as s:
                s.add(
                    Case(
                        code="R-1",
                        grid_id=grids["ZJ-01-2"],
                        origin_grid_id=grids["ZJ-01-2"],
                        reporter_id=pid(one("ZJ-01-2", "guard")),
                        category="用电",
                        description="私拉电线",
                        severity="general",
                        status="reported",
                        created_at=at(day, 10),
                        updated_at=at(day, 10),
                    )
                )
        if day == LATE_DAY:
            world.at(at(day, 22, 30))
            await jobs.digest_now(app)
            await drain()  # nothing is due: held until 07:00
            world.at(at(day + timedelta(days=1), 7, 0))
            await drain()
        else:
            world.at(at(day, 18))
            await jobs.digest_now(app)
            await drain()

    async with world.db.session() as s:
        rows = (await s.exec(select(Delivery).order_by(col(Delivery.id)))).all()
        events = (
            await s.exec(
                select(CaseEvent).where(CaseEvent.kind == "escalated").order_by(col(CaseEvent.id))
            )
        ).all()
        cases = {c.code: c for c in (await s.exec(select(Case))).all()}

    def day_of(d: Delivery) -> str:
        return d.created_at.astimezone(TZ).date().isoformat()

    ours = [d for d in rows if d.key.startswith(("nag:", "notice:", "digest:", "rollcall:"))]
    got = Counter(
        (":".join(d.key.split(":")[:2]), d.chat_id, day_of(d)) for d in ours if d.kind != "digest"
    )

    # -- by hand ---------------------------------------------------------------------------
    want: Counter[tuple[str, int | None, str]] = Counter()
    x_misses = [d for d in MARCH if d.weekday() >= 5]
    assert [d.day for d in x_misses] == [1, 7, 8, 14, 15, 21, 22, 28, 29]
    for d in x_misses:
        want[("nag:patrol", x.tg_id, d.isoformat())] += 1
        want[
            ("nag:shortfall", leader["LH-01-1"][0].tg_id, (d + timedelta(days=1)).isoformat())
        ] += 1
    want[("nag:patrol", p_.tg_id, iso(3, 22))] += 1
    want[("nag:shortfall", leader["LH-01"][0].tg_id, iso(3, 23))] += 1
    for _c, _k, person in monthly:
        if person.id != s_.id:
            want[("nag:patrol", person.tg_id, iso(3, 31))] += 1
    # case K
    want[("nag:case_eve", g.tg_id, iso(3, 5))] += 1
    want[("nag:case_day", g.tg_id, iso(3, 6))] += 1
    want[("nag:case_overdue", g.tg_id, iso(3, 7))] += 1
    want[("nag:case_overdue_cc", leader["LH-02-1"][0].tg_id, iso(3, 7))] += 1
    want[("notice:escalated", leader["LH-02"][0].tg_id, iso(3, 11))] += 1
    # report R
    want[("nag:accept", leader["ZJ-01-2"][0].tg_id, iso(3, 21))] += 1
    want[("notice:escalated", leader["ZJ-01"][0].tg_id, iso(3, 22))] += 1
    want[("notice:escalated", leader["ZJ"][0].tg_id, iso(3, 23))] += 1
    for q in leader["Q"]:
        want[("notice:escalated", q.tg_id, iso(3, 24))] += 1
        want[("nag:accept", q.tg_id, iso(3, 25))] += 1
    assert sorted(got.items(), key=str) == sorted(want.items(), key=str)

    # the ledger: K climbed once, R three times, at the nag time
    assert [(e.case_id, e.at.astimezone(TZ).isoformat()) for e in events] == [
        (cases["K-1"].id, at(date(2026, 3, 11), 9, 30).isoformat()),
        (cases["R-1"].id, at(date(2026, 3, 22), 9, 30).isoformat()),
        (cases["R-1"].id, at(date(2026, 3, 23), 9, 30).isoformat()),
        (cases["R-1"].id, at(date(2026, 3, 24), 9, 30).isoformat()),
    ]
    assert cases["R-1"].grid_id == grids["Q"] and cases["K-1"].grid_id == grids["LH-02"]

    # digests: every leader, every day, once; all delivered, none in the quiet hours
    digests = {d.key: d for d in ours if d.kind == "digest"}
    assert len(digests) == 14 * 31
    for d in MARCH:
        for p in all_leaders:
            row = digests[f"digest:{p.id}:{d.isoformat()}"]
            assert row.chat_id == p.tg_id
    assert {d.status for d in ours} == {"sent"}
    for d in ours:
        assert d.sent_at is not None
        local = d.sent_at.astimezone(TZ)
        assert time(7) <= local.time() < time(22), d.key
        if d.kind == "digest":
            expected = (
                at(LATE_DAY + timedelta(days=1), 7)
                if d.key.endswith(LATE_DAY.isoformat())
                else None
            )
            if expected is not None:
                assert d.sent_at == expected.astimezone(d.sent_at.tzinfo), d.key
    sent_digests: Counter[int] = Counter()
    for p in all_leaders:
        assert p.tg_id is not None
        sent_digests[p.tg_id] = sum(
            "日报" in (m.get("text") or "") for m in world.emu.bot_messages(p.tg_id)
        )
    assert set(sent_digests.values()) == {31}

    def digest(code: str, day: date, i: int = 0) -> str:
        return digests[f"digest:{leader[code][i].id}:{day.isoformat()}"].text

    # LH-01-1 on Sunday 03-08: two guards, X did nothing. Both daily patrols are due today
    # (issue 12 pt 11: "due by now" is never 0 beside "1 behind"; it said 按进度应完成 0)
    text = digest("LH-01-1", date(2026, 3, 8))
    assert "【巡查】完成 1/2（50%），按进度应完成 2" in text
    assert "【巡查落后】1 人：" in text and f"• {x.name}（林和东第1片区 保安巡查员）" in text
    # ...and on Monday 03-09 all is well
    text = digest("LH-01-1", date(2026, 3, 9))
    assert "【巡查】完成 2/2（100%），按进度应完成 2" in text and "巡查落后" not in text  # pt 11

    # LH-01 on Sunday 03-22: S (month, done), P (week, 0 of 1), 4 guards (X missing).
    # Expected by now: 1 * 21 // 31 = 0, 1 * 6 // 7 = 0, daily 0; due by now (issue 12
    # pt 11, what keeps one from being chased): S 0 (10 days left), P 1 (its last day), each
    # guard 1 (today's) = 5 (it said 0 beside "2 behind")
    text = digest("LH-01", date(2026, 3, 22))
    assert "【巡查】完成 4/6（67%），按进度应完成 5" in text
    assert "【巡查落后】2 人：" in text
    assert f"• {p_.name}（林和东社区 社区民警）" in text
    assert f"• {x.name}（林和东第1片区 保安巡查员）" in text
    assert "1. 林和东第2片区：巡查 2/2（应 2），按期结案率 —，逾期 0，落后 0 人" in text  # pt 11
    assert "2. 林和东第1片区：巡查 1/2（应 2），按期结案率 —，逾期 0，落后 1 人" in text

    # the district on 03-31: the street officers named first, then the community staff
    # further down (issue 12 pt 11: the names add up to the count; they were only counted,
    # "林和街道 下级另有 1 人落后")
    for i in (0, 1):
        text = digest("Q", date(2026, 3, 31), i)
        assert "【巡查落后】4 人：" in text
        assert "• 林和安监员（林和街道 街道安监员）" in text
        assert "• 珠玑安监员（珠玑街道 街道安监员）" in text
        assert "• 林和西专管员（林和西社区 社区消防专管员）" in text
        assert "• 珠玑专管员（珠玑社区 社区消防专管员）" in text
        assert "另有" not in text
        assert "【待我处理】待立案 1 · 待派遣 0 · 待核查 0" in text  # R waits at the root
    # K's climb on 03-11: escalated today in the district's figures; LH-02 must assign it
    # "逐级上报" says what it counts (issue 12 pt 11; it said "上报")
    assert "逐级上报 1；当前逾期 0" in digest("Q", date(2026, 3, 11))
    assert "逐级上报 0；当前逾期 1" in digest("Q", date(2026, 3, 10))  # K overdue since the 6th
    text = digest("LH-02", date(2026, 3, 11))
    assert "【待我处理】待立案 0 · 待派遣 1 · 待核查 0" in text
    markup: Any = digests[f"digest:{leader['LH-02'][0].id}:2026-03-11"].reply_markup
    assert [b["text"] for b in markup["inline_keyboard"][0]] == ["待派遣 1"]
    # R's path: waiting at ZJ-01-2 on 03-21, at ZJ-01 on 03-22
    assert "待立案 1" in digest("ZJ-01-2", date(2026, 3, 21))
    assert "待立案 1" in digest("ZJ-01", date(2026, 3, 22))
    assert "【待我处理】暂无" in digest("ZJ-01-2", date(2026, 3, 22))
