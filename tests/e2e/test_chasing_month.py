"""A simulated stretch of March 2026 on fire-safety-5-level.yaml, with the clock injected.

Patrols and cases are inserted as rows (a scripted pattern); the jobs are driven by calling
the job functions with the clock set to each day's nag time (09:30) and digest time (18:00);
the emulator is Telegram. The test computes by hand who must be nagged on which day, which
cases climb, and what the digests say, and compares with what was queued and delivered.

Script, Monday 2026-03-09 to Monday 2026-03-16 (no holidays in that stretch):
- guards patrol every day at 08:00, except X (LH-01-1, never) and Y (ZJ-01-1, even dates);
- the police patrol on Mondays at 08:00, except P (林和东民警, never);
- monthly quotas (community staff, street officers) never patrol: in mid-March they are
  neither behind nor urgent, so they are never nagged;
- case K (general) held by guard G of LH-02-1, due Wednesday 03-11 17:00;
- report R at ZJ-01-2, reported Tuesday 03-10 10:00 and never accepted.
"""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, time, timedelta
from typing import TypeVar

from sqlmodel import col, select

from bot.notifier import OutboxNotifier
from scheduler import jobs
from storage.models import Case, CaseEvent, Delivery, Grid, Patrol, Person, Role
from tests.e2e.harness import World
from tests.e2e.simulation import TZ, at, people_of

DAYS = [date(2026, 3, 9) + timedelta(days=i) for i in range(8)]


Row = TypeVar("Row", Role, Case)


async def ids(world: World, model: type[Row], **where: object) -> int:
    async with world.db.reading() as s:
        query = select(model)
        for k, v in where.items():
            query = query.where(getattr(model, k) == v)
        found = (await s.exec(query)).one()
        assert found.id is not None
        return found.id


async def test_a_week_of_chasing(world: World) -> None:
    app = world.app
    assert app is not None and app.notifier is not None
    who = await people_of(world)
    roles = {k: await ids(world, Role, key=k) for k in ("guard", "police", "leader")}
    grids = {}
    async with world.db.reading() as s:
        for g in (await s.exec(select(Grid))).all():
            grids[g.code] = g
    everyone = {p.tg_id for ps in who.values() for p in ps if p.tg_id}
    for tg in everyone:
        world.emu.ensure_user(tg, started=True)  # everyone here has opened the bot

    guard_x = who[("LH-01-1", "guard")][0]
    guard_y = who[("ZJ-01-1", "guard")][0]
    guard_g = who[("LH-02-1", "guard")][0]
    assert guard_g.id is not None
    police_p = who[("LH-01", "police")][0]
    leader = {code: who[(code, "leader")] for code in grids if (code, "leader") in who}
    guards = [(code, p) for (code, key), ps in who.items() if key == "guard" for p in ps]
    police = [(code, p) for (code, key), ps in who.items() if key == "police" for p in ps]

    async def patrol(person: Person, code: str, role: str, when: datetime) -> None:
        assert person.id is not None
        async with world.db.session() as s:
            s.add(
                Patrol(
                    person_id=person.id,
                    grid_id=grids[code].id,
                    role_id=roles[role],
                    status="done",
                    started_at=when,
                    finished_at=when,
                    counted=True,
                )
            )

    # The day before the run: everyone but X patrolled; the week before: all police but P.
    for code, p in guards:
        if p.id != guard_x.id:
            await patrol(p, code, "guard", at(date(2026, 3, 8), 8))
    for code, p in police:
        if p.id != police_p.id:
            await patrol(p, code, "police", at(date(2026, 3, 2), 8))

    async with world.db.session() as s:
        s.add(
            Case(
                code="K-1",
                grid_id=grids["LH-02-1"].id,
                origin_grid_id=grids["LH-02-1"].id,
                reporter_id=guard_g.id,
                category="消防设施",
                description="灭火器过期",
                severity="general",
                status="in_progress",
                assignee_person_id=guard_g.id,
                deadline_at=at(date(2026, 3, 11), 17),
                created_at=at(date(2026, 3, 4), 10),
                accepted_at=at(date(2026, 3, 4), 11),
                assigned_at=at(date(2026, 3, 4), 11),
            )
        )
    case_k = await ids(world, Case, code="K-1")

    notifier = app.notifier
    assert isinstance(notifier, OutboxNotifier)

    async def drain() -> None:
        await notifier.drain(timeout=60)

    for day in DAYS:
        for code, p in guards:
            if p.id == guard_x.id or (p.id == guard_y.id and day.day % 2):
                continue
            await patrol(p, code, "guard", at(day, 8))
        if day.weekday() == 0:
            for code, p in police:
                if p.id != police_p.id:
                    await patrol(p, code, "police", at(day, 8))
        world.at(at(day, 9, 30))
        await jobs.nag_now(app)
        await drain()
        if day == date(2026, 3, 10):
            reporter_r = who[("ZJ-01-2", "guard")][0]
            assert reporter_r.id is not None
            async with world.db.session() as s:
                s.add(
                    Case(
                        code="R-1",
                        grid_id=grids["ZJ-01-2"].id,
                        origin_grid_id=grids["ZJ-01-2"].id,
                        reporter_id=reporter_r.id,
                        category="用电",
                        description="私拉电线",
                        severity="general",
                        status="reported",
                        created_at=at(day, 10),
                        updated_at=at(day, 10),
                    )
                )
            world.at(at(day, 12, 30))
            await jobs.sweep_now(app)
        if day == date(2026, 3, 11):
            world.at(at(day, 10, 30))
            await jobs.sweep_now(app)
        world.at(at(day, 18))
        await jobs.digest_now(app)
        await drain()

    async with world.db.reading() as s:
        rows = (await s.exec(select(Delivery).order_by(col(Delivery.id)))).all()
        events = (
            await s.exec(
                select(CaseEvent).where(CaseEvent.kind == "escalated").order_by(col(CaseEvent.id))
            )
        ).all()
        case_r = await ids(world, Case, code="R-1")

    def day_of(d: Delivery) -> str:
        return d.created_at.astimezone(TZ).date().isoformat()

    ours = [d for d in rows if d.key.startswith(("nag:", "notice:", "digest:", "rollcall:"))]
    got = Counter(
        (d.key.split(":")[0] + ":" + d.key.split(":")[1], d.chat_id, day_of(d)) for d in ours
    )

    # -- by hand ---------------------------------------------------------------------------
    want: Counter[tuple[str, int | None, str]] = Counter()
    iso = [d.isoformat() for d in DAYS]
    for d in DAYS:
        want[("nag:patrol", guard_x.tg_id, d.isoformat())] += 1  # a daily quota, never met
        if d.day % 2:
            want[("nag:patrol", guard_y.tg_id, d.isoformat())] += 1
        # yesterday's shortfall, named to the grid's leader
        want[("nag:shortfall", leader["LH-01-1"][0].tg_id, d.isoformat())] += 1
        if d.day % 2 == 0 and d > DAYS[0]:
            want[("nag:shortfall", leader["ZJ-01-1"][0].tg_id, d.isoformat())] += 1
    want[("nag:patrol", police_p.tg_id, "2026-03-15")] += 1  # Sunday: the week is urgent
    for monday in ("2026-03-09", "2026-03-16"):  # last week's shortfall, on Mondays
        want[("nag:shortfall", leader["LH-01"][0].tg_id, monday)] += 1
    # case K: due Wednesday 17:00
    want[("nag:case_eve", guard_g.tg_id, "2026-03-10")] += 1
    want[("nag:case_day", guard_g.tg_id, "2026-03-11")] += 1
    want[("nag:case_overdue", guard_g.tg_id, "2026-03-12")] += 1
    want[("nag:case_overdue_cc", leader["LH-02-1"][0].tg_id, "2026-03-12")] += 1
    # Thursday and Friday ended overdue: 2 working days on Saturday morning -> up to LH-02
    want[("notice:escalated", leader["LH-02"][0].tg_id, "2026-03-14")] += 1
    # report R: reminded after 2 h, climbs after 24 h, and again at each level
    want[("nag:accept", leader["ZJ-01-2"][0].tg_id, "2026-03-10")] += 1
    want[("notice:escalated", leader["ZJ-01"][0].tg_id, "2026-03-11")] += 1  # 10:30
    want[("nag:accept", leader["ZJ-01"][0].tg_id, "2026-03-12")] += 1  # 23 h at ZJ-01
    want[("notice:escalated", leader["ZJ"][0].tg_id, "2026-03-13")] += 1  # 47 h
    for p in leader["Q"]:
        want[("notice:escalated", p.tg_id, "2026-03-14")] += 1  # 24 h at ZJ -> the root
        want[("nag:accept", p.tg_id, "2026-03-15")] += 1  # at the root: reminded only
    # the root stays reminded with the same key (since the last climb): nothing new on 03-16
    # digests: every leader, every day
    all_leaders = [p for ps in leader.values() for p in ps]
    for day_iso in iso:
        for p in all_leaders:
            want[("digest:" + str(p.id), p.tg_id, day_iso)] += 1
    got_digest = Counter(
        (f"digest:{d.person_id}", d.chat_id, day_of(d)) for d in ours if d.kind == "digest"
    )
    got_rest = Counter({k: v for k, v in got.items() if not k[0].startswith("digest")})
    want_rest = Counter({k: v for k, v in want.items() if not k[0].startswith("digest")})
    want_digest = Counter({k: v for k, v in want.items() if k[0].startswith("digest")})
    assert sorted(got_rest.items()) == sorted(want_rest.items())
    assert got_digest == want_digest

    # escalations in the ledger: K once (Saturday), R three times (ZJ-01, ZJ, Q)
    assert [(e.case_id, e.at.astimezone(TZ).date().isoformat()) for e in events] == [
        (case_r, "2026-03-11"),
        (case_r, "2026-03-13"),
        (case_k, "2026-03-14"),
        (case_r, "2026-03-14"),
    ]

    # every one of them delivered, once, and none in quiet hours
    assert {d.status for d in ours} == {"sent"}
    for d in ours:
        local = d.sent_at.astimezone(TZ).time() if d.sent_at else None
        assert local is not None and time(7) <= local < time(22), d.key
    texts: Counter[int | None] = Counter()
    for tg in everyone:
        for m in world.emu.bot_messages(tg):
            if "日报" in (m.get("text") or ""):
                texts[tg] += 1
    for p in all_leaders:
        assert texts[p.tg_id] == len(DAYS), p.name

    # figures: the LH-01-1 leader's digest on Thursday 03-12
    digest = next(d for d in ours if d.key == f"digest:{leader['LH-01-1'][0].id}:2026-03-12")
    # X's daily patrol is due today: "due by now" counts it, so it is never 0 beside
    # "1 behind" (issue 12 pt 11; it said 按进度应完成 0)
    assert "完成 1/2（50%），按进度应完成 2" in digest.text
    assert guard_x.name in digest.text
    assert "【巡查落后】1 人" in digest.text
    # the district's digest on Saturday 03-14: K and R escalated that day, both at the root's
    # subtree; K overdue no more (it is back to 已立案 at LH-02)
    q_digest = next(d for d in ours if d.key == f"digest:{leader['Q'][0].id}:2026-03-14")
    assert "逐级上报 2" in q_digest.text  # says what it counts (issue 12 pt 11; was "上报 2")
    assert "待立案 1" in q_digest.text  # R now waits at the root
