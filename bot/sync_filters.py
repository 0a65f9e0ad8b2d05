"""Plain filters run on the event loop, not on a worker thread.

aiogram runs every filter that is not a coroutine (a magic filter such as `F.location`, a
`State` used as a filter, a plain function) through `asyncio.to_thread`, once per handler it
is checked against: an update walks dozens of them before one matches, and each is a hop to a
worker thread and back, queued behind the database driver's own thread. Every such filter of
this bot is a pure check of the update (an attribute, a state name), far cheaper than the hop,
so `inline_sync_filters` has them called in place. Handlers are left as they are (all of them
are coroutines anyway).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aiogram import Router
from aiogram.dispatcher.event.handler import FilterObject


def _in_place(check: Callable[..., Any]) -> Callable[..., Any]:
    async def run(*args: Any, **kwargs: Any) -> Any:
        return check(*args, **kwargs)

    return run


def inline_sync_filters(router: Router) -> int:
    """Make every plain filter under `router` (its sub-routers included) run in place;
    returns how many were changed. Call it once the routers are all included."""
    changed = 0
    for observer in router.observers.values():
        # The observer's own filters (`router.message.filter(...)`) sit on a handler aiogram
        # keeps as `_handler` (no public name), checked before any of its handlers.
        whole = getattr(observer, "_handler", None)
        for handler in [*observer.handlers, *([whole] if whole is not None else [])]:
            for event_filter in handler.filters or ():
                changed += _inline(event_filter)
    for sub in router.sub_routers:
        changed += inline_sync_filters(sub)
    return changed


def _inline(event_filter: FilterObject) -> int:
    if event_filter.awaitable:
        return 0
    # `params` and `varkw` were read from the plain callable: they still pick its arguments.
    event_filter.callback = _in_place(event_filter.callback)
    event_filter.awaitable = True
    return 1
