"""The admin services on a real SQLite file: the tree, roles, departments, invites, audit."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlmodel import col, select

from services import admin
from services.admin import AdminError
from services.invites import InviteProblem, Redeemed, redeem_invite
from storage.db import Database
from storage.models import AuditEntry, Grid, Membership, Person
from tests.storage.admin_db import ADMIN, NOW, db, grid, seeded

__all__ = ["db", "seeded"]  # fixtures


async def audit_actions(db: Database) -> list[str]:
    async with db.session() as s:
        return [e.action for e in await s.exec(select(AuditEntry).order_by(col(AuditEntry.id)))]


# --- the tree ------------------------------------------------------------------------------


async def test_add_grid_sets_path_level_label_and_audits(seeded: Database) -> None:
    async with seeded.session() as s:
        g = await admin.add_grid(s, parent_code="c1", code="B2", name="二片区", actor_tg_id=ADMIN)
    c1, b2 = await grid(seeded, "C1"), await grid(seeded, "B2")
    assert b2.parent_id == c1.id
    assert b2.path == f"{c1.path}{g.id}/"
    assert (b2.level, b2.level_label) == (4, "片区")
    async with seeded.session() as s:
        entry = (await s.exec(select(AuditEntry).where(AuditEntry.target == "B2"))).one()
    assert entry.action == "grid_add" and entry.actor_tg_id == ADMIN
    assert entry.detail["parent"] == "C1"


async def test_add_root_grid(seeded: Database) -> None:
    async with seeded.session() as s:
        g = await admin.add_grid(s, parent_code="-", code="E", name="另一区", actor_tg_id=ADMIN)
    assert (g.level, g.path, g.parent_id) == (1, f"/{g.id}/", None)


@pytest.mark.parametrize(
    ("parent", "code", "name", "key"),
    [
        ("D", "bad code!", "x", "admin.bad_code"),
        ("D", "X" * 33, "x", "admin.bad_code"),
        ("D", "NEW", "名" * 129, "admin.name_too_long"),
        ("D", "NEW", "   ", "admin.name_missing"),
        ("NOPE", "NEW", "x", "admin.unknown_grid"),
        ("D", "s1", "x", "admin.code_taken"),
    ],
)
async def test_add_grid_refuses_bad_input(
    seeded: Database, parent: str, code: str, name: str, key: str
) -> None:
    before = await audit_actions(seeded)
    with pytest.raises(AdminError) as err:
        async with seeded.session() as s:
            await admin.add_grid(s, parent_code=parent, code=code, name=name, actor_tg_id=ADMIN)
    assert err.value.key == key
    assert await audit_actions(seeded) == before


async def test_name_of_128_is_fine(seeded: Database) -> None:
    async with seeded.session() as s:
        g = await admin.add_grid(s, parent_code="D", code="L", name="名" * 128, actor_tg_id=ADMIN)
    assert len(g.name) == 128


async def test_rename(seeded: Database) -> None:
    async with seeded.session() as s:
        _, old = await admin.rename_grid(s, code="S2", name="新 街道", actor_tg_id=ADMIN)
    assert old == "二街道" and (await grid(seeded, "S2")).name == "新 街道"
    assert (await audit_actions(seeded))[-1] == "grid_rename"


async def test_move_rewrites_the_whole_subtree(seeded: Database) -> None:
    async with seeded.session() as s:
        _, size = await admin.move_grid(s, code="C1", parent_code="S2", actor_tg_id=ADMIN)
    assert size == 2
    s2, c1, b1 = await grid(seeded, "S2"), await grid(seeded, "C1"), await grid(seeded, "B1")
    assert c1.parent_id == s2.id
    assert c1.path == f"{s2.path}{c1.id}/" and b1.path == f"{c1.path}{b1.id}/"
    assert (c1.level, b1.level) == (3, 4)
    # To the top: levels shift up by two, labels follow the new levels.
    async with seeded.session() as s:
        await admin.move_grid(s, code="C1", parent_code="-", actor_tg_id=ADMIN)
    c1, b1 = await grid(seeded, "C1"), await grid(seeded, "B1")
    assert (c1.path, c1.level, c1.level_label) == (f"/{c1.id}/", 1, "区")
    assert (b1.path, b1.level, b1.level_label) == (f"/{c1.id}/{b1.id}/", 2, "街道")
    assert (await audit_actions(seeded))[-2:] == ["grid_move", "grid_move"]


async def test_move_under_own_subtree_is_refused(seeded: Database) -> None:
    with pytest.raises(AdminError) as err:
        async with seeded.session() as s:
            await admin.move_grid(s, code="S1", parent_code="B1", actor_tg_id=ADMIN)
    assert err.value.key == "admin.move_cycle"
    assert (await grid(seeded, "S1")).level == 2


async def test_archive_takes_the_subtree_and_frees_nothing(seeded: Database) -> None:
    async with seeded.session() as s:
        g, size = await admin.archive_preview(s, code="S1")
    assert size == 3
    async with seeded.session() as s:
        assert g.id is not None
        _, count = await admin.archive_grid(s, grid_id=g.id, actor_tg_id=ADMIN, now=NOW)
    assert count == 3
    for code in ("S1", "C1", "B1"):
        assert (await grid(seeded, code)).archived_at == NOW
    assert (await grid(seeded, "S2")).archived_at is None
    with pytest.raises(AdminError) as err:
        async with seeded.session() as s:
            await admin.archive_grid(s, grid_id=g.id, actor_tg_id=ADMIN, now=NOW)
    assert err.value.key == "admin.archive_gone"
    with pytest.raises(AdminError):
        async with seeded.session() as s:
            await admin.rename_grid(s, code="C1", name="x", actor_tg_id=ADMIN)


async def test_tree_pages(seeded: Database) -> None:
    async with seeded.session() as s:
        for n in range(45):
            await admin.add_grid(
                s, parent_code="S2", code=f"S2-{n:02}", name=f"楼院{n}", actor_tg_id=ADMIN
            )
        await admin.grant_role(
            s, who="7500000001", code="S1", role="leader", actor_tg_id=ADMIN, placeholder_name="?"
        )
    async with seeded.session() as s:
        whole = await admin.tree_page(s, page=0)
        assert (whole.total, whole.pages, whole.root_id) == (50, 3, 0)
        assert [line.code for line in whole.lines[:4]] == ["D", "S1", "C1", "B1"]
        assert [line.depth for line in whole.lines[:4]] == [0, 1, 2, 3]
        assert whole.lines[1].members == 1
        sub = await admin.tree_page(s, code="s2", page=2)
        assert (sub.total, sub.pages, sub.page, sub.root_code) == (46, 3, 2, "S2")
        assert len(sub.lines) == 6 and sub.lines[0].depth == 1
        again = await admin.tree_page(s, root_id=sub.root_id, page=99)
        assert again.page == 2


# --- people and roles ----------------------------------------------------------------------


async def test_role_for_a_new_tg_id_creates_a_placeholder_person(seeded: Database) -> None:
    async with seeded.session() as s:
        got = await admin.grant_role(
            s,
            who="7600000002",
            code="C1",
            role="网格员",
            actor_tg_id=ADMIN,
            placeholder_name="用户7600000002",
        )
    assert got.new_person and not got.already and got.role.key == "member"
    async with seeded.session() as s:
        again = await admin.grant_role(
            s, who="7600000002", code="C1", role="MEMBER", actor_tg_id=ADMIN, placeholder_name="?"
        )
    assert again.already and not again.new_person
    async with seeded.session() as s:
        person = (await s.exec(select(Person).where(Person.tg_id == 7600000002))).one()
        assert person.name == "用户7600000002"
        _, rows = await admin.grid_members(s, code="C1")
    assert [(r.person.tg_id, r.role.key) for r in rows] == [(7600000002, "member")]
    assert (await audit_actions(seeded)).count("role_grant") == 1


async def test_role_by_username_and_remove(seeded: Database) -> None:
    async with seeded.session() as s:
        await admin.grant_role(
            s, who="@ZhangSan", code="S1", role="leader", actor_tg_id=ADMIN, placeholder_name="?"
        )
        await admin.grant_role(
            s, who="@zhangsan", code="S1", role="member", actor_tg_id=ADMIN, placeholder_name="?"
        )
    async with seeded.session() as s:
        removed = await admin.remove_role(
            s, who="7500000001", code="S1", role="member", actor_tg_id=ADMIN
        )
    assert [r.key for r in removed.roles] == ["member"]
    async with seeded.session() as s:
        removed = await admin.remove_role(s, who="@zhangsan", code="S1", role=None, actor_tg_id=1)
    assert [r.key for r in removed.roles] == ["leader"]
    async with seeded.session() as s:
        assert (await s.exec(select(Membership))).all() == []
    with pytest.raises(AdminError) as err:
        async with seeded.session() as s:
            await admin.remove_role(s, who="@zhangsan", code="S1", role=None, actor_tg_id=1)
    assert err.value.key == "admin.not_member"
    assert (await audit_actions(seeded)).count("role_remove") == 2


@pytest.mark.parametrize(
    ("who", "code", "role", "key"),
    [
        ("abc", "S1", "leader", "admin.bad_person"),
        ("-5", "S1", "leader", "admin.bad_person"),
        ("0", "S1", "leader", "admin.bad_person"),
        ("99999999999999999999", "S1", "leader", "admin.bad_person"),
        ("@nobody_here", "S1", "leader", "admin.unknown_username"),
        ("123456", "NOPE", "leader", "admin.unknown_grid"),
        ("123456", "S1", "chief", "admin.unknown_role"),
    ],
)
async def test_role_refuses_bad_input(
    seeded: Database, who: str, code: str, role: str, key: str
) -> None:
    with pytest.raises(AdminError) as err:
        async with seeded.session() as s:
            await admin.grant_role(
                s, who=who, code=code, role=role, actor_tg_id=ADMIN, placeholder_name="?"
            )
    assert err.value.key == key
    if key == "admin.unknown_role":
        assert "leader(网格长)" in str(err.value.params["known"])


async def test_admins_from_settings_and_database(seeded: Database) -> None:
    async with seeded.session() as s:
        person = (await s.exec(select(Person).where(Person.tg_id == 7500000001))).one()
        person.is_admin = True
        s.add(person)
    async with seeded.session() as s:
        rows = await admin.list_admins(s, admin_ids=frozenset({ADMIN}))
    assert [(r.tg_id, r.from_settings, r.from_database) for r in rows] == [
        (ADMIN, True, False),
        (7500000001, False, True),
    ]
    assert rows[1].name == "张三"


async def test_dept_add(seeded: Database) -> None:
    async with seeded.session() as s:
        dept = await admin.add_department(s, code="PS1", name="某派出所", actor_tg_id=ADMIN)
    assert dept.id is not None
    with pytest.raises(AdminError) as err:
        async with seeded.session() as s:
            await admin.add_department(s, code="ps1", name="again", actor_tg_id=ADMIN)
    assert err.value.key == "admin.dept_taken"
    assert (await audit_actions(seeded)).count("dept_add") == 1


# --- invites -------------------------------------------------------------------------------


async def redeem(db: Database, token: str, tg_id: int, days_later: float = 0) -> object:
    async with db.session() as s:
        return await redeem_invite(
            s,
            token=token,
            tg_id=tg_id,
            name=f"u{tg_id}",
            username=None,
            language=None,
            now=NOW + timedelta(days=days_later),
        )


async def test_invite_created_redeemed_used_up_and_expired(seeded: Database) -> None:
    async with seeded.session() as s:
        made = await admin.new_invite(
            s, code="C1", role="member", uses="2", days="3", actor_tg_id=ADMIN, now=NOW
        )
    token = made.invite.token
    assert made.invite.expires_at == NOW + timedelta(days=3) and made.invite.max_uses == 2
    assert isinstance(await redeem(seeded, token, 7700000001), Redeemed)
    again = await redeem(seeded, token, 7700000001)
    assert isinstance(again, Redeemed) and again.already_member
    assert isinstance(await redeem(seeded, token, 7700000002), Redeemed)
    assert await redeem(seeded, token, 7700000003) == InviteProblem.USED_UP
    assert await redeem(seeded, token, 7700000004, days_later=3) == InviteProblem.EXPIRED
    assert await redeem(seeded, "inv_nothing", 7700000004) == InviteProblem.UNKNOWN
    actions = await audit_actions(seeded)
    assert actions.count("invite") == 1 and actions.count("invite_redeemed") == 2


async def test_invite_defaults(seeded: Database) -> None:
    async with seeded.session() as s:
        made = await admin.new_invite(
            s, code="C1", role="网格长", uses=None, days=None, actor_tg_id=ADMIN, now=NOW
        )
    assert made.invite.max_uses == 1 and made.invite.expires_at == NOW + timedelta(days=7)
    assert made.role.key == "leader"


@pytest.mark.parametrize(
    ("uses", "days", "key"),
    [
        ("0", "1", "admin.bad_uses"),
        ("1001", "1", "admin.bad_uses"),
        ("many", "1", "admin.bad_uses"),
        ("1", "0", "admin.bad_days"),
        ("1", "91", "admin.bad_days"),
        ("1", "1.5", "admin.bad_days"),
    ],
)
async def test_invite_ranges(seeded: Database, uses: str, days: str, key: str) -> None:
    with pytest.raises(AdminError) as err:
        async with seeded.session() as s:
            await admin.new_invite(
                s, code="C1", role="member", uses=uses, days=days, actor_tg_id=ADMIN, now=NOW
            )
    assert err.value.key == key


# --- concurrency ---------------------------------------------------------------------------


async def test_fifty_concurrent_writers(seeded: Database) -> None:
    async def writer(n: int) -> None:
        async with seeded.session() as s:
            await admin.add_grid(
                s, parent_code="S2", code=f"W{n:02}", name=f"并发{n}", actor_tg_id=ADMIN
            )
            await admin.grant_role(
                s,
                who=str(8_000_000_000 + n),
                code=f"W{n:02}",
                role="member",
                actor_tg_id=ADMIN,
                placeholder_name=f"用户{n}",
            )

    await asyncio.gather(*(writer(n) for n in range(50)))
    async with seeded.session() as s:
        made = (await s.exec(select(Grid).where(col(Grid.code).startswith("W")))).all()
        assert len(made) == 50
        assert len({g.path for g in made}) == 50
        assert len((await s.exec(select(Membership))).all()) == 50
    actions = await audit_actions(seeded)
    assert actions.count("grid_add") == 55 and actions.count("role_grant") == 50
