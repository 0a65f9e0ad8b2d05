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
  fails. A router with an outer middleware of its own is always entered, as before;
- a router with routers of its own (the dispatcher too) offers the update only to those the
  state and the address leave in play, in their order (`enter_only_routers_in_play`).

A router's state and the event's address (its command, its button's prefix) decide most of
this, so a router works out once per state and address which handlers are left in play, and
asks only their magic filters of each event.

Nothing else changes: a handler that may take the update has all its filters run by aiogram,
in order, as before. The checks here (bot/quick_judges.py) are exact: each fails exactly
when aiogram's filter would return a false value; filters they cannot judge (any other filter
object, a plain function) count as "may pass". Every filter of this bot is a pure check of
the update, so skipping one that cannot pass changes nothing but the time.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

from aiogram import Router
from aiogram.dispatcher.event.bases import REJECTED, UNHANDLED
from aiogram.dispatcher.event.handler import FilterObject, HandlerObject
from aiogram.dispatcher.event.telegram import TelegramEventObserver
from aiogram.types import TelegramObject

from bot.quick_judges import EventFails, Judge, address_of, judge_filters

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
        if over is None:
            return await original(update_type=update_type, event=event, **kwargs)
        if over.passes(event, kwargs.get("raw_state")):
            return UNHANDLED
        observer = router.observers[update_type]
        if len(observer.outer_middleware):  # put on since: aiogram runs it
            return await original(update_type=update_type, event=event, **kwargs)
        # What aiogram's propagate_event does for a router without an outer middleware, but
        # for wrapping `_propagate_event` in an empty chain of them.
        kwargs["event_router"] = router
        return await router._propagate_event(
            observer=observer, update_type=update_type, event=event, **kwargs
        )

    router.propagate_event = propagate_event  # type: ignore[method-assign]
    setattr(router, QUICK_CHECKS, passes)
    return enter_only_routers_in_play(router)


def enter_only_routers_in_play(router: Router) -> Router:
    """Has `router` offer an update only to the sub-routers that the state and the address
    leave in play; returns `router`. Call it once its sub-routers are all included (bot/app.py
    does, on the dispatcher; `quick_routing` on the routers it is given).

    aiogram offers every update to each sub-router in turn (an awaited call with the update's
    data copied, then the sub-router's own check): a press in the report walked twenty routers
    to reach its own. Those left in play are entered as before, in order, their checks and
    filters all run; one without quick checks always is."""
    subs = _SubsInPlay(tuple(router.sub_routers))
    if not subs.subs:
        return router

    async def propagate_in_play(
        observer: TelegramEventObserver | None,
        update_type: str,
        event: TelegramObject,
        **kwargs: Any,
    ) -> Any:
        # aiogram's Router._propagate_event, but for the sub-routers it offers the event to.
        response = UNHANDLED
        if observer:
            result, data = await observer.check_root_filters(event, **kwargs)
            if not result:
                return UNHANDLED
            kwargs.update(data)
            response = await observer.trigger(event, **kwargs)
            if response is REJECTED:
                return UNHANDLED
            if response is not UNHANDLED:
                return response
        for sub in subs.in_play(update_type, event, kwargs.get("raw_state")):
            response = await sub.propagate_event(update_type=update_type, event=event, **kwargs)
            if response is not UNHANDLED:
                break
        return response

    router._propagate_event = propagate_in_play  # type: ignore[method-assign]
    setattr(router, SUBS_IN_PLAY, subs)
    return router


SUBS_IN_PLAY = "_gridbot_subs_in_play"
"""The router's `_SubsInPlay`, once `enter_only_routers_in_play` has been put on it."""


class _SubsInPlay:
    """A router's sub-routers, and which of them each kind of update, state and address
    leaves in play: those whose quick check does not pass over it by these alone."""

    def __init__(self, subs: tuple[Router, ...]) -> None:
        self.subs = subs
        self._checks: dict[str, tuple[_Router | None, ...]] = {}
        self._named: dict[str, frozenset[str | None]] = {}
        self._found: dict[tuple[str, Hashable, Hashable], tuple[Router, ...]] = {}

    def in_play(
        self, update_type: str, event: TelegramObject, raw_state: str | None
    ) -> tuple[Router, ...]:
        checks = self._checks.get(update_type)
        if checks is None:
            checks = self._checks[update_type] = tuple(
                (getattr(sub, QUICK_CHECKS, None) or {}).get(update_type) for sub in self.subs
            )
            # Every state a check names: any other state is judged alike by all of them.
            self._named[update_type] = frozenset().union(
                *(c.all_named for c in checks if c is not None)
            )
        state = raw_state if raw_state in self._named[update_type] else _OTHER_STATE
        key = (update_type, state, address_of(event))
        found = self._found.get(key)
        if found is None:
            found = self._found[key] = tuple(
                sub
                for sub, check in zip(self.subs, checks, strict=True)
                if check is None or not check.static_passes(event, raw_state)
            )
        return found


def _quick_check(handler: HandlerObject) -> None:
    judge = judge_filters(handler.filters or ())
    if judge is None:
        return
    check = handler.check

    async def quick(*args: Any, **kwargs: Any) -> tuple[bool, dict[str, Any]]:
        if judge.fails(args[0], kwargs.get("raw_state")):
            return False, kwargs  # what aiogram's check answers for a failed filter
        return await check(*args, **kwargs)

    handler.check = quick  # type: ignore[method-assign]


class _Router:
    """A router's check for one kind of update: passes when nothing under it can take the
    event. Which handlers a state and an address leave in play is worked out once."""

    def __init__(self, root: Judge | None, own: list[Judge], below: list[_Router]) -> None:
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
        for router in self.below:  # noqa: SIM110 (a loop: see Judge.fails)
            if not router.passes(event, raw_state):
                return False
        return True

    def static_passes(self, event: TelegramObject, raw_state: str | None) -> bool:
        """Whether the state and the address alone say the event passes: then the router
        (and all under it) answers with one look-up, worked out once per state and address.
        When they do not, `passes` asks the magic filters."""
        key = (raw_state if raw_state in self.all_named else _OTHER_STATE, address_of(event))
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
        key = (raw_state if raw_state in self.named else _OTHER_STATE, address_of(event))
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

    def __init__(self, root: Judge) -> None:
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
    root = judge_filters(_root_filters(observer))
    own = [judge_filters(h.filters or ()) for h in observer.handlers]
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
