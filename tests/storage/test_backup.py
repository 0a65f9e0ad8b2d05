"""`gridbot backup PATH` and `gridbot restore PATH` through the real command line, on the pass's
database (SQLite: the online backup API; PostgreSQL: pg_dump / pg_restore).

Back up, change the database, restore: what the backup held is back, what came after is
gone, the schema is at the code's revision. A file that is no backup is refused and the
database stays as it was.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlmodel import col, select

from bot.cli import main
from storage.audit import record_audit
from storage.db import Database
from storage.inbox import keep_update, mark_done
from storage.migrate import current_revision, head_revision
from storage.models import AuditEntry, InboxUpdate

NOW = datetime(2026, 3, 10, 8, 0, tzinfo=UTC)
BOT = 7000000009


async def _write(url: str, *, update_id: int, action: str, done: int | None = None) -> None:
    db = Database(url)
    try:
        async with db.session() as session:
            await keep_update(session, bot_id=BOT, update_id=update_id, raw="{}", now=NOW)
            await record_audit(session, actor_tg_id=None, action=action, at=NOW)
            if done is not None:
                await mark_done(session, bot_id=BOT, update_id=done, now=NOW)
    finally:
        await db.dispose()


async def _state(url: str) -> tuple[list[tuple[int, bool]], list[str], str | None]:
    db = Database(url)
    try:
        async with db.reading() as session:
            inbox = (await session.exec(select(InboxUpdate))).all()
            actions = (
                await session.exec(select(AuditEntry.action).order_by(col(AuditEntry.id)))
            ).all()
        revision = await current_revision(db)
    finally:
        await db.dispose()
    return sorted((r.update_id, r.done_at is None) for r in inbox), list(actions), revision


@pytest.fixture
def cli_env(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.chdir(tmp_path)  # no stray .env
    monkeypatch.setenv("DATABASE_URL", db_url)
    monkeypatch.delenv("BOT_TOKEN", raising=False)
    return db_url


def test_backup_change_restore(
    cli_env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = cli_env
    asyncio.run(_write(url, update_id=1, action="backup.before"))
    target = tmp_path / "backups" / "gridbot.backup"

    assert main(["backup", str(target)]) == 0
    assert target.is_file() and target.stat().st_size > 0
    assert not list(target.parent.glob("*.part"))
    assert f"backed up the database to {target}" in capsys.readouterr().out

    asyncio.run(_write(url, update_id=2, action="backup.after", done=1))
    assert asyncio.run(_state(url))[:2] == (
        [(1, False), (2, True)],
        ["backup.before", "backup.after"],
    )

    assert main(["restore", str(target)]) == 0
    out = capsys.readouterr().out
    assert f"restored the database from {target}, schema at {head_revision()}" in out
    assert "db upgrade" not in out
    assert asyncio.run(_state(url)) == ([(1, True)], ["backup.before"], head_revision())

    # The restored database goes on as before: a write after the restore lands.
    asyncio.run(_write(url, update_id=3, action="restore.after"))
    assert asyncio.run(_state(url))[0] == [(1, True), (3, True)]


def test_restore_refuses_what_is_no_backup(
    cli_env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = cli_env
    asyncio.run(_write(url, update_id=1, action="kept"))
    junk = tmp_path / "junk.backup"
    junk.write_bytes(b"this is not a backup\n" * 200)

    assert main(["restore", str(junk)]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("gridbot: restore failed, the database is as it was:"), err
    assert "\n" not in err and "Traceback" not in err
    assert main(["restore", str(tmp_path / "missing.backup")]) == 1
    assert "no backup at" in capsys.readouterr().err
    assert asyncio.run(_state(url)) == ([(1, True)], ["kept"], head_revision())

    assert main(["backup", str(tmp_path)]) == 1  # a folder, not a file's name
    assert "is a folder" in capsys.readouterr().err
