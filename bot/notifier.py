"""The outbound notifier: sends what the outbox holds, within Telegram's limits.

Placeholder interface until the chasing issue lands the full sender; `wake()` is called after
every unit of work that may have queued something.
"""

from __future__ import annotations

from typing import Protocol


class Notifier(Protocol):
    def wake(self) -> None:
        """Something new may be in the outbox."""
        ...
