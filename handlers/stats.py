"""/stats [CODE] [month|quarter|year]: the subtree's scoreboard, with its chart.

Private chat only: the scoreboard names people and their figures, not for a grid's group.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiogram import F, Router, html
from aiogram.filters import Command, CommandObject, StateFilter
from aiogram.types import BufferedInputFile, Message
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.context import AppContext
from bot.render.charts import render_chart
from bot.render.stats import chart_data, stats_text
from domain.identity import Identity
from domain.stats import StatsPeriod, stats_span
from services.patrols import patrol_rules
from services.stats import ScopeError, resolve_scope, stats_of


def router() -> Router:
    r = Router(name=__name__)
    r.message.register(stats, Command("stats"), F.chat.type == "private", StateFilter("*"))
    r.message.register(private_only("stats.private_only"), Command("stats"), StateFilter("*"))
    return r


def private_only(key: str) -> Callable[[Message, AppContext, str], Awaitable[None]]:
    """The answer in a group to a report command that names people (/stats, /export,
    /summary): the text under `key`, pointing to the private chat."""

    async def in_group(message: Message, app: AppContext, language: str) -> None:
        await message.answer(app.t(key, language))

    return in_group


def bad_word(app: AppContext, language: str, key: str, word: str, usage: str) -> str:
    """A typed word refused under `key`, followed by the usage line unless it is that line."""
    text = app.t(key, language, word=html.quote(word))
    return text if key == usage else text + "\n\n" + app.t(usage, language)


def refusal(app: AppContext, language: str, exc: ScopeError, usage: str) -> str:
    params = {k: html.quote(str(v)) for k, v in exc.params.items()}
    return app.t(exc.key, language, **params) + "\n\n" + app.t(usage, language)


async def stats(
    message: Message,
    command: CommandObject,
    session: AsyncSession,
    app: AppContext,
    me: Identity | None,
    is_admin: bool,
    language: str,
) -> None:
    words = (command.args or "").split()
    period = StatsPeriod.MONTH
    if words and words[-1].lower() in set(StatsPeriod):
        period = StatsPeriod(words.pop().lower())
    if len(words) > 1:
        await message.answer(app.t("stats.usage", language))
        return
    try:
        grid = await resolve_scope(
            session, code=words[0] if words else None, me=me, is_admin=is_admin
        )
    except ScopeError as exc:
        await message.answer(refusal(app, language, exc, "stats.usage"))
        return
    tz = (await patrol_rules(session, default_tz=app.settings.tz)).tz
    now = app.clock.now()
    report = await stats_of(session, grid, stats_span(period, now, tz), now=now, tz=tz)
    await message.answer(stats_text(app.translator, language, report, period))
    png = render_chart(chart_data(app.translator, language, report))
    await message.answer_photo(
        BufferedInputFile(png, filename=f"stats-{grid.code}-{report.board.span.key}.png"),
        caption=app.t(
            "stats.chart_caption",
            language,
            grid=html.quote(grid.name),
            key=report.board.span.key,
        ),
    )
