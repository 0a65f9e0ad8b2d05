"""City-scale import benchmark (SQLite).

    python bench/import_bench.py              # 20,000 leaf grids (21,111 in all), ~61,000 people
    python bench/import_bench.py --scale 0.1  # a quick run (2,000 leaf grids)

Generates a scenario file (the format of docs/scenario-format.md: district -> 10 streets ->
100 communities -> 1,000 blocks -> 20 leaf grids each, a leader in every grid, two members
and a patrol member in every leaf, real tg_ids at the top, placeholders below) under
bench/out/, then in the same run:

1. imports it into a fresh SQLite file through the CLI's code path (`gridbot import`:
   read + parse the file, `import_roster` in one unit of work, the summary lines);
2. imports the same file again (nothing changes: it must say so, and be quick);
3. for reference, the floor: the same grid, person and membership rows written into another
   fresh file by raw sqlite3 `executemany` (no parsing, no diff, no ORM).

The last line is the ratio of (1) to the goal of 30 s.
"""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.app import create_app  # noqa: E402
from bot.commands_cli import import_file, read_scenario  # noqa: E402
from bot.settings import load_settings  # noqa: E402
from domain.clock import ManualClock  # noqa: E402
from domain.scenario import Scenario  # noqa: E402
from storage.db import Database  # noqa: E402
from storage.migrate import upgrade  # noqa: E402

OUT = ROOT / "bench" / "out"
GOAL_S = 30.0
NOW = datetime(2026, 12, 7, 1, 0, tzinfo=UTC)

HEADER = """\
name: 某市网格 (import bench)
timezone: Asia/Shanghai
tg_id_start: 900000000
levels: [区, 街道, 社区, 小区, 楼院]
roles:
  - {key: leader, label: 网格长, leader: true}
  - {key: member, label: 网格员, quota: {period: week, count: 2}}
  - {key: guard, label: 保安巡查员, quota: {period: day, count: 1}}
checklist: [安全疏散, 消防设施, 用电, 用气]
severities:
  一般: {deadline_hours: 168}
  重大: {deadline_hours: 24, notify_to_root: true}
schedule: {digest: "18:00", nag: "09:30", quiet: "22:00-07:00"}
departments:
  - {code: PS1, name: 某派出所}
  - {code: CG, name: 区城管局}
"""


def scenario_text(leaves_per_block: int) -> str:
    """Streets and communities listed (with real people), blocks and leaves generated."""
    lines = [
        HEADER,
        "grids:",
        "  - code: Q",
        "    name: 某区",
        "    people: [{name: 区长, tg_id: 100000001, role: leader}]",
        "    children:",
    ]
    tg = 100000100
    for s in range(1, 11):
        tg += 1
        lines += [
            f"      - code: S{s:02}",
            f"        name: 第{s}街道",
            f"        people: [{{name: 街道主任{s}, tg_id: {tg}, role: leader}}]",
            "        children:",
        ]
        for c in range(1, 11):
            tg += 1
            lines += [
                f"          - code: S{s:02}-{c:02}",
                f"            name: 第{s}街道第{c}社区",
                f"            people: [{{name: 社区书记{s}-{c}, tg_id: {tg}, role: leader}}]",
                "            generate: {count: 10, code: '{parent}-{n:02}',"
                " name: '{parent_name}{n}小区',",
                "                       people: [{role: leader}],",
                f"                       children: {{generate: {{count: {leaves_per_block},"
                " code: '{parent}-{n:02}', name: '{parent_name}{n}号楼院',",
                "                         people: [{role: leader}, {role: member, count: 2},"
                " {role: guard}]}}}",
            ]
    return "\n".join(lines) + "\n"


def fresh_file(name: str) -> Path:
    path = OUT / name
    for p in OUT.glob(name + "*"):
        p.unlink()
    return path


async def migrated(path: Path) -> str:
    url = f"sqlite+aiosqlite:///{path}"
    db = Database(url)
    await upgrade(db)
    await db.dispose()
    return url


async def real_import(url: str, scenario_file: Path) -> tuple[float, list[str]]:
    app = create_app(load_settings(database_url=url), clock=ManualClock(NOW))
    try:
        started = time.perf_counter()
        lines = await import_file(app, scenario_file)
        return time.perf_counter() - started, lines
    finally:
        await app.db.dispose()


def bare_floor(path: Path, scenario: Scenario) -> float:
    """The rows the import ends with, written the cheapest way SQLite allows."""
    con = sqlite3.connect(path)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=NORMAL")
    stamp = NOW.strftime("%Y-%m-%d %H:%M:%S.%f")
    started = time.perf_counter()
    cur = con.cursor()
    cur.execute("BEGIN IMMEDIATE")
    cur.executemany(
        "INSERT INTO role (id, key, label, is_leader) VALUES (?, ?, ?, ?)",
        [(i, r.key, r.label, int(r.leader)) for i, r in enumerate(scenario.roles, start=1)],
    )
    role_ids = {r.key: i for i, r in enumerate(scenario.roles, start=1)}
    grid_ids: dict[str, int] = {}
    paths: dict[str, str] = {}
    rows: list[tuple[Any, ...]] = []
    for i, g in enumerate(scenario.grids, start=1):
        grid_ids[g.code] = i
        parent = g.parent_code
        paths[g.code] = f"{paths[parent] if parent else '/'}{i}/"
        rows.append(
            (i, g.code, g.name, grid_ids[parent] if parent else None, g.level, g.level_label,
             paths[g.code], stamp)
        )  # fmt: skip
    cur.executemany(
        "INSERT INTO grid (id, code, name, parent_id, level, level_label, path, roll_call,"
        " created_at) VALUES (?, ?, ?, ?, ?, ?, ?, 0, ?)",
        rows,
    )
    person_ids = {p.tg_id: i for i, p in enumerate(scenario.people, start=1)}
    cur.executemany(
        "INSERT INTO person (id, tg_id, name, place, listed, reachable, is_admin, created_at)"
        " VALUES (?, ?, ?, ?, 1, 1, 0, ?)",
        [(person_ids[p.tg_id], p.tg_id, p.name, p.place, stamp) for p in scenario.people],
    )
    cur.executemany(
        "INSERT INTO membership (person_id, grid_id, role_id, created_at) VALUES (?, ?, ?, ?)",
        [
            (person_ids[m.tg_id], grid_ids[m.grid_code], role_ids[m.role_key], stamp)
            for m in scenario.memberships
        ],
    )
    con.commit()
    elapsed = time.perf_counter() - started
    con.close()
    return elapsed


async def main(scale: float) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    leaves_per_block = max(1, round(20 * scale))
    scenario_file = OUT / f"import-city-{scale:g}.yaml"
    scenario_file.write_text(scenario_text(leaves_per_block), encoding="utf-8")

    started = time.perf_counter()
    scenario = read_scenario(scenario_file)
    parse_s = time.perf_counter() - started
    leaves = 1000 * leaves_per_block
    print(
        f"scenario {scenario_file.name}: {len(scenario.grids):,} grids ({leaves:,} leaves),"
        f" {len(scenario.people):,} people, {len(scenario.memberships):,} memberships;"
        f" read + parse {parse_s:.2f} s"
    )

    url = await migrated(fresh_file(f"import-{scale:g}.sqlite3"))
    first_s, lines = await real_import(url, scenario_file)
    print(f"first import (CLI path, parse included): {first_s:.2f} s,"
          f" {len(scenario.grids) / first_s:,.0f} grids/s")  # fmt: skip
    print(f"  {lines[-1]}")
    again_s, again = await real_import(url, scenario_file)
    if again[0] != "no changes":
        raise SystemExit(f"re-import of the same file changed something: {again[:5]}")
    print(f"re-import, no changes: {again_s:.2f} s ({again[0]!r})")

    floor_path = fresh_file(f"import-floor-{scale:g}.sqlite3")
    await migrated(floor_path)
    floor_s = bare_floor(floor_path, scenario)
    print(
        f"floor (raw sqlite3 executemany of the same rows, no parse): {floor_s:.2f} s;"
        f" import / (parse + floor) = {first_s / (parse_s + floor_s):.1f}x"
    )
    print(f"RATIO {first_s / GOAL_S:.3f} import-seconds/30")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="1.0 = 20,000 leaf grids")
    args = parser.parse_args()
    asyncio.run(main(args.scale))
