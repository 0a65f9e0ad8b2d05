"""The "settings changed" signal: `NOTIFY gridbot_settings` in the caller's transaction.

PostgreSQL delivers a notification only when the transaction that sent it commits (and
collapses repeats within it), so a listener (scheduler/changes.py) never reads the settings
before they are saved, and a rolled-back change says nothing. On SQLite this does nothing: one
machine, usually one process, whose scheduler is rescheduled in place; any other process picks
the change up from its `refresh` job (scheduler/runner.py) within minutes.
"""

from __future__ import annotations

from typing import Final

from sqlalchemy import text
from sqlmodel.ext.asyncio.session import AsyncSession

CHANNEL: Final = "gridbot_settings"


async def announce_settings_changed(session: AsyncSession) -> None:
    """Tell every instance, once this unit of work commits, that the deployment's settings
    (the schedule, the zone) changed."""
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(text(f"NOTIFY {CHANNEL}"))
