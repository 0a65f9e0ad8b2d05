"""Who is speaking: a person, the roles they hold, and what that lets them do."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Holding:
    """One role in one grid (a membership), with what the rules need to know about it."""

    membership_id: int
    grid_id: int
    grid_code: str
    grid_name: str
    grid_path: tuple[int, ...]
    role_id: int
    role_key: str
    role_label: str
    is_leader: bool
    quota_period: str | None = None
    quota_count: int | None = None


@dataclass(frozen=True)
class Identity:
    person_id: int
    tg_id: int | None
    name: str
    language: str
    is_admin: bool
    holdings: tuple[Holding, ...] = field(default_factory=tuple)

    @property
    def led_grid_ids(self) -> frozenset[int]:
        return frozenset(h.grid_id for h in self.holdings if h.is_leader)

    @property
    def grid_ids(self) -> tuple[int, ...]:
        return tuple(dict.fromkeys(h.grid_id for h in self.holdings))

    def leads_over(self, grid_path: tuple[int, ...]) -> bool:
        """True when this person leads the grid at the end of `grid_path` or one above it."""
        return any(g in self.led_grid_ids for g in grid_path)
