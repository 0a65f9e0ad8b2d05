"""Reopening a closed case (重新打开), asked at the press: the step itself goes through
`services.cases.perform` like any other (with its typed reason); this says at once, before
the reason is asked, whether the press can succeed, so that nobody types a reason for a case
past its window."""

from __future__ import annotations

from datetime import datetime

from domain.cases import Actor, CaseAction, Refusal, decide
from domain.reopen import window_open
from services.case_rules import Config
from services.cases import Loaded


def reopen_refusal(loaded: Loaded, actor: Actor, *, now: datetime, cfg: Config) -> str | None:
    """Why `actor` may not reopen the case now (a refusal key's reason), or None."""
    outcome = decide(
        loaded.facts,
        actor,
        CaseAction.REOPEN,
        within_reopen_window=window_open(loaded.case.closed_at, now, cfg.reopen_days),
    )
    return outcome.reason.value if isinstance(outcome, Refusal) else None
