"""The daily digest (日报): computed for every leader at once, queued exactly once each.

`run_digests` is what the scheduler's digest job calls; `digest_of` is what `/today` calls.
Both load the same grouped snapshot (`storage/digest.py`), roll it up over the tree
(`domain/digest.py`) and render with the same function, so `/today` shows what the evening
digest will say.

A digest fits one message (4096 characters): lists are cut to a few names and end with
"+N more" and a button that sends the full lists as a file; the names shown and the "+N"
add up to the count above them, and the file names everyone counted.

A digest is sent only when it carries news (`domain.digest.has_news`): a leader whose subtree
has nothing to say gets no message that day, and `/today` tells them so.
"""

from __future__ import annotations

import gc
import html
import time as _time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime, tzinfo
from functools import partial
from typing import Any, Protocol

from sqlmodel.ext.asyncio.session import AsyncSession

from domain.cases import Severity
from domain.digest import (
    CASE_FIELDS,
    ChildLine,
    GridStats,
    LeaderDigest,
    NamedCase,
    RolledUp,
    Snapshot,
    digest_for,
    everyone_behind,
    has_news,
    roll_up,
    windows_at,
)
from domain.schedule_times import QuietHours
from services.chasing.job import collector_held
from services.transfers import held_lines
from storage import digest as q
from storage.db import Database
from storage.models import Delivery
from storage.outbox import enqueue

quote = partial(html.escape, quote=False)
"""aiogram's `html.quote` without its two layers of calls (digests quote 200,000 names)."""

MAX_TEXT = 4096
Texts = Callable[..., str]
"""`t(key, language, **params) -> str`: the translator (`bot.i18n.Translator.t`): the text as
written when no parameters are given, else that text filled by `str.format`."""


class DigestButtons(Protocol):
    """The callback data of a digest's buttons (drawn by the bot layer, which handles their
    presses: `bot/render/digest.py`)."""

    def waiting(self, status: str) -> str:
        """The cases waiting in `status` in the leader's grids."""
        ...

    def full_lists(self) -> str:
        """The lists the digest cut short, in full."""
        ...


@dataclass(frozen=True)
class Rendered:
    text: str
    markup: dict[str, Any] | None
    truncated: bool


SEVERITY_ORDER: tuple[Severity, ...] = (Severity.CRITICAL, Severity.MAJOR, Severity.GENERAL)


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{round(value * 100)}%"


def _sev_label(t: Texts, lang: str, sev: Severity | str) -> str:
    if isinstance(sev, Severity):
        return t(f"digest.sev.{sev.value}", lang)
    return quote(str(sev))


class RenderMemo:
    """What a city's digests repeat, made once per run: a grid or a person is named in the
    digests of every leader above them, and most buildings' case lines are alike."""

    __slots__ = ("behind_lines", "case_lines", "critical_lines", "quoted")

    def __init__(self) -> None:
        self.case_lines: dict[tuple[Any, ...], list[str]] = {}
        self.quoted: dict[str, str] = {}
        self.behind_lines: dict[tuple[str, int, int, str], str] = {}
        self.critical_lines: dict[tuple[str, NamedCase], str] = {}

    def quote(self, text: str) -> str:
        quoted = self.quoted.get(text)
        if quoted is None:
            quoted = self.quoted[text] = quote(text)
        return quoted


def _name(snapshot: Snapshot, person_id: int, memo: RenderMemo) -> str:
    p = snapshot.people.get(person_id)
    return memo.quote(p.name) if p else f"#{person_id}"


def _more(t: Texts, lang: str, n: int) -> list[str]:
    return [t("digest.more", lang, n=n)] if n > 0 else []


def _case_lines(t: Texts, lang: str, stats: GridStats, memo: RenderMemo) -> list[str]:
    key = (lang, *((sev, *counts) for sev, counts in stats.cases.items()))
    lines = memo.case_lines.get(key)
    if lines is None:
        lines = memo.case_lines[key] = _case_lines_of(t, lang, stats)
    return lines


def _case_lines_of(t: Texts, lang: str, stats: GridStats) -> list[str]:
    totals = [stats.case_total(i) for i in range(len(CASE_FIELDS))]
    lines = [t("digest.cases", lang, **dict(zip(CASE_FIELDS, totals, strict=True)))]
    known = [s for s in SEVERITY_ORDER if s in stats.cases]
    others = sorted((s for s in stats.cases if not isinstance(s, Severity)), key=str)
    for sev in [*known, *others]:
        counts = stats.cases[sev]
        if any(counts):
            lines.append(
                t(
                    "digest.cases_by_severity",
                    lang,
                    severity=_sev_label(t, lang, sev),
                    **dict(zip(CASE_FIELDS, counts, strict=True)),
                )
            )
    return lines


def render(
    d: LeaderDigest,
    snapshot: Snapshot,
    *,
    t: Texts,
    buttons: DigestButtons,
    lang: str,
    day: str,
    cap: int = 10,
    memo: RenderMemo | None = None,
) -> Rendered:
    """The digest as HTML text and an inline keyboard, at most `MAX_TEXT` characters; for a
    digest without news (`/today` on a quiet day), the line saying there is nothing."""
    if memo is None:
        memo = RenderMemo()
    if not has_news(d):
        return Rendered(_quiet_text(d, t=t, lang=lang, day=day, memo=memo), None, False)
    for limit in (cap, 5, 3, 1, 0):
        text, truncated = _render_text(d, snapshot, t=t, lang=lang, day=day, cap=limit, memo=memo)
        if len(text) <= MAX_TEXT:
            break
    if len(text) > MAX_TEXT:  # pragma: no cover - only with absurd grid names
        text, truncated = text[: MAX_TEXT - 1] + "…", True
    markup = _markup(d, t=t, buttons=buttons, lang=lang, truncated=truncated)
    return Rendered(text, markup, truncated)


def _title(d: LeaderDigest, *, t: Texts, lang: str, day: str, memo: RenderMemo) -> str:
    grids = "、".join([memo.quote(g.name) for g in d.tops])
    return t("digest.title", lang, day=day, grids=grids)


def _quiet_text(d: LeaderDigest, *, t: Texts, lang: str, day: str, memo: RenderMemo) -> str:
    title = _title(d, t=t, lang=lang, day=day, memo=memo)
    return "\n".join([title, "", t("digest.nothing_to_report", lang)])


def _render_text(
    d: LeaderDigest,
    snapshot: Snapshot,
    *,
    t: Texts,
    lang: str,
    day: str,
    cap: int,
    memo: RenderMemo,
) -> tuple[str, bool]:
    """The digest's text with at most `cap` names a list, and whether a list was cut."""
    out = [_title(d, t=t, lang=lang, day=day, memo=memo), ""]
    out += _case_lines(t, lang, d.totals, memo)
    if d.totals.yellow or d.totals.red:
        out.append(t("digest.supervision", lang, yellow=d.totals.yellow, red=d.totals.red))
    truncated = False
    for lines, cut in (
        _critical_section(t, lang, d.totals, cap, memo),
        _patrol_section(t, lang, d, cap, memo),
        _behind_section(t, lang, d, snapshot, cap, memo),
        _attention_section(t, lang, d.totals, snapshot, cap, memo),
    ):
        out += lines
        truncated |= cut
    out += ["", _waiting_line(t, lang, d)]
    return "\n".join(out).strip(), truncated


Section = tuple[list[str], bool]
"""A part of the digest's text, and whether a list in it was cut."""


def _critical_section(t: Texts, lang: str, s: GridStats, cap: int, memo: RenderMemo) -> Section:
    if not s.critical:
        return [], False
    out = [t("digest.critical", lang, n=s.critical)]
    lines = memo.critical_lines
    for named in s.critical_sample[:cap]:
        line = lines.get((lang, named))  # named again in each digest above
        if line is None:
            mark = t("digest.overdue_mark", lang) if named.overdue else ""
            code, description = quote(named.code), quote(named.description[:40])
            line = lines[(lang, named)] = f"• {code} {description}{mark}"
        out.append(line)
    hidden = s.critical - min(len(s.critical_sample), cap)
    return out + _more(t, lang, hidden), hidden > 0


def _patrol_section(t: Texts, lang: str, d: LeaderDigest, cap: int, memo: RenderMemo) -> Section:
    """The subtree's patrols against the quota (none without a quota: no "0/0"), then each
    child grid that has news (at least 3 shown)."""
    s = d.totals
    out = [""]
    if s.required:
        rate = _pct(s.completion)
        out.append(
            t("digest.patrols", lang, done=s.done, required=s.required, due=s.due, rate=rate)
        )
    if s.joint:
        out.append(t("digest.joint", lang, n=s.joint))
    if not d.children:
        return out, False
    out.append(t("digest.children_head", lang))
    for rank, line in enumerate(d.children[: max(cap, 3)], start=1):
        out.append(_child_line(t, lang, rank, line, memo))
    hidden = len(d.children) - max(cap, 3)
    return out + _more(t, lang, hidden), hidden > 0


def _child_line(t: Texts, lang: str, rank: int, line: ChildLine, memo: RenderMemo) -> str:
    c = line.stats
    common = {
        "rank": rank,
        "name": memo.quote(line.grid.name),
        "on_time": _pct(c.on_time_rate),
        "overdue": c.case_total(3),
        "open": c.open,
    }
    if not c.required:
        return t("digest.child_line_no_quota", lang, **common)
    figures = {"done": c.done, "required": c.required, "due": c.due, "behind": c.behind}
    return t("digest.child_line", lang, **common, **figures)


def _behind_section(
    t: Texts, lang: str, d: LeaderDigest, snapshot: Snapshot, cap: int, memo: RenderMemo
) -> Section:
    """Who is behind their patrol pace, nearest first; the names shown and "N more" add up to
    the count (the rest are in the full list)."""
    if not d.totals.behind:
        return [], False
    out = ["", t("digest.behind", lang, n=d.totals.behind)]
    shown = d.behind_named[:cap]
    lines = memo.behind_lines
    for person_id, grid_id, role in shown:
        key = (lang, person_id, grid_id, role)  # named again in each digest above
        line = lines.get(key)
        if line is None:
            grid = d.grids.get(grid_id)
            line = lines[key] = t(
                "digest.behind_line",
                lang,
                name=_name(snapshot, person_id, memo),
                role=memo.quote(role),
                grid=memo.quote(grid.name) if grid else "",
            )
        out.append(line)
    hidden = d.totals.behind - len(shown)
    if hidden > 0:
        out.append(t("digest.more_people", lang, n=hidden))
    return out, hidden > 0


def _attention_section(
    t: Texts, lang: str, s: GridStats, snapshot: Snapshot, cap: int, memo: RenderMemo
) -> Section:
    """Flagged patrols, and the people the bot cannot write to."""
    out = [t("digest.flagged", lang, n=s.flagged)] if s.flagged else []
    if not s.unreachable:
        return out, False
    names = "、".join([_name(snapshot, p, memo) for p in s.unreachable_sample[:cap]])
    out.append(t("digest.unreachable", lang, n=s.unreachable, names=names))
    return out, s.unreachable > min(len(s.unreachable_sample), cap)


def _waiting_line(t: Texts, lang: str, d: LeaderDigest) -> str:
    if not any(d.waiting.values()):
        return t("digest.nothing_waiting", lang)
    return t(
        "digest.waiting",
        lang,
        reported=d.waiting.get("reported", 0),
        accepted=d.waiting.get("accepted", 0),
        feedback=d.waiting.get("feedback", 0),
    )


def _markup(
    d: LeaderDigest, *, t: Texts, buttons: DigestButtons, lang: str, truncated: bool
) -> dict[str, Any] | None:
    row: list[dict[str, str]] = []
    for status, key in (
        ("reported", "digest.btn_reported"),
        ("accepted", "digest.btn_accepted"),
        ("feedback", "digest.btn_feedback"),
    ):
        n = d.waiting.get(status, 0)
        if n:
            row.append(
                {
                    "text": t(key, lang, n=n),
                    "callback_data": buttons.waiting(status),
                }
            )
    rows = [row] if row else []
    if truncated:
        rows.append([{"text": t("digest.btn_full", lang), "callback_data": buttons.full_lists()}])
    return {"inline_keyboard": rows} if rows else None


# -- computing -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Computed:
    snapshot: Snapshot
    rolled: RolledUp
    query_seconds: float
    rollup_seconds: float


@contextmanager
def gc_paused() -> Iterator[None]:
    """No cyclic garbage collection during the roll-up, which is synchronous: no other task
    runs while it is off.

    The roll-up makes a few hundred thousand small objects in one go, beside the snapshot's;
    each time the allocation counters trip, CPython's collector walks every live object
    again (about half the roll-up's time at a city's scale, bench/digest_bench.py). Nothing
    built here forms a cycle that needs collecting early; reference counting frees the rest,
    and the collector runs again as soon as the block ends."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


async def compute(
    session: AsyncSession, *, now: datetime, tz: tzinfo, paths: Sequence[str] | None = None
) -> Computed:
    windows = windows_at(now, tz)
    started = _time.perf_counter()
    snapshot = await q.load_snapshot(session, windows=windows, now=now, paths=paths)
    queried = _time.perf_counter()
    with gc_paused():
        rolled = roll_up(snapshot, windows, now, tz)
    return Computed(snapshot, rolled, queried - started, _time.perf_counter() - queried)


def day_label(now: datetime, tz: tzinfo) -> str:
    return now.astimezone(tz).date().isoformat()


def digest_key(person_id: int, day: str) -> str:
    return f"digest:{person_id}:{day}"


async def compute_and_render(
    session: AsyncSession,
    *,
    now: datetime,
    tz: tzinfo,
    t: Texts,
    buttons: DigestButtons,
    default_language: str,
) -> tuple[Computed, list[tuple[int, Rendered]]]:
    """Every leader's digest for the day at `now`: what the digest job sends.

    The city's rows stay in memory from the first statement to the last digest, so no full
    collector pass runs meanwhile (`collector_held`, as in the chasing jobs): each one walks
    the whole heap again, and loading the snapshot alone would set off several (about a
    fifth of the job's time at a city's scale, bench/digest_bench.py)."""
    with collector_held():
        computed = await compute(session, now=now, tz=tz)
        with gc_paused():
            rendered = render_all(
                computed,
                t=t,
                buttons=buttons,
                default_language=default_language,
                day=day_label(now, tz),
            )
    return computed, rendered


@dataclass(frozen=True)
class DigestRun:
    leaders: int
    """Leaders whose digest carries news today."""
    queued: int
    rendered: list[tuple[int, Rendered]]
    quiet: int = 0
    """Leaders with nothing to report: no digest for them today."""


def memoized(t: Texts) -> Texts:
    """`t` remembering its answers: a city's digests repeat the same lines thousands of times
    (a building with no cases today, 0/0 patrols, nothing waiting). A new answer fills the
    text `t` gave once for that key and language, as `t` fills it (`Texts`): a title or a
    child grid's line is new for every leader, and looking its text up again each time was
    a quarter of the rendering."""
    texts: dict[tuple[str, str], str] = {}
    cache: dict[tuple[Any, ...], str] = {}

    def cached(key: str, lang: str, /, **params: Any) -> str:
        k = (key, lang, *params.items())
        answer = cache.get(k)
        if answer is None:
            text = texts.get((key, lang))
            if text is None:
                text = texts[(key, lang)] = t(key, lang)
            answer = cache[k] = text.format(**params) if params else text
        return answer

    return cached


def render_all(
    computed: Computed, *, t: Texts, buttons: DigestButtons, default_language: str, day: str
) -> list[tuple[int, Rendered]]:
    """The day's digests of every leader whose subtree has news (the others get none)."""
    out = []
    t = memoized(t)
    memo = RenderMemo()
    snap = computed.snapshot
    for person_id in sorted(computed.rolled.led):
        d = digest_for(computed.rolled, snap, person_id)
        person = snap.people.get(person_id)
        if d is None or person is None or not has_news(d):
            continue
        lang = person.language or default_language
        rendered = render(d, snap, t=t, buttons=buttons, lang=lang, day=day, memo=memo)
        out.append((person_id, rendered))
    return out


async def run_digests(
    db: Database,
    *,
    now: datetime,
    tz: tzinfo,
    t: Texts,
    buttons: DigestButtons,
    default_language: str,
    quiet: QuietHours | None = None,
) -> DigestRun:
    """Queue today's digest for every leader who has not had it yet (idempotent).

    The city's figures are read in a read-only unit of work, so the seconds they take never
    hold the write lock that handlers need; only queueing the results writes."""
    with collector_held():  # until the city's digests are queued
        async with db.reading() as reader:
            computed, rendered = await compute_and_render(
                reader, now=now, tz=tz, t=t, buttons=buttons, default_language=default_language
            )
        async with db.session() as session:
            queued = await queue_digests(
                session, computed, rendered, now=now, day=day_label(now, tz), quiet=quiet, tz=tz
            )
    nothing = len(computed.rolled.led) - len(rendered)
    return DigestRun(len(rendered), queued, rendered, nothing)


async def queue_digests(
    session: AsyncSession,
    computed: Computed,
    rendered: list[tuple[int, Rendered]],
    *,
    now: datetime,
    day: str,
    quiet: QuietHours | None,
    tz: tzinfo,
) -> int:
    """Write the day's digests into the outbox, skipping keys already there."""
    already = await q.existing_keys(session, prefix="digest:", suffix=f":{day}")
    not_before = quiet.release_at(now, tz) if quiet else None
    queued = 0
    for person_id, r in rendered:
        key = digest_key(person_id, day)
        person = computed.snapshot.people[person_id]
        if key in already or person.tg_id is None:
            continue
        session.add(
            Delivery(
                key=key,
                kind="digest",
                chat_id=person.tg_id,
                person_id=person_id,
                text=r.text,
                reply_markup=r.markup,
                not_before=not_before or now,
                created_at=now,
            )
        )
        queued += 1
    await session.flush()
    return queued


async def digest_of(
    session: AsyncSession,
    *,
    person_id: int,
    now: datetime,
    tz: tzinfo,
    t: Texts,
    buttons: DigestButtons,
    lang: str,
) -> Rendered | None:
    """One leader's digest on demand (`/today`): the same figures, over their subtrees only."""
    paths = await q.led_paths(session, person_id)
    if not paths:
        return None
    computed = await compute(session, now=now, tz=tz, paths=paths)
    d = digest_for(computed.rolled, computed.snapshot, person_id)
    if d is None:
        return None
    shown = render(d, computed.snapshot, t=t, buttons=buttons, lang=lang, day=day_label(now, tz))
    held = await held_lines(session, paths=paths, t=t, lang=lang)  # 移交 awaiting a chat
    text = "\n\n".join([shown.text, "\n".join(held)]) if held else shown.text
    return replace(shown, text=text) if len(text) <= MAX_TEXT else shown


async def full_lists(
    session: AsyncSession, *, person_id: int, now: datetime, tz: tzinfo, t: Texts, lang: str
) -> str | None:
    """The lists a digest cut short, in full, as a text file body."""
    paths = await q.led_paths(session, person_id)
    if not paths:
        return None
    computed = await compute(session, now=now, tz=tz, paths=paths)
    snap = computed.snapshot
    d = digest_for(computed.rolled, snap, person_id)
    if d is None:
        return None
    names = {g.id: g.name for g in snap.grids}
    out = [t("digest.full_behind", lang, n=d.totals.behind)]
    for person, grid, role in everyone_behind(computed.rolled, d):
        p = snap.people.get(person)
        out.append(f"{p.name if p else person}\t{role}\t{names.get(grid, '')}")
    out += ["", t("digest.full_children", lang)]
    for line in d.children:
        c = line.stats
        out.append(f"{line.grid.name}\t{c.done}/{c.required}\t{_pct(c.on_time_rate)}\t{c.behind}")
    out += ["", t("digest.full_critical", lang)]
    out += [f"{c.code}\t{c.description}" for c in snap.critical]
    return "\n".join(out) + "\n"


async def send_full_lists(
    session: AsyncSession,
    *,
    person_id: int,
    chat_id: int,
    cause: str,
    caption: str,
    now: datetime,
    tz: tzinfo,
    t: Texts,
    lang: str,
) -> bool:
    """Queue the full lists to the leader as a text file (once per `cause`, a press); False
    when they lead nothing the digest covers."""
    body = await full_lists(session, person_id=person_id, now=now, tz=tz, t=t, lang=lang)
    if body is None:
        return False
    await enqueue(
        session,
        key=f"digest_full:{person_id}:{cause}",
        kind="document",
        chat_id=chat_id,
        person_id=person_id,
        text=caption,
        document_name=f"digest-{day_label(now, tz)}.txt",
        document_body=body,
        now=now,
    )
    return True
