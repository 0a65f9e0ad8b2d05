"""/quota and /geofence (admins), /patrols (leaders of the grid or above).

/quota <role> <day|week|month> <count>      count 0 removes the quota
/geofence <code> <lat> <lon> <radius_m>     or  /geofence <code> off
/patrols <code> [day|week|month]            per child grid and per person, done vs quota
/patrol_log [code] [YYYY-MM]                the patrol ledger (巡查台账) of a subtree, by month
"""

from __future__ import annotations

from aiogram import Router, html
from aiogram.filters import Command, CommandObject, StateFilter
from aiogram.types import BufferedInputFile, CallbackQuery, Message
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.context import AppContext
from bot.render.patrol import ledger_document, render_ledger_page
from bot.render.patrol_buttons import PatrolLog
from bot.render.patrol_stats import render_stats
from domain.geo import CircleFence
from domain.identity import Identity
from domain.periods import QuotaPeriod
from handlers.admin_only import guarded
from services import patrols as svc
from storage.grids import grid_by_code
from storage.models import Grid


def router() -> Router:
    admin = Router(name=f"{__name__}.admin_only")
    admin.message.register(quota, Command("quota"), StateFilter("*"))
    admin.message.register(geofence, Command("geofence"), StateFilter("*"))
    r = guarded(__name__, admin, commands=("quota", "geofence"))
    r.message.register(patrols, Command("patrols"), StateFilter("*"))
    r.message.register(patrol_log, Command("patrol_log"), StateFilter("*"))
    r.callback_query.register(patrol_log_page, PatrolLog.filter(), StateFilter("*"))
    return r


async def quota(
    message: Message,
    command: CommandObject,
    session: AsyncSession,
    app: AppContext,
    language: str,
) -> None:
    parts = (command.args or "").split()
    if len(parts) != 3 or not parts[2].isdigit():
        await message.answer(app.t("patrol.quota_usage", language))
        return
    role_key, period, count = parts[0], parts[1].lower(), int(parts[2])
    try:
        role = await svc.set_quota(
            session,
            role_key=role_key,
            period=period,
            count=count,
            actor_tg_id=message.from_user.id if message.from_user else None,
        )
    except svc.PatrolAdminError as exc:
        await message.answer(app.t(exc.key, language, **_quoted(exc.params)))
        return
    if role.quota_count is None:
        await message.answer(app.t("patrol.quota_removed", language, role=html.quote(role.label)))
        return
    await message.answer(
        app.t(
            "patrol.quota_set",
            language,
            role=html.quote(role.label),
            period=app.t(f"patrol.per_{period}", language),
            count=role.quota_count,
        )
    )


def _quoted(params: dict[str, object]) -> dict[str, str]:
    return {k: html.quote(str(v)) for k, v in params.items()}


def _parse_fence(parts: list[str]) -> CircleFence:
    lat, lon, radius = (float(p) for p in parts)
    return CircleFence(lat=lat, lon=lon, radius_m=radius)


async def geofence(
    message: Message,
    command: CommandObject,
    session: AsyncSession,
    app: AppContext,
    language: str,
) -> None:
    parts = (command.args or "").split()
    actor = message.from_user.id if message.from_user else None
    if len(parts) == 2 and parts[1].lower() == "off":
        fence = None
    elif len(parts) == 4:
        try:
            fence = _parse_fence(parts[1:])
        except ValueError:
            await message.answer(app.t("patrol.geofence_bad", language))
            return
    else:
        await message.answer(app.t("patrol.geofence_usage", language))
        return
    try:
        grid = await svc.set_geofence(session, code=parts[0], fence=fence, actor_tg_id=actor)
    except svc.PatrolAdminError as exc:
        await message.answer(app.t(exc.key, language, **_quoted(exc.params)))
        return
    if fence is None:
        await message.answer(app.t("patrol.geofence_cleared", language, grid=html.quote(grid.name)))
        return
    await message.answer(
        app.t(
            "patrol.geofence_set",
            language,
            grid=html.quote(grid.name),
            lat=fence.lat,
            lon=fence.lon,
            radius=round(fence.radius_m),
        )
    )


async def patrols(
    message: Message,
    command: CommandObject,
    session: AsyncSession,
    app: AppContext,
    me: Identity | None,
    is_admin: bool,
    language: str,
) -> None:
    parts = (command.args or "").split()
    if not parts and me is not None and len(me.led_grid_ids) == 1:
        led = next(h for h in me.holdings if h.is_leader)
        parts = [led.grid_code]
    if not parts or len(parts) > 2:
        await message.answer(app.t("patrol.patrols_usage", language))
        return
    period_word = parts[1].lower() if len(parts) == 2 else QuotaPeriod.MONTH.value
    if period_word not in set(QuotaPeriod):
        await message.answer(app.t("patrol.patrols_usage", language))
        return
    grid = await grid_by_code(session, parts[0])
    if grid is None:
        await message.answer(
            app.t("patrol.admin_unknown_grid", language, code=html.quote(parts[0]))
        )
        return
    if not _may_see(me, is_admin, grid):
        await message.answer(app.t("patrol.patrols_refused", language))
        return
    rules = await svc.patrol_rules(session, default_tz=app.settings.tz)
    stats = await svc.subtree_stats(
        session, grid, period=QuotaPeriod(period_word), now=app.clock.now(), tz=rules.tz
    )
    await message.answer(render_stats(app, language, stats))


# --- /patrol_log: the patrol ledger (巡查台账) -------------------------------------------------


def _looks_like_month(word: str) -> bool:
    digits = word.replace("-", "").replace("/", "").replace(".", "")
    return len(digits) == 6 and digits.isdigit()


def _may_see(me: Identity | None, is_admin: bool, grid: Grid) -> bool:
    return is_admin or (me is not None and me.leads_over(tuple(grid.ancestor_ids())))


async def patrol_log(
    message: Message,
    command: CommandObject,
    session: AsyncSession,
    app: AppContext,
    me: Identity | None,
    is_admin: bool,
    language: str,
) -> None:
    """/patrol_log [code] [YYYY-MM]: the subtree's patrols of a month, a page at a time."""
    parts = (command.args or "").split()
    if (not parts or _looks_like_month(parts[0])) and me is not None and len(me.led_grid_ids) == 1:
        led = next(h for h in me.holdings if h.is_leader)
        parts = [led.grid_code, *parts]
    if not parts or len(parts) > 2:
        await message.answer(app.t("patrol.log_usage", language))
        return
    grid = await grid_by_code(session, parts[0])
    if grid is None:
        await message.answer(
            app.t("patrol.admin_unknown_grid", language, code=html.quote(parts[0]))
        )
        return
    if not _may_see(me, is_admin, grid):
        await message.answer(app.t("patrol.patrols_refused", language))
        return
    rules = await svc.patrol_rules(session, default_tz=app.settings.tz)
    month = svc.parse_month(parts[1] if len(parts) == 2 else None, app.clock.now(), rules.tz)
    if month is None:
        await message.answer(app.t("patrol.log_bad_month", language, month=html.quote(parts[1])))
        return
    page = await svc.ledger_page(session, grid, month=month, page=0)
    text, markup = render_ledger_page(app, language, page, rules.tz)
    await message.answer(text, reply_markup=markup)


async def patrol_log_page(
    query: CallbackQuery,
    callback_data: PatrolLog,
    session: AsyncSession,
    app: AppContext,
    me: Identity | None,
    is_admin: bool,
    language: str,
) -> None:
    grid = await session.get(Grid, callback_data.g)
    if grid is None or not isinstance(query.message, Message):
        await query.answer(app.t("error.stale_button", language), show_alert=True)
        return
    if not _may_see(me, is_admin, grid):
        await query.answer(app.t("patrol.patrols_refused", language), show_alert=True)
        return
    rules = await svc.patrol_rules(session, default_tz=app.settings.tz)
    month = svc.parse_month(str(callback_data.m), app.clock.now(), rules.tz)
    if month is None:
        await query.answer(app.t("error.stale_button", language), show_alert=True)
        return
    await query.answer()
    if callback_data.doc:
        entries = await svc.ledger_all(session, grid, month=month)
        body = ledger_document(app, language, grid.name, entries, rules.tz)
        await query.message.answer_document(
            BufferedInputFile(body.encode("utf-8"), filename=f"patrols-{grid.code}-{month[0]}.csv"),
            caption=app.t(
                "patrol.log_doc_caption",
                language,
                grid=html.quote(grid.name),
                month=month[0],
                total=len(entries),
            ),
        )
        return
    page = await svc.ledger_page(session, grid, month=month, page=callback_data.n)
    text, markup = render_ledger_page(app, language, page, rules.tz)
    await query.message.edit_text(text, reply_markup=markup)
