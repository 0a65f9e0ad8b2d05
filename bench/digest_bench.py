"""City-scale digest benchmark (SQLite).

    python bench/digest_bench.py              # 5 levels, 20,000 leaf grids, 60,000 people,
                                              # 2,000,000 patrols, 300,000 cases
    python bench/digest_bench.py --scale 0.05 # a quick run

Builds the database under bench/out/ (git-ignored; reused when it already exists at that
scale, `--fresh` rebuilds) with bulk inserts, then times, in the same run:

1. the bare grouped SQL statements the digests need (captured from a real run and replayed
   on a raw sqlite3 connection, rows fetched and dropped);
2. computing every leader's digest: the same statements through the application's storage
   layer, the in-memory roll-up over the tree, and rendering every digest's text.

Both sides run `--repeat` times (default 3), interleaved; the best run of each counts (the
machine may be shared). It prints the absolute seconds of every run and the ratio of the
best ones. Target: all digests < 30 s, within 1.5x of (1).
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sqlite3
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import event  # noqa: E402

from bot.i18n import Translator  # noqa: E402
from bot.render.digest import DigestButtonData  # noqa: E402
from services.digest import compute_and_render  # noqa: E402
from storage.db import Database  # noqa: E402
from storage.migrate import upgrade  # noqa: E402

TZ = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 26, 18, 0, tzinfo=TZ).astimezone(UTC)
FANOUT = (10, 10, 10, 20)  # district -> 10 streets -> 100 communities -> 1,000 blocks -> 20,000
OUT = ROOT / "bench" / "out"


def ts(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def build(path: Path, scale: float) -> dict[str, int]:
    rng = random.Random(20261126)
    leaves_per_block = max(1, round(FANOUT[3] * scale))
    con = sqlite3.connect(path)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=OFF")
    cur = con.cursor()
    created = ts(NOW - timedelta(days=400))
    cur.executemany(
        "INSERT INTO role (id, key, label, is_leader, quota_period, quota_count)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        [
            (1, "leader", "网格长", 1, None, None),
            (2, "guard", "保安巡查员", 0, "day", 1),
            (3, "staff", "社区消防专管员", 0, "month", 4),
        ],
    )
    cur.execute(
        "INSERT INTO deployment (id, name, timezone, tg_id_start, levels, checklist, categories,"
        " severities, digest_time, nag_time, quiet_hours, min_patrol_interval_minutes,"
        " overdue_escalate_working_days, accept_remind_hours, accept_escalate_hours)"
        " VALUES (1, 'bench', 'Asia/Shanghai', 900000000, '[]', '[]', '[]', '{}', '18:00',"
        " '09:30', '22:00-07:00', 60, 2, 2, 24)"
    )
    grids: list[tuple[Any, ...]] = []
    next_id = 1
    levels: list[list[tuple[int, str]]] = [[(1, "/1/")]]
    grids.append((1, "Q", "某市", None, 1, "/1/", created))
    next_id = 2
    for depth, fan in enumerate((*FANOUT[:3], leaves_per_block), start=2):
        layer = []
        for parent, ppath in levels[-1]:
            for _ in range(fan):
                gid = next_id
                next_id += 1
                gpath = f"{ppath}{gid}/"
                grids.append((gid, f"G{gid}", f"网格{gid}", parent, depth, gpath, created))
                layer.append((gid, gpath))
        levels.append(layer)
    cur.executemany(
        "INSERT INTO grid (id, code, name, parent_id, level, level_label, path, roll_call,"
        " created_at) VALUES (?, ?, ?, ?, ?, '', ?, 0, ?)",
        grids,
    )
    leaves = [gid for gid, _ in levels[-1]]
    people: list[tuple[Any, ...]] = []
    members: list[tuple[Any, ...]] = []
    pid = 0
    quota_holders: list[tuple[int, int, int]] = []
    for g in grids:
        pid += 1
        people.append((pid, 7_000_000_000 + pid, f"网格长{pid}", 1, created))
        members.append((pid, g[0], 1, created))
    for gid in leaves:
        for role in (2, 3):
            pid += 1
            reachable = 0 if rng.random() < 0.01 else 1
            people.append((pid, 7_000_000_000 + pid, f"网格员{pid}", reachable, created))
            members.append((pid, gid, role, created))
            quota_holders.append((pid, gid, role))
    cur.executemany(
        "INSERT INTO person (id, tg_id, name, reachable, is_admin, created_at)"
        " VALUES (?, ?, ?, ?, 0, ?)",
        people,
    )
    cur.executemany(
        "INSERT INTO membership (person_id, grid_id, role_id, created_at) VALUES (?, ?, ?, ?)",
        members,
    )
    con.commit()

    n_patrols = round(2_000_000 * scale)
    year = 365 * 24 * 3600
    batch: list[tuple[Any, ...]] = []
    for i in range(n_patrols):
        person, gid, role = quota_holders[i % len(quota_holders)]
        at = NOW - timedelta(seconds=rng.randrange(year))
        flags = '["too_soon"]' if rng.random() < 0.02 else "[]"
        batch.append((person, gid, role, ts(at), ts(at), flags, 1 if flags == "[]" else 0))
        if len(batch) >= 100_000:
            _patrols(cur, batch)
            batch.clear()
    _patrols(cur, batch)
    con.commit()

    n_cases = round(300_000 * scale)
    statuses = ["reported", "accepted", "assigned", "in_progress", "feedback", "closed", "rated"]
    severities = ["general"] * 8 + ["major"] * 2 + ["critical"]
    batch = []
    for i in range(n_cases):
        gid = leaves[rng.randrange(len(leaves))]
        at = NOW - timedelta(seconds=rng.randrange(year))
        status = rng.choice(statuses)
        deadline = at + timedelta(days=7)
        done = status in ("closed", "rated")
        closed = at + timedelta(days=rng.randrange(1, 12)) if done else None
        batch.append(
            (
                f"C{i}", gid, gid, 1 + (i % len(people)), "用电", "隐患描述", "[]",
                rng.choice(severities), status, ts(deadline), ts(at), ts(at),
                ts(at) if status != "reported" else None, ts(closed) if closed else None,
            )
        )  # fmt: skip
        if len(batch) >= 100_000:
            _cases(cur, batch)
            batch.clear()
    _cases(cur, batch)
    con.commit()
    con.close()
    return {
        "grids": len(grids),
        "leaves": len(leaves),
        "people": len(people),
        "patrols": n_patrols,
        "cases": n_cases,
    }


def _patrols(cur: sqlite3.Cursor, rows: list[tuple[Any, ...]]) -> None:
    cur.executemany(
        "INSERT INTO patrol (person_id, grid_id, role_id, kind, status, started_at, finished_at,"
        " forwarded, checklist, photos, flags, counted)"
        " VALUES (?, ?, ?, 'quick', 'done', ?, ?, 0, '{}', '[]', ?, ?)",
        rows,
    )


def _cases(cur: sqlite3.Cursor, rows: list[tuple[Any, ...]]) -> None:
    cur.executemany(
        'INSERT INTO "case" (code, grid_id, origin_grid_id, reporter_id, category, description,'
        " photos, severity, status, deadline_at, created_at, updated_at, accepted_at, closed_at,"
        " extension_pending, rework_count, escalation_count)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, 0, 0)",
        rows,
    )


async def main(scale: float, fresh: bool, repeat: int) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"city-{scale:g}.sqlite3"
    if fresh and path.exists():
        for p in OUT.glob(path.name + "*"):
            p.unlink()
    db = Database(f"sqlite+aiosqlite:///{path}")
    if not path.exists():
        await upgrade(db)
        await db.dispose()
        started = time.perf_counter()
        sizes = build(path, scale)
        print(f"built {path} in {time.perf_counter() - started:.1f} s: {sizes}")
        db = Database(f"sqlite+aiosqlite:///{path}")
    else:
        print(f"reusing {path}")

    captured: list[tuple[str, Any]] = []

    @event.listens_for(db.engine.sync_engine, "before_cursor_execute")
    def _capture(conn: Any, cursor: Any, statement: str, params: Any, *_: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            captured.append((statement, params))

    translator = Translator("zh")

    async def digests() -> Run:
        """What the digest job computes: every leader's digest, rendered (the job's own
        function, so the figure covers the job's code path). Only figures are kept: like
        the job, a run holds one city in memory, not its predecessors' as well."""
        started = time.perf_counter()
        async with db.reading() as session:
            computed, rendered = await compute_and_render(
                session,
                now=NOW,
                tz=TZ,
                t=translator.t,
                buttons=DigestButtonData(),
                default_language="zh",
            )
        seconds = time.perf_counter() - started
        longest = max((len(r.text) for _, r in rendered), default=0)
        return Run(seconds, computed.query_seconds, computed.rollup_seconds, len(rendered), longest)

    def bare() -> tuple[float, int]:
        """The same statements on a raw sqlite3 connection, rows fetched and dropped."""
        raw = sqlite3.connect(path)
        started = time.perf_counter()
        rows = 0
        for sql, params in statements:
            rows += len(raw.execute(sql, params).fetchall())
        seconds = time.perf_counter() - started
        raw.close()
        return seconds, rows

    # warm the file cache once, so both timings read the same warm pages
    await digests()
    statements = list(captured)
    bare()
    # interleaved, best of `repeat` for each side (the machine may be shared)
    runs: list[Run] = []
    bares: list[float] = []
    for _ in range(repeat):
        seconds, rows = bare()
        bares.append(seconds)
        runs.append(await digests())
    await db.dispose()

    best = min(runs, key=lambda r: r.seconds)
    digests_seconds = best.seconds
    bare_seconds = min(bares)
    print(f"leaders' digests: {best.digests} (longest {best.longest} chars)")
    print(f"grouped statements: {len(statements)}, {rows} rows")
    print(f"bare grouped SQL:   {bare_seconds:7.2f} s  (runs: {_list(bares)})")
    print(
        f"all digests:        {digests_seconds:7.2f} s  (runs: {_list([r.seconds for r in runs])};"
        f" best: queries+load {best.query_seconds:.2f} s,"
        f" roll-up {best.rollup_seconds:.2f} s, render"
        f" {digests_seconds - best.query_seconds - best.rollup_seconds:.2f} s)"
    )
    print(
        f"RATIO {digests_seconds / bare_seconds:.2f}"
        f" all-digests-seconds/bare-grouped-sql-seconds (best of {repeat})"
    )


class Run(NamedTuple):
    seconds: float
    query_seconds: float
    rollup_seconds: float
    digests: int
    longest: int
    """Characters of the longest digest."""


def _list(values: list[float]) -> str:
    return ", ".join(f"{v:.2f}" for v in values)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--fresh", action="store_true", help="rebuild the database")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each side (best counts)")
    args = parser.parse_args()
    asyncio.run(main(args.scale, args.fresh, max(1, args.repeat)))
