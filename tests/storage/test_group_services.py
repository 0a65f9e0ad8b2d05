"""Binding groups: who may, bind codes for anonymous admins, migration, join/leave notes."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlmodel import col, select

from services import admin, groups
from services.groups import GroupError
from storage.db import Database
from storage.models import AuditEntry, Department
from tests.storage.admin_db import ADMIN, NOW, db, grid, seeded

__all__ = ["db", "seeded"]  # fixtures

GROUP = -4_100_000_001
SUPERGROUP = -1_002_100_000_001


async def bind(db: Database, code: str = "S1", **kw: Any) -> groups.Bound:
    args: dict[str, Any] = {
        "chat_id": GROUP,
        "chat_title": "一街道群",
        "code": code,
        "bind_code": None,
        "actor_tg_id": ADMIN,
        "anonymous": False,
        "gridbot_admin": True,
        "group_admin": True,
        "now": NOW,
    }
    args.update(kw)
    async with db.session() as s:
        return await groups.bind_chat(s, **args)


async def test_admin_binds_and_rebinding_moves_the_group(seeded: Database) -> None:
    bound = await bind(seeded)
    assert bound.target.code == "S1" and bound.previous_chat_id is None and not bound.already
    assert (await grid(seeded, "S1")).group_chat_id == GROUP
    assert (await bind(seeded)).already
    moved = await bind(seeded, "S2")
    assert moved.released == ["S1"]
    assert (await grid(seeded, "S1")).group_chat_id is None
    assert (await grid(seeded, "S2")).group_chat_id == GROUP


@pytest.mark.parametrize(
    ("kw", "key"),
    [
        ({"group_admin": False}, "groups.refused"),
        ({"gridbot_admin": False}, "groups.refused"),
        (
            {"anonymous": True, "gridbot_admin": False, "actor_tg_id": None},
            "groups.anonymous_needs_code",
        ),
        ({"code": "NOPE"}, "groups.unknown_code"),
    ],
)
async def test_refusals_change_nothing(seeded: Database, kw: dict[str, Any], key: str) -> None:
    with pytest.raises(GroupError) as err:
        await bind(seeded, **kw)
    assert err.value.key == key
    assert (await grid(seeded, "S1")).group_chat_id is None


async def test_anonymous_admin_binds_with_a_one_time_code(seeded: Database) -> None:
    async with seeded.session() as s:
        code = await groups.issue_bind_code(s, code="s1", actor_tg_id=ADMIN, now=NOW)
    assert len(code.code) == 8 and code.expires_at == NOW + groups.BIND_CODE_TTL
    anon: dict[str, Any] = {"anonymous": True, "gridbot_admin": False, "actor_tg_id": None}
    with pytest.raises(GroupError) as err:  # a code for another grid
        await bind(seeded, "S2", bind_code=code.code, **anon)
    assert err.value.key == "groups.bad_bind_code"
    bound = await bind(seeded, bind_code=code.code.lower(), **anon)
    assert bound.target.code == "S1"
    with pytest.raises(GroupError) as err:
        await bind(seeded, bind_code=code.code, chat_id=-4_100_000_002, **anon)
    assert err.value.key == "groups.bind_code_used"
    async with seeded.session() as s:
        entry = (await s.exec(select(AuditEntry).where(AuditEntry.action == "group_bind"))).one()
    assert entry.detail["anonymous"] is True and entry.detail["bind_code_issued_by"] == ADMIN


async def test_bind_code_expires(seeded: Database) -> None:
    async with seeded.session() as s:
        code = await groups.issue_bind_code(s, code="S1", actor_tg_id=ADMIN, now=NOW)
    with pytest.raises(GroupError) as err:
        await bind(
            seeded,
            bind_code=code.code,
            anonymous=True,
            gridbot_admin=False,
            now=NOW + groups.BIND_CODE_TTL + timedelta(seconds=1),
        )
    assert err.value.key == "groups.bind_code_expired"
    with pytest.raises(GroupError) as err:
        await bind(seeded, bind_code="NOTACODE", anonymous=True, gridbot_admin=False)
    assert err.value.key == "groups.bad_bind_code"


async def test_department_binds_and_migration_follows_the_group(seeded: Database) -> None:
    async with seeded.session() as s:
        await admin.add_department(s, code="PS1", name="某派出所", actor_tg_id=ADMIN)
    await bind(seeded, "S1")
    await bind(seeded, "PS1")
    async with seeded.session() as s:
        assert await groups.migrate_chat(s, old_chat_id=GROUP, new_chat_id=SUPERGROUP) == 2
    async with seeded.session() as s:  # the second notice (from the new chat) is a no-op
        assert await groups.migrate_chat(s, old_chat_id=GROUP, new_chat_id=SUPERGROUP) == 0
    assert (await grid(seeded, "S1")).group_chat_id == SUPERGROUP
    async with seeded.session() as s:
        dept = (await s.exec(select(Department))).one()
        assert dept.chat_id == SUPERGROUP
        targets = await groups.bound_targets(s, chat_id=SUPERGROUP)
        assert [(t.kind, t.code) for t in targets] == [("grid", "S1"), ("dept", "PS1")]
        actions = [e.action for e in await s.exec(select(AuditEntry).order_by(col(AuditEntry.id)))]
    assert actions.count("group_migrated") == 1


async def test_join_and_leave_are_audited_and_unbind_nothing(seeded: Database) -> None:
    async with seeded.session() as s:
        assert (
            await groups.note_membership(
                s, chat_id=GROUP, chat_title="群", joined=True, actor_tg_id=ADMIN
            )
            == []
        )
    await bind(seeded)
    async with seeded.session() as s:
        left = await groups.note_membership(
            s, chat_id=GROUP, chat_title="群", joined=False, actor_tg_id=ADMIN
        )
    assert [t.code for t in left] == ["S1"]
    assert (await grid(seeded, "S1")).group_chat_id == GROUP
    async with seeded.session() as s:
        entry = (await s.exec(select(AuditEntry).where(AuditEntry.action == "group_left"))).one()
    assert entry.detail["bound"] == ["grid:S1"]
