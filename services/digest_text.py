"""The digest's text and keyboard (`render`): one leader's digest as HTML, at most
`MAX_TEXT` characters, drawn with the translator's texts and the bot's button data.

Lists are cut to a few names and end with "+N more" and a button that sends the full lists
as a file; the names shown and the "+N" add up to the count above them. A city's digests
repeat their lines thousands of times: `memoized` and `RenderMemo` make each once a run.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any, Protocol

from domain.cases import Severity
from domain.digest import (
    CASE_FIELDS,
    ChildLine,
    GridStats,
    LeaderDigest,
    NamedCase,
    Snapshot,
    has_news,
)

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


def pct(value: float | None) -> str:
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
        rate = pct(s.completion)
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
        "on_time": pct(c.on_time_rate),
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
