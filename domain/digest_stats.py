"""The figures of one grid or subtree in the digest (`GridStats`), and how two add up.

`domain/digest.py` fills one per grid from the snapshot and merges them up the tree; a
capped sample (laggards, unreachable people, 重大 cases) keeps at most `SAMPLE` entries beside
its exact count.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from operator import add
from typing import TypeVar

from domain.cases import Severity
from domain.digest_records import NamedCase

SAMPLE = 12
"""How many names a capped list keeps (the digest shows fewer; the rest is "+N more")."""

CASE_FIELDS = ("new", "accepted", "closed", "overdue", "escalated")

T = TypeVar("T")

Behind = tuple[int, int, str]
"""Someone behind their patrol pace: (person id, grid id, role label)."""


def _fill(sample: list[T], more: list[T]) -> None:
    """Top a capped sample up from another, up to `SAMPLE`."""
    room = SAMPLE - len(sample)
    if room > 0:
        sample.extend(more[:room])


@dataclass(slots=True)
class GridStats:
    """Figures of one grid: `own` for its own members and cases, then its whole subtree."""

    required: int = 0
    done: int = 0
    due: int = 0
    """Patrols due by now (`Pace.due`): never 0 while someone here is behind."""
    joint: int = 0
    """Of `done`, the patrols credited as a roster companion (联合巡查)."""
    behind: int = 0
    behind_own: list[Behind] = field(default_factory=list)
    behind_sample: list[Behind] = field(default_factory=list)
    flagged: int = 0
    open: int = 0
    unreachable: int = 0
    unreachable_sample: list[int] = field(default_factory=list)
    cases: dict[Severity | str, list[int]] = field(default_factory=dict)
    closed_with_deadline: int = 0
    closed_on_time: int = 0
    critical: int = 0
    critical_sample: list[NamedCase] = field(default_factory=list)
    yellow: int = 0
    red: int = 0

    def add_cases(self, severity: Severity | str, counts: Iterable[int]) -> None:
        row = self.cases.get(severity)
        self.cases[severity] = list(counts) if row is None else list(map(add, row, counts))

    def merge(self, other: GridStats) -> None:
        """Add `other`'s subtree figures (not its `behind_own`, which names its own people)."""
        self.required += other.required
        self.done += other.done
        self.due += other.due
        self.joint += other.joint
        if other.behind:
            self.behind += other.behind
            _fill(self.behind_sample, other.behind_sample)
        self.flagged += other.flagged
        self.open += other.open
        self.closed_with_deadline += other.closed_with_deadline
        self.closed_on_time += other.closed_on_time
        self.yellow += other.yellow
        self.red += other.red
        if other.unreachable:
            self.unreachable += other.unreachable
            _fill(self.unreachable_sample, other.unreachable_sample)
        if other.cases:
            mine = self.cases
            for sev, counts in other.cases.items():
                row = mine.get(sev)
                mine[sev] = counts.copy() if row is None else list(map(add, row, counts))
        if other.critical:
            self.critical += other.critical
            _fill(self.critical_sample, other.critical_sample)

    def case_total(self, index: int) -> int:
        return sum(counts[index] for counts in self.cases.values())

    @property
    def on_time_rate(self) -> float | None:
        if not self.closed_with_deadline:
            return None
        return self.closed_on_time / self.closed_with_deadline

    @property
    def completion(self) -> float | None:
        if not self.required:
            return None
        return self.done / self.required


def grid_has_news(s: GridStats) -> bool:
    """Whether a subtree has anything to say today: a case open, or new, accepted, closed,
    escalated today or overdue; a patrol quota to report against; someone behind; a flagged
    check-in; someone the bot cannot reach. Rows of 0/0 and nothing else are not news."""
    if s.required or s.behind or s.open or s.critical or s.flagged or s.unreachable:
        return True
    return any(any(counts) for counts in s.cases.values())
