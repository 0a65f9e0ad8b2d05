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

A router's state and the event's address (its command, its button's prefix) decide most of
this, so a router works out once per state and address which handlers are left in play, and
asks only their magic filters of each event.

Nothing else changes: a handler that may take the update has all its filters run by aiogram,
in order, as before. The checks here are exact: each fails exactly when aiogram's filter
would return a false value; filters they cannot judge (any other filter object, a plain
function) count as "may pass". Every filter of this bot is a pure check of the update, so
skipping one that cannot pass changes nothing but the time.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass
from typing import Any, ClassVar

from aiogram import Router
from aiogram.dispatcher.event.bases import UNHANDLED
from aiogram.dispatcher.event.handler import FilterObject, HandlerObject
from aiogram.dispatcher.event.telegram import TelegramEventObserver
from aiogram.filters import Command, CommandStart, StateFilter
from aiogram.filters.callback_data import CallbackQueryFilter
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message, TelegramObject

from bot.quick_magic import magic_fails

QUICK_CHECKS = "_gridbot_quick"
"""The router's attribute holding its check per kind of update (None: it cannot tell)."""


def quick_routing(router: Router) -> Router:
    """Puts the quick checks on `router`, its sub-routers and their handlers (once: a second
    call changes nothing); returns `router`. Call it once its handlers are all registered."""
    if getattr(router, QUICK_CHECKS, None) is not None:
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
        if over is not None and over.passes(event, kwargs.get("raw_state")):
            return UNHANDLED
        return await original(update_type=update_type, event=event, **kwargs)

    router.propagate_event = propagate_event  # type: ignore[method-assign]
    setattr(router, QUICK_CHECKS, passes)
    return router


EventFails = Callable[[TelegramObject], bool]
"""event -> True when the filter is sure to fail (whatever the state)."""


@dataclass(frozen=True, slots=True)
class _Judge:
    """What one handler's (or one router's own) filters say at a glance.

    `states` and `keyed` depend on the state and on the event's address alone (its
    button's prefix, its command), so a router works them out once per state and address;
    `magic` reads the rest of the event."""

    states: frozenset[str | None] | None  # None: any state passes
    keyed: tuple[EventFails, ...]
    magic: tuple[EventFails, ...]

    def fails_by_address(self, event: TelegramObject, raw_state: str | None) -> bool:
        """Whether the state or the event's address alone make it fail."""
        if self.states is not None and raw_state not in self.states:
            return True
        for check in self.keyed:  # noqa: SIM110 (a loop: see `fails`)
            if check(event):
                return True
        return False

    def fails(self, event: TelegramObject, raw_state: str | None) -> bool:
        if self.states is not None and raw_state not in self.states:
            return True
        # Plain loops: asked for every handler of every update, a generator per check
        # cost more than the checks.
        for check in self.keyed:
            if check(event):
                return True
        for check in self.magic:  # noqa: SIM110 (a loop, as above)
            if check(event):
                return True
        return False


def _quick_check(handler: HandlerObject) -> None:
    judge = _judge(handler.filters or ())
    if judge is None:
        return
    check = handler.check

    async def quick(*args: Any, **kwargs: Any) -> tuple[bool, dict[str, Any]]:
        if judge.fails(args[0], kwargs.get("raw_state")):
            return False, kwargs  # what aiogram's check answers for a failed filter
        return await check(*args, **kwargs)

    handler.check = quick  # type: ignore[method-assign]


class _Known:
    """Every command, command prefix, button prefix and separator a judge was made of, in
    this process: an event's address names only these, so it is one of few values."""

    commands: ClassVar[set[str]] = set()
    command_prefixes: ClassVar[set[str]] = set()
    separators: ClassVar[set[str]] = set()
    button_prefixes: ClassVar[set[str]] = set()
    last: ClassVar[tuple[TelegramObject | None, Hashable]] = (None, None)


def _address(event: TelegramObject) -> Hashable:
    """What the keyed checks read of the event: two events with one address pass or fail
    every keyed check alike."""
    last_event, last_address = _Known.last
    if last_event is event:
        return last_address
    address: Hashable = None
    if isinstance(event, CallbackQuery):
        data = event.data or ""
        parts = (data.split(sep, 1)[0] for sep in sorted(_Known.separators))
        address = (
            "button",
            bool(data),
            *(p if p in _Known.button_prefixes else None for p in parts),
        )
    elif isinstance(event, Message):
        text = event.text or event.caption
        words = text.split(maxsplit=1) if text else []
        first = words[0] if words else ""
        name = first[1:].partition("@")[0]
        address = (
            "message",
            first[:1] if first[:1] in _Known.command_prefixes else None,
            name if name in _Known.commands else None,
            len(words) > 1,  # whether the command has arguments (a deep link's payload)
        )
    _Known.last = (event, address)
    return address


class _Router:
    """A router's check for one kind of update: passes when nothing under it can take the
    event. Which handlers a state and an address leave in play is worked out once."""

    def __init__(self, root: _Judge | None, own: list[_Judge], below: list[_Router]) -> None:
        self.root, self.own, self.below = root, own, below
        # A state no handler names leaves the same handlers in play as any other such state.
        self.named: frozenset[str | None] = frozenset().union(
            *(j.states for j in own if j.states is not None)
        )
        self.in_play: dict[tuple[Hashable, Hashable], tuple[tuple[EventFails, ...], ...]] = {}
        # Every state a filter under it names: any other state is judged alike all through.
        self.all_named: frozenset[str | None] = self.named.union(
            root.states if root is not None and root.states is not None else (),
            *(r.all_named for r in below),
        )
        self.static: dict[tuple[Hashable, Hashable], bool] = {}

    def passes(self, event: TelegramObject, raw_state: str | None) -> bool:
        if self.static_passes(event, raw_state):
            return True
        if self.root is not None and self.root.fails(event, raw_state):
            return True
        for magic in self._in_play(event, raw_state):
            for check in magic:
                if check(event):
                    break
            else:
                return False  # this handler may take it
        for router in self.below:  # noqa: SIM110 (a loop: see _Judge.fails)
            if not router.passes(event, raw_state):
                return False
        return True

    def static_passes(self, event: TelegramObject, raw_state: str | None) -> bool:
        """Whether the state and the address alone say the event passes: then the router
        (and all under it) answers with one look-up, worked out once per state and address.
        When they do not, `passes` asks the magic filters."""
        key = (raw_state if raw_state in self.all_named else _OTHER_STATE, _address(event))
        found = self.static.get(key)
        if found is None:
            found = self.static[key] = self._passes_by_address(event, raw_state)
        return found

    def _passes_by_address(self, event: TelegramObject, raw_state: str | None) -> bool:
        if self.root is not None and self.root.fails_by_address(event, raw_state):
            return True
        if self._in_play(event, raw_state):
            return False
        return all(r.static_passes(event, raw_state) for r in self.below)

    def _in_play(
        self, event: TelegramObject, raw_state: str | None
    ) -> tuple[tuple[EventFails, ...], ...]:
        """The magic checks of each handler the state and the address leave in play."""
        key = (raw_state if raw_state in self.named else _OTHER_STATE, _address(event))
        found = self.in_play.get(key)
        if found is None:
            found = self.in_play[key] = tuple(
                j.magic
                for j in self.own
                if (j.states is None or raw_state in j.states)
                and not any(check(event) for check in j.keyed)
            )
        return found


class _Unjudged(_Router):
    """A router with a handler that no quick check can rule out: only its own filters can
    turn an event away."""

    def __init__(self, root: _Judge) -> None:
        super().__init__(root, [], [])

    def passes(self, event: TelegramObject, raw_state: str | None) -> bool:
        assert self.root is not None
        return self.root.fails(event, raw_state)

    def _passes_by_address(self, event: TelegramObject, raw_state: str | None) -> bool:
        assert self.root is not None
        return self.root.fails_by_address(event, raw_state)


_OTHER_STATE = "\x00gridbot: a state no handler of the router names"


def _passes_over(router: Router, update_type: str) -> _Router | None:
    """The router's check for one kind of update; None when it can never tell in advance."""
    if _has_outer_middleware(router, update_type):
        return None
    observer = router.observers[update_type]
    root = _judge(_root_filters(observer))
    own = [_judge(h.filters or ()) for h in observer.handlers]
    below = [_passes_over(sub, update_type) for sub in router.sub_routers]
    if any(j is None for j in own) or any(r is None for r in below):
        return None if root is None else _Unjudged(root)
    return _Router(root, [j for j in own if j is not None], [r for r in below if r is not None])


def _has_outer_middleware(router: Router, update_type: str) -> bool:
    observer = router.observers.get(update_type)
    if observer is not None and len(observer.outer_middleware):
        return True
    return any(_has_outer_middleware(sub, update_type) for sub in router.sub_routers)


def _root_filters(observer: TelegramEventObserver) -> list[FilterObject]:
    # `router.message.filter(...)` keeps them on a handler aiogram names `_handler`.
    whole: HandlerObject | None = getattr(observer, "_handler", None)
    return list(whole.filters or ()) if whole is not None else []


def _judge(filters: Iterable[FilterObject]) -> _Judge | None:
    """What the filters say at a glance; None: none of them can be judged."""
    states: frozenset[str | None] | None = None
    keyed: list[EventFails] = []
    magic: list[EventFails] = []
    judged = False
    for event_filter in filters:
        if event_filter.magic is not None:
            magic.append(magic_fails(event_filter.magic))
            judged = True
            continue
        target = inspect.unwrap(event_filter.callback)
        if isinstance(target, (State, StateFilter)):
            allowed = _allowed_states((target,) if isinstance(target, State) else target.states)
            if allowed is not None:
                states = allowed if states is None else states & allowed
                judged = True
            continue
        check = _keyed_check(target)
        if check is not None:
            keyed.append(check)
            judged = True
    if not judged:
        return None
    return _Judge(states, tuple(keyed), tuple(magic))


def _keyed_check(target: Any) -> EventFails | None:
    if isinstance(target, CallbackQueryFilter):
        return _prefix_fails(target)
    if type(target) in (Command, CommandStart):
        return _command_fails(target)
    return None


def _allowed_states(states: Iterable[Any]) -> frozenset[str | None] | None:
    """As aiogram's State and StateFilter: passes for "*", for a state named, or for any state
    of a StatesGroup named. None: any state passes (or one it cannot read)."""
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
    return frozenset(allowed)


def _prefix_fails(target: CallbackQueryFilter) -> EventFails:
    """As CallbackData.unpack, which refuses data whose first part is another prefix."""
    prefix, separator = target.callback_data.__prefix__, target.callback_data.__separator__
    _Known.button_prefixes.add(prefix)
    _Known.separators.add(separator)

    def fails(event: TelegramObject) -> bool:
        if not isinstance(event, CallbackQuery) or not event.data:
            return True
        return event.data.split(separator, 1)[0] != prefix

    return fails


def _command_fails(target: Command) -> EventFails | None:
    """As Command.parse_command: the first word must be a prefix and one of the commands."""
    if target.ignore_case or not all(isinstance(c, str) for c in target.commands):
        return None
    commands = frozenset(target.commands)
    prefixes = target.prefix
    _Known.commands.update(c for c in commands if isinstance(c, str))
    _Known.command_prefixes.update(prefixes)

    # CommandStart(deep_link=True) wants a payload, deep_link=False none (as its
    # validate_deeplink); None: either.
    deep_link: bool | None = getattr(target, "deep_link", None)

    def fails(event: TelegramObject) -> bool:
        if not isinstance(event, Message):
            return True
        text = event.text or event.caption
        words = text.split(maxsplit=1) if text else []
        if not words:
            return True
        first = words[0]
        if first[0] not in prefixes or first[1:].partition("@")[0] not in commands:
            return True
        return deep_link is not None and deep_link is not (len(words) > 1)

    return fails
