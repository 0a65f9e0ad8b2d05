"""The questions of a case step's conversation and their buttons (handlers/cases/steps.py,
handlers/cases/deadline.py): reasons, ratings, extension lengths, people and departments to
assign to, the deadline being set or changed."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Final

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from bot.context import AppContext
from bot.render.case_buttons import CasePick, CaseSure, CaseUnsure, StepChoice
from bot.render.cases import CaseRender
from domain.cases import CaseAction, Rating, RejectReason
from domain.labels import person_label
from domain.typed_dates import DateProblem
from services import cases as svc
from storage.cases import MemberChoice
from storage.models import Case, Department

REJECT_REASONS: Final = tuple(RejectReason)
RATINGS: Final = tuple(Rating)
FEEDBACK_ACTIONS: Final = frozenset({CaseAction.FEEDBACK, CaseAction.DEPT_FEEDBACK})
CONFIRMED_ACTIONS: Final = frozenset({CaseAction.VERIFY_PASS, CaseAction.REJECT})
"""Steps that cannot be undone: asked once before they are taken."""

Question = tuple[str, InlineKeyboardMarkup | None]


def pick(text: str, case_id: int, k: StepChoice, x: int = 0) -> InlineKeyboardButton:
    return InlineKeyboardButton(text=text, callback_data=CasePick(id=case_id, k=k, x=x).pack())


def keyboard(rows: list[list[InlineKeyboardButton]]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(inline_keyboard=rows)


def step_head(app: AppContext, language: str, case: Case, action: CaseAction) -> str:
    what = app.t(f"cases.btn.{action.value}", language)
    return app.t("cases.step_head", language, code=case.code, what=what)


def choice_question(
    app: AppContext, language: str, case: Case, action: CaseAction
) -> Question | None:
    """The first question of a step chosen by a button; None for steps that start otherwise."""
    cid = case.id or 0
    head = step_head(app, language, case, action) + "\n"
    if action is CaseAction.REJECT:
        rows = [
            [pick(app.t(f"cases.reject.{r.value}", language), cid, StepChoice.REASON, i)]
            for i, r in enumerate(REJECT_REASONS)
        ]
        return head + app.t("cases.ask_reject", language), keyboard(rows)
    if action is CaseAction.RATE:
        buttons = [
            pick(app.t(f"cases.rating.{r.value}", language), cid, StepChoice.RATING, i)
            for i, r in enumerate(RATINGS)
        ]
        return head + app.t("cases.ask_rating", language), keyboard([buttons])
    if action is CaseAction.REQUEST_EXTENSION:
        buttons = [
            pick(app.t("cases.ext_days", language, days=h // 24), cid, StepChoice.EXTENSION, h)
            for h in svc.EXTENSION_CHOICES
        ]
        return head + app.t("cases.ask_extension", language), keyboard([buttons])
    return None


def note_question(app: AppContext, language: str, case: Case, action: CaseAction) -> str:
    key = "cases.ask_feedback" if action in FEEDBACK_ACTIONS else f"cases.ask_note.{action.value}"
    return step_head(app, language, case, action) + "\n" + app.t(key, language, limit=svc.MAX_NOTE)


def targets_question(
    app: AppContext,
    language: str,
    case_id: int,
    members: Sequence[MemberChoice],
    *,
    page: int,
    more: bool,
    head: str = "",
) -> Question:
    """A page of the people the case may be assigned to, and "to a department"."""
    rows = [
        [
            pick(
                person_label(m.grid_name, m.role_label, m.name),
                case_id,
                StepChoice.PERSON,
                m.person_id,
            )
        ]
        for m in members
    ]
    nav = []
    if page > 0:
        nav.append(pick("‹", case_id, StepChoice.PAGE, page - 1))
    if more:
        nav.append(pick("›", case_id, StepChoice.PAGE, page + 1))
    if nav:
        rows.append(nav)
    rows.append([pick(app.t("cases.to_department", language), case_id, StepChoice.DEPARTMENTS)])
    return _headed(head, app.t("cases.ask_assignee", language)), keyboard(rows)


def departments_question(
    app: AppContext, language: str, case_id: int, departments: Sequence[Department], head: str = ""
) -> Question:
    rows = [[pick(d.name, case_id, StepChoice.DEPARTMENT, d.id or 0)] for d in departments]
    return _headed(head, app.t("cases.ask_department", language)), keyboard(rows)


def deadline_question(
    app: AppContext,
    texts: CaseRender,
    language: str,
    case_id: int,
    deadline: datetime,
    *,
    transfer: bool = False,
) -> Question:
    """The deadline of an assignment or a transfer (移交: its 说明 is asked next): days back
    and forth, then confirm."""
    rows = [
        [
            pick("-1", case_id, StepChoice.DAYS, -1),
            pick("+1", case_id, StepChoice.DAYS, 1),
            pick("+7", case_id, StepChoice.DAYS, 7),
        ],
        [pick(app.t("cases.confirm", language), case_id, StepChoice.CONFIRM)],
    ]
    key = "cases.ask_deadline_transfer" if transfer else "cases.ask_deadline"
    text = app.t(key, language, when=texts.when(deadline))
    return text + "\n" + app.t("deadline.type_hint", language), keyboard(rows)


def new_deadline_question(
    app: AppContext, texts: CaseRender, language: str, case: Case, deadline: datetime
) -> tuple[str, InlineKeyboardMarkup]:
    """A leader moving the deadline of a case being handled: the current one and the new."""
    cid = case.id or 0
    rows = [
        [
            pick("-1", cid, StepChoice.NEW_DAYS, -1),
            pick("+1", cid, StepChoice.NEW_DAYS, 1),
            pick("+7", cid, StepChoice.NEW_DAYS, 7),
        ],
        [pick(app.t("cases.confirm", language), cid, StepChoice.NEW_CONFIRM)],
    ]
    text = app.t(
        "cases.ask_new_deadline",
        language,
        code=case.code,
        current=texts.when(case.deadline_at),
        new=texts.when(deadline),
    )
    return text, keyboard(rows)


def typed_problem(app: AppContext, language: str, problem: DateProblem) -> str:
    """Why a typed deadline was refused, and what is accepted."""
    return (
        app.t(f"deadline.typed.{problem.value}", language)
        + "\n"
        + app.t("deadline.examples", language)
    )


def confirm_question(
    app: AppContext,
    language: str,
    case: Case,
    action: CaseAction,
    version: int,
    reason: RejectReason | None = None,
) -> Question:
    """An irreversible step (核查通过, 不予立案) asked once: confirm, or back."""
    cid = case.id or 0
    why = app.t(f"cases.reject.{reason.value}", language) if reason else ""
    text = app.t(f"cases.sure.{action.value}", language, code=case.code, reason=why)
    sure = CaseSure(id=cid, a=action, v=version, r=reason).pack()
    back = CaseUnsure(id=cid, a=action).pack()
    row = [
        InlineKeyboardButton(
            text=app.t(f"cases.sure.yes.{action.value}", language), callback_data=sure
        ),
        InlineKeyboardButton(text=app.t("cases.sure.back", language), callback_data=back),
    ]
    return text, keyboard([row])


def finish_button(app: AppContext, language: str, case_id: int) -> InlineKeyboardMarkup:
    """Feedback: no more photos."""
    return keyboard([[pick(app.t("cases.finish", language), case_id, StepChoice.DONE)]])


def _headed(head: str, question: str) -> str:
    return (head + "\n" if head else "") + question
