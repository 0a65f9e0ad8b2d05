"""The patrol-quota section of /my (handlers/my.py ``MY_SECTIONS``)."""

from __future__ import annotations

from datetime import datetime

from aiogram.types import InlineKeyboardButton
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.context import AppContext
from bot.render.patrol import render_quota_section
from domain.identity import Identity
from services import patrols as svc


async def quota_section(
    session: AsyncSession, app: AppContext, me: Identity, language: str, now: datetime
) -> tuple[str, list[list[InlineKeyboardButton]]] | None:
    """Each quota the person holds with done, expected by now and left; None without any."""
    rules = await svc.patrol_rules(session, default_tz=app.settings.tz)
    text = render_quota_section(app, language, await svc.my_quotas(session, me, now, rules.tz))
    return (text, []) if text else None
