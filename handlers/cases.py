"""Case cards and every step of the closed loop; /case and /cases.

A press on a card is parsed here and handed to `services.cases.perform`, which re-authorises
it against the presser and the case as it is now. Steps that need more (a reason, a target,
a deadline, feedback with photos, a rating) continue as a short conversation: in the private
chat for a press in private or in a grid group, in the department's chat (replying to the
bot) for a department's feedback.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Final

from aiogram import Bot, F, Router, html
from aiogram.exceptions import TelegramAPIError, TelegramForbiddenError
from aiogram.filters import Command, CommandObject, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.fsm.storage.base import BaseStorage, StorageKey
from aiogram.types import (
    CallbackQuery,
    ForceReply,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
)
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.context import AppContext
from bot.i18n import LANGUAGES
from bot.render.cases import (
    CHANGE_DEADLINE,
    CaseBtn,
    CaseList,
    CasePick,
    CaseRender,
    rows_of,
)
from domain.cases import CaseAction, Rating, RejectReason, allowed_actions
from domain.identity import Identity
from domain.visibility import listed_subtrees, may_see
from services import cases as svc
from services import groups as groups_svc
from services.case_notify import build_view, department_actions, ordered
from services.cases import Done, Refused, StepInput
from storage import cases as q
from storage.models import Case, Department, Person

router: Final[Router] = Router(name=__name__)

PARAMLESS: Final = frozenset(
    {
        CaseAction.ACCEPT,
        CaseAction.ACKNOWLEDGE,
        CaseAction.VERIFY_PASS,
        CaseAction.APPROVE_EXTENSION,
        CaseAction.REFUSE_EXTENSION,
        CaseAction.DEPT_ACKNOWLEDGE,
        CaseAction.DEPT_RETURN,
    }
)
NOTE_ACTIONS: Final = frozenset({CaseAction.VERIFY_FAIL, CaseAction.ESCALATE, CaseAction.COMMENT})
FEEDBACK_ACTIONS: Final = frozenset({CaseAction.FEEDBACK, CaseAction.DEPT_FEEDBACK})
REJECT_REASONS: Final = tuple(RejectReason)
RATINGS: Final = tuple(Rating)
FILTERS: Final = ("all", "open", "ovd", "wait", "critical", "major", "general")


class Step(StatesGroup):
    choose = State()  # buttons only (reason, rating, target, deadline, extension length)
    note = State()  # a text (and for feedback, then photos)
    photos = State()


class NewDeadline(StatesGroup):
    """A leader moves the deadline of a case being handled: buttons or a typed date."""

    choose = State()


async def _tools(session: AsyncSession, app: AppContext) -> tuple[svc.Config, CaseRender]:
    cfg = await svc.load_config(session, default_language=app.settings.default_language)
    return cfg, CaseRender(app.translator, app.settings.default_language, cfg.tz)


def _kb(rows: list[list[InlineKeyboardButton]]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(inline_keyboard=rows)


def _pick(text: str, case_id: int, k: str, x: int = 0) -> InlineKeyboardButton:
    return InlineKeyboardButton(text=text, callback_data=CasePick(id=case_id, k=k, x=x).pack())


async def _departments(session: AsyncSession, chat_id: int, chat_type: str) -> frozenset[int]:
    """The departments bound to a group chat: a press or a command there speaks for them."""
    if chat_type == "private":
        return frozenset()
    return await q.departments_of_chat(session, chat_id)


async def _actor(session: AsyncSession, me: Identity | None, chat_id: int, chat_type: str) -> Any:
    depts = await _departments(session, chat_id, chat_type)
    return svc.actor_of(me, department_ids=depts), depts


async def _visible(
    session: AsyncSession, case_id: int, me: Identity | None, departments: frozenset[int]
) -> svc.Loaded | None:
    """The case, if whoever asks may see it; None when it is missing or hidden from them
    (one answer for both: ids are sequential, existence itself must not leak)."""
    loaded = await svc.load(session, case_id)
    if loaded is None or not may_see(loaded.facts, svc.viewer_of(me, department_ids=departments)):
        return None
    return loaded


async def _press_departments(session: AsyncSession, query: CallbackQuery) -> frozenset[int]:
    chat = query.message.chat if query.message is not None else None
    return await _departments(session, chat.id, chat.type) if chat else frozenset()


def _refusal_text(app: AppContext, language: str, reason: str) -> str:
    return app.t(svc.refusal_key(reason), language)


async def _private_state(
    fsm_storage: BaseStorage, bot: Bot, user_id: int, chat_id: int | None = None
) -> FSMContext:
    key = StorageKey(bot_id=bot.id, chat_id=chat_id or user_id, user_id=user_id)
    return FSMContext(storage=fsm_storage, key=key)


async def _ask_to_open_bot(
    session: AsyncSession, app: AppContext, query: CallbackQuery, chat_id: int, exc: Exception
) -> None:
    """A press in a group by someone the bot may not write to: asked there, with a deep link
    (an alert alone is gone in a moment and cannot carry the link)."""
    if chat_id < 0 and isinstance(exc, TelegramForbiddenError):
        await groups_svc.ask_to_open_bot(
            session,
            chat_id=chat_id,
            tg_id=query.from_user.id,
            name=query.from_user.full_name,
            cause=f"press:{query.id}",
            t=app.t,
            language=app.settings.default_language,
            deep_link=app.deep_link("open"),
            now=app.clock.now(),
        )


# --- presses on a card ----------------------------------------------------------------


@router.callback_query(CaseBtn.filter(), StateFilter("*"))
async def card_press(
    query: CallbackQuery,
    callback_data: CaseBtn,
    session: AsyncSession,
    app: AppContext,
    bot: Bot,
    fsm_storage: BaseStorage,
    me: Identity | None,
    language: str,
) -> None:
    message = query.message
    chat = message.chat if message is not None else None
    chat_id = chat.id if chat else query.from_user.id
    chat_type = chat.type if chat else "private"
    actor, depts = await _actor(session, me, chat_id, chat_type)
    loaded = await _visible(session, callback_data.id, me, depts)
    if loaded is None:
        await query.answer(app.t("cases.refused.not_visible", language), show_alert=True)
        return
    cfg, texts = await _tools(session, app)
    if callback_data.a == "h":
        await query.answer()
        await _send_history(bot, app, session, texts, loaded.case, query.from_user.id, language)
        return
    if callback_data.a == "o":
        await query.answer()
        await _send_card(bot, session, texts, loaded.case, query.from_user.id, me, language)
        return
    if callback_data.a == CHANGE_DEADLINE:
        await _start_new_deadline(
            query, callback_data, loaded, actor, bot, session, fsm_storage, app, texts, language
        )
        return
    if callback_data.a == "cm":
        action = CaseAction.COMMENT
    else:
        try:
            action = CaseAction(callback_data.a)
        except ValueError:
            await query.answer(app.t("error.stale_button", language), show_alert=True)
            return
    if action is not CaseAction.COMMENT and callback_data.v != loaded.version:
        await query.answer(app.t("cases.refused.stale", language), show_alert=True)
        return
    if action not in allowed_actions(loaded.facts, actor):
        probe = svc.decide_reason(loaded.facts, actor, action)
        await query.answer(_refusal_text(app, language, probe), show_alert=True)
        return
    acting_dept = loaded.case.assignee_department_id if action.value.startswith("d") else None
    if action in PARAMLESS:
        result = await svc.perform(
            session,
            case_id=loaded.case.id or 0,
            actor=actor,
            action=action,
            now=app.clock.now(),
            texts=texts,
            cfg=cfg,
            version=callback_data.v,
            acting_department_id=acting_dept,
        )
        await _answer_result(query, app, language, result)
        return
    # A step with parameters: continue as a short conversation.
    in_dept_chat = chat_type != "private" and bool(depts)
    flow_chat = chat_id if chat_type == "private" or in_dept_chat else query.from_user.id
    state = await _private_state(fsm_storage, bot, query.from_user.id, flow_chat)
    await state.set_state(Step.choose)
    await state.set_data(
        {
            "case_id": loaded.case.id,
            "action": action.value,
            "v": loaded.version,
            "params": {},
            "dept": acting_dept,
            "photos": [],
        }
    )
    try:
        await _open_step(
            bot,
            flow_chat,
            state,
            session,
            app,
            texts,
            loaded.case,
            action,
            language,
            group=in_dept_chat,
        )
    except TelegramAPIError as exc:
        await state.clear()
        await query.answer(app.t("cases.start_private_first", language), show_alert=True)
        await _ask_to_open_bot(session, app, query, chat_id, exc)
        return
    await query.answer(app.t("cases.continue_private", language) if flow_chat != chat_id else None)


async def _answer_result(
    query: CallbackQuery, app: AppContext, language: str, result: Done | Refused
) -> None:
    if isinstance(result, Refused):
        await query.answer(_refusal_text(app, language, result.reason), show_alert=True)
    else:
        await query.answer(
            app.t(
                "cases.done",
                language,
                what=app.t(f"cases.event.{result.transition.event.value}", language),
            )
        )


async def _open_step(
    bot: Bot,
    chat_id: int,
    state: FSMContext,
    session: AsyncSession,
    app: AppContext,
    texts: CaseRender,
    case: Case,
    action: CaseAction,
    language: str,
    *,
    group: bool = False,
) -> None:
    cid = case.id or 0
    head = app.t(
        "cases.step_head",
        language,
        code=case.code,
        what=app.t(f"cases.btn.{action.value}", language),
    )
    if action is CaseAction.REJECT:
        rows = [
            [_pick(app.t(f"cases.reject.{r.value}", language), cid, "rj", i)]
            for i, r in enumerate(REJECT_REASONS)
        ]
        await bot.send_message(
            chat_id, head + "\n" + app.t("cases.ask_reject", language), reply_markup=_kb(rows)
        )
    elif action is CaseAction.RATE:
        buttons = [
            _pick(app.t(f"cases.rating.{r.value}", language), cid, "rt", i)
            for i, r in enumerate(RATINGS)
        ]
        await bot.send_message(
            chat_id, head + "\n" + app.t("cases.ask_rating", language), reply_markup=_kb([buttons])
        )
    elif action is CaseAction.REQUEST_EXTENSION:
        buttons = [
            _pick(app.t("cases.ext_days", language, days=h // 24), cid, "eh", h)
            for h in svc.EXTENSION_CHOICES
        ]
        await bot.send_message(
            chat_id,
            head + "\n" + app.t("cases.ask_extension", language),
            reply_markup=_kb([buttons]),
        )
    elif action is CaseAction.ASSIGN:
        await _send_targets(bot, chat_id, session, app, case, language, page=0, head=head)
    elif action is CaseAction.TRANSFER:
        await _send_departments(bot, chat_id, session, app, case, language, head=head)
    else:
        await state.set_state(Step.note)
        key = (
            "cases.ask_feedback" if action in FEEDBACK_ACTIONS else f"cases.ask_note.{action.value}"
        )
        await bot.send_message(
            chat_id,
            head + "\n" + app.t(key, language, limit=svc.MAX_NOTE),
            reply_markup=ForceReply(selective=True) if group else None,
        )


async def _send_targets(
    bot: Bot,
    chat_id: int,
    session: AsyncSession,
    app: AppContext,
    case: Case,
    language: str,
    *,
    page: int,
    head: str = "",
) -> None:
    from storage.models import Grid

    grid = await session.get(Grid, case.grid_id)
    assert grid is not None
    cid = case.id or 0
    members, total = await q.members_in_subtree(
        session, path=grid.path, offset=page * q.PAGE_SIZE, limit=q.PAGE_SIZE
    )
    rows = [
        [_pick(f"{m.name}·{m.grid_name}·{m.role_label}", cid, "p", m.person_id)] for m in members
    ]
    nav = []
    if page > 0:
        nav.append(_pick("‹", cid, "pg", page - 1))
    if (page + 1) * q.PAGE_SIZE < total:
        nav.append(_pick("›", cid, "pg", page + 1))
    if nav:
        rows.append(nav)
    rows.append([_pick(app.t("cases.to_department", language), cid, "dl", 0)])
    text = (head + "\n" if head else "") + app.t("cases.ask_assignee", language)
    await bot.send_message(chat_id, text, reply_markup=_kb(rows))


async def _send_departments(
    bot: Bot,
    chat_id: int,
    session: AsyncSession,
    app: AppContext,
    case: Case,
    language: str,
    *,
    head: str = "",
) -> None:
    cid = case.id or 0
    depts = await q.live_departments(session)
    rows = [[_pick(d.name, cid, "d", d.id or 0)] for d in depts]
    text = (head + "\n" if head else "") + app.t("cases.ask_department", language)
    await bot.send_message(chat_id, text, reply_markup=_kb(rows))


async def _send_deadline(
    bot: Bot,
    chat_id: int,
    app: AppContext,
    texts: CaseRender,
    case: Case,
    deadline: datetime,
    language: str,
) -> None:
    cid = case.id or 0
    rows = [
        [_pick("-1", cid, "dd", -1), _pick("+1", cid, "dd", 1), _pick("+7", cid, "dd", 7)],
        [_pick(app.t("cases.confirm", language), cid, "ok", 0)],
    ]
    await bot.send_message(
        chat_id,
        app.t("cases.ask_deadline", language, when=texts.when(deadline)),
        reply_markup=_kb(rows),
    )


# --- changing the deadline (限期整改) ---------------------------------------------------


async def _start_new_deadline(
    query: CallbackQuery,
    callback_data: CaseBtn,
    loaded: svc.Loaded,
    actor: Any,
    bot: Bot,
    session: AsyncSession,
    fsm_storage: BaseStorage,
    app: AppContext,
    texts: CaseRender,
    language: str,
) -> None:
    if callback_data.v != loaded.version:
        await query.answer(app.t("cases.refused.stale", language), show_alert=True)
        return
    refusal = svc.deadline_change_refusal(loaded.facts, actor)
    if refusal is not None:
        await query.answer(_refusal_text(app, language, refusal), show_alert=True)
        return
    chat_id = query.message.chat.id if query.message else query.from_user.id
    flow_chat = query.from_user.id  # always in private, whatever chat the card is in
    state = await _private_state(fsm_storage, bot, query.from_user.id, flow_chat)
    current = loaded.case.deadline_at or app.clock.now()
    await state.set_state(NewDeadline.choose)
    await state.set_data(
        {"case_id": loaded.case.id, "v": loaded.version, "deadline": current.isoformat()}
    )
    try:
        text, markup = _new_deadline_view(app, texts, loaded.case, current, language)
        await bot.send_message(flow_chat, text, reply_markup=markup)
    except TelegramAPIError as exc:
        await state.clear()
        await query.answer(app.t("cases.start_private_first", language), show_alert=True)
        await _ask_to_open_bot(session, app, query, chat_id, exc)
        return
    await query.answer(app.t("cases.continue_private", language) if flow_chat != chat_id else None)


def _new_deadline_view(
    app: AppContext, texts: CaseRender, case: Case, deadline: datetime, language: str
) -> tuple[str, InlineKeyboardMarkup]:
    cid = case.id or 0
    rows = [
        [_pick("-1", cid, "nd", -1), _pick("+1", cid, "nd", 1), _pick("+7", cid, "nd", 7)],
        [_pick(app.t("cases.confirm", language), cid, "nok", 0)],
    ]
    text = app.t(
        "cases.ask_new_deadline",
        language,
        code=case.code,
        current=texts.when(case.deadline_at),
        new=texts.when(deadline),
    )
    return text, _kb(rows)


@router.callback_query(CasePick.filter(F.k.in_({"nd", "nok"})), NewDeadline.choose)
async def new_deadline_pick(
    query: CallbackQuery,
    callback_data: CasePick,
    state: FSMContext,
    session: AsyncSession,
    app: AppContext,
    me: Identity | None,
    language: str,
) -> None:
    data = await state.get_data()
    if data.get("case_id") != callback_data.id:
        await query.answer(app.t("error.stale_button", language), show_alert=True)
        return
    loaded = await _visible(session, callback_data.id, me, frozenset())
    if loaded is None:
        await state.clear()
        await query.answer(app.t("cases.refused.not_visible", language), show_alert=True)
        return
    case = loaded.case
    cfg, texts = await _tools(session, app)
    deadline = datetime.fromisoformat(data["deadline"])
    if callback_data.k == "nd":
        moved = deadline + timedelta(days=callback_data.x)
        if svc.check_deadline(moved, app.clock.now()) is not None:
            await query.answer(app.t("cases.refused.bad_deadline", language), show_alert=True)
            return
        await state.update_data(deadline=moved.isoformat())
        await query.answer(texts.when(moved))
        if isinstance(query.message, Message):
            text, markup = _new_deadline_view(app, texts, case, moved, language)
            await query.message.edit_text(text, reply_markup=markup)
        return
    actor, _depts = await _actor(session, me, query.from_user.id, "private")
    result = await svc.change_deadline(
        session,
        case_id=callback_data.id,
        actor=actor,
        deadline=deadline,
        now=app.clock.now(),
        texts=texts,
        cfg=cfg,
        version=int(data.get("v") or 0),
    )
    await state.clear()
    if isinstance(result, Refused):
        await query.answer(_refusal_text(app, language, result.reason), show_alert=True)
        return
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.edit_reply_markup(reply_markup=None)
        await query.message.answer(
            app.t(
                "cases.deadline_changed",
                language,
                code=result.case.code,
                when=texts.when(result.new),
            )
        )


@router.message(NewDeadline.choose, F.text, ~F.text.startswith("/"))
async def new_deadline_typed(
    message: Message,
    state: FSMContext,
    session: AsyncSession,
    app: AppContext,
    language: str,
) -> None:
    data = await state.get_data()
    case = await session.get(Case, int(data.get("case_id") or 0))
    if case is None:
        await state.clear()
        await message.answer(app.t("cases.refused.no_case", language))
        return
    cfg, texts = await _tools(session, app)
    typed = svc.parse_deadline_date(message.text or "", current=case.deadline_at, tz=cfg.tz)
    if typed is None:
        await message.answer(app.t("cases.deadline_date_bad", language))
        return
    if svc.check_deadline(typed, app.clock.now()) is not None:
        await message.answer(app.t("cases.refused.bad_deadline", language))
        return
    await state.update_data(deadline=typed.isoformat())
    text, markup = _new_deadline_view(app, texts, case, typed, language)
    await message.answer(text, reply_markup=markup)


@router.message(NewDeadline.choose, ~F.text.startswith("/"))
async def new_deadline_expected(message: Message, app: AppContext, language: str) -> None:
    await message.answer(app.t("cases.deadline_date_bad", language))


# --- choices inside a step ------------------------------------------------------------


@router.callback_query(CasePick.filter(), StateFilter(Step))
async def step_pick(
    query: CallbackQuery,
    callback_data: CasePick,
    state: FSMContext,
    session: AsyncSession,
    app: AppContext,
    bot: Bot,
    me: Identity | None,
    language: str,
) -> None:
    data = await state.get_data()
    if data.get("case_id") != callback_data.id:
        await query.answer(app.t("error.stale_button", language), show_alert=True)
        return
    loaded = await _visible(session, callback_data.id, me, await _press_departments(session, query))
    if loaded is None:  # moved out of their sight since the step began (escalated, reassigned)
        await state.clear()
        await query.answer(app.t("cases.refused.not_visible", language), show_alert=True)
        return
    case = loaded.case
    cfg, texts = await _tools(session, app)
    action = CaseAction(data["action"])
    params: dict[str, Any] = dict(data.get("params") or {})
    chat_id = query.message.chat.id if query.message else query.from_user.id
    k, x = callback_data.k, callback_data.x
    if k == "rj" and action is CaseAction.REJECT and 0 <= x < len(REJECT_REASONS):
        params["reason"] = REJECT_REASONS[x].value
        await _finish(query, state, session, app, me, cfg, texts, data, params, language)
        return
    if k == "rt" and action is CaseAction.RATE and 0 <= x < len(RATINGS):
        params["rating"] = RATINGS[x].value
        await _finish(query, state, session, app, me, cfg, texts, data, params, language)
        return
    if k == "eh" and action is CaseAction.REQUEST_EXTENSION and x in svc.EXTENSION_CHOICES:
        params["extension_hours"] = x
        await state.update_data(params=params)
        await state.set_state(Step.note)
        await query.answer()
        await bot.send_message(chat_id, app.t("cases.ask_note.ext", language, limit=svc.MAX_NOTE))
        return
    if k == "pg" and action is CaseAction.ASSIGN:
        await query.answer()
        await _send_targets(bot, chat_id, session, app, case, language, page=max(x, 0))
        return
    if k == "dl" and action is CaseAction.ASSIGN:
        await query.answer()
        await _send_departments(bot, chat_id, session, app, case, language)
        return
    if k in ("p", "d") and action in (CaseAction.ASSIGN, CaseAction.TRANSFER):
        if k == "p" and action is CaseAction.TRANSFER:
            await query.answer(app.t("error.stale_button", language), show_alert=True)
            return
        params = {"assignee_person_id": x} if k == "p" else {"department_id": x}
        deadline = case.deadline_at or app.clock.now()
        params["deadline"] = deadline.isoformat()
        await state.update_data(params=params)
        await query.answer()
        await _send_deadline(bot, chat_id, app, texts, case, deadline, language)
        return
    if k == "dd" and "deadline" in params:
        deadline = datetime.fromisoformat(params["deadline"]) + timedelta(days=x)
        if deadline <= app.clock.now():
            await query.answer(app.t("cases.refused.bad_deadline", language), show_alert=True)
            return
        params["deadline"] = deadline.isoformat()
        await state.update_data(params=params)
        await query.answer(texts.when(deadline))
        await _send_deadline(bot, chat_id, app, texts, case, deadline, language)
        return
    if k == "ok" and "deadline" in params:
        await _finish(query, state, session, app, me, cfg, texts, data, params, language)
        return
    if k == "done" and action in FEEDBACK_ACTIONS:
        await _finish(query, state, session, app, me, cfg, texts, data, params, language)
        return
    await query.answer(app.t("error.stale_button", language), show_alert=True)


@router.message(Step.note, F.text, ~F.text.startswith("/"))
async def step_note(
    message: Message,
    state: FSMContext,
    session: AsyncSession,
    app: AppContext,
    me: Identity | None,
    language: str,
) -> None:
    text = message.text or ""
    if len(text) > svc.MAX_NOTE:
        await message.answer(app.t("cases.refused.note_too_long", language, limit=svc.MAX_NOTE))
        return
    data = await state.get_data()
    params = dict(data.get("params") or {})
    params["note"] = text
    action = CaseAction(data["action"])
    if action in FEEDBACK_ACTIONS:
        await state.update_data(params=params)
        await state.set_state(Step.photos)
        await message.answer(
            app.t("cases.ask_feedback_photos", language, limit=svc.MAX_PHOTOS),
            reply_markup=_kb([[_pick(app.t("cases.finish", language), data["case_id"], "done")]]),
        )
        return
    cfg, texts = await _tools(session, app)
    result = await _perform(
        session, app, me, message.chat.id, message.chat.type, cfg, texts, data, params
    )
    await state.clear()
    await message.answer(_result_text(app, language, result))


@router.message(Step.note, F.photo)
async def step_note_photo(
    message: Message,
    state: FSMContext,
    session: AsyncSession,
    app: AppContext,
    me: Identity | None,
    language: str,
) -> None:
    """A photo with a caption answers a comment or feedback as well."""
    data = await state.get_data()
    action = CaseAction(data["action"])
    if action not in FEEDBACK_ACTIONS and action is not CaseAction.COMMENT:
        await message.answer(app.t("cases.note_wrong", language))
        return
    assert message.photo
    params = dict(data.get("params") or {})
    params["note"] = message.caption or ""
    params["photos"] = [message.photo[-1].file_id]
    if action in FEEDBACK_ACTIONS:
        await state.update_data(params=params)
        await state.set_state(Step.photos)
        await message.answer(
            app.t("cases.photo_ok", language, n=1, limit=svc.MAX_PHOTOS),
            reply_markup=_kb([[_pick(app.t("cases.finish", language), data["case_id"], "done")]]),
        )
        return
    cfg, texts = await _tools(session, app)
    result = await _perform(
        session, app, me, message.chat.id, message.chat.type, cfg, texts, data, params
    )
    await state.clear()
    await message.answer(_result_text(app, language, result))


@router.message(Step.note, ~F.text.startswith("/"))
async def step_note_wrong(message: Message, app: AppContext, language: str) -> None:
    await message.answer(app.t("cases.note_wrong", language))


@router.message(Step.photos, F.photo)
async def step_photo(message: Message, state: FSMContext, app: AppContext, language: str) -> None:
    assert message.photo
    data = await state.get_data()
    params = dict(data.get("params") or {})
    photos = list(params.get("photos") or [])
    if len(photos) >= svc.MAX_PHOTOS:
        await message.answer(app.t("report.photos_full", language, limit=svc.MAX_PHOTOS))
        return
    photos.append(message.photo[-1].file_id)
    params["photos"] = photos
    await state.update_data(params=params)
    if message.media_group_id is None or len(photos) == 1:
        await message.answer(
            app.t("cases.photo_ok", language, n=len(photos), limit=svc.MAX_PHOTOS),
            reply_markup=_kb([[_pick(app.t("cases.finish", language), data["case_id"], "done")]]),
        )


@router.message(Step.photos, ~F.text.startswith("/"))
@router.message(Step.choose, ~F.text.startswith("/"))
async def step_use_buttons(message: Message, app: AppContext, language: str) -> None:
    await message.answer(app.t("report.use_buttons", language))


async def _perform(
    session: AsyncSession,
    app: AppContext,
    me: Identity | None,
    chat_id: int,
    chat_type: str,
    cfg: svc.Config,
    texts: CaseRender,
    data: dict[str, Any],
    params: dict[str, Any],
) -> Done | Refused:
    actor, _depts = await _actor(session, me, chat_id, chat_type)
    action = CaseAction(data["action"])
    if action.value.startswith("d") and data.get("dept") is not None:
        # The department step began in the department's chat and continues there.
        actor = svc.actor_of(me, department_ids=frozenset({int(data["dept"])}))
    deadline = params.get("deadline")
    step = StepInput(
        assignee_person_id=params.get("assignee_person_id"),
        department_id=params.get("department_id"),
        reason=RejectReason(params["reason"]) if params.get("reason") else None,
        rating=Rating(params["rating"]) if params.get("rating") else None,
        note=params.get("note"),
        photos=tuple(params.get("photos") or ()),
        deadline_at=datetime.fromisoformat(deadline) if deadline else None,
        extension_hours=params.get("extension_hours"),
    )
    if action is CaseAction.ASSIGN and step.department_id is not None:
        # Handing a case to a department is a transfer (移交), with its written record.
        action = CaseAction.TRANSFER
    return await svc.perform(
        session,
        case_id=int(data["case_id"]),
        actor=actor,
        action=action,
        now=app.clock.now(),
        texts=texts,
        cfg=cfg,
        params=step,
        version=int(data["v"]) if action is not CaseAction.COMMENT else None,
        acting_department_id=data.get("dept"),
    )


def _result_text(app: AppContext, language: str, result: Done | Refused) -> str:
    if isinstance(result, Refused):
        return _refusal_text(app, language, result.reason)
    return app.t(
        "cases.done_code",
        language,
        code=result.case.code,
        what=app.t(f"cases.event.{result.transition.event.value}", language),
        status=app.t(f"cases.status.{result.case.status}", language),
    )


async def _finish(
    query: CallbackQuery,
    state: FSMContext,
    session: AsyncSession,
    app: AppContext,
    me: Identity | None,
    cfg: svc.Config,
    texts: CaseRender,
    data: dict[str, Any],
    params: dict[str, Any],
    language: str,
) -> None:
    chat = query.message.chat if query.message else None
    result = await _perform(
        session,
        app,
        me,
        chat.id if chat else query.from_user.id,
        chat.type if chat else "private",
        cfg,
        texts,
        data,
        params,
    )
    await state.clear()
    await _answer_result(query, app, language, result)
    if query.message is not None and query.bot is not None:
        await query.bot.send_message(query.message.chat.id, _result_text(app, language, result))


# --- reading: a card, the history, lists ----------------------------------------------


async def _send_card(
    bot: Bot,
    session: AsyncSession,
    texts: CaseRender,
    case: Case,
    chat_id: int,
    me: Identity | None,
    language: str,
) -> None:
    view = await build_view(session, case)
    from services.cases import facts_of

    actor = svc.actor_of(me)
    actions = ordered(allowed_actions(facts_of(case, view.grid), actor)) if me else []
    actions = [a for a in actions if a is not CaseAction.COMMENT and not a.value.startswith("d")]
    text, _ = texts.card(view, actions, language)
    await bot.send_message(chat_id, text, reply_markup=texts.card_markup(view, actions, language))


async def _send_history(
    bot: Bot,
    app: AppContext,
    session: AsyncSession,
    texts: CaseRender,
    case: Case,
    chat_id: int,
    language: str,
) -> None:
    await bot.send_message(chat_id, await _history_text(session, texts, case, language))


async def _history_text(session: AsyncSession, texts: CaseRender, case: Case, language: str) -> str:
    events = await q.events_of(session, case.id or 0)
    people = await q.people_by_id(session, [e.actor_id for e in events])
    depts = {d.id: d.name for d in await q.live_departments(session)}
    lines = [texts.t("cases.history_title", language, code=case.code)]
    for e in events:
        who = people[e.actor_id].name if e.actor_id in people else depts.get(e.actor_department_id)
        lines.append(texts.event_line(e, who, language))
    text = "\n".join(lines)
    return text if len(text) <= 4000 else text[:3990] + "\n…"


@router.message(Command("case"), StateFilter("*"))
async def show_case(
    message: Message,
    command: CommandObject,
    session: AsyncSession,
    app: AppContext,
    bot: Bot,
    me: Identity | None,
    language: str,
) -> None:
    code = (command.args or "").strip()
    if not code:
        await message.answer(app.t("cases.case_usage", language))
        return
    found = await q.case_by_code(session, code)
    depts = await _departments(session, message.chat.id, message.chat.type)
    loaded = await _visible(session, found.id or 0, me, depts) if found is not None else None
    if loaded is None:
        await message.answer(app.t("cases.not_found", language, code=html.quote(code)))
        return
    case = loaded.case
    _cfg, texts = await _tools(session, app)
    await _send_card(
        bot,
        session,
        texts,
        case,
        message.chat.id,
        me if message.chat.type == "private" else None,
        language,
    )
    await message.answer(await _history_text(session, texts, case, language))


FILTER_WORDS: Final[dict[str, str]] = {
    "未结": "open",
    "未结案": "open",
    "未办结": "open",
    "逾期": "ovd",
    "超期": "ovd",
    "待我处理": "wait",
    "待办": "wait",
    "待处理": "wait",
    "重大": "critical",
    "较大": "major",
    "一般": "general",
    "全部": "all",
}
"""Chinese words /cases accepts besides the codes (and every language's filter labels)."""


def filter_of(args: str, app: AppContext) -> str:
    """The /cases filter a typed word names: a code (open, ovd ...), a Chinese word (未结, 逾期,
    待我处理, 一般/较大/重大) or a filter's label in any language; "all" otherwise."""
    word = args.strip().lower()
    if word in FILTERS:
        return word
    if word in FILTER_WORDS:
        return FILTER_WORDS[word]
    for language in LANGUAGES:
        for f in FILTERS:
            if word == app.t(f"cases.filter.{f}", language).strip().lower():
                return f
    return "all"


@router.message(Command("cases"), StateFilter("*"))
async def list_cases(
    message: Message,
    command: CommandObject,
    session: AsyncSession,
    app: AppContext,
    me: Identity | None,
    language: str,
) -> None:
    if me is None or not me.holdings:
        await message.answer(app.t("report.not_member", language))
        return
    flt = filter_of(command.args or "", app)
    text, markup = await _cases_page(session, app, me, language, flt, 0)
    await message.answer(text, reply_markup=markup)


@router.callback_query(CaseList.filter(), StateFilter("*"))
async def list_cases_page(
    query: CallbackQuery,
    callback_data: CaseList,
    session: AsyncSession,
    app: AppContext,
    me: Identity | None,
    language: str,
) -> None:
    if me is None or callback_data.f not in FILTERS or not isinstance(query.message, Message):
        await query.answer(app.t("error.stale_button", language), show_alert=True)
        return
    text, markup = await _cases_page(
        session, app, me, language, callback_data.f, max(callback_data.p, 0)
    )
    await query.answer()
    await query.message.edit_text(text, reply_markup=markup)


async def _cases_page(
    session: AsyncSession, app: AppContext, me: Identity, language: str, flt: str, page: int
) -> tuple[str, InlineKeyboardMarkup]:
    now = app.clock.now()
    cfg, texts = await _tools(session, app)
    del cfg
    size = q.PAGE_SIZE
    if flt == "wait":
        waiting = await svc.cases_waiting_for(session, me, now)
        total = len(waiting)
        rows = [w.case for w in waiting[page * size : (page + 1) * size]]
    else:
        subtrees = listed_subtrees(h.grid_path for h in me.holdings)
        paths = ["/" + "/".join(str(i) for i in p) + "/" for p in subtrees]
        statuses: tuple[str, ...] = ()
        if flt == "open":
            from domain.cases import OPEN

            statuses = tuple(s.value for s in OPEN)
        severity = flt if flt in ("critical", "major", "general") else None
        rows, total = await q.cases_in_subtrees(
            session,
            paths=paths,
            flt=q.CaseFilter(statuses=statuses, severity=severity, overdue=flt == "ovd"),
            now=now,
            offset=page * size,
            limit=size,
        )
    rows = await svc.seen_cases(session, svc.viewer_of(me), rows)
    lines = [
        app.t(
            "cases.list_title", language, filter=app.t(f"cases.filter.{flt}", language), total=total
        )
    ]
    lines += [_case_line(app, texts, c, language, now) for c in rows]
    if not rows:
        lines.append(app.t("cases.list_empty", language))
    filters = [
        InlineKeyboardButton(
            text=("• " if f == flt else "") + app.t(f"cases.filter.{f}", language),
            callback_data=CaseList(f=f, p=0).pack(),
        )
        for f in FILTERS
    ]
    kb = rows_of(filters, 4)
    nav = []
    if page > 0:
        nav.append(InlineKeyboardButton(text="‹", callback_data=CaseList(f=flt, p=page - 1).pack()))
    if (page + 1) * size < total:
        nav.append(InlineKeyboardButton(text="›", callback_data=CaseList(f=flt, p=page + 1).pack()))
    if nav:
        kb.append(nav)
    kb += [
        [InlineKeyboardButton(text=c.code, callback_data=CaseBtn(id=c.id or 0, a="o").pack())]
        for c in rows
    ]
    return "\n".join(lines), _kb(kb)


def _case_line(app: AppContext, texts: CaseRender, case: Case, language: str, now: datetime) -> str:
    overdue = (
        case.deadline_at is not None
        and case.deadline_at < now
        and case.status in ("assigned", "in_progress", "transferred")
    )
    return app.t(
        "cases.list_line",
        language,
        code=case.code,
        severity=texts.severity(case.severity, language),
        status=texts.status(case.status, language),
        category=html.quote(case.category),
        deadline=texts.when(case.deadline_at),
        overdue=app.t("cases.overdue_mark", language) if overdue else "",
    )


async def render_waiting(
    session: AsyncSession, app: AppContext, me: Identity, language: str, now: datetime
) -> tuple[str, list[list[InlineKeyboardButton]]]:
    """The cases part of /my: what waits for the person, nearest deadline first."""
    waiting = await svc.cases_waiting_for(session, me, now)
    _cfg, texts = await _tools(session, app)
    if not waiting:
        return app.t("cases.my_none", language), []
    lines = [app.t("cases.my_title", language, n=len(waiting))]
    buttons: list[list[InlineKeyboardButton]] = []
    for w in waiting[:20]:
        todo = "、".join(app.t(f"cases.btn.{a.value}", language) for a in ordered(w.actions))
        lines.append(_case_line(app, texts, w.case, language, now) + " — " + todo)
        buttons.append(
            [
                InlineKeyboardButton(
                    text=w.case.code, callback_data=CaseBtn(id=w.case.id or 0, a="o").pack()
                )
            ]
        )
    return "\n".join(lines), buttons


__all__ = ["Department", "Person", "department_actions", "render_waiting", "router"]
