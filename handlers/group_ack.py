"""One-tap acknowledgement (issue 16 pt 6): in a group where the bot is an administrator,
the assignee's 👍 on the case's group card counts as 签收.

Telegram sends `message_reaction` updates only to a bot that administers the group and asks
for them in allowed_updates; registering this handler puts "message_reaction" there (aiogram
resolves the used update types for polling, and bot/runners.py passes the same to
setWebhook). Everywhere else the card's 签收 button is how it is done, as before (it stays on
the card here too). The step goes through `services.cases.perform`, which re-authorises it:
anyone else's 👍, or one on a case no longer waiting for 签收, changes nothing and says nothing.
"""

from __future__ import annotations

import logging
from typing import Final

from aiogram import F, Router
from aiogram.types import MessageReactionUpdated, ReactionTypeEmoji
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.context import AppContext
from domain.cases import CaseAction
from domain.identity import Identity
from handlers.cases.common import tools
from services import cases as svc
from services.cases import Done
from storage.card_messages import case_of_card

ACK_EMOJI: Final = "👍"
log = logging.getLogger(__name__)


def router() -> Router:
    r = Router(name=__name__)
    r.message_reaction.register(reacted, F.chat.type.in_({"group", "supergroup"}))
    return r


def _thumbs(reactions: list[object]) -> bool:
    return any(isinstance(r, ReactionTypeEmoji) and r.emoji == ACK_EMOJI for r in reactions)


async def reacted(
    event: MessageReactionUpdated, session: AsyncSession, app: AppContext, me: Identity | None
) -> None:
    if me is None or not _thumbs(list(event.new_reaction)) or _thumbs(list(event.old_reaction)):
        return
    case_id = await case_of_card(session, chat_id=event.chat.id, message_id=event.message_id)
    if case_id is None:
        return
    cfg, texts = await tools(session, app)
    result = await svc.perform(
        session,
        case_id=case_id,
        actor=svc.actor_of(me),
        action=CaseAction.ACKNOWLEDGE,
        now=app.clock.now(),
        texts=texts,
        cfg=cfg,
    )
    if isinstance(result, Done):
        log.info("case %s acknowledged by a 👍 from person %s", case_id, me.person_id)
