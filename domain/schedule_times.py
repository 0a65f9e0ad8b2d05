"""Schedule times (local HH:MM) and quiet hours: when the digest and the nags may go."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta, tzinfo


def parse_hhmm(value: str) -> time:
    """'09:30' -> time(9, 30). Raises ValueError on anything else."""
    hh, sep, mm = value.strip().partition(":")
    if not sep or not hh.isdigit() or not mm.isdigit() or len(mm) != 2:
        raise ValueError(f"not a HH:MM time: {value!r}")
    return time(int(hh), int(mm))


@dataclass(frozen=True)
class QuietHours:
    """Local hours when nothing but 重大 cases is sent ('22:00-07:00'; may wrap midnight)."""

    start: time
    end: time

    @classmethod
    def parse(cls, value: str | None) -> QuietHours | None:
        if not value or not value.strip():
            return None
        first, sep, second = value.strip().partition("-")
        if not sep:
            raise ValueError(f"not a HH:MM-HH:MM range: {value!r}")
        start, end = parse_hhmm(first), parse_hhmm(second)
        return None if start == end else cls(start, end)

    def contains(self, at: time) -> bool:
        if self.start < self.end:
            return self.start <= at < self.end
        return at >= self.start or at < self.end

    def release_at(self, now: datetime, tz: tzinfo) -> datetime | None:
        """When a message held at `now` may go: the end of the quiet hours (UTC), or None
        when `now` is not in them."""
        local = now.astimezone(tz)
        if not self.contains(local.time().replace(tzinfo=None)):
            return None
        end_day = local.date()
        if self.start > self.end and local.time().replace(tzinfo=None) >= self.start:
            end_day += timedelta(days=1)
        return datetime.combine(end_day, self.end, tzinfo=tz).astimezone(UTC)
