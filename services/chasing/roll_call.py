"""The roll call (点名): one message a day in each opted-in grid group naming who in its
subtree is behind on patrols (as mentions) and which of its cases are overdue."""

from __future__ import annotations

from collections import defaultdict

from aiogram import html
from sqlmodel.ext.asyncio.session import AsyncSession

from services.chasing.job import Pusher, Tree
from services.chasing.patrol_nags import Laggards
from storage import chasing as cq
from storage.chasing import CaseDue

quote = html.quote
MAX_ROLL_CALL = 30


async def roll_calls(
    session: AsyncSession,
    push: Pusher,
    tree: Tree,
    laggards: Laggards,
    overdue: list[CaseDue],
) -> None:
    """One message per opted-in grid group: laggards (mentions) and overdue cases."""
    rows = await cq.roll_call_grids(session)
    if not rows:
        return
    wanted = {g.id: g for g in rows if g.id is not None}
    names: dict[int, list[tuple[int, str]]] = defaultdict(list)
    for grid_id, people in laggards.items():
        for ancestor in tree.ancestors(grid_id):
            if ancestor in wanted:
                names[ancestor].extend(people)
    cases: dict[int, list[CaseDue]] = defaultdict(list)
    for c in overdue:
        for ancestor in tree.ancestors(c.grid_id):
            if ancestor in wanted:
                cases[ancestor].append(c)
    t = push.t
    lang = push.default_language
    today = push.now.astimezone(push.rules.tz).date().isoformat()
    for gid, grid in wanted.items():
        lines = [t("chasing.rollcall_head", lang, grid=quote(grid.name), day=today)]
        seen: set[int] = set()
        mentions = []
        for person_id, _role in names.get(gid, []):
            if person_id in seen:
                continue
            seen.add(person_id)
            p = tree.people.get(person_id)
            if p is None:
                continue
            mentions.append(
                f'<a href="tg://user?id={p.tg_id}">{quote(p.name)}</a>'
                if p.tg_id
                else quote(p.name)
            )
        if mentions:
            shown = mentions[:MAX_ROLL_CALL]
            lines.append(t("chasing.rollcall_behind", lang, names="、".join(shown)))
            if len(mentions) > MAX_ROLL_CALL:
                lines.append(t("digest.more", lang, n=len(mentions) - MAX_ROLL_CALL))
        listed = cases.get(gid, [])
        if listed:
            codes = "、".join(quote(c.code) for c in listed[:MAX_ROLL_CALL])
            lines.append(t("chasing.rollcall_overdue", lang, cases=codes))
            if len(listed) > MAX_ROLL_CALL:
                lines.append(t("digest.more", lang, n=len(listed) - MAX_ROLL_CALL))
        if not mentions and not listed:
            lines.append(t("chasing.rollcall_none", lang))
        assert grid.group_chat_id is not None
        await push.to_chat(
            grid.group_chat_id, f"rollcall:{gid}:{today}", "rollcall", "\n".join(lines)
        )
