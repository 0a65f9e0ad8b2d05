"""What every handler and job may need, built once and passed by name (`app`)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from bot.i18n import Translator
from bot.settings import Settings
from domain.calendar import ChinaWorkCalendar, WorkCalendar
from domain.clock import Clock, SystemClock
from storage.db import Database

if TYPE_CHECKING:
    from bot.notifier import Limits, Notifier, Timer
    from scheduler.runner import Runner


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
    scheduler: Runner | None = None
    """This process's scheduler while it runs (`scheduler.runner.Runner`), to reschedule."""
    timer: Timer | None = None
    """What waiting out Telegram's limits sleeps on (a retry_after, the notifier's pace);
    None: real time. Tests put the emulator's clock behind it; it is read per use."""
    notifier_limits: Limits | None = None
    """The notifier's rates; None: Telegram's, scaled by settings.notifier_rate_scale."""
    answer_budget_s: float | None = None
    """How long a press may wait for its handler's answer (bot/callback_answers.py);
    None: the default. Tests make it short."""
    group_waits: dict[int, float] = field(default_factory=dict)
    """Group chat id -> until when (on the timer's clock) Telegram said to wait."""
    stoppers: list[Callable[[], Awaitable[None]]] = field(default_factory=list)
    """How to stop what runs beside the handlers (bot/background.py), in starting order."""

    def t(self, key: str, language: str | None = None, /, **params: Any) -> str:
        return self.translator.t(key, language or self.settings.default_language, **params)

    def deep_link(self, payload: str) -> str:
        return f"https://t.me/{self.bot_username}?start={payload}"
