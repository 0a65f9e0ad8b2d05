"""Backups of the whole database, and restoring one: `gridbot backup PATH`, `gridbot restore PATH`.

- SQLite: SQLite's online backup API (a consistent copy while the bot runs, WAL included),
  into PATH; a restore copies PATH back over the database the same way, after checking that
  PATH is a sound gridbot database.
- PostgreSQL: `pg_dump --format=custom` into PATH; a restore is `pg_restore --clean
  --if-exists --single-transaction` into the database (all or nothing). The client programs
  must be at least the server's version: found on PATH, or the newest under
  /usr/lib/postgresql/*/bin (Debian's layout).

A backup is written beside PATH first and renamed into place when it is whole, so PATH is
never a half-written file. Restore while no bot or scheduler runs on the database.
"""

from __future__ import annotations

import asyncio
import contextlib
import glob
import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

from sqlalchemy.engine import make_url

BACKUP_PAGES = 1024  # pages copied per step: the bot's writers get the lock in between


class BackupError(Exception):
    """A backup or restore that could not be done; the message says why, on one line."""


def sqlite_path(url: str) -> Path:
    raw = url.split(":///", 1)[1] if ":///" in url else ""
    if not raw or raw == ":memory:":
        raise BackupError(f"no database file in {url!r}")
    return Path(raw)


def _copy_sqlite(source: Path, target: Path, *, one_file: bool) -> None:
    src = sqlite3.connect(source)  # read only by the backup; a WAL file may need writing
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        dst = sqlite3.connect(target)
        try:
            src.backup(dst, pages=BACKUP_PAGES)
            if one_file:  # a backup carries no -wal file beside it
                dst.execute("PRAGMA journal_mode=DELETE")
        finally:
            dst.close()
    finally:
        src.close()


def _check_sqlite(path: Path) -> str:
    """The schema revision a SQLite backup is at; BackupError when it is not one."""
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            ok = conn.execute("PRAGMA integrity_check").fetchone()
            if ok is None or ok[0] != "ok":
                raise BackupError(f"{path}: the integrity check failed ({ok})")
            row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"{path} is not a gridbot SQLite backup ({exc})") from None
    if row is None:
        raise BackupError(f"{path} is not a gridbot SQLite backup (no schema revision)")
    return str(row[0])


def _pg_program(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        candidates = sorted(
            glob.glob(f"/usr/lib/postgresql/*/bin/{name}"),
            key=lambda p: int(Path(p).parts[-3]) if Path(p).parts[-3].isdigit() else 0,
        )
        found = candidates[-1] if candidates else None
    if found is None:
        raise BackupError(f"{name} not found: install PostgreSQL's client programs")
    return found


def _pg_args(url: str) -> tuple[list[str], dict[str, str]]:
    """libpq options and environment for a SQLAlchemy PostgreSQL URL (password in PGPASSWORD)."""
    parsed = make_url(url)
    args = [f"--dbname={parsed.database or 'postgres'}"]
    if parsed.host:
        args.append(f"--host={parsed.host}")
    if parsed.port:
        args.append(f"--port={parsed.port}")
    if parsed.username:
        args.append(f"--username={parsed.username}")
    env = dict(os.environ)
    if parsed.password:
        env["PGPASSWORD"] = str(parsed.password)
    return args, env


def _run(cmd: list[str], env: dict[str, str]) -> None:
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        why = " ".join((done.stderr or done.stdout).split())[:400]
        raise BackupError(f"{Path(cmd[0]).name} failed: {why or f'exit {done.returncode}'}")


def _backup(url: str, target: Path) -> None:
    part = target.with_name(target.name + ".part")
    part.unlink(missing_ok=True)
    try:
        if url.startswith("sqlite"):
            source = sqlite_path(url)
            if not source.exists():
                raise BackupError(f"no database at {source}")
            _copy_sqlite(source, part, one_file=True)
            _check_sqlite(part)
        else:
            args, env = _pg_args(url)
            _run([_pg_program("pg_dump"), "--format=custom", f"--file={part}", *args], env)
        part.replace(target)
    finally:
        with contextlib.suppress(OSError):
            part.unlink(missing_ok=True)


def _restore(url: str, source: Path) -> None:
    if not source.is_file():
        raise BackupError(f"no backup at {source}")
    if url.startswith("sqlite"):
        _check_sqlite(source)
        _copy_sqlite(source, sqlite_path(url), one_file=False)
        return
    args, env = _pg_args(url)
    restore = [_pg_program("pg_restore"), "--clean", "--if-exists", "--no-owner"]
    _run([*restore, "--single-transaction", *args, str(source)], env)


async def backup_database(url: str, target: Path) -> None:
    """Write a consistent copy of the database at `url` to `target` (replaced when whole)."""
    if target.is_dir():
        raise BackupError(f"{target} is a folder: give the backup file's name")
    target.parent.mkdir(parents=True, exist_ok=True)
    await asyncio.to_thread(_backup, url, target)


async def restore_database(url: str, source: Path) -> None:
    """Replace the database at `url` with the backup at `source` (all of it, or nothing)."""
    await asyncio.to_thread(_restore, url, source)
