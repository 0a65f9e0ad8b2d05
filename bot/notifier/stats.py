"""What one notifier has done since it started: counters for logs, tests and benchmarks."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class NotifierStats:
    sent: int = 0
    retry_after: int = 0
    server_errors: int = 0
    undeliverable: int = 0
    failed: int = 0
    migrated: int = 0
    to_general: int = 0  # sent to General: their forum topic was gone
    loads: int = 0  # batches read
