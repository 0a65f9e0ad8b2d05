"""An update passes over the handlers that cannot take it without running their filters.

aiogram offers an update to every router in order and, in each, to every handler, running
each handler's filters (each an awaited call with its arguments picked out of the update's
data) until one takes it: a /start walks about a hundred handlers before the one that takes
it, a pressed button unpacks its callback data once for every handler of its kind. Most of
those handlers are out of the question at a glance: the conversation is in another state,
the button's prefix is another one, the text is not their command.

`quick_routing(router)` reads, once, the filters aiogram's own classes make of those three
(a `State` or `StateFilter`, a `CallbackData.filter()`, a `Command`), plus the plain magic
filters, and has

- each handler answer "no" at once when one of them is sure to fail, before aiogram runs any
  filter of it;
- each router pass over the update at once (aiogram's UNHANDLED) when none of the handlers
  under it can take it: no handler of it or of its sub-routers, or a router filter of it that
  fails. A router with an outer middleware of its own is always entered, as before.

Nothing else changes: a handler that may take the update has all its filters run by aiogram,
in order, as before. The checks here are exact: each fails exactly when aiogram's filter
would return a false value; filters they cannot judge (any other filter object, a plain
function) count as "may pass". Every filter of this bot is a pure check of the update, so
skipping one that cannot pass changes nothing but the time.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable
from typing import Any

from aiogram import Router
from aiogram.dispatcher.event.bases import UNHANDLED
from aiogram.dispatcher.event.handler import FilterObject, HandlerObject
from aiogram.dispatcher.event.telegram import TelegramEventObserver
from aiogram.filters import Command, CommandStart, StateFilter
from aiogram.filters.callback_data import CallbackQueryFilter
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message, TelegramObject

Fails = Callable[[TelegramObject, "str | None"], bool]
"""(event, raw state) -> True when the filter is sure to fail."""
_QUICK = "_gridbot_quick"


def quick_routing(router: Router) -> Router:
    """Puts the quick checks on `router`, its sub-routers and their handlers (once: a second
    call changes nothing); returns `router`. Call it once its handlers are all registered."""
    if getattr(router, _QUICK, False):
        return router
    for sub in router.sub_routers:
        quick_routing(sub)
    for observer in router.observers.values():
        for handler in observer.handlers:
            _quick_check(handler)
    passes = {name: _passes_over(router, name) for name in router.observers}
    original = router.propagate_event

    async def propagate_event(update_type: str, event: TelegramObject, **kwargs: Any) -> Any:
        over = passes.get(update_type)
        if over is not None and over(event, kwargs.get("raw_state")):
            return UNHANDLED
        return await original(update_type=update_type, event=event, **kwargs)

    router.propagate_event = propagate_event  # type: ignore[method-assign]
    setattr(router, _QUICK, True)
    return router


def _quick_check(handler: HandlerObject) -> None:
    fails = _any_fails(handler.filters or ())
    if fails is None:
        return
    check = handler.check

    async def quick(*args: Any, **kwargs: Any) -> tuple[bool, dict[str, Any]]:
        if fails(args[0], kwargs.get("raw_state")):
            return False, kwargs  # what aiogram's check answers for a failed filter
        return await check(*args, **kwargs)

    handler.check = quick  # type: ignore[method-assign]


def _passes_over(router: Router, update_type: str) -> Fails | None:
    """The router's check for one kind of update: True when nothing under it can take the
    event; None when that can never be known in advance."""
    if _has_outer_middleware(router, update_type):
        return None
    observer = router.observers[update_type]
    root = _any_fails(_root_filters(observer))
    own = [_any_fails(h.filters or ()) for h in observer.handlers]
    if root is None and any(f is None for f in own):
        return None  # a handler may take anything its filters cannot judge
    subs = [_passes_over(sub, update_type) for sub in router.sub_routers]
    if root is None and any(s is None for s in subs):
        return None
    handlers = [f for f in own if f is not None]
    below = [s for s in subs if s is not None]
    unknown = any(f is None for f in own) or any(s is None for s in subs)

    def over(event: TelegramObject, raw_state: str | None) -> bool:
        if root is not None and root(event, raw_state):
            return True
        if unknown:
            return False
        return all(f(event, raw_state) for f in handlers) and all(
            s(event, raw_state) for s in below
        )

    return over


def _has_outer_middleware(router: Router, update_type: str) -> bool:
    observer = router.observers.get(update_type)
    if observer is not None and len(observer.outer_middleware):
        return True
    return any(_has_outer_middleware(sub, update_type) for sub in router.sub_routers)


def _root_filters(observer: TelegramEventObserver) -> list[FilterObject]:
    # `router.message.filter(...)` keeps them on a handler aiogram names `_handler`.
    whole: HandlerObject | None = getattr(observer, "_handler", None)
    return list(whole.filters or ()) if whole is not None else []


def _any_fails(filters: Iterable[FilterObject]) -> Fails | None:
    """Fails when any of the filters is sure to fail; None: none of them can be judged."""
    checks = [f for f in (_fails(event_filter) for event_filter in filters) if f is not None]
    if not checks:
        return None
    if len(checks) == 1:
        return checks[0]

    def any_fails(event: TelegramObject, raw_state: str | None) -> bool:
        return any(check(event, raw_state) for check in checks)

    return any_fails


def _fails(event_filter: FilterObject) -> Fails | None:
    if event_filter.magic is not None:
        return _magic_fails(event_filter)
    target = inspect.unwrap(event_filter.callback)
    if isinstance(target, State):
        return _state_fails((target,))
    if isinstance(target, StateFilter):
        return _state_fails(target.states)
    if isinstance(target, CallbackQueryFilter):
        return _prefix_fails(target)
    if type(target) in (Command, CommandStart):
        return _command_fails(target)
    return None


def _state_fails(states: Iterable[Any]) -> Fails | None:
    """As aiogram's State and StateFilter: passes for "*", for a state named, or for any state
    of a StatesGroup named."""
    allowed: set[str | None] = set()
    for state in states:
        if isinstance(state, State):
            state = state.state
        if state is None or isinstance(state, str):
            if state == "*":
                return None
            allowed.add(state)
        elif isinstance(state, StatesGroup):
            allowed.update(type(state).__all_states_names__)
        elif inspect.isclass(state) and issubclass(state, StatesGroup):
            allowed.update(state.__all_states_names__)
        else:
            return None
    frozen = frozenset(allowed)

    def fails(event: TelegramObject, raw_state: str | None) -> bool:
        return raw_state not in frozen

    return fails


def _prefix_fails(target: CallbackQueryFilter) -> Fails:
    """As CallbackData.unpack, which refuses data whose first part is another prefix."""
    prefix, separator = target.callback_data.__prefix__, target.callback_data.__separator__

    def fails(event: TelegramObject, raw_state: str | None) -> bool:
        if not isinstance(event, CallbackQuery) or not event.data:
            return True
        return event.data.split(separator, 1)[0] != prefix

    return fails


def _command_fails(target: Command) -> Fails | None:
    """As Command.parse_command: the first word must be a prefix and one of the commands."""
    if target.ignore_case or not all(isinstance(c, str) for c in target.commands):
        return None
    commands = frozenset(target.commands)
    prefixes = target.prefix

    def fails(event: TelegramObject, raw_state: str | None) -> bool:
        if not isinstance(event, Message):
            return True
        text = event.text or event.caption
        words = text.split(maxsplit=1) if text else []
        if not words:
            return True
        first = words[0]
        return first[0] not in prefixes or first[1:].partition("@")[0] not in commands

    return fails


def _magic_fails(event_filter: FilterObject) -> Fails | None:
    magic = event_filter.magic
    if magic is None:
        return None

    def fails(event: TelegramObject, raw_state: str | None) -> bool:
        try:
            return not magic.resolve(event)
        except Exception:  # aiogram meets it, if it gets that far, and says so
            return False

    return fails
