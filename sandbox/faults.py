"""Faults injected on demand, and the counters of what the emulator answered."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field


@dataclass
class Fault:
    kind: str  # "429" | "5xx" | "delay"
    remaining: int
    method: str | None = None  # lower-case method name, None for any
    retry_after: int = 5
    status: int = 502
    html: bool = False
    seconds: float = 0.0
    apply: bool = True

    def matches(self, method: str) -> bool:
        return self.remaining > 0 and (self.method is None or self.method == method)


class Faults:
    """``emu.faults``: make the next calls fail the way Telegram sometimes does.

    - ``too_many_requests(n, retry_after=5)``: the next n calls answer 429.
    - ``server_error(n, status=502)``: the next n calls answer a 5xx (JSON body;
      ``html=True`` answers an HTML error page as a proxy in front would).
    - ``delay(seconds, n)``: the next n calls answer only after ``seconds``. With
      ``apply=True`` the call takes effect at once and only the answer is late,
      the case that duplicates a message when the client times out and retries.
    - ``block(user_id)``: sends to that user answer 403 "bot was blocked by the user".
    - ``deactivate(user_id)``: 403 "user is deactivated".

    Every fault may be limited to one method (``method="sendMessage"``).
    """

    def __init__(self) -> None:
        self.pending: list[Fault] = []
        self.blocked: set[int] = set()
        self.deactivated: set[int] = set()

    def _add(self, fault: Fault) -> None:
        if fault.method is not None:
            fault.method = fault.method.lower()
        self.pending.append(fault)

    def too_many_requests(
        self, n: int = 1, retry_after: int = 5, method: str | None = None
    ) -> None:
        self._add(Fault("429", n, method, retry_after=retry_after))

    def server_error(
        self, n: int = 1, status: int = 502, method: str | None = None, html: bool = False
    ) -> None:
        self._add(Fault("5xx", n, method, status=status, html=html))

    def delay(
        self, seconds: float, n: int = 1, method: str | None = None, apply: bool = True
    ) -> None:
        self._add(Fault("delay", n, method, seconds=seconds, apply=apply))

    def block(self, user_id: int) -> None:
        self.blocked.add(user_id)

    def unblock(self, user_id: int) -> None:
        self.blocked.discard(user_id)

    def deactivate(self, user_id: int) -> None:
        self.deactivated.add(user_id)

    def clear(self) -> None:
        self.pending.clear()
        self.blocked.clear()
        self.deactivated.clear()

    def take(self, method: str) -> Fault | None:
        for fault in self.pending:
            if fault.matches(method):
                fault.remaining -= 1
                if fault.remaining <= 0:
                    self.pending.remove(fault)
                return fault
        return None


@dataclass
class Stats:
    """``emu.stats``: what the Bot API side was asked and what it answered."""

    requests: int = 0
    too_many_requests: int = 0
    server_errors: int = 0
    forbidden: int = 0
    bad_requests: int = 0
    calls: Counter[str] = field(default_factory=Counter)  # canonical method name -> count
    statuses: Counter[int] = field(default_factory=Counter)

    def count(self, method: str) -> int:
        """Calls of one method, any case: ``stats.count("sendMessage")``."""
        return sum(v for k, v in self.calls.items() if k.lower() == method.lower())

    def record_status(self, status: int) -> None:
        self.statuses[status] += 1
        if status == 429:
            self.too_many_requests += 1
        elif status >= 500:
            self.server_errors += 1
        elif status == 403:
            self.forbidden += 1
        elif status == 400:
            self.bad_requests += 1
