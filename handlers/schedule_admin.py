"""/schedule digest|nag|quiet VALUE (admins): change the chasing times without a restart.

The new times are saved in the update's unit of work and applied at once to this process's
scheduler (`Runner.reschedule`); on PostgreSQL the same transaction sends the "settings
changed" signal, so the instance running the scheduler reschedules as soon as this commits
(scheduler/changes.py); on SQLite another process picks them up within minutes (`refresh`).
Anyone else gets the admin refusal.
"""

from __future__ import annotations

from typing import Any

from aiogram import Router, html
from aiogram.filters import Command, CommandObject
from aiogram.types import Message
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.context import AppContext
from handlers.admin_only import guarded
from services.chasing import SCHEDULE_FIELDS, Rules, ScheduleError, load_rules, update_schedule
from storage.settings_signal import announce_settings_changed


def router() -> Router:
    admin = Router(name=f"{__name__}.admin_only")
    admin.message.register(schedule, Command("schedule"))
    return guarded(__name__, admin, commands=("schedule",))


def _show(app: AppContext, rules: Rules, language: str) -> dict[str, Any]:
    quiet = rules.quiet
    return {
        "digest": rules.digest_time,
        "nag": rules.nag_time,
        "quiet": (
            f"{quiet.start.strftime('%H:%M')}-{quiet.end.strftime('%H:%M')}"
            if quiet
            else app.t("schedule.off", language)
        ),
        "monthly": rules.monthly_time or app.t("schedule.off", language),
    }


async def schedule(
    message: Message,
    command: CommandObject,
    session: AsyncSession,
    app: AppContext,
    language: str,
) -> None:
    parts = (command.args or "").split()
    if len(parts) != 2 or parts[0].lower() not in SCHEDULE_FIELDS:
        rules = await load_rules(session)
        await message.answer(app.t("schedule.usage", language, **_show(app, rules, language)))
        return
    try:
        rules = await update_schedule(session, what=parts[0].lower(), value=parts[1])
    except ScheduleError as exc:
        await message.answer(app.t("schedule.bad_value", language, value=html.quote(str(exc))))
        return
    await announce_settings_changed(session)
    runner = app.scheduler
    if runner is not None:
        await runner.reschedule(rules)
    await message.answer(app.t("schedule.done", language, **_show(app, rules, language)))
