"""The start-up heap, frozen once per process before the first update (`freeze_startup_heap`).

aiogram's hundreds of pydantic models and SQLAlchemy's mappers (~370,000 objects) are alive
for the whole run, yet every full garbage collection walked them with the event loop (and
every handler) stopped: ~0.5 s on a loaded 2-core machine after a city-sized job, and a
steady cost on every update, whose own short-lived objects set off young collections that
now and then grow into full ones. Frozen, a collection walks only what was made since.
"""

from __future__ import annotations

import gc

_frozen = False


def freeze_startup_heap() -> None:
    """Once per process, at start-up before any update: one full collection, then everything
    alive goes to the collector's permanent generation (`gc.freeze`). Called where updates
    are served (bot.runners.build) and where jobs fire (scheduler.runner.start): a second
    call does nothing."""
    global _frozen
    if not _frozen:
        _frozen = True
        gc.collect()
        gc.freeze()
