"""/export [CODE] [from] [to]: the subtree's 台账 as an Excel workbook, in the private chat.

An export of `PROGRESS_FROM_ROWS` rows or more shows one progress message, edited as the rows
go out (at most every `PROGRESS_EVERY_S`, well inside Telegram's one call a second per
chat); then the file arrives as a document, its caption counting the rows.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any, Final

from aiogram import F, Router, html
from aiogram.filters import Command, CommandObject, StateFilter
from aiogram.types import FSInputFile, Message
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.context import AppContext
from domain.identity import Identity
from domain.stats import ExportRangeError, export_span, looks_like_date
from handlers.stats import bad_word, private_only, refusal
from services.ledger_export import count_export, write_ledger
from services.patrols import patrol_rules
from services.stats import ScopeError, resolve_scope

PROGRESS_EVERY_S: Final = 3.0
PROGRESS_FROM_ROWS: Final = 1000
MAX_CHAT_ROWS: Final = 600_000
"""Rows one chat export may hold: about 25 MB of workbook, inside the 50 MB Telegram takes
from a bot. Larger ones are for `gridbot export` on the server."""


def router() -> Router:
    r = Router(name=__name__)
    r.message.register(export, Command("export"), F.chat.type == "private", StateFilter("*"))
    r.message.register(private_only("export.private_only"), Command("export"), StateFilter("*"))
    return r


def _count(n: int) -> str:
    return f"{n:,}"


async def export(
    message: Message,
    command: CommandObject,
    session: AsyncSession,
    app: AppContext,
    me: Identity | None,
    is_admin: bool,
    language: str,
) -> None:
    words = (command.args or "").split()
    code = words.pop(0) if words and not looks_like_date(words[0]) else None
    tz = (await patrol_rules(session, default_tz=app.settings.tz)).tz
    now = app.clock.now()
    try:
        span = export_span(words, now.astimezone(tz).date(), tz)
        grid = await resolve_scope(session, code=code, me=me, is_admin=is_admin)
    except ExportRangeError as exc:
        await message.answer(bad_word(app, language, exc.key, exc.word, "export.usage"))
        return
    except ScopeError as exc:
        await message.answer(refusal(app, language, exc, "export.usage"))
        return

    names: dict[str, Any] = {"grid": html.quote(grid.name), "span": span.key}
    counts = await count_export(session, grid, span)
    if counts.total > MAX_CHAT_ROWS:
        too_many = app.t(
            "export.too_many", language, total=_count(counts.total), limit=_count(MAX_CHAT_ROWS)
        )
        await message.answer(too_many + "\n\n" + app.t("export.usage", language))
        return
    sizes = {
        "cases": _count(counts.cases),
        "events": _count(counts.events),
        "patrols": _count(counts.patrols),
    }
    # A short export is one document; a long one first shows its progress (each edit is a
    # call to the same chat, so a short one would only spend Telegram's limit on them).
    shown: Message | None = None
    if counts.total >= PROGRESS_FROM_ROWS:
        shown = await message.answer(
            app.t("export.progress", language, done=0, total=_count(counts.total), **names)
        )
    last = app.clock.monotonic()

    async def progress(done: int, total: int) -> None:
        nonlocal last
        if shown is None or app.clock.monotonic() - last < PROGRESS_EVERY_S:
            return
        last = app.clock.monotonic()
        await shown.edit_text(
            app.t("export.progress", language, done=_count(done), total=_count(total), **names)
        )

    with tempfile.TemporaryDirectory(prefix="gridbot-export-") as folder:
        path = Path(folder) / f"ledger-{grid.code}-{span.key.replace('~', '_')}.xlsx"
        await write_ledger(
            session,
            grid,
            span,
            path=path,
            now=now,
            tz=tz,
            t=lambda key, **params: app.t(key, language, **params),
            language=language,
            progress=progress,
            counts=counts,
        )
        if shown is not None:
            await shown.edit_text(app.t("export.done", language, **sizes, **names))
        await message.answer_document(
            FSInputFile(path),
            caption=app.t("export.caption", language, code=html.quote(grid.code), **sizes, **names),
        )
