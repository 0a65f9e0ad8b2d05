"""/schedule digest|nag|quiet VALUE (admins): change the chasing times without a restart."""

from __future__ import annotations

from typing import Any, Final

from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.types import Message
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.context import AppContext
from services.chasing import SCHEDULE_FIELDS, Rules, ScheduleError, load_rules, update_schedule

router: Final[Router] = Router(name=__name__)


async def _is_admin(message: Message, is_admin: bool = False) -> bool:
    return is_admin


router.message.filter(_is_admin)


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
    }


@router.message(Command("schedule"))
async def schedule(
    message: Message,
    command: CommandObject,
    session: AsyncSession,
    app: AppContext,
    language: str,
) -> None:
    parts = (command.args or "").split()
    if len(parts) != 2 or parts[0] not in SCHEDULE_FIELDS:
        rules = await load_rules(session)
        await message.answer(app.t("schedule.usage", language, **_show(app, rules, language)))
        return
    try:
        rules = await update_schedule(session, what=parts[0], value=parts[1])
    except ScheduleError as exc:
        await message.answer(app.t("schedule.bad_value", language, value=str(exc)))
        return
    runner = app.extras.get("scheduler")
    if runner is not None:
        await runner.reschedule(rules)
    await message.answer(app.t("schedule.done", language, **_show(app, rules, language)))
