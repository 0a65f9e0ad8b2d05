"""The chats a step hands the case to: `domain.handoffs.next_actors` made concrete.

The rule names parties (a person, a grid's leaders, a department); this finds their chats:
each person's private chat while they are reachable, the department's bound chat (none while
it has no chat: the transfer is held, see `services/transfers.py`). A person is handed the
card only when their own buttons include a step the case waits for from them, and never for
a step they took themselves.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlmodel.ext.asyncio.session import AsyncSession

from domain.cases import Actor, CaseFacts, EventKind, allowed_actions
from domain.handoffs import NextActor, Party, next_actors
from services.case_rules import facts_of
from storage import cases as q
from storage.models import Case, CaseEvent, Department, Grid, Person


@dataclass(frozen=True)
class Handoff:
    """Who gets a new card after a step."""

    people: dict[int, Person] = field(default_factory=dict)
    """private chat id → the person the case now waits for"""
    chats: frozenset[int] = frozenset()
    """every chat that gets a new card: those people's and the department's"""
    evidence: frozenset[int] = frozenset()
    """chats sent the step's text and photos before the card (the feedback to verify)"""


class Lookups:
    """One step's reads of grids' leaders and of the grids people lead, each asked once: the
    hand-off and the card's recipients both need them, and nothing changes in between."""

    def __init__(self) -> None:
        self._leaders: dict[frozenset[int], list[tuple[int, Person]]] = {}
        self._led: dict[int, frozenset[int]] = {}
        self._whole: list[frozenset[int]] = []
        """Grid sets read whole: the leaders of any part of one are among theirs."""

    def hold(
        self,
        grid_ids: Iterable[int],
        leaders: list[tuple[int, Person]],
        led: dict[int, frozenset[int]],
    ) -> None:
        """What `q.leaders_with_led_grids(grid_ids)` answered, read by the caller."""
        key = frozenset(grid_ids)
        self._leaders[key] = leaders
        self._led.update(led)
        self._whole.append(key)

    async def leaders_of(
        self, session: AsyncSession, grid_ids: Iterable[int]
    ) -> list[tuple[int, Person]]:
        key = frozenset(grid_ids)
        if key not in self._leaders:
            whole = next((w for w in self._whole if key <= w), None)
            if whole is not None:
                # The query's answer for fewer grids: its rows for those, in its order.
                self._leaders[key] = [(g, p) for g, p in self._leaders[whole] if g in key]
                return self._leaders[key]
            # Whoever needs a grid's leaders needs the grids they lead next.
            self._leaders[key], led = await q.leaders_with_led_grids(session, key)
            self._led.update(led)
        return self._leaders[key]

    async def led_grids_of(
        self, session: AsyncSession, person_ids: Iterable[int]
    ) -> dict[int, frozenset[int]]:
        wanted = set(person_ids)
        missing = wanted - self._led.keys()
        if missing:
            self._led.update(await q.led_grids_of(session, missing))
        return {p: self._led[p] for p in wanted}


async def handoff_of(
    session: AsyncSession,
    *,
    case: Case,
    grid: Grid,
    event: CaseEvent,
    lookups: Lookups | None = None,
    facts: CaseFacts | None = None,
) -> Handoff:
    """The chats the step `event` hands `case` to (`grid`: the case's grid now; `facts`:
    `facts_of(case, grid)` when the caller has them)."""
    if event.kind not in EventKind.__members__.values():
        return Handoff()
    lookups = lookups or Lookups()
    facts = facts if facts is not None else facts_of(case, grid)
    mover = event.actor_id
    kind = EventKind(event.kind)
    wanted = next_actors(kind, facts, mover_leads_grid=False)
    if_leads = next_actors(kind, facts, mover_leads_grid=True)
    # Whether the mover leads the grid is read only for a step whose answer it changes.
    if (
        mover is not None
        and if_leads != wanted
        and await q.leads_grid(session, person_id=mover, grid_id=case.grid_id)
    ):
        wanted = if_leads
    people: dict[int, Person] = {}
    chats: set[int] = set()
    evidence: set[int] = set()
    for party in wanted:
        found = await _chats_of(session, party, facts=facts, mover=mover, lookups=lookups)
        people.update({c: p for c, p in found.items() if p is not None})
        chats |= found.keys()
        if party.evidence:
            evidence |= found.keys()
    return Handoff(people=people, chats=frozenset(chats), evidence=frozenset(evidence))


async def _chats_of(
    session: AsyncSession,
    party: NextActor,
    *,
    facts: CaseFacts,
    mover: int | None,
    lookups: Lookups,
) -> dict[int, Person | None]:
    """chat id → the person there (None for a department's chat)."""
    if party.party is Party.DEPARTMENT:
        dept = await session.get(Department, party.id)
        if dept is None or dept.chat_id is None or dept.archived_at is not None:
            return {}
        return {dept.chat_id: None}
    if party.party is Party.PERSON:
        persons = list((await q.people_by_id(session, [party.id])).values())
    else:
        persons = [p for _g, p in await lookups.leaders_of(session, [party.id])]
    led = await lookups.led_grids_of(session, [p.id for p in persons if p.id is not None])
    out: dict[int, Person | None] = {}
    for p in persons:
        if p.id is None or p.id == mover or p.tg_id is None or not p.reachable:
            continue
        who = Actor(person_id=p.id, led_grid_ids=led.get(p.id, frozenset()))
        if party.actions & allowed_actions(facts, who):
            out[p.tg_id] = p
    return out
