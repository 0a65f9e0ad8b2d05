"""What a handler's filters say of an update at a glance, for `bot.quick_routing`: the
filters aiogram's own classes make of a state (`State`, `StateFilter`), a button's prefix
(`CallbackData.filter()`) and a command (`Command`), plus the plain magic filters, read once
into a `Judge`; and an update's address (its command, its button's prefix), which with the
state decides all but the magic filters."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass
from typing import Any, ClassVar

from aiogram.dispatcher.event.handler import FilterObject
from aiogram.filters import Command, CommandStart, StateFilter
from aiogram.filters.callback_data import CallbackQueryFilter
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message, TelegramObject

from bot.quick_magic import magic_fails

EventFails = Callable[[TelegramObject], bool]
"""event -> True when the filter is sure to fail (whatever the state)."""


@dataclass(frozen=True, slots=True)
class Judge:
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


class Known:
    """Every command, command prefix, button prefix and separator a judge was made of, in
    this process: an event's address names only these, so it is one of few values."""

    commands: ClassVar[set[str]] = set()
    command_prefixes: ClassVar[set[str]] = set()
    separators: ClassVar[set[str]] = set()
    button_prefixes: ClassVar[set[str]] = set()
    last: ClassVar[tuple[TelegramObject | None, Hashable]] = (None, None)


def address_of(event: TelegramObject) -> Hashable:
    """What the keyed checks read of the event: two events with one address pass or fail
    every keyed check alike."""
    last_event, lastaddress_of = Known.last
    if last_event is event:
        return lastaddress_of
    address: Hashable = None
    if isinstance(event, CallbackQuery):
        data = event.data or ""
        parts = (data.split(sep, 1)[0] for sep in sorted(Known.separators))
        address = (
            "button",
            bool(data),
            *(p if p in Known.button_prefixes else None for p in parts),
        )
    elif isinstance(event, Message):
        text = event.text or event.caption
        words = text.split(maxsplit=1) if text else []
        first = words[0] if words else ""
        name = first[1:].partition("@")[0]
        address = (
            "message",
            first[:1] if first[:1] in Known.command_prefixes else None,
            name if name in Known.commands else None,
            len(words) > 1,  # whether the command has arguments (a deep link's payload)
        )
    Known.last = (event, address)
    return address


def judge_filters(filters: Iterable[FilterObject]) -> Judge | None:
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
    return Judge(states, tuple(keyed), tuple(magic))


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
    Known.button_prefixes.add(prefix)
    Known.separators.add(separator)

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
    Known.commands.update(c for c in commands if isinstance(c, str))
    Known.command_prefixes.update(prefixes)

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
