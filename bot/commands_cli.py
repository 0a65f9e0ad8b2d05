"""What each `gridbot` subcommand does. Each takes the settings and the parsed arguments."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from aiogram.exceptions import TelegramNetworkError
from sqlmodel import col, select

from bot.app import create_app, create_bot
from bot.context import AppContext
from bot.demo import PortTaken, run_demo
from bot.i18n import Translator
from bot.runners import run_polling, run_webhook
from bot.settings import Settings
from bot.state_backend import StateBackendError
from domain.scenario import MAX_ERRORS, Scenario, ScenarioError, parse_scenario
from domain.stats import ExportRangeError, export_span
from sandbox.terminal import TerminalError, run_terminal_chat
from services.ledger_export import write_ledger
from services.patrols import patrol_rules
from services.roster import import_roster, left_case_lines
from storage.audit import record_audit
from storage.backup import BackupError, backup_database, restore_database
from storage.db import Database, DatabaseUnreachable, check_reachable
from storage.grids import grid_by_code, roots, subtree
from storage.importer import plan_import
from storage.migrate import SchemaBehind, current_revision, ensure_current, head_revision, upgrade
from storage.models import Person
from storage.people import person_by_tg

DEMO_STATE = Path("data/demo.json")


class CliError(Exception):
    """A problem to print on one line, with a non-zero exit."""


async def _open(settings: Settings, *, migrate: bool = False) -> Database:
    db = Database(settings.database_url)
    if migrate:
        await upgrade(db)
    else:
        try:
            await ensure_current(db)
        except SchemaBehind as exc:
            await db.dispose()
            raise CliError(str(exc)) from None
    return db


async def cmd_db(settings: Settings, args: argparse.Namespace) -> int:
    db = Database(settings.database_url)
    try:
        if args.action == "upgrade":
            await upgrade(db)
        current = await current_revision(db)
        print(f"schema at {current} (code needs {head_revision()})")
    finally:
        await db.dispose()
    return 0


async def cmd_backup(settings: Settings, args: argparse.Namespace) -> int:
    try:
        await backup_database(settings.database_url, args.path)
    except (BackupError, OSError) as exc:
        raise CliError(f"backup failed, nothing written to {args.path}: {exc}") from None
    print(f"backed up the database to {args.path} ({args.path.stat().st_size:,} bytes)")
    return 0


async def cmd_restore(settings: Settings, args: argparse.Namespace) -> int:
    try:
        await restore_database(settings.database_url, args.path)
    except (BackupError, OSError) as exc:
        raise CliError(f"restore failed, the database is as it was: {exc}") from None
    db = Database(settings.database_url)
    try:
        current = await current_revision(db)
    finally:
        await db.dispose()
    head = head_revision()
    behind = "" if current == head else ": run `gridbot db upgrade` before starting the bot"
    print(
        f"restored the database from {args.path}, schema at {current} (code needs {head}){behind}"
    )
    return 0


def read_scenario(path: Path) -> Scenario:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise CliError(f"cannot read {path}: {exc.strerror}") from None
    try:
        return parse_scenario(text, source=str(path))
    except ScenarioError as exc:
        if len(exc.errors) == 1:
            raise CliError(f"refused, nothing changed: {exc}") from None
        more = " (the first 50; there may be more)" if len(exc.errors) >= MAX_ERRORS else ""
        found = "\n".join(f"  {e.location()}" for e in exc.errors)
        raise CliError(
            f"refused, nothing changed: {len(exc.errors)} errors{more}\n{found}"
        ) from None


async def import_file(app: AppContext, path: Path, *, dry_run: bool = False) -> list[str]:
    scenario = read_scenario(path)
    async with app.db.session() as session:
        if dry_run:
            changes = await plan_import(session, scenario)
            await session.rollback()
            return [*changes.summary_lines(), "(dry run: nothing applied)"]
        result = await import_roster(
            session,
            scenario,
            now=app.clock.now(),
            t=app.translator.t,
            default_language=app.settings.default_language,
        )
    # The database's active counts, not the file's: what the roster holds now.
    totals = result.totals
    summary = (
        f"imported {path.name}: {totals['grids']} grids, {totals['people']} people, "
        f"{totals['memberships']} memberships, {totals['departments']} departments"
    )
    return [
        *result.changes.summary_lines(limit=50),
        *left_case_lines(result.left_cases),
        summary,
    ]


async def cmd_import(settings: Settings, args: argparse.Namespace) -> int:
    app = create_app(settings)
    app.db = await _open(settings, migrate=True)
    try:
        for line in await import_file(app, args.file, dry_run=args.dry_run):
            print(line)
    finally:
        await app.db.dispose()
    return 0


async def cmd_admin(settings: Settings, args: argparse.Namespace) -> int:
    db = await _open(settings)
    try:
        async with db.session() as session:
            if args.action == "list":
                people = (await session.exec(select(Person).where(col(Person.is_admin)))).all()
                ids = {p.tg_id for p in people} | set(settings.admin_ids)
                for tg in sorted(i for i in ids if i is not None):
                    print(tg)
                return 0
            if args.tg_id is None:
                raise CliError(f"admin {args.action} needs a TG_ID")
            person = await person_by_tg(session, args.tg_id)
            if person is None:
                if args.action == "remove":
                    raise CliError(f"no person with Telegram id {args.tg_id}")
                placeholder = Translator(settings.default_language).t(
                    "admin.placeholder_name", None, tg_id=str(args.tg_id)
                )
                person = Person(tg_id=args.tg_id, name=placeholder)
            person.is_admin = args.action == "add"
            session.add(person)
            await record_audit(
                session, actor_tg_id=None, action=f"admin_{args.action}", target=str(args.tg_id)
            )
        print(f"{args.tg_id}: admin {'granted' if args.action == 'add' else 'revoked'}")
        if args.action == "remove" and args.tg_id in settings.admin_ids:
            print("note: this id is also in ADMIN_IDS, which still makes it an admin")
    finally:
        await db.dispose()
    return 0


async def cmd_tree(settings: Settings, args: argparse.Namespace) -> int:
    db = await _open(settings)
    try:
        async with db.reading() as session:
            if args.code:
                top = await grid_by_code(session, args.code)
                if top is None:
                    raise CliError(f"no grid with code {args.code}")
                tops = [top]
            else:
                tops = list(await roots(session))
            for top in tops:
                for grid in await subtree(session, top, max_depth=args.depth):
                    indent = "  " * (grid.level - top.level)
                    bound = "  [group bound]" if grid.group_chat_id else ""
                    print(f"{indent}{grid.code}  {grid.name}  ({grid.level_label}){bound}")
            if not tops:
                print("no grids yet: `gridbot import FILE` loads a scenario")
    finally:
        await db.dispose()
    return 0


async def cmd_run(settings: Settings, args: argparse.Namespace) -> int:
    if settings.bot_token is None:
        print("BOT_TOKEN is not set: starting the local demo instead (see README).")
        demo_args = argparse.Namespace(scenario=None, port=args.port, chat_as=None, group=None)
        return await cmd_demo(settings, demo_args)
    if args.webhook:
        settings.check_webhook()  # before anything listens
    app = create_app(settings)
    bot = create_bot(settings)
    try:
        await check_reachable(app.db)
        if args.webhook:
            await run_webhook(app, bot)
        else:
            await run_polling(app, bot)
    except (SchemaBehind, StateBackendError, DatabaseUnreachable) as exc:
        raise CliError(str(exc)) from None
    except TelegramNetworkError as exc:
        token = settings.bot_token.get_secret_value() if settings.bot_token else ""
        reason = str(exc).replace(token, "***") if token else str(exc)
        raise CliError(
            f"cannot reach the Bot API at {settings.telegram_api_base}: {reason}"
        ) from None
    finally:
        await bot.session.close()
        await app.db.dispose()
    return 0


async def cmd_demo(settings: Settings, args: argparse.Namespace) -> int:
    try:
        await run_demo(
            settings,
            scenario=args.scenario,
            port=args.port,
            chat_as=args.chat_as,
            group=args.group,
        )
    except (PortTaken, TerminalError) as exc:
        raise CliError(str(exc)) from None
    return 0


async def cmd_chat(settings: Settings, args: argparse.Namespace) -> int:
    url = args.url
    codes: dict[str, int] = {}
    if url is None:
        try:
            state = json.loads(DEMO_STATE.read_text())
            url = state["emulator_url"]
            codes = {str(k): int(v) for k, v in (state.get("groups") or {}).items()}
        except (OSError, ValueError, KeyError, AttributeError):
            raise CliError("no demo is running here: start one with `gridbot demo` first") from None
    try:
        await run_terminal_chat(url, args.tg_id, group=args.group, codes=codes)
    except TerminalError as exc:
        raise CliError(str(exc)) from None
    return 0


async def cmd_export(settings: Settings, args: argparse.Namespace) -> int:
    """A leader's /export for an admin at the server: any grid, any size, to a file."""
    app = create_app(settings)
    app.db = await _open(settings)
    language = args.lang or settings.default_language

    def t(key: str, **params: Any) -> str:
        return app.t(key, language, **params)

    try:
        async with app.db.reading() as session:
            grid = await grid_by_code(session, args.code)
            if grid is None:
                raise CliError(t("stats.unknown_grid", code=args.code))
            tz = (await patrol_rules(session, default_tz=settings.tz)).tz
            now = app.clock.now()
            try:
                span = export_span(args.dates, now.astimezone(tz).date(), tz)
            except ExportRangeError as exc:
                raise CliError(t(exc.key, word=exc.word)) from None
            out = args.out or Path(f"ledger-{grid.code}-{span.key.replace('~', '_')}.xlsx")
            # Written beside the target and renamed at the end: never half a workbook there.
            partial = out.with_name(out.name + ".partial")
            out.parent.mkdir(parents=True, exist_ok=True)

            async def progress(done: int, total: int) -> None:
                print(f"exported {done:,} / {total:,} rows", file=sys.stderr)

            try:
                counts = await write_ledger(
                    session,
                    grid,
                    span,
                    path=partial,
                    now=now,
                    tz=tz,
                    t=t,
                    language=language,
                    progress=progress,
                )
                partial.replace(out)
            finally:
                partial.unlink(missing_ok=True)
    finally:
        await app.db.dispose()
    print(
        f"wrote {out}: {grid.code} {span.key}, {counts.cases:,} cases, "
        f"{counts.events:,} case steps, {counts.patrols:,} patrols"
    )
    return 0
