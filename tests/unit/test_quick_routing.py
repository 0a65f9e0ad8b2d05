"""bot/quick_routing.py is exact: over every handler of the bot, for commands, texts, photos,
locations and button presses in every state, a handler its quick check turns away is one
aiogram's own filters turn away too, and a router it passes over has no handler that would
take the update."""

from __future__ import annotations

import asyncio
import inspect
import itertools
from typing import Any

import pytest
from aiogram import Bot, Router
from aiogram.dispatcher.event.handler import HandlerObject
from aiogram.fsm.state import StatesGroup
from aiogram.types import CallbackQuery, Message, TelegramObject

import handlers
from bot.keyboards import MENU_KEYS, menu_words
from bot.quick_judges import Known
from bot.quick_routing import (
    QUICK_CHECKS,
    SUBS_IN_PLAY,
    _Router,
    enter_only_routers_in_play,
)
from bot.sync_filters import inline_sync_filters

TOKEN = "42:TEST-quick-routing"
PHOTO = [{"file_id": "f", "file_unique_id": "u", "width": 1, "height": 1}]


def _all_states() -> list[str | None]:
    found: set[str] = set()
    pending: list[type[StatesGroup]] = list(StatesGroup.__subclasses__())
    while pending:
        group = pending.pop()
        found.update(group.__all_states_names__)
        pending.extend(group.__subclasses__())
    return [None, "no-such:state", *sorted(found)]


def _events(bot: Bot) -> list[TelegramObject]:
    private = {"id": 5, "type": "private", "first_name": "P"}
    group = {"id": -100, "type": "supergroup", "title": "G"}
    user = {"id": 5, "is_bot": False, "first_name": "P"}
    contents: list[dict[str, Any]] = [
        {"text": "hello"},
        {"text": "楼道堆放杂物"},
        {"text": "/no_such_command"},
        {"text": "!start"},
        *(
            {"text": f"/start {payload}"}
            for payload in ("report", "report_5", "inv_x", "patrol", "grp_7")
        ),
        *({"text": text} for key in MENU_KEYS for text in sorted(menu_words(key))),
        {"photo": PHOTO},
        {"photo": PHOTO, "caption": "/report 用电"},
        {"location": {"latitude": 23.1, "longitude": 113.2}},
        {"location": {"latitude": 23.1, "longitude": 113.2, "live_period": 900}},
        *({"text": f"/{c}"} for c in sorted(Known.commands)),
        *({"text": f"/{c} more words"} for c in sorted(Known.commands)),
    ]
    events: list[TelegramObject] = []
    for n, (chat, content) in enumerate(itertools.product((private, group), contents)):
        raw = {"message_id": n, "date": 0, "chat": chat, "from": user, **content}
        events.append(Message.model_validate(raw, context={"bot": bot}))
    datas = [
        "",
        "zz:1",
        *(f"{p}:0" for p in sorted(Known.button_prefixes)),
        *(f"{p}:1:2:3" for p in sorted(Known.button_prefixes)),
    ]
    message = {"message_id": 1, "date": 0, "chat": private, "from": user, "text": "card"}
    for n, data in enumerate(datas):
        raw = {"id": str(n), "from": user, "chat_instance": "c", "message": message, "data": data}
        events.append(CallbackQuery.model_validate(raw, context={"bot": bot}))
    return events


def _handlers(router: Router, update_type: str) -> list[HandlerObject]:
    found = list(router.observers[update_type].handlers)
    for sub in router.sub_routers:
        found.extend(_handlers(sub, update_type))
    return found


async def _admitted(
    router: Router, update_type: str, event: TelegramObject, data: dict[str, Any]
) -> list[HandlerObject]:
    """The handlers under `router` whose routers' own filters let the event in."""
    observer = router.observers[update_type]
    try:
        admitted, _ = await observer.check_root_filters(event, **data)
    except Exception:  # a filter that needs more than this test gives it: no verdict
        return []
    if not admitted:
        return []
    found = list(observer.handlers)
    for sub in router.sub_routers:
        found.extend(await _admitted(sub, update_type, event, data))
    return found


async def _says(handler: HandlerObject, event: TelegramObject, data: dict[str, Any]) -> Any:
    try:
        passed, _ = await handler.check(event, **data)
    except Exception:  # a filter that needs more than this test gives it: no verdict
        return None
    return passed


async def _compare() -> tuple[int, int]:
    quick = handlers.routers()
    plain = handlers.routers(quick=False)
    for router in (*quick, *plain):
        inline_sync_filters(router)
    bot = Bot(TOKEN)
    turned_away = passed_over = 0
    for event, raw_state in itertools.product(_events(bot), _all_states()):
        update_type = "message" if isinstance(event, Message) else "callback_query"
        data = {"bot": bot, "raw_state": raw_state, "is_admin": False, "me": None}
        for fast, slow in zip(quick, plain, strict=True):
            slow_handlers = _handlers(slow, update_type)
            fast_handlers = _handlers(fast, update_type)
            for fast_handler, slow_handler in zip(fast_handlers, slow_handlers, strict=True):
                if fast_handler.check is slow_handler.check:
                    continue
                passed = await _says(fast_handler, event, data)
                verdict = await _says(slow_handler, event, data)
                if passed is False:
                    turned_away += 1
                    assert verdict is not True, (slow_handler.callback, event, raw_state)
            check = getattr(fast, QUICK_CHECKS)[update_type]
            if check is not None and check.passes(event, raw_state) and fast_handlers:
                passed_over += 1
                for slow_handler in await _admitted(slow, update_type, event, data):
                    verdict = await _says(slow_handler, event, data)
                    assert verdict is not True, (slow_handler.callback, event, raw_state)
    await bot.session.close()
    return turned_away, passed_over


def test_quick_checks_turn_away_only_what_aiogram_would() -> None:
    turned_away, passed_over = asyncio.run(_compare())
    # The comparison must have had something to compare: thousands of handlers turned
    # away at a glance, and routers passed over whole.
    assert turned_away > 10_000
    assert passed_over > 1_000


def test_what_state_and_address_decide_is_what_the_magic_filters_would(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A router passed over by its state and address alone (kept per both) is one the full
    check, magic filters and all, passes over too, and the other way round."""
    routers = handlers.routers()
    bot = Bot(TOKEN)
    events = _events(bot)
    cases = list(itertools.product(events, _all_states(), routers))

    def verdicts() -> list[bool]:
        found = []
        for event, raw_state, router in cases:
            update_type = "message" if isinstance(event, Message) else "callback_query"
            check = getattr(router, QUICK_CHECKS)[update_type]
            found.append(check is not None and check.passes(event, raw_state))
        return found

    kept = verdicts()
    with monkeypatch.context() as patch:
        patch.setattr(_Router, "static_passes", lambda *_: False)
        full = verdicts()
    assert kept == full
    assert sum(kept) > 1_000
    asyncio.run(bot.session.close())


def _with_subs_in_play(router: Router) -> list[Router]:
    found = [router] if hasattr(router, SUBS_IN_PLAY) else []
    for sub in router.sub_routers:
        found.extend(_with_subs_in_play(sub))
    return found


def test_routers_left_out_of_play_are_ones_their_checks_pass_over() -> None:
    """A sub-router its parent does not offer the update to (enter_only_routers_in_play) is
    one its own check passes over, and the others are offered it in their order."""
    root = Router()
    root.include_routers(*handlers.routers())
    enter_only_routers_in_play(root)
    bot = Bot(TOKEN)
    left_out = 0
    parents = _with_subs_in_play(root)
    assert len(parents) > 1, "the root and the features with routers of their own"
    for event, raw_state in itertools.product(_events(bot), _all_states()):
        update_type = "message" if isinstance(event, Message) else "callback_query"
        for parent in parents:
            subs = getattr(parent, SUBS_IN_PLAY)
            in_play = subs.in_play(update_type, event, raw_state)
            assert in_play == tuple(s for s in subs.subs if s in in_play)
            for sub in subs.subs:
                if sub in in_play:
                    continue
                left_out += 1
                check = getattr(sub, QUICK_CHECKS)[update_type]
                assert check is not None and check.passes(event, raw_state), (sub.name, event)
    asyncio.run(bot.session.close())
    assert left_out > 10_000


def test_the_aiogram_routing_it_mirrors_is_still_aiograms() -> None:
    """bot/quick_routing.py does two small pieces of aiogram's routing itself: a router's
    `propagate_event` for a router without outer middlewares, and `_propagate_event`'s offer to
    the sub-routers. An aiogram that does them otherwise must be read again before it is used."""
    propagate = inspect.getsource(Router.propagate_event)
    assert "kwargs.update(event_router=self)" in propagate
    assert "observer.wrap_outer_middleware(_wrapped, event=event, data=kwargs)" in propagate
    inner = " ".join(inspect.getsource(Router._propagate_event).split())
    for step in (
        "result, data = await observer.check_root_filters(event, **kwargs)",
        "kwargs.update(data)",
        "response = await observer.trigger(event, **kwargs)",
        "if response is REJECTED:",
        "for router in self.sub_routers: response = await router.propagate_event("
        "update_type=update_type, event=event, **kwargs) if response is not UNHANDLED: break",
    ):
        assert step in inner, step
