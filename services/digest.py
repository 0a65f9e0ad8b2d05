"""The daily digest (日报): computed for every leader at once, queued exactly once each.

`run_digests` is what the scheduler's digest job calls; `digest_of` is what `/today` calls.
Both load the same grouped snapshot (`storage/digest.py`), roll it up over the tree
(`domain/digest.py`) and render with the same function, so `/today` shows what the evening
digest will say.

A digest fits one message (4096 characters: its text and keyboard are drawn by
`services/digest_text.py`); the full lists it cut short go as a file naming everyone
counted.

A digest is sent only when it carries news (`domain.digest.has_news`): a leader whose subtree
has nothing to say gets no message that day, and `/today` tells them so.
"""

from __future__ import annotations

import gc
import time as _time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime, tzinfo

from sqlmodel.ext.asyncio.session import AsyncSession

from domain.digest import (
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
from services.digest_text import (
    MAX_TEXT,
    DigestButtons,
    Rendered,
    RenderMemo,
    Texts,
    memoized,
    pct,
    render,
)
from services.transfers import held_lines
from storage import digest as q
from storage.db import Database
from storage.models import Delivery
from storage.outbox import enqueue


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
        out.append(f"{line.grid.name}\t{c.done}/{c.required}\t{pct(c.on_time_rate)}\t{c.behind}")
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
