"""Reopening a closed case (重新打开): how long after its closing it may be reopened.

The step itself (who may, from which statuses, to which state) is `CaseAction.REOPEN` in
`domain.cases`; this module only says whether the window is still open, so that the state
machine stays free of clocks: the caller asks `window_open` and passes the answer to
`decide` as `within_reopen_window`.

The window is counted in calendar days from the moment the case was closed (核查结案,
`Case.closed_at`), not in working days: a reporter who finds the hazard back a month later
thinks in calendar days. A case without a closing time is never within it.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Final

DEFAULT_REOPEN_DAYS: Final = 30
"""The scenario file's ``cases: {reopen_days: N}`` when it says nothing."""

MAX_REOPEN_DAYS: Final = 3660
"""Ten years: more is a typo in the scenario file."""


def window_open(closed_at: datetime | None, now: datetime, days: int) -> bool:
    """True while ``now`` lies within ``days`` days of ``closed_at`` (its end included)."""
    if closed_at is None or days <= 0:
        return False
    return now <= closed_at + timedelta(days=days)
