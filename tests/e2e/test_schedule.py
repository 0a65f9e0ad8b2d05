"""/schedule through the emulator: an admin moves the digest and the running scheduler follows
at once (no restart); anyone else is refused; a bad value gets a clear answer.

The test world's clock is injected, so its scheduler runs PAUSED (scheduler/runner.py,
`mode_for`): built and configured as in production, never firing.
"""

from __future__ import annotations

from datetime import UTC, datetime, time

from apscheduler.job import Job
from apscheduler.triggers.cron import CronTrigger
from sqlmodel import select

from bot.notifier import OutboxNotifier
from scheduler.runner import MISFIRE_GRACE, Mode, Runner
from storage.models import Delivery, Deployment, Person
from tests.e2e.conftest import SHANGHAI
from tests.e2e.harness import ADMIN_TG_ID, World

MEMBER = 810000001  # a guard in fire-safety-5-level.yaml, no admin


def runner_of(world: World) -> Runner:
    assert world.app is not None
    runner = world.app.scheduler
    assert isinstance(runner, Runner)
    return runner


def digest_job(world: World) -> Job:
    sched = runner_of(world).scheduler
    assert sched is not None
    job = sched.get_job("digest")
    assert job is not None
    return job


async def deployment(world: World) -> Deployment:
    async with world.db.session() as s:
        return (await s.exec(select(Deployment))).one()


async def test_the_test_world_schedules_but_never_fires(world: World) -> None:
    runner = runner_of(world)
    assert runner.mode is Mode.PAUSED
    sched = runner.scheduler
    assert sched is not None and sched.running and sched.state == 2  # STATE_PAUSED
    jobs = {job.id: job for job in sched.get_jobs()}
    assert set(jobs) == {"digest", "nag", "monthly", "sweep", "refresh"}
    digest = jobs["digest"]
    assert isinstance(digest.trigger, CronTrigger)
    assert digest.next_run_time.astimezone(SHANGHAI).time() == time(18, 0)
    assert digest.next_run_time.astimezone(UTC).time() == time(10, 0)
    assert jobs["nag"].next_run_time.astimezone(SHANGHAI).time() == time(9, 30)
    for job in jobs.values():
        assert job.coalesce is True
        assert job.max_instances == 1
        assert job.misfire_grace_time == MISFIRE_GRACE.total_seconds()


async def test_admin_moves_the_digest_without_a_restart(world: World) -> None:
    runner = runner_of(world)
    sched = runner.scheduler
    assert sched is not None
    admin = world.user(ADMIN_TG_ID)
    await admin.send("/schedule digest 19:00")
    reply = await admin.expect_reply(contains="已更新")
    assert "日报 19:00" in reply.text and "催办 09:30" in reply.text
    assert id(runner.scheduler) == id(sched)  # the same running scheduler, not a new one
    job = sched.get_job("digest")
    assert job is not None
    assert job.next_run_time.astimezone(SHANGHAI).time() == time(19, 0)
    assert job.next_run_time.astimezone(UTC).time() == time(11, 0)
    assert len([j for j in sched.get_jobs() if j.id == "digest"]) == 1  # replaced in place
    assert (await deployment(world)).digest_time == "19:00"

    await admin.send("/schedule quiet 23:00-06:30")
    await admin.expect_reply(contains="免打扰 23:00-06:30")
    assert (await deployment(world)).quiet_hours == "23:00-06:30"
    await admin.send("/schedule nag 8:15")
    await admin.expect_reply(contains="催办 08:15")
    nag = sched.get_job("nag")
    assert nag is not None and nag.next_run_time.astimezone(SHANGHAI).time() == time(8, 15)

    await world.restart()  # the times were saved: a new process schedules them too
    again = runner_of(world).scheduler
    assert again is not None
    digest = again.get_job("digest")
    assert digest is not None and digest.next_run_time.astimezone(SHANGHAI).time() == time(19, 0)


async def test_a_member_is_refused_and_nothing_moves(world: World) -> None:
    member = world.user(MEMBER)
    await member.send("/schedule digest 03:00")
    await member.expect_reply(contains="仅限管理员")
    await member.expect_silence()
    assert (await deployment(world)).digest_time == "18:00"
    job = digest_job(world)
    assert job.next_run_time.astimezone(SHANGHAI).time() == time(18, 0)


async def test_bad_values_get_a_clear_answer(world: World) -> None:
    admin = world.user(ADMIN_TG_ID)
    await admin.send("/schedule digest 25:00")
    reply = await admin.expect_reply(contains="时间格式不对")
    assert "25:00" in reply.text and "HH:MM" in reply.text
    await admin.send("/schedule quiet <b>late")
    reply = await admin.expect_reply(contains="时间格式不对")
    assert "<b>late" in reply.text  # shown as typed, escaped (no parse error)
    await admin.send("/schedule lunch 12:00")
    usage = await admin.expect_reply(contains="用法")
    assert "当前：日报 18:00，催办 09:30，免打扰 22:00-07:00" in usage.text
    await admin.send("/schedule")
    await admin.expect_reply(contains="用法")
    assert (await deployment(world)).digest_time == "18:00"
    job = digest_job(world)
    assert job.next_run_time.astimezone(SHANGHAI).time() == time(18, 0)


async def test_back_after_the_digest_time_sends_that_digest_once(world: World) -> None:
    """A bot that was down at 18:00 and comes back at 19:30 sends the 18:00 digest (the
    LIVE runner's start-up catch-up); coming back again sends nothing twice."""
    app = world.app
    assert app is not None and app.notifier is not None
    async with world.db.session() as s:
        for person in (await s.exec(select(Person))).all():
            if person.tg_id:
                world.emu.ensure_user(person.tg_id, started=True)  # all use the bot
    world.at(datetime(2026, 3, 10, 19, 30, tzinfo=SHANGHAI))
    for _ in range(2):  # two starts: a crash loop, or a second process after the first
        live = Runner(app, mode=Mode.LIVE)
        await live.start()
        assert live._task is not None
        await live._task  # lock taken, jobs scheduled, catch-up run
        assert live.scheduler is not None and live.scheduler.state == 1  # STATE_RUNNING
        await live.stop()
    async with world.db.session() as s:
        rows = (await s.exec(select(Delivery).where(Delivery.kind == "digest"))).all()
    assert rows and all(d.key.endswith(":2026-03-10") for d in rows)
    assert len({d.key for d in rows}) == len(rows)
    assert isinstance(app.notifier, OutboxNotifier)
    await app.notifier.drain()
    for d in rows:
        assert len(world.emu.bot_messages(d.chat_id)) == 1


async def test_before_the_digest_time_nothing_is_caught_up(world: World) -> None:
    app = world.app
    assert app is not None
    world.at(datetime(2026, 3, 10, 17, 0, tzinfo=SHANGHAI))
    live = Runner(app, mode=Mode.LIVE)
    await live.start()
    assert live._task is not None
    await live._task
    await live.stop()
    async with world.db.session() as s:
        kinds = {d.kind for d in (await s.exec(select(Delivery))).all()}
    assert "digest" not in kinds  # the nag (09:30) was caught up; the digest is not due yet
