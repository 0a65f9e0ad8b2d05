"""What every handler and job may need, built once and passed by name (`app`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from bot.i18n import Translator
from bot.settings import Settings
from domain.calendar import ChinaWorkCalendar, WorkCalendar
from domain.clock import Clock, SystemClock
from storage.db import Database

if TYPE_CHECKING:
    from bot.notifier import Notifier


@dataclass
class AppContext:
    settings: Settings
    db: Database
    translator: Translator
    clock: Clock = field(default_factory=SystemClock)
    calendar: WorkCalendar = field(default_factory=ChinaWorkCalendar)
    """The working days deadlines and overdue cases are counted in."""
    jobs_fire: bool = True
    """Whether the scheduler's jobs fire at their times (`scheduler.runner.mode_for`).
    APScheduler reads the wall clock, not `clock`: an app on an injected clock (tests) keeps
    its scheduler paused, and the tests call the jobs with the clock set."""
    bot_username: str = ""
    notifier: Notifier | None = None
    extras: dict[str, Any] = field(default_factory=dict)

    def t(self, key: str, language: str | None = None, /, **params: Any) -> str:
        return self.translator.t(key, language or self.settings.default_language, **params)

    def deep_link(self, payload: str) -> str:
        return f"https://t.me/{self.bot_username}?start={payload}"
