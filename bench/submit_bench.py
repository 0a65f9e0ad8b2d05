"""What a report's submit pays for its code at city scale (SQLite).

    python bench/submit_bench.py              # the digest bench's city: 300,000 cases
    python bench/submit_bench.py --scale 0.2  # a quicker one (60,000 cases)

Reuses the city database of bench/digest_bench.py (built there, or here when missing, and
upgraded to the current schema when it is behind), and an empty ledger made fresh in the
same run. On each it times `next_case_code` + `case_by_code` (a lower-case code, as typed)
inside a unit of work, `--samples` times, interleaved; the median of each side counts. Target:
independent of the ledger's size (< 2 ms at 300k cases).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.digest_bench import NOW, OUT, TZ, build  # noqa: E402
from storage import cases as q  # noqa: E402
from storage.db import Database  # noqa: E402
from storage.migrate import upgrade  # noqa: E402


async def city(scale: float) -> tuple[Database, int]:
    path = OUT / f"city-{scale:g}.sqlite3"
    db = Database(f"sqlite+aiosqlite:///{path}")
    if not path.exists():
        await upgrade(db)
        await db.dispose()
        started = time.perf_counter()
        sizes = build(path, scale)
        print(f"built {path} in {time.perf_counter() - started:.1f} s: {sizes}")
        db = Database(f"sqlite+aiosqlite:///{path}")
    else:
        print(f"reusing {path} (upgraded to the current schema if behind)")
        await upgrade(db)
    return db, round(300_000 * scale)


async def empty() -> Database:
    path = OUT / "submit-empty.sqlite3"
    for p in OUT.glob(path.name + "*"):
        p.unlink()
    db = Database(f"sqlite+aiosqlite:///{path}")
    await upgrade(db)
    return db


async def submit_lookups(db: Database, typed: str) -> float:
    """One report's code and one /case lookup, in the unit of work a report runs in."""
    day = NOW.astimezone(TZ).strftime("%y%m%d")
    async with db.session() as session:
        started = time.perf_counter()
        await q.next_case_code(session, day=day)
        await q.case_by_code(session, typed)
        return time.perf_counter() - started


async def main(scale: float, samples: int) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    big, cases = await city(scale)
    small = await empty()
    # the city builder's codes are "C<n>"; look one up in the middle, typed lower-case
    typed = f"c{cases // 2}"
    assert await _found(big, typed), f"{typed} is not in the city database"
    for db in (big, small):  # warm the caches and the connections
        await submit_lookups(db, typed)
    on_city: list[float] = []
    on_empty: list[float] = []
    for _ in range(samples):
        on_city.append(await submit_lookups(big, typed))
        on_empty.append(await submit_lookups(small, typed))
    await big.dispose()
    await small.dispose()
    city_ms, empty_ms = statistics.median(on_city) * 1e3, statistics.median(on_empty) * 1e3
    print(f"cases in the city ledger: {cases}")
    print(f"next_case_code + case_by_code, {cases} cases: {city_ms:.3f} ms (median of {samples})")
    print(f"next_case_code + case_by_code, empty ledger: {empty_ms:.3f} ms (median of {samples})")
    print(f"RATIO {city_ms / empty_ms:.2f} submit-lookups-{_k(cases)}/empty")


async def _found(db: Database, typed: str) -> bool:
    async with db.reading() as session:
        return await q.case_by_code(session, typed) is not None


def _k(cases: int) -> str:
    return f"{cases // 1000}k" if cases >= 1000 else str(cases)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--samples", type=int, default=200, help="timed runs of each side")
    args = parser.parse_args()
    asyncio.run(main(args.scale, max(1, args.samples)))
