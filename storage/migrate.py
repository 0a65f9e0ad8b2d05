"""Schema migrations (Alembic), driven from code: `gridbot db upgrade` and start-up checks."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection

from storage.db import Database

MIGRATIONS = Path(__file__).with_name("migrations")


class SchemaBehind(Exception):
    """The database is older than the code; `gridbot db upgrade` brings it up."""


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url)
    return config


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config("")).get_current_head()
    assert head is not None, "no migrations found"
    return head


async def upgrade(db: Database) -> None:
    """Bring the schema to the newest revision, in one transaction."""
    config = alembic_config(db.url)

    def _upgrade(connection: Connection) -> None:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")

    async with db.engine.begin() as conn:
        await conn.run_sync(_upgrade)


async def current_revision(db: Database) -> str | None:
    def _current(connection: Connection) -> str | None:
        return MigrationContext.configure(connection).get_current_revision()

    async with db.engine.connect() as conn:
        return await conn.run_sync(_current)


async def ensure_current(db: Database) -> None:
    current, head = await current_revision(db), head_revision()
    if current != head:
        raise SchemaBehind(
            f"database schema is at {current or 'nothing'}, the code needs {head}: "
            "run `gridbot db upgrade`"
        )
