"""One run of a chasing job: what it says (`ChasingTexts`), the tree it reads (`Tree`), the
pushes it queues (`Pusher`) and what it did (`Outcome`)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from domain.digest import GridNode, Holding, PersonInfo
from services.case_notify import CaseTexts
from services.chasing.rules import Rules, hold_until
from storage import chasing as cq
from storage import digest as q
from storage.outbox import enqueue

Texts = Callable[..., str]
"""`t(key, language, **params) -> str` (the translator)."""


@dataclass(frozen=True)
class ChasingTexts:
    """What the chasing says, built by the bot layer as the handlers build theirs: the
    message catalogue, the language of people who chose none, and the case cards an
    escalation redraws (it goes through `services.cases.perform`, as a leader's press)."""

    t: Texts
    default_language: str
    cases: CaseTexts


@dataclass
class Tree:
    """The grid tree and who leads where, from two grouped queries."""

    grids: dict[int, GridNode]
    leaders: dict[int, list[int]]
    people: dict[int, PersonInfo]

    def nearest_leaders(self, grid_id: int) -> list[int]:
        gid: int | None = grid_id
        while gid is not None:
            found = self.leaders.get(gid)
            if found:
                return found
            node = self.grids.get(gid)
            gid = node.parent_id if node else None
        return []

    def ancestors(self, grid_id: int) -> list[int]:
        out = []
        gid: int | None = grid_id
        while gid is not None and gid in self.grids:
            out.append(gid)
            gid = self.grids[gid].parent_id
        return out

    async def refresh_people(self, session: AsyncSession, ids: set[int]) -> None:
        """Add the people the tree's roles did not bring (an assignee without a role)."""
        missing = {i for i in ids if i not in self.people}
        for pid, p in (await cq.people_by_ids(session, missing)).items():
            self.people[pid] = PersonInfo(pid, p.name, p.tg_id, p.language, p.reachable)


async def load_tree(session: AsyncSession) -> tuple[Tree, list[Holding]]:
    grids = {g.id: g for g in await q.grid_nodes(session)}
    holdings = await q.holdings(session)
    leaders: dict[int, list[int]] = defaultdict(list)
    for h in holdings:
        if h.is_leader and h.person_id not in leaders[h.grid_id]:
            leaders[h.grid_id].append(h.person_id)
    people = await q.people(session)
    return Tree(grids, dict(leaders), people), holdings


@dataclass
class Outcome:
    queued: list[str] = field(default_factory=list)
    escalated: list[int] = field(default_factory=list)


class Pusher:
    """Queues pushes for one job run: language per person, quiet hours, keys."""

    def __init__(
        self,
        session: AsyncSession,
        *,
        now: datetime,
        rules: Rules,
        texts: ChasingTexts,
        people: dict[int, PersonInfo],
        outcome: Outcome,
    ) -> None:
        self.session = session
        self.now = now
        self.rules = rules
        self.texts = texts
        self.t = texts.t
        self.default_language = texts.default_language
        self.people = people
        self.outcome = outcome

    def lang(self, person_id: int | None) -> str:
        p = self.people.get(person_id) if person_id is not None else None
        return (p.language if p else None) or self.default_language

    async def to_person(
        self, person_id: int, key: str, kind: str, text: str, *, urgent: bool = False
    ) -> None:
        person = self.people.get(person_id)
        if person is None or person.tg_id is None:
            return
        await self.to_chat(person.tg_id, key, kind, text, person_id=person_id, urgent=urgent)

    async def to_chat(
        self,
        chat_id: int,
        key: str,
        kind: str,
        text: str,
        *,
        person_id: int | None = None,
        urgent: bool = False,
    ) -> None:
        not_before = hold_until(self.now, self.rules, urgent=urgent)
        queued = await enqueue(
            self.session,
            key=key,
            kind=kind,
            chat_id=chat_id,
            person_id=person_id,
            text=text,
            now=self.now,
            urgent=urgent,
            not_before=not_before,
        )
        if queued:
            self.outcome.queued.append(key)
