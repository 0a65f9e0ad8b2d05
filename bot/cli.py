"""`gridbot`: the one command-line entry point (also `python -m bot`)."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from bot.settings import SettingsError, load_settings


def _port(value: str) -> int:
    try:
        port = int(value)
    except ValueError:
        port = 0
    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{value!r} is not a port (1-65535)")
    return port


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="gridbot", description="网格通 gridbot: grid management inside Telegram."
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = sub.add_parser(
        "run",
        help="run the bot (long polling); without BOT_TOKEN, runs the local demo instead",
        description="Run the bot with long polling. Without BOT_TOKEN the local sandbox demo "
        "runs instead (same as `gridbot demo`).",
    )
    run.add_argument("--webhook", action="store_true", help="serve a webhook (needs WEBHOOK_URL)")
    run.add_argument("--port", type=_port, default=8081, help="demo emulator port without a token")

    demo = sub.add_parser(
        "demo",
        help="run the bot against the local Telegram emulator with a demo grid",
        description="Start the local Telegram emulator, the bot and a demo grid imported from a "
        "scenario file. Then talk to it from another terminal with `gridbot chat --as TG_ID`.",
    )
    demo.add_argument("--scenario", type=Path, help="scenario YAML (default: the fire-safety demo)")
    demo.add_argument("--port", type=_port, default=8081, help="emulator port (default 8081)")
    demo.add_argument("--chat-as", type=int, help="also open a terminal chat here as this TG_ID")
    demo.add_argument("--group", help="with --chat-as: chat in this grid's group (code or title)")

    chat = sub.add_parser(
        "chat",
        help="talk to the demo bot from the terminal as an imported user",
        description="A terminal chat with the running demo: type text or /commands, `3.2` to "
        "press message 3's second button (or a button's text), `lat,lon` to send a location, "
        ":photo, :who, :help, :quit.",
    )
    chat.add_argument("--group", help="chat in a group: a grid's code (LH-01), title or chat id")
    chat.add_argument("--as", dest="tg_id", type=int, required=True, help="Telegram id to act as")
    chat.add_argument("--url", help="emulator URL (default: the running demo's)")

    imp = sub.add_parser(
        "import",
        help="load a grid scenario file (YAML)",
        description="Load or update the grid tree, roles, people and rules from a scenario "
        "file. Re-importing the same file changes nothing; an edited one applies the difference.",
    )
    imp.add_argument("file", type=Path)
    imp.add_argument("--dry-run", action="store_true", help="show the changes, apply nothing")

    admin = sub.add_parser("admin", help="grant or revoke gridbot admin rights")
    admin.add_argument("action", choices=["add", "remove", "list"])
    admin.add_argument("tg_id", type=int, nargs="?")

    db = sub.add_parser("db", help="database schema")
    db.add_argument("action", choices=["upgrade", "current"])

    backup = sub.add_parser(
        "backup",
        help="write a consistent copy of the whole database to PATH",
        description="SQLite: the online backup API, safe while the bot runs. PostgreSQL: "
        "pg_dump (custom format). PATH is replaced only once the copy is whole.",
    )
    backup.add_argument("path", type=Path, metavar="PATH")
    restore = sub.add_parser(
        "restore",
        help="replace the whole database with a backup (stop the bot first)",
        description="Replace the database with the backup at PATH, all or nothing (SQLite: "
        "checked, then copied in; PostgreSQL: pg_restore --clean in one transaction). Stop "
        "every bot and scheduler on the database first.",
    )
    restore.add_argument("path", type=Path, metavar="PATH")

    export = sub.add_parser(
        "export",
        help="write a subtree's ledger (台账) as an Excel workbook",
        description="Write the ledger of grid CODE and everything below it: a summary with "
        "the scoreboard, the cases, every step of their ledger, and the patrols. DATE: "
        "2026-03-05 or 2026-03 (a month); none: this month so far; one: that month, or from "
        "that day to today; two: from and to. At most a year.",
    )
    export.add_argument("code")
    export.add_argument("dates", nargs="*", metavar="DATE")
    export.add_argument("--out", type=Path, help="file to write (default: ledger-CODE-DATES.xlsx)")
    export.add_argument("--lang", choices=["zh", "en"], help="headers' language (default: zh)")

    tree = sub.add_parser("tree", help="print the grid tree (or a subtree)")
    tree.add_argument("code", nargs="?")
    tree.add_argument("--depth", type=int, default=None, help="levels below CODE to show")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        settings = load_settings()
    except SettingsError as exc:
        print(f"gridbot: {exc}", file=sys.stderr)
        return 2
    logging.basicConfig(
        level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    logging.getLogger("alembic").setLevel(logging.WARNING)
    # Deferred: the commands load the whole application (seconds); --help and a bad setting
    # answer without it.
    from bot import commands_cli

    handler = getattr(commands_cli, f"cmd_{args.command}")
    try:
        return int(asyncio.run(handler(settings, args)) or 0)
    except KeyboardInterrupt:
        return 130
    except commands_cli.CliError as exc:
        print(f"gridbot: {exc}", file=sys.stderr)
        return 1
    except SettingsError as exc:  # a setting only one mode needs (the webhook's secret)
        print(f"gridbot: {exc}", file=sys.stderr)
        return 2
