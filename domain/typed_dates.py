"""A deadline as a person types it: "2026-12-04", "12月4日", "12-04 18:00", "明天", "周五",
"下周一 9点", "12/4", "2026年12月4日 18:00" ...

Pure: "now" and the time zone are passed in, the result is a UTC instant or the reason the
text is not a deadline (`DateProblem`), so the bot can answer every refusal with what it does
accept. Without a time of day a deadline falls at the end of the working day
(`END_OF_WORKDAY`, 18:00 local). Without a year the date is this year's or next year's,
whichever is nearer: "1月5日" typed in December is next January, "3月1日" typed on 10 March
is nine days ago (and refused as past) rather than a deadline a year away.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import Final
from zoneinfo import ZoneInfo

END_OF_WORKDAY: Final = time(18, 0)
"""Where a deadline without a time of day falls: the end of the working day."""

MAX_AHEAD_DAYS: Final = 366
"""A deadline further away than this is a typo, not a rectification plan."""


class DateProblem(StrEnum):
    """Why a typed text is not a deadline (keys under `deadline.typed.`)."""

    UNREADABLE = "unreadable"
    IMPOSSIBLE = "impossible"  # 2026-02-30, 13月1日, 25:00
    TIME_ONLY = "time_only"  # "18:00": which day?
    PAST = "past"
    TOO_FAR = "too_far"


_WEEKDAYS: Final = {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6, "七": 6}
_RELATIVE_DAYS: Final = {"今天": 0, "今日": 0, "明天": 1, "明日": 1, "后天": 2, "大后天": 3}

_TIME: Final = (
    r"(?P<h>\d{1,2})(?:(?::(?P<mi>\d{1,2}))|(?:[点时](?:(?P<half>半)|(?P<mi2>\d{1,2})分?)?))"
)
_DAY_PART: Final = r"(?P<part>上午|早上|中午|下午|傍晚|晚上)?"
_ISO: Final = re.compile(r"(?P<y>\d{4})[-/.](?P<m>\d{1,2})[-/.](?P<d>\d{1,2})")
_CN_FULL: Final = re.compile(r"(?P<y>\d{4}) ?年 ?(?P<m>\d{1,2}) ?月 ?(?P<d>\d{1,2}) ?[日号]?")
_CN_SHORT: Final = re.compile(r"(?P<m>\d{1,2}) ?月 ?(?P<d>\d{1,2}) ?[日号]?")
_SHORT: Final = re.compile(r"(?P<m>\d{1,2})[-/.](?P<d>\d{1,2})")
_WEEKDAY: Final = re.compile(r"(?P<next>下)?(?:本|这)?(?:周|星期|礼拜)(?P<w>[一二三四五六日天七])")
_RELATIVE: Final = re.compile("|".join(sorted(_RELATIVE_DAYS, key=len, reverse=True)))
_TIME_ONLY: Final = re.compile(_DAY_PART + " ?" + _TIME)
_AFTERNOON: Final = frozenset({"下午", "傍晚", "晚上"})


def _normalize(text: str) -> str:
    """Full-width digits, colons and spaces as ASCII; spaces only where they part words."""
    plain = unicodedata.normalize("NFKC", text).replace("：", ":")
    return re.sub(r"\s+", " ", plain).strip()


def _time_of(rest: str) -> time | DateProblem | None:
    """The time of day after the date: None when there is none."""
    if not rest:
        return None
    m = _TIME_ONLY.fullmatch(rest)
    if m is None:
        return DateProblem.UNREADABLE
    hour = int(m["h"])
    minute = 30 if m["half"] else int(m["mi"] or m["mi2"] or 0)
    if m["part"] in _AFTERNOON and 1 <= hour < 12:
        hour += 12
    if hour == 24 and minute == 0:
        return DateProblem.IMPOSSIBLE  # "24:00" is tomorrow's 00:00: say a real time
    if not (0 <= hour < 24 and 0 <= minute < 60):
        return DateProblem.IMPOSSIBLE
    return time(hour, minute)


def _nearest(month: int, day: int, today: date) -> date | DateProblem:
    """This year's or next year's date with this month and day, whichever is nearer to
    `today` (last year's is never a deadline)."""
    candidates: list[date] = []
    for year in (today.year, today.year + 1):
        try:
            candidates.append(date(year, month, day))
        except ValueError:
            continue
    if not candidates:
        return DateProblem.IMPOSSIBLE
    return min(candidates, key=lambda d: (abs((d - today).days), d < today))


def _weekday(m: re.Match[str], today: date) -> date:
    wanted = _WEEKDAYS[m["w"]]
    if m["next"]:  # 下周X: that day of the next calendar week (weeks start on Monday)
        return today - timedelta(days=today.weekday()) + timedelta(days=7 + wanted)
    ahead = (wanted - today.weekday()) % 7  # 周X: the coming one, today included
    return today + timedelta(days=ahead)


def _day_of(text: str, today: date) -> tuple[date | DateProblem, str] | None:
    """The date at the start of `text` and what follows it; None when no date starts it."""
    for pattern in (_ISO, _CN_FULL):
        m = pattern.match(text)
        if m:
            try:
                return date(int(m["y"]), int(m["m"]), int(m["d"])), text[m.end() :]
            except ValueError:
                return DateProblem.IMPOSSIBLE, text[m.end() :]
    for pattern in (_CN_SHORT, _SHORT):
        m = pattern.match(text)
        if m:
            return _nearest(int(m["m"]), int(m["d"]), today), text[m.end() :]
    m = _RELATIVE.match(text)
    if m:
        return today + timedelta(days=_RELATIVE_DAYS[m.group()]), text[m.end() :]
    m = _WEEKDAY.match(text)
    if m:
        return _weekday(m, today), text[m.end() :]
    return None


def parse_deadline(text: str, *, now: datetime, tz: ZoneInfo) -> datetime | DateProblem:
    """The deadline `text` names, as a UTC instant, or why it names none.

    Refused: text with no date in it (`UNREADABLE`), a date or time that does not exist
    (`IMPOSSIBLE`), a time without a date (`TIME_ONLY`), a moment not after `now` (`PAST`),
    more than `MAX_AHEAD_DAYS` ahead (`TOO_FAR`).
    """
    if now.tzinfo is None:
        raise ValueError(f"now must be timezone-aware, got {now!r}")
    raw = _normalize(text)
    today = now.astimezone(tz).date()
    found = _day_of(raw, today)
    if found is None:
        return DateProblem.TIME_ONLY if _TIME_ONLY.fullmatch(raw) else DateProblem.UNREADABLE
    day, rest = found
    at = _time_of(rest.strip())
    if isinstance(day, DateProblem):
        return day if at is None or isinstance(at, time) else at
    if isinstance(at, DateProblem):
        return at
    when = datetime.combine(day, at or END_OF_WORKDAY, tzinfo=tz).astimezone(UTC)
    if when <= now:
        return DateProblem.PAST
    if when > now + timedelta(days=MAX_AHEAD_DAYS):
        return DateProblem.TOO_FAR
    return when
