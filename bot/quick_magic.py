"""The plain magic filters' verdicts for `bot.quick_routing`: whether a filter such as
`F.chat.type == "private"` is sure to fail on an event, each filter shape resolved once per
event and its answer shared by every handler that carries the same shape."""

from __future__ import annotations

from collections.abc import Callable, Hashable
from operator import attrgetter
from typing import Any, ClassVar

from aiogram.types import TelegramObject
from magic_filter import MagicFilter
from magic_filter.operations import (
    BaseOperation,
    ComparatorOperation,
    FunctionOperation,
    GetAttributeOperation,
)


def magic_fails(magic: MagicFilter) -> Callable[[TelegramObject], bool]:
    """Many handlers carry the same magic filter (`F.chat.type == "private"`, `F.photo`):
    each filter of one shape is resolved once per event, its answer kept for the others."""
    shape = _shape(magic)
    resolve = _plain_resolver(magic) or magic.resolve

    def fails(event: TelegramObject) -> bool:
        memo = _Said
        if memo.event is not event:
            memo.event, memo.said = event, {}
        said = memo.said.get(shape)
        if said is None:
            try:
                said = not resolve(event)
            except Exception:  # aiogram meets it, if it gets that far, and says so
                said = False
            memo.said[shape] = said
        return said

    return fails


class _Said:
    """What each magic filter's shape said of the event in hand. One slot is enough: the
    answers depend on the event alone (it is immutable, and held here while remembered),
    so an event routed in between simply starts it afresh."""

    event: ClassVar[TelegramObject | None] = None
    said: ClassVar[dict[Hashable, bool]] = {}


def _plain_resolver(magic: MagicFilter) -> Callable[[Any], Any] | None:
    """The filter's answer worked out in one function, for the shapes most handlers carry:
    attributes read in turn (`F.photo`, `F.chat.type`), then at most one comparison with a
    constant (`== "private"`) or one function of constants (`.in_({...})`). As magic_filter
    resolves them: a missing attribute answers None (the operations after it are skipped,
    none of these being "important"), and so does a function raising TypeError or ValueError.
    None: another shape, left to magic_filter itself."""
    operations = magic._operations
    names: list[str] = []
    for operation in operations:
        if type(operation) is not GetAttributeOperation:
            break
        names.append(operation.name)
    rest = operations[len(names) :]
    if not names or len(rest) > 1:
        return None
    read = attrgetter(".".join(names))
    last = rest[0] if rest else None
    then: Callable[[Any], Any]
    if last is None:
        then = _as_it_is
    elif type(last) is ComparatorOperation and not isinstance(last.right, MagicFilter):
        compare, right = last.comparator, last.right

        def then(value: Any) -> Any:
            return compare(value, right)

    elif type(last) is FunctionOperation and not last.kwargs:
        if any(isinstance(a, MagicFilter) for a in last.args):
            return None
        function, args = last.function, last.args

        def then(value: Any) -> Any:
            try:
                return function(*args, value)
            except (TypeError, ValueError):
                return None

    else:
        return None

    def resolved(event: Any) -> Any:
        try:
            value = read(event)
        except AttributeError:
            return None
        return then(value)

    return resolved


def _as_it_is(value: Any) -> Any:
    return value


def _shape(value: Any) -> Hashable:
    """A magic filter's operations as a value: two filters of one shape resolve alike on any
    event. Constants count by type and value; anything else unhashable by identity."""
    if isinstance(value, MagicFilter):
        return ("magic", tuple(_shape(op) for op in value._operations))
    if isinstance(value, BaseOperation):
        slots = (getattr(value, name) for name in _slots(type(value)))
        return (type(value), tuple(_shape(v) for v in slots))
    if isinstance(value, (list, tuple)):
        return (type(value), tuple(_shape(v) for v in value))
    if isinstance(value, (set, frozenset)):
        return (type(value), frozenset(_shape(v) for v in value))
    if isinstance(value, dict):
        return (dict, tuple((k, _shape(v)) for k, v in value.items()))
    try:
        hash(value)
    except TypeError:
        return ("object", id(value))
    return (type(value), value)


def _slots(kind: type) -> tuple[str, ...]:
    return tuple(name for c in kind.__mro__ for name in getattr(c, "__slots__", ()))
