"""City-scale ledger export benchmark (SQLite): time and peak memory of a year's 台账.

    python bench/export_bench.py               # the city of bench/digest_bench.py (20,000
                                               # leaf grids, 300,000 cases, 2,000,000 patrols)
                                               # plus each case's ledger, exported whole
    python bench/export_bench.py --scale 0.05  # a quick run

Builds bench/out/export-city-<scale>.sqlite3 (git-ignored, reused; `--fresh` rebuilds) with
digest_bench's generator plus the ledger entries of every case (reported, accepted, closed
as the case went), then, each in its own process so that its peak RSS is its own:

1. the application's export: `services.ledger_export.write_ledger` of the root grid over
   the year, as `gridbot export` runs it (summary, cases, ledger, patrols);
2. a bare baseline: the same three tables' rows read with plain sqlite3 and written with a
   bare xlsxwriter (constant-memory, one `write_row` a row, no formats, no texts).

The last line reads `RATIO <app seconds / bare seconds> <what>`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import sqlite3
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import xlsxwriter  # noqa: E402
from sqlmodel import select  # noqa: E402

from bench.digest_bench import NOW, build, ts  # noqa: E402
from bot.i18n import Translator  # noqa: E402
from domain.stats import export_span  # noqa: E402
from services.ledger_export import write_ledger  # noqa: E402
from storage.db import Database  # noqa: E402
from storage.migrate import upgrade  # noqa: E402
from storage.models import Grid  # noqa: E402

TZ = ZoneInfo("Asia/Shanghai")
OUT = ROOT / "bench" / "out"
EXCEL_ROWS = 1_048_576


def add_ledger(path: Path) -> int:
    """Each case's ledger entries as the case went: reported, accepted, closed."""
    con = sqlite3.connect(path)
    con.execute("PRAGMA synchronous=OFF")
    rows = con.execute(
        'SELECT id, grid_id, reporter_id, status, created_at, accepted_at, closed_at FROM "case"'
    ).fetchall()
    entries: list[tuple[Any, ...]] = []
    for cid, grid, reporter, status, created, accepted, closed in rows:
        entries.append((cid, created, reporter, "reported", "reported", grid, "上报"))
        if accepted:
            entries.append((cid, accepted, reporter, "accepted", "accepted", grid, None))
        if closed:
            entries.append((cid, closed, reporter, "verified", status, grid, "核查通过"))
    con.executemany(
        "INSERT INTO case_event (case_id, at, actor_id, kind, status_after, grid_id, note, data)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, '{}')",
        entries,
    )
    con.commit()
    con.close()
    return len(entries)


def year_span() -> Any:
    today = NOW.astimezone(TZ).date()
    return export_span([(today - timedelta(days=365)).isoformat()], today, TZ)


async def app_export(db_path: Path, out: Path) -> dict[str, Any]:
    db = Database(f"sqlite+aiosqlite:///{db_path}")
    translator = Translator("zh")

    def t(key: str, **params: Any) -> str:
        return translator.t(key, "zh", **params)

    started = time.perf_counter()
    async with db.reading() as session:
        root = (await session.exec(select(Grid).where(Grid.code == "Q"))).one()
        counts = await write_ledger(
            session, root, year_span(), path=out, now=NOW, tz=TZ, t=t, language="zh"
        )
    seconds = time.perf_counter() - started
    await db.dispose()
    return {"seconds": seconds, "rows": counts.total}


def bare_export(db_path: Path, out: Path) -> dict[str, Any]:
    span = year_span()
    start, end = ts(span.start), ts(span.end)
    con = sqlite3.connect(db_path)
    started = time.perf_counter()
    book = xlsxwriter.Workbook(str(out), {"constant_memory": True, "tmpdir": str(out.parent)})
    queries = [
        "SELECT c.code, g.code, c.category, c.severity, c.status, c.reporter_id, c.address,"
        " c.description, c.created_at, c.accepted_at, c.assigned_at, c.closed_at,"
        ' c.handler_id, c.deadline_at, c.rework_count, c.rating FROM "case" c'
        " JOIN grid g ON g.id = c.grid_id WHERE g.path LIKE '/1/%'"
        " AND c.created_at >= ? AND c.created_at < ? ORDER BY c.id",
        "SELECT c.code, e.at, e.kind, e.actor_id, e.grid_id, e.status_after, e.note FROM"
        ' case_event e JOIN "case" c ON c.id = e.case_id JOIN grid g ON g.id = c.grid_id'
        " WHERE g.path LIKE '/1/%' AND c.created_at >= ? AND c.created_at < ?"
        " ORDER BY e.case_id, e.id",
        "SELECT p.started_at, p.finished_at, g.name, p.checklist, p.person_id, p.notes,"
        " p.measures, p.counted FROM patrol p JOIN grid g ON g.id = p.grid_id"
        " WHERE g.path LIKE '/1/%' AND p.started_at >= ? AND p.started_at < ? ORDER BY p.id",
    ]
    rows = 0
    for n, sql in enumerate(queries):
        ws = book.add_worksheet(f"t{n}")
        r = 1
        for row in con.execute(sql, (start, end)):
            if r >= EXCEL_ROWS:
                ws = book.add_worksheet(f"t{n}-{rows}")
                r = 1
            ws.write_row(r, 0, row)
            r += 1
            rows += 1
    book.close()
    seconds = time.perf_counter() - started
    con.close()
    return {"seconds": seconds, "rows": rows}


def child(kind: str, db_path: Path, out: Path) -> None:
    result = asyncio.run(app_export(db_path, out)) if kind == "app" else bare_export(db_path, out)
    result["maxrss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    result["bytes"] = out.stat().st_size
    print(json.dumps(result))


def run_child(kind: str, db_path: Path) -> dict[str, Any]:
    out = OUT / f"export-{kind}.xlsx"
    done = subprocess.run(
        [sys.executable, __file__, "--child", kind, "--db", str(db_path), "--out", str(out)],
        check=True,
        capture_output=True,
        text=True,
    )
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    out.unlink(missing_ok=True)
    return result


async def prepare(scale: float, fresh: bool) -> Path:
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"export-city-{scale:g}.sqlite3"
    if fresh:
        for p in OUT.glob(path.name + "*"):
            p.unlink()
    if path.exists():
        print(f"reusing {path}")
        return path
    db = Database(f"sqlite+aiosqlite:///{path}")
    await upgrade(db)
    await db.dispose()
    started = time.perf_counter()
    sizes = build(path, scale)
    sizes["ledger entries"] = add_ledger(path)
    print(f"built {path} in {time.perf_counter() - started:.1f} s: {sizes}")
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--fresh", action="store_true", help="rebuild the database")
    parser.add_argument("--child", choices=["app", "bare"], help=argparse.SUPPRESS)
    parser.add_argument("--db", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.db, args.out)
        return
    path = asyncio.run(prepare(args.scale, args.fresh))
    app = run_child("app", path)
    bare = run_child("bare", path)
    per_100k = 100_000 / app["rows"]
    print(
        f"export (app):  {app['rows']:,} rows in {app['seconds']:.1f} s"
        f" ({app['seconds'] * per_100k:.2f} s per 100k rows), peak RSS"
        f" {app['maxrss_mb']:.0f} MB, file {app['bytes'] / 2**20:.1f} MiB"
    )
    print(
        f"bare xlsxwriter: {bare['rows']:,} rows in {bare['seconds']:.1f} s"
        f" ({bare['seconds'] * 100_000 / bare['rows']:.2f} s per 100k rows), peak RSS"
        f" {bare['maxrss_mb']:.0f} MB, file {bare['bytes'] / 2**20:.1f} MiB"
    )
    ratio = app["seconds"] / bare["seconds"]
    print(f"RATIO {ratio:.2f} app-export-seconds/bare-xlsxwriter-seconds-same-rows")


if __name__ == "__main__":
    main()
