"""The import writes in bulk: its statement count does not grow with the file, and the tree
it leaves is consistent (every path is its parent's path plus its id) through moves, new
grids under moved ones, archives and restores."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import event
from sqlmodel import col, select

from domain.scenario import parse_scenario
from storage.db import Database
from storage.importer import apply_import
from storage.migrate import upgrade
from storage.models import AuditEntry, Grid, Membership, Person

NOW = datetime(2026, 12, 7, 1, 0, tzinfo=UTC)

HEAD = """\
name: bulk
levels: [区, 街道, 社区, 楼院]
roles:
  - {key: leader, label: 网格长, leader: true}
  - {key: member, label: 网格员}
schedule: {digest: "18:00", nag: "09:30"}
grids:
"""


def city(blocks: int) -> str:
    """Two streets of two communities, each with `blocks` generated blocks of 3 people."""
    lines = [
        HEAD,
        "  - code: Q",
        "    name: 区",
        "    people: [{name: 区长, tg_id: 1001, role: leader}]",
    ]
    lines.append("    children:")
    for s in (1, 2):
        lines += [f"      - code: S{s}", f"        name: 街道{s}", "        children:"]
        for c in (1, 2):
            lines += [
                f"          - code: S{s}-C{c}",
                f"            name: 社区{s}{c}",
                f"            generate: {{count: {blocks}, code: '{{parent}}-{{n}}',"
                " name: '{parent_name}{n}号',",
                "                       people: [{role: leader}, {role: member, count: 2}]}",
            ]
    return "\n".join(lines) + "\n"


async def load(db: Database, text: str) -> list[str]:
    async with db.session() as session:
        result = await apply_import(session, parse_scenario(text), now=NOW)
    return result.changes.summary_lines()


@contextmanager
def statements(db: Database) -> Iterator[list[str]]:
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, sql: str, *_args: Any) -> None:
        seen.append(sql.lstrip().split(None, 1)[0].upper())

    event.listen(db.engine.sync_engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(db.engine.sync_engine, "before_cursor_execute", record)


async def tree(db: Database) -> dict[str, Grid]:
    async with db.reading() as session:
        return {g.code: g for g in (await session.exec(select(Grid))).all()}


def assert_consistent(grids: dict[str, Grid]) -> None:
    by_id = {g.id: g for g in grids.values()}
    for g in grids.values():
        parent = by_id.get(g.parent_id) if g.parent_id is not None else None
        assert g.path == f"{parent.path if parent else '/'}{g.id}/", g.code
        assert g.level == (parent.level + 1 if parent else 1), g.code


async def test_statements_do_not_grow_with_the_file(new_db_url: Callable[[str], str]) -> None:
    counts = []
    for blocks in (2, 40):
        db = Database(new_db_url(f"city-{blocks}"))
        await upgrade(db)
        with statements(db) as seen:
            await load(db, city(blocks))
        counts.append(len(seen))
        grids = await tree(db)
        assert len(grids) == 1 + 2 + 4 + 4 * blocks
        assert_consistent(grids)
        # ids follow the file's depth-first order, as adding one grid at a time did
        ordered = sorted(grids.values(), key=lambda g: g.id or 0)
        assert [g.code for g in ordered][:5] == ["Q", "S1", "S1-C1", "S1-C1-1", "S1-C1-2"]
        with statements(db) as again:
            assert await load(db, city(blocks)) == ["no changes"]
        assert not [s for s in again if s in ("INSERT", "UPDATE", "DELETE")]
        await db.dispose()
    assert counts[0] == counts[1] < 40


async def test_moves_new_grids_archives_and_restores_keep_the_tree_whole(db: Database) -> None:
    text = city(3)
    await load(db, text)
    before = await tree(db)
    # S2-C1 moves under a new street S3 and gains a new block; S1-C2 (with its blocks) is
    # removed; a new community appears under S1.
    edited = (
        text.replace(
            "      - code: S2\n",
            "      - code: S3\n        name: 街道3\n        children:\n"
            "          - code: S2-C1\n            name: 社区21\n"
            "            children:\n"
            "              - {code: S2-C1-new, name: 新楼院,"
            " people: [{name: 新网格长, tg_id: 2001, role: leader}]}\n"
            "            generate: {count: 3, code: '{parent}-{n}', name: '{parent_name}{n}号',\n"
            "                       people: [{role: leader}, {role: member, count: 2}]}\n"
            "      - code: S2\n",
        )
        .replace(
            "          - code: S2-C1\n            name: 社区21\n"
            "            generate: {count: 3, code: '{parent}-{n}', name: '{parent_name}{n}号',\n"
            "                       people: [{role: leader}, {role: member, count: 2}]}\n"
            "          - code: S2-C2",
            "          - code: S2-C2",
        )
        .replace(
            "          - code: S1-C2\n            name: 社区12\n"
            "            generate: {count: 3, code: '{parent}-{n}', name: '{parent_name}{n}号',\n"
            "                       people: [{role: leader}, {role: member, count: 2}]}\n",
            "          - {code: S1-C9, name: 社区19}\n",
        )
    )
    assert edited.count("S2-C1") == 2 and "S1-C2" not in edited
    lines = await load(db, edited)
    assert any("S3" in line for line in lines)
    after = await tree(db)
    live = {c: g for c, g in after.items() if g.archived_at is None}
    assert_consistent(after)
    assert after["S2-C1"].id == before["S2-C1"].id  # moved, not re-created
    assert after["S2-C1"].parent_id == after["S3"].id and after["S2-C1-2"].level == 4
    assert after["S2-C1-new"].parent_id == after["S2-C1"].id
    assert {"S1-C2", "S1-C2-1", "S1-C2-3"} <= {c for c, g in after.items() if g.archived_at}
    assert "S1-C9" in live and "S1-C2-1" not in live
    async with db.reading() as session:
        ended = (
            await session.exec(select(AuditEntry).where(AuditEntry.action == "membership_end"))
        ).all()
        assert len(ended) == 3 * 3  # the three blocks' people under S1-C2
        holders = (
            await session.exec(
                select(Person.place)
                .join(Membership, col(Membership.person_id) == Person.id)
                .join(Grid, col(Grid.id) == Membership.grid_id)
                .where(Grid.code == "S2-C1-1")
            )
        ).all()
        assert sorted(p or "" for p in holders) == [
            "S2-C1-1/leader/1",
            "S2-C1-1/member/1",
            "S2-C1-1/member/2",
        ]
    assert await load(db, edited) == ["no changes"]

    # listing the removed community again restores it and its blocks, with the same ids
    restored = edited.replace("          - {code: S1-C9, name: 社区19}\n", "").replace(
        "          - code: S1-C1\n",
        "          - code: S1-C2\n            name: 社区12 (restored)\n"
        "            generate: {count: 3, code: '{parent}-{n}', name: '{parent_name}{n}号',\n"
        "                       people: [{role: leader}, {role: member, count: 2}]}\n"
        "          - code: S1-C1\n",
    )
    await load(db, restored)
    again = await tree(db)
    assert_consistent(again)
    assert again["S1-C2"].archived_at is None and again["S1-C2"].name == "社区12 (restored)"
    assert again["S1-C2-3"].archived_at is None and again["S1-C2-3"].id == before["S1-C2-3"].id
    assert again["S1-C9"].archived_at is not None
    assert await load(db, restored) == ["no changes"]
