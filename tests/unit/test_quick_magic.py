"""bot/quick_magic.py's plain resolvers answer as magic_filter does: for every magic filter a
handler of the bot carries, on every event the routing test sends (and on made-up filters
that reach a missing attribute or make a function raise)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

from aiogram import Bot, F, Router
from magic_filter import MagicFilter

import handlers
from bot.quick_magic import _plain_resolver
from tests.unit.test_quick_routing import TOKEN, _events


def _magic_filters(router: Router) -> Iterator[MagicFilter]:
    for observer in router.observers.values():
        whole = getattr(observer, "_handler", None)
        for handler in [*observer.handlers, *([whole] if whole is not None else [])]:
            for event_filter in handler.filters or ():
                if event_filter.magic is not None:
                    yield event_filter.magic
    for sub in router.sub_routers:
        yield from _magic_filters(sub)


def _made_up() -> list[MagicFilter]:
    return [
        F.reply_to_message.text,  # None on the way: rejected
        F.no_such_attribute,
        F.chat.no_such == 1,
        F.text.in_(5),  # type: ignore[arg-type]  # `in` on an int raises TypeError: rejected
        F.chat.id.in_({5}),
        F.chat.type != "private",
        F.location.live_period,
    ]


def test_plain_resolvers_answer_as_magic_filter_does() -> None:
    bot = Bot(TOKEN)
    events = _events(bot)
    filters = [m for r in handlers.routers() for m in _magic_filters(r)] + _made_up()
    compared = 0
    for magic in filters:
        plain = _plain_resolver(magic)
        if plain is None:
            continue
        for event in events:
            expected: Any = magic.resolve(event)
            assert plain(event) == expected, (magic._operations, event)
            assert bool(plain(event)) is bool(expected)
            compared += 1
    asyncio.run(bot.session.close())
    # Most of the bot's filters have a plain resolver; each met every event.
    assert compared > 50 * len(events)


def test_other_shapes_are_left_to_magic_filter() -> None:
    assert _plain_resolver(F.text.startswith("/")) is None
    assert _plain_resolver(F.caption.is_(None)) is None
    assert _plain_resolver(~F.caption) is None
    assert _plain_resolver(F.text | F.caption) is None
