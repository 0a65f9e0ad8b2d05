"""/summary [CODE] [year|half|month] [period]: the leader's 工作小结 (述职 figures) as text
and as an .xlsx attachment, in the private chat.

Scope as /stats (`services.stats.resolve_scope`): a leader the grids they lead and below,
an admin any grid. A bad word, an unknown code or a period not begun gets the answer with
the usage line, and nothing else is sent.
"""

from __future__ import annotations

from aiogram import F, Router, html
from aiogram.filters import Command, CommandObject, StateFilter
from aiogram.types import BufferedInputFile, Message
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.context import AppContext
from bot.render.summary import period_label, summary_lines, summary_text
from domain.identity import Identity
from domain.summary import SummaryError, looks_like_period, summary_span
from handlers.stats import bad_word, private_only, refusal
from services.patrols import patrol_rules
from services.stats import ScopeError, resolve_scope
from services.stats_summary import summary_of, summary_workbook


def router() -> Router:
    r = Router(name=__name__)
    r.message.register(summary, Command("summary"), F.chat.type == "private", StateFilter("*"))
    r.message.register(private_only("summary.private_only"), Command("summary"), StateFilter("*"))
    return r


async def summary(
    message: Message,
    command: CommandObject,
    session: AsyncSession,
    app: AppContext,
    me: Identity | None,
    is_admin: bool,
    language: str,
) -> None:
    words = (command.args or "").split()
    code = words.pop(0) if words and not looks_like_period(words[0]) else None
    tz = (await patrol_rules(session, default_tz=app.settings.tz)).tz
    now = app.clock.now()
    try:
        span = summary_span(words, now, tz)
        grid = await resolve_scope(session, code=code, me=me, is_admin=is_admin)
    except SummaryError as exc:
        await message.answer(bad_word(app, language, exc.key, exc.word, "summary.usage"))
        return
    except ScopeError as exc:
        await message.answer(refusal(app, language, exc, "summary.usage"))
        return
    report = await summary_of(session, grid, span, now=now, tz=tz)
    lines = summary_lines(app.translator, language, report)
    await message.answer(summary_text(app.translator, language, lines))
    data = summary_workbook(
        report,
        lines,
        t=lambda key, **params: app.t(key, language, **params),
        tz=tz,
        language=language,
    )
    period = period_label(app.translator, language, span.key)
    await message.answer_document(
        BufferedInputFile(data, filename=f"summary-{grid.code}-{span.key}.xlsx"),
        caption=app.t(
            "summary.caption",
            language,
            grid=html.quote(grid.name),
            code=html.quote(grid.code),
            period=period,
        ),
    )
