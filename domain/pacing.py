"""Quota pacing: is a person behind on their patrols before the period is lost?

The rule (all days are local days in the deployment's zone)::

    expected_by_now = floor(count * completed_days / days_in_period)

where ``completed_days`` counts the days of the window that ended before today's local
date (today is still open, so it never counts against anyone). Before the window it is 0;
at or after the window's end it is ``count``.

From it:

- ``behind``: ``done < expected`` — slower than an even spread of the quota;
- ``urgent``: ``left > 0 and left >= days_left`` (``days_left`` includes today) — the person
  must patrol on every remaining day (or more) to make it. A window that has ended has no
  days left and is never urgent; it is either met or fell short;
- ``needs_nag`` = ``behind or urgent`` while the window is open;
- ``due``: the least a person should have done by now not to be chased, the larger of
  ``expected`` and ``count - days_left + 1`` (what keeps them out of ``urgent``). So
  ``needs_nag`` is exactly ``done < due``, and a figure "due by now" summed over people is
  never 0 while someone among them is chased (a daily quota not yet done today is due today,
  although nothing is *expected* of it before midnight).

Who hears of a shortfall (``shortfall_recipients``): the person's leaders, walking up from
the grid where the quota fell short. A person never reports to themselves nor to their
peers: someone who leads that grid is answered for by the level above, so a grid's only
leader, or a leader whose co-leaders are all short too, is still heard by someone. Only at
the top, with nobody above, do the co-leaders who met their own quota hear it.

So a daily quota not yet done today is always urgent (one patrol left, one day left), a
5-a-month quota is first "behind" once a fifth of the month has passed, and a weekly quota
of 1 becomes urgent on Sunday.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo

from domain.periods import PeriodWindow, day_progress

__all__ = [
    "Pace",
    "expected_by_now",
    "fell_short",
    "pace",
    "shortfall",
    "shortfall_recipients",
]


def _check_counts(count: int, done: int) -> None:
    if count < 0:
        raise ValueError(f"quota count must be >= 0, got {count}")
    if done < 0:
        raise ValueError(f"done must be >= 0, got {done}")


def expected_by_now(count: int, window: PeriodWindow, now: datetime, tz: tzinfo) -> int:
    """Patrols that should have been done by ``now`` for a quota of ``count`` per window."""
    _check_counts(count, 0)
    return _expected(count, window, now, *day_progress(window, now, tz))


def _expected(count: int, window: PeriodWindow, now: datetime, completed: int, total: int) -> int:
    return count if window.is_closed(now) else count * completed // total


@dataclass(frozen=True)
class Pace:
    """Where one person stands against one quota in one window, at one instant."""

    quota: int
    done: int
    expected: int
    days_left: int
    """Local days left in the window, today included; 0 once it has ended."""

    @property
    def left(self) -> int:
        """Patrols still missing to meet the quota (never negative)."""
        return max(self.quota - self.done, 0)

    @property
    def met(self) -> bool:
        return self.done >= self.quota

    @property
    def closed(self) -> bool:
        """The window has ended: nothing more can be done in it."""
        return self.days_left == 0

    @property
    def behind(self) -> bool:
        return self.done < self.expected

    @property
    def urgent(self) -> bool:
        return not self.closed and self.left > 0 and self.left >= self.days_left

    @property
    def due(self) -> int:
        """Patrols that should be done by now not to be chased (the quota once closed)."""
        if self.closed:
            return self.quota
        return max(self.expected, self.quota - self.days_left + 1, 0)

    @property
    def short_of_due(self) -> bool:
        """Fewer done than `due`: the 落后 shown beside a "due by now" figure, so the two
        never contradict (no 落后 beside a figure already reached, none missing beside one
        not reached)."""
        return self.done < self.due

    @property
    def needs_nag(self) -> bool:
        return not self.closed and self.short_of_due

    @property
    def fell_short(self) -> bool:
        """The window ended with the quota unmet."""
        return self.closed and not self.met


def pace(count: int, done: int, window: PeriodWindow, now: datetime, tz: tzinfo) -> Pace:
    """The pace of someone who has ``done`` counted patrols of a ``count``-per-window quota."""
    _check_counts(count, done)
    # `expected_by_now` and `days_left` from one look at the window's local days.
    completed, total = day_progress(window, now, tz)
    return Pace(
        quota=count,
        done=done,
        expected=_expected(count, window, now, completed, total),
        days_left=total - completed,
    )


def fell_short(count: int, done: int, window: PeriodWindow, now: datetime) -> bool:
    """True when ``window`` has ended and ``done`` stayed below ``count``.

    For the "stayed behind" report on a period that is over (the previous day, week or
    month); an open window is never reported here, whatever the count.
    """
    _check_counts(count, done)
    return window.is_closed(now) and done < count


def shortfall(count: int, done: int) -> int:
    """How many patrols are missing from a quota (0 when met or exceeded)."""
    _check_counts(count, done)
    return max(count - done, 0)


def shortfall_recipients(
    person_id: int, chain: Sequence[Sequence[int]], short: Collection[int] = ()
) -> list[int]:
    """Who is told that ``person_id`` ended a window short of their quota.

    ``chain``: the leaders of the grid where the quota fell short, then of each grid above
    it, the root last (a level without a leader is an empty list). ``short``: the people who
    ended the same window short themselves. The first level that has a leader other than
    the person, and where the person is not a leader, is told; with nobody above, the
    person's co-leaders who are not short themselves."""
    for leaders in chain:
        if person_id in leaders:
            continue  # peers and oneself: the level above answers for a leader
        if leaders:
            return list(leaders)
    own = chain[0] if chain else ()
    return [p for p in own if p != person_id and p not in short]
