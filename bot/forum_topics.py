"""The forum-topic keeper (issue 16 pt 5): where a grid's group is a forum and the bot may
manage topics, each open 较大/重大 case of the grid gets a topic (domain/forum_topics.py says
why one per case), every step of the case is posted in it, and it is closed with the case
(renamed ✅) and opened again if the case is reopened. Groups that are not forums, or where
the bot may not manage topics, are left as they are: the case's card still arrives through
the outbox, in the General topic.

The case's card goes into its topic too. In a group where the keeper has opened topics
before, a serious case's new card is held in the outbox (storage/topic_cards.py): the keeper
opens that case's topic first, even while the group has other sends waiting, and lets the
card go into it; a group that turns out to keep no topics (any more) gets its held cards in
General at once. (The first serious case of a group the keeper has never opened a topic in
gets its card in General: nothing told the bot the group keeps topics yet.)

It works from the ledger, not from the steps as they happen: each run opens the topics
missing, posts the steps not yet posted (each recorded as a sent delivery keyed by its
event, so a step is posted once) and settles each topic's state, so a restart or a missed
run only delays it. It calls each group at most once every `GROUP_GAP` seconds, leaving
the notifier its share of the group's limit (and none while the outbox has sends pending
there: the cards go first) (a backlog, e.g. a case closed with many steps
at once, goes out over the next runs), and waits out a 429's retry_after. It runs every
`INTERVAL` seconds beside the notifier where the scheduler runs (one instance); tests call
`ForumKeeper.run` when they want it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Final

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError, TelegramRetryAfter

from bot.context import AppContext
from bot.notifier import RealTimer, Timer
from bot.render.cases import CaseRender
from domain.forum_topics import COLORS, Move, TopicKind, move_for, topic_name
from services.case_rules import load_config
from services.case_view import name_of_actor
from storage import forum_topics as q
from storage.models import Case, CaseCard, CaseEvent
from storage.topic_cards import held_cards, release_held, still_waiting

INTERVAL: Final = 3.0
RECHECK_SECONDS: Final = 600.0
GROUP_GAP: Final = 6.0
"""Seconds between the keeper's calls to one group: at most half of Telegram's 20 a minute,
so the outbox's cards to the same group keep the other half."""
log = logging.getLogger(__name__)


class ForumKeeper:
    def __init__(self, app: AppContext, bot: Bot) -> None:
        self.app = app
        self.bot = bot
        self.no_topics: dict[int, float] = {}  # chat id -> when it was found to keep none
        self.held: set[int] = set()  # chats not to call during this run
        self.in_wait: set[int] = set()  # of those, chats within a wait (not just busy)
        self.cards: set[tuple[int, int]] = set()  # (case, chat) of cards held for a topic
        self.free_at: dict[int, float] = {}  # chat id -> when the keeper may call it again

    async def run(self) -> int:
        """One pass; returns how many Bot API calls it made (0: nothing left to do)."""
        now = self._timer().monotonic()
        self.free_at = {c: at for c, at in self.free_at.items() if at > now}
        blocked = {c for c, t in self.app.group_waits.items() if t > now}
        async with self.app.db.reading() as session:
            busy = await q.chats_with_pending_sends(session, now=self.app.clock.now())
            self.cards = await held_cards(session, now=self.app.clock.now())
        self.in_wait = set(self.free_at) | blocked
        self.held = self.in_wait | busy
        await self._release({c for _case, c in self.cards if c in self.no_topics})
        calls = await self._open_topics()
        calls += await self._post_steps()
        calls += await self._settle()
        return calls

    def _calling(self, chat_id: int) -> None:
        """This run calls the chat now: its next call waits GROUP_GAP."""
        self._wait(chat_id, GROUP_GAP)

    def _wait(self, chat_id: int, seconds: float) -> None:
        """No call to the chat for `seconds` (a 429's retry_after: calling a group inside it
        makes Telegram's window longer)."""
        until = self._timer().monotonic() + seconds
        self.free_at[chat_id] = max(self.free_at.get(chat_id, 0.0), until)
        self.held.add(chat_id)
        self.in_wait.add(chat_id)
        if seconds > GROUP_GAP:  # Telegram said so: replies in the group wait too
            waits = self.app.group_waits
            waits[chat_id] = max(waits.get(chat_id, 0.0), until)

    def _timer(self) -> Timer:
        """Telegram's limits are kept on the timer's clock (tests: the emulator's)."""
        return self.app.timer or RealTimer()

    def waiting(self) -> float:
        """Seconds until every chat may be called again (0: none is waiting)."""
        now = self._timer().monotonic()
        waits = [*self.free_at.values(), *self.app.group_waits.values()]
        return max((at - now for at in waits if at > now), default=0.0)

    # -- opening ----------------------------------------------------------------------------
    def _skipped(self) -> list[int]:
        now = self._timer().monotonic()
        self.no_topics = {c: t for c, t in self.no_topics.items() if now - t < RECHECK_SECONDS}
        return list(self.no_topics)

    async def _open_topics(self) -> int:
        async with self.app.db.reading() as session:
            first = await still_waiting(session, self.cards)
            wanted = await q.cases_without_topic(session, skip_chats=self._skipped())
        ahead = {(w.case_id, w.chat_id) for w in first}
        await self._release_unwanted(self.cards - ahead)
        calls = 0
        for case in [*first, *(w for w in wanted if (w.case_id, w.chat_id) not in ahead)]:
            # A card held for this topic goes first: other sends waiting there do not hold it.
            card = (case.case_id, case.chat_id) in ahead
            if case.chat_id in self.no_topics or case.chat_id in (
                self.in_wait if card else self.held
            ):
                continue
            calls += 1
            self._calling(case.chat_id)
            try:
                chat = await self.bot.get_chat(case.chat_id)
                if not chat.is_forum:
                    await self._keeps_none(case.chat_id)
                    continue
                calls += 1
                topic = await self.bot.create_forum_topic(
                    case.chat_id,
                    topic_name(case.code, case.category, case.severity),
                    icon_color=COLORS.get(case.severity),
                )
            except TelegramRetryAfter as exc:
                self._wait(case.chat_id, exc.retry_after)
                continue
            except TelegramAPIError as exc:
                # No right to manage topics, or the bot is out of the group: as today.
                log.info("no topic for %s in %s: %s", case.code, case.chat_id, exc)
                await self._keeps_none(case.chat_id)
                continue
            async with self.app.db.session() as session:
                await q.record_topic(
                    session,
                    case_id=case.case_id,
                    chat_id=case.chat_id,
                    thread_id=topic.message_thread_id,
                    now=self.app.clock.now(),
                )
                released = await release_held(
                    session,
                    chat_ids=[case.chat_id],
                    case_id=case.case_id,
                    thread_id=topic.message_thread_id,
                    now=self.app.clock.now(),
                )
            if released:
                self._wake_notifier()
        return calls

    async def _keeps_none(self, chat_id: int) -> None:
        """The group keeps no topics (not a forum, or no right to): not asked again for a
        while, and the cards held for its topics go to General now."""
        self.no_topics[chat_id] = self._timer().monotonic()
        await self._release({chat_id})

    async def _release_unwanted(self, pairs: set[tuple[int, int]]) -> None:
        """Held cards whose case wants no topic any more (closed meanwhile, or given one in
        another group) go to General now."""
        if not pairs:
            return
        async with self.app.db.session() as session:
            for case_id, chat_id in pairs:
                await release_held(
                    session, chat_ids=[chat_id], case_id=case_id, now=self.app.clock.now()
                )
        self._wake_notifier()

    async def _release(self, chat_ids: set[int]) -> None:
        if not chat_ids:
            return
        async with self.app.db.session() as session:
            released = await release_held(session, chat_ids=chat_ids, now=self.app.clock.now())
        if released:
            log.info("%d card(s) held for topics in %s go to General", released, sorted(chat_ids))
            self._wake_notifier()

    def _wake_notifier(self) -> None:
        if self.app.notifier is not None:
            self.app.notifier.wake()

    # -- posting ----------------------------------------------------------------------------
    async def _post_steps(self) -> int:
        async with self.app.db.reading() as session:
            steps = await q.unposted_steps(session)
            cfg = await load_config(
                session,
                default_language=self.app.settings.default_language,
                calendar=self.app.calendar,
            )
            actors = {e.id: await name_of_actor(session, e) for e, _card in steps}
        texts = CaseRender(self.app.translator, self.app.settings.default_language, cfg.tz)
        calls = 0
        for event, card in steps:
            if card.chat_id in self.held:
                continue
            text = texts.event_line(event, actors.get(event.id), texts.default_language)
            calls += 1
            self._calling(card.chat_id)
            posted, message_id = await self._post(card, event, text)
            if not posted:
                continue
            async with self.app.db.session() as session:
                await q.record_step(
                    session,
                    case_id=event.case_id,
                    event_id=event.id or 0,
                    chat_id=card.chat_id,
                    text=text,
                    message_id=message_id,
                    now=self.app.clock.now(),
                )
        return calls

    async def _post(self, card: CaseCard, event: CaseEvent, text: str) -> tuple[bool, int | None]:
        """(whether to record the step as done, the message id if it was posted)."""
        try:
            sent = await self.bot.send_message(
                card.chat_id, text, message_thread_id=card.message_id
            )
        except TelegramRetryAfter as exc:
            self._wait(card.chat_id, exc.retry_after)
            return False, None
        except TelegramAPIError as exc:
            # The topic was deleted, or closed to the bot: the step is not posted again.
            log.warning("step %s not posted in topic %s: %s", event.id, card.message_id, exc)
            return True, None
        return True, sent.message_id

    # -- closing and reopening --------------------------------------------------------------
    async def _settle(self) -> int:
        async with self.app.db.reading() as session:
            topics = await q.watched_topics(session)
        calls = 0
        for card, case in topics:
            move = move_for(TopicKind(card.kind), case.status)
            if move is None or card.chat_id in self.held:
                continue
            if move is not Move.FINISH:
                calls += 2
                self._calling(card.chat_id)
                if not await self._toggle(card, case, closing=move is Move.CLOSE):
                    continue
            kind = {
                Move.CLOSE: TopicKind.CLOSED,
                Move.REOPEN: TopicKind.OPEN,
                Move.FINISH: TopicKind.DONE,
            }[move]
            async with self.app.db.session() as session:
                await q.set_topic_kind(session, card_id=card.id or 0, kind=kind)
        return calls

    async def _toggle(self, card: CaseCard, case: Case, *, closing: bool) -> bool:
        name = topic_name(case.code, case.category, case.severity, closed=closing)
        try:
            with contextlib.suppress(TelegramAPIError):
                await self.bot.edit_forum_topic(card.chat_id, card.message_id, name=name)
            if closing:
                await self.bot.close_forum_topic(card.chat_id, card.message_id)
            else:
                await self.bot.reopen_forum_topic(card.chat_id, card.message_id)
        except TelegramRetryAfter as exc:
            self._wait(card.chat_id, exc.retry_after)
            return False
        except TelegramAPIError as exc:
            if "TOPIC_NOT_MODIFIED" not in str(exc):
                log.warning("topic %s of %s left as it is: %s", card.message_id, case.code, exc)
                return False
        return True


async def start_forum_keeper(app: AppContext, bot: Bot) -> Callable[[], Awaitable[None]] | None:
    """Run the keeper every INTERVAL seconds where the scheduler's jobs fire (one instance,
    the real clock); elsewhere (tests) nothing runs by itself."""
    if not (app.settings.run_scheduler and app.jobs_fire):
        return None
    keeper = ForumKeeper(app, bot)
    stop = asyncio.Event()

    async def loop() -> None:
        while not stop.is_set():
            try:
                await keeper.run()
            except Exception:
                log.exception("forum topics: this pass failed; the next one retries")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), INTERVAL)

    task = asyncio.create_task(loop())

    async def stopper() -> None:
        stop.set()
        await task

    return stopper
