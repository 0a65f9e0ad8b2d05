"""Binding group chats to grids (or departments), and following those chats as they change.

Who may bind a group (the rule, decided here and nowhere else):

- A named person may bind when they are a gridbot admin *and* Telegram says they are an
  administrator (or the creator) of that group.
- An anonymous administrator (the message's `sender_chat` is the group itself, `from` is the
  placeholder GroupAnonymousBot) cannot be told apart from any other admin of the group, so
  being a group admin is proven but being a gridbot admin is not. They bind with a one-time
  bind code: a gridbot admin sends `/bind <code>` in private and gets a short code valid for
  15 minutes and for one group; the anonymous admin then types `/bind <code> <bind code>` in
  the group. A group admin who is not a gridbot admin may use such a code the same way.
- Anyone else, and any message sent on behalf of another chat (a channel), is refused.

Bind codes are recorded in the audit log (`bind_code`, then `bind_code_used`): issuing one is
an admin act that belongs there anyway, and no table is needed for a short-lived secret.

A group holds one binding: binding it to a grid releases any other grid it was bound to.
The bot being removed from a group unbinds nothing (an admin may add it back); the removal is
logged and audited so an admin can see which bound groups the bot can no longer reach.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from aiogram import html
from sqlmodel.ext.asyncio.session import AsyncSession

from storage import admin as q
from storage import cases as cases_q
from storage import grids as tree
from storage import people
from storage.audit import record_audit
from storage.models import Department, Grid, Person
from storage.outbox import enqueue

BIND_CODE_TTL = timedelta(minutes=15)
BIND_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I
BIND_CODE_LENGTH = 8


class GroupError(Exception):
    def __init__(self, key: str, **params: object) -> None:
        super().__init__(key)
        self.key = key
        self.params = params


@dataclass(frozen=True)
class Target:
    """What a group can be bound to."""

    kind: str  # "grid" | "dept"
    id: int
    code: str
    name: str


async def find_target(session: AsyncSession, code: str) -> Target:
    """A grid by its code, else a department by its code (grids win when both exist)."""
    code = code.strip()
    grid = await tree.grid_by_code(session, code)
    if grid is not None:
        assert grid.id is not None
        return Target("grid", grid.id, grid.code, grid.name)
    dept = await q.department_by_code(session, code)
    if dept is not None:
        assert dept.id is not None
        return Target("dept", dept.id, dept.code, dept.name)
    raise GroupError("groups.unknown_code", code=code)


@dataclass(frozen=True)
class BindCode:
    code: str
    target: Target
    expires_at: datetime


def _new_bind_code() -> str:
    return "".join(secrets.choice(BIND_CODE_ALPHABET) for _ in range(BIND_CODE_LENGTH))


async def issue_bind_code(
    session: AsyncSession, *, code: str, actor_tg_id: int | None, now: datetime
) -> BindCode:
    target = await find_target(session, code)
    token = _new_bind_code()
    expires = now + BIND_CODE_TTL
    await record_audit(
        session,
        actor_tg_id=actor_tg_id,
        action="bind_code",
        target=token,
        detail={
            "kind": target.kind,
            "id": target.id,
            "code": target.code,
            "expires_at": expires.isoformat(),
        },
    )
    await session.flush()
    return BindCode(code=token, target=target, expires_at=expires)


async def _consume_bind_code(
    session: AsyncSession, *, token: str, target: Target, chat_id: int, now: datetime
) -> int | None:
    """Check a bind code for this target; mark it used. Returns the admin who issued it."""
    token = token.strip().upper()
    issued = await q.audit_entries(session, action="bind_code", target=token)
    if not issued:
        raise GroupError("groups.bad_bind_code")
    entry = issued[-1]
    detail = entry.detail
    if detail.get("kind") != target.kind or detail.get("id") != target.id:
        raise GroupError("groups.bad_bind_code")
    if datetime.fromisoformat(str(detail["expires_at"])) <= now:
        raise GroupError("groups.bind_code_expired")
    if await q.audit_entries(session, action="bind_code_used", target=token):
        raise GroupError("groups.bind_code_used")
    await record_audit(
        session,
        actor_tg_id=None,
        action="bind_code_used",
        target=token,
        detail={"chat_id": chat_id, "issued_by": entry.actor_tg_id},
    )
    return entry.actor_tg_id


@dataclass(frozen=True)
class Bound:
    target: Target
    previous_chat_id: int | None
    released: list[str] = field(default_factory=list)  # codes this chat was bound to before
    already: bool = False


async def bind_chat(
    session: AsyncSession,
    *,
    chat_id: int,
    chat_title: str | None,
    code: str,
    bind_code: str | None,
    actor_tg_id: int | None,
    anonymous: bool,
    gridbot_admin: bool,
    group_admin: bool,
    now: datetime,
) -> Bound:
    """Bind the group `chat_id` to the grid or department `code`, if the sender may."""
    if not group_admin:
        raise GroupError("groups.refused")
    target = await find_target(session, code)
    issued_by: int | None = None
    if bind_code:
        issued_by = await _consume_bind_code(
            session, token=bind_code, target=target, chat_id=chat_id, now=now
        )
    elif anonymous:
        raise GroupError("groups.anonymous_needs_code", code=target.code)
    elif not gridbot_admin:
        raise GroupError("groups.refused")

    previous: int | None
    released: list[str] = []
    if target.kind == "grid":
        grid = await session.get(Grid, target.id)
        assert grid is not None
        previous = grid.group_chat_id
        for other in await q.grids_bound_to(session, chat_id):
            if other.id != grid.id:
                other.group_chat_id = None
                session.add(other)
                released.append(other.code)
        grid.group_chat_id = chat_id
        session.add(grid)
    else:
        dept = await session.get(Department, target.id)
        assert dept is not None
        previous = dept.chat_id
        for other_dept in await q.departments_bound_to(session, chat_id):
            if other_dept.id != dept.id:
                other_dept.chat_id = None
                session.add(other_dept)
                released.append(other_dept.code)
        dept.chat_id = chat_id
        session.add(dept)
    already = previous == chat_id and not released
    await record_audit(
        session,
        actor_tg_id=actor_tg_id,
        action="group_bind",
        target=f"{target.kind}:{target.code}",
        detail={
            "chat_id": chat_id,
            "title": chat_title,
            "previous_chat_id": previous,
            "released": released,
            "anonymous": anonymous,
            "bind_code_issued_by": issued_by,
        },
    )
    await session.flush()
    return Bound(target=target, previous_chat_id=previous, released=released, already=already)


async def bound_targets(session: AsyncSession, *, chat_id: int) -> list[Target]:
    grids = await q.grids_bound_to(session, chat_id)
    depts = await q.departments_bound_to(session, chat_id)
    return [Target("grid", g.id or 0, g.code, g.name) for g in grids] + [
        Target("dept", d.id or 0, d.code, d.name) for d in depts
    ]


async def note_membership(
    session: AsyncSession,
    *,
    chat_id: int,
    chat_title: str | None,
    joined: bool,
    actor_tg_id: int | None,
) -> list[Target]:
    """Record the bot joining or leaving a group; returns what the group is bound to."""
    targets = await bound_targets(session, chat_id=chat_id)
    await record_audit(
        session,
        actor_tg_id=actor_tg_id,
        action="group_joined" if joined else "group_left",
        target=str(chat_id),
        detail={"title": chat_title, "bound": [f"{t.kind}:{t.code}" for t in targets]},
    )
    await session.flush()
    return targets


async def migrate_chat(session: AsyncSession, *, old_chat_id: int, new_chat_id: int) -> int:
    """A group became a supergroup: everything bound to the old id follows it. Idempotent
    (Telegram reports the move twice, from the old chat and from the new one)."""
    grids, depts = await q.move_chat_id(session, old=old_chat_id, new=new_chat_id)
    if grids or depts:
        await record_audit(
            session,
            actor_tg_id=None,
            action="group_migrated",
            target=str(new_chat_id),
            detail={"old_chat_id": old_chat_id, "grids": grids, "departments": depts},
        )
    await session.flush()
    return grids + depts


Translate = Callable[..., str]  # app.t(key, language, **params)


async def ask_to_open_bot(
    session: AsyncSession,
    *,
    chat_id: int,
    tg_id: int | None,
    name: str,
    cause: str,
    t: Translate,
    language: str,
    deep_link: str,
    now: datetime,
) -> bool:
    """Ask a person, in a group, to open their private chat with the bot (a deep link): the
    bot may not write first to someone who never has. Through the outbox, so the group's
    20 a minute are kept. False when this `cause` asked already."""
    quoted = html.quote(name)
    mention = f'<a href="tg://user?id={tg_id}">{quoted}</a>' if tg_id is not None else quoted
    button = {"text": t("groups.open_bot_button", language), "url": deep_link}
    return await enqueue(
        session,
        key=f"open_bot:{chat_id}:{cause}",
        kind="open_bot",
        chat_id=chat_id,
        text=t("groups.open_bot_please", language, name=mention),
        reply_markup={"inline_keyboard": [[button]]},
        now=now,
    )


async def tell_unreachable(
    session: AsyncSession,
    *,
    person_id: int,
    cause: str,
    t: Translate,
    language: str,
    deep_link: str,
    now: datetime,
) -> int:
    """The bot could not write to a person (they never opened it, or blocked it): each bound
    group of their grids is asked to have them open the bot, with a deep link, and each of
    those grids' leaders is told in private. `cause` (the failed delivery's key) keeps each
    occasion's notices apart. Returns how many notices were queued."""
    person = await session.get(Person, person_id)
    if person is None:
        return 0
    holdings = await people.holdings_of(session, person_id)
    grid_ids = sorted({h.grid_id for h in holdings})
    if not grid_ids:
        return 0
    name = html.quote(person.name)
    queued = 0
    grids = await cases_q.grids_by_id(session, grid_ids)
    for chat_id in sorted({g.group_chat_id for g in grids.values() if g.group_chat_id}):
        queued += await ask_to_open_bot(
            session,
            chat_id=chat_id,
            tg_id=person.tg_id,
            name=person.name,
            cause=f"{person_id}:{cause}",
            t=t,
            language=language,
            deep_link=deep_link,
            now=now,
        )
    leaders = {p.id: p for _g, p in await cases_q.leaders_of(session, grid_ids)}
    for leader in leaders.values():
        if leader.id == person_id or leader.tg_id is None or not leader.reachable:
            continue
        lang = leader.language or language
        queued += await enqueue(
            session,
            key=f"unreachable:{person_id}:{cause}:leader:{leader.id}",
            kind="unreachable_leader",
            chat_id=leader.tg_id,
            person_id=leader.id,
            text=t("groups.unreachable_to_leader", lang, name=name),
            now=now,
        )
    return queued
