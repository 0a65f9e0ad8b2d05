"""One-tap acknowledgement (issue 16 pt 6): in a group where the bot is an administrator,
the assignee's 👍 on the case's group card counts as 签收. For a case transferred to a
department, the department is the assignee: a 👍 on its card in the department's bound chat
is 部门签收, as the card's button there is (whoever speaks in that chat speaks for it).

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
from handlers.cases.common import actor_in, tools
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
    # An anonymous reaction (actor_chat, no user) is nobody's 签收.
    if event.user is None or event.user.is_bot:
        return
    if not _thumbs(list(event.new_reaction)) or _thumbs(list(event.old_reaction)):
        return
    case_id = await case_of_card(session, chat_id=event.chat.id, message_id=event.message_id)
    loaded = await svc.load(session, case_id) if case_id is not None else None
    if loaded is None:
        return
    actor, depts = await actor_in(session, me, event.chat.id, event.chat.type)
    department = loaded.case.assignee_department_id
    action, acting = CaseAction.ACKNOWLEDGE, None
    if department is not None and department in depts:
        action, acting = CaseAction.DEPT_ACKNOWLEDGE, department
    elif me is None:
        return
    cfg, texts = await tools(session, app)
    result = await svc.perform(
        session,
        case_id=loaded.case.id or 0,
        actor=actor,
        action=action,
        now=app.clock.now(),
        texts=texts,
        cfg=cfg,
        acting_department_id=acting,
    )
    if isinstance(result, Done):
        log.info("case %s: %s by a 👍 from %s", case_id, action.value, event.user.id)
