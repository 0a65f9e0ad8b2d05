"""Case cards and their keyboards, and the hand-off's headline above a card. The texts that
record what happened (the ledger's lines, notices, the 移交单) are `CaseRecords`
(`bot/render/case_records.py`), which `CaseRender` builds on.

The buttons' callback data are in `bot/render/case_buttons.py`; every press is re-authorised
by `services.cases.perform`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from functools import lru_cache
from typing import Any, NamedTuple

from aiogram import html
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from bot.i18n import Translator
from bot.render.case_buttons import CardTool, CaseBtn, CaseTool
from bot.render.case_records import CAPTION_LIMIT, CaseRecords, _shown_length
from domain.case_rules import Level, Stage
from domain.cases import UNDER_DEADLINE, CaseAction, CaseStatus, EventKind
from services.case_notify import CaseView
from storage.models import CaseEvent

__all__ = ["CAPTION_LIMIT", "CaseRecords", "CaseRender", "_shown_length", "markup_dict", "rows_of"]

CARD_DESCRIPTION_CHARS = 300
CARD_ADDRESS_CHARS = 80
CARD_REASON_CHARS = 120
"""A reason on a card (返工, 逐级上报, a hand-off's note) is cut to this; the ledger has all."""


UNDER_DEADLINE_VALUES = frozenset(s.value for s in UNDER_DEADLINE)
_ENDED = frozenset(s.value for s in (CaseStatus.REJECTED, CaseStatus.CLOSED, CaseStatus.RATED))
"""A case whose card shows no deadline."""
_BUTTON_KEYS = {a: f"cases.btn.{a.value}" for a in CaseAction}
"""Each step button's text key, spelt out once (a card draws several)."""
HEADLINED = frozenset(
    k.value
    for k in (
        EventKind.ASSIGNED,
        EventKind.REASSIGNED,
        EventKind.SENT_BACK,
        EventKind.EXTENSION_REQUESTED,
        EventKind.EXTENSION_APPROVED,
        EventKind.EXTENSION_REFUSED,
        EventKind.DEADLINE_CHANGED,
        EventKind.FEEDBACK_GIVEN,
        EventKind.DEPT_FEEDBACK_GIVEN,
        EventKind.ESCALATED,
        EventKind.TRANSFERRED,
        EventKind.REOPENED,
        EventKind.DEPT_RETURNED,
    )
)
"""Steps whose hand-off card opens with what is asked and why (`cases.handoff.<kind>`); the
first card of a report needs no such line."""


def markup_dict(markup: InlineKeyboardMarkup | None) -> dict[str, Any] | None:
    return markup.model_dump(exclude_none=True) if markup is not None else None


@lru_cache(maxsize=1024)
def _step_data(case_id: int, action: CaseAction, version: int) -> str:
    """A step button's packed data: every recipient of a step gets the same few buttons."""
    return CaseBtn.packed(id=case_id, a=action, v=version)


@lru_cache(maxsize=1024)
def _tool_data(case_id: int, tool: CardTool, version: int) -> str:
    return CaseTool.packed(id=case_id, a=tool, v=version)


class ButtonTexts(NamedTuple):
    """A card's button texts: its steps' (in the order asked), then its tools'."""

    steps: tuple[str, ...]
    deadline: str
    comment: str
    history: str


@lru_cache(maxsize=256)
def _button_texts(t: Translator, language: str, actions: tuple[CaseAction, ...]) -> ButtonTexts:
    """Looked up once per translator, language and steps offered: every card offering the
    same steps shows the same texts, and a translator's catalogues do not change once read."""
    return ButtonTexts(
        steps=tuple(t.t(_BUTTON_KEYS[a], language) for a in actions),
        deadline=t.t("cases.btn.dl", language),
        comment=t.t("cases.btn.cmt", language),
        history=t.t("cases.btn.history", language),
    )


def rows_of(
    buttons: list[InlineKeyboardButton], width: int = 2
) -> list[list[InlineKeyboardButton]]:
    return [buttons[i : i + width] for i in range(0, len(buttons), width)]


def _cut(text: str | None, limit: int = CARD_REASON_CHARS) -> str:
    """A note someone typed, escaped, cut to fit on a card."""
    raw = (text or "").strip()
    return html.quote(raw if len(raw) <= limit else raw[:limit] + "…")


class CaseRender(CaseRecords):
    """Implements `services.case_notify.CaseTexts` on the translation catalogues."""

    # --- CaseTexts ----------------------------------------------------------------------

    def card_text(self, view: CaseView, language: str, headline: str | None = None) -> str:
        """The card; never longer than a photo caption may be (1,024 characters as shown)."""
        head = headline + "\n\n" if headline else ""
        text = head + self._card_text(view, language, CARD_DESCRIPTION_CHARS, CARD_ADDRESS_CHARS)
        for description_chars, address_chars in ((150, 40), (60, 20), (0, 0)):
            if _shown_length(text) <= CAPTION_LIMIT:
                break
            text = head + self._card_text(view, language, description_chars, address_chars)
        return text

    def _card_text(
        self, view: CaseView, language: str, description_chars: int, address_chars: int
    ) -> str:
        case = view.case
        description = case.description
        if len(description) > description_chars:
            description = description[:description_chars] + "…"
        lines = [
            self.t(
                "cases.card.title",
                language,
                code=case.code,
                severity=self.severity(case.severity, language),
            ),
            self.t("cases.card.status", language, status=self.status(case.status, language)),
            self.t(
                "cases.card.category",
                language,
                category=html.quote(self.category(case.category, language, view.category)),
            ),
            self.t("cases.card.grid", language, grid=html.quote(view.grid.name)),
        ]
        if view.escalated_from:
            lines.append(
                self.t(
                    "cases.card.escalated_from",
                    language,
                    grid=html.quote(view.escalated_from),
                    reason=_cut(view.escalation_reason),
                )
            )
        lines += [
            self.t(
                "cases.card.place", language, place=self.place(case, language, limit=address_chars)
            ),
            self.t("cases.card.description", language, text=html.quote(description)),
            self.t("cases.card.reporter", language, name=html.quote(view.reporter_name)),
        ]
        if view.assignee_name:
            lines.append(
                self.t("cases.card.assignee", language, name=html.quote(view.assignee_name))
            )
        if view.department_name:
            lines.append(
                self.t("cases.card.department", language, name=html.quote(view.department_name))
            )
        if case.deadline_at and case.status not in _ENDED:
            lines.append(self.t("cases.card.deadline", language, when=self.when(case.deadline_at)))
        standing = view.supervision
        if standing is not None and (
            standing.level is not Level.GREEN or standing.stage is not Stage.RECTIFY
        ):
            lines.append(
                self.t(
                    f"cases.card.supervision.{standing.level.value}",
                    language,
                    stage=self.t(f"cases.stage.{standing.stage.value}", language),
                    due=self.when(standing.due_at),
                    used=f"{min(standing.used, 1.0):.0%}",
                )
            )
        if case.extension_pending:
            lines.append(
                self.t(
                    "cases.card.extension_pending",
                    language,
                    days=(case.extension_hours or 24) // 24,
                )
            )
        if case.rework_count and view.rework_reason:
            reason = _cut(view.rework_reason)
            lines.append(
                self.t("cases.card.rework_reason", language, n=case.rework_count, reason=reason)
            )
        elif case.rework_count:
            lines.append(self.t("cases.card.rework", language, n=case.rework_count))
        if case.rating:
            lines.append(
                self.t(
                    "cases.card.rating",
                    language,
                    rating=self.t(f"cases.rating.{case.rating}", language),
                )
            )
        return "\n".join(lines)

    def card_markup(
        self, view: CaseView, actions: Sequence[CaseAction], language: str
    ) -> InlineKeyboardMarkup:
        rows = self._card_rows(view, actions, language)
        return InlineKeyboardMarkup(
            inline_keyboard=[
                [InlineKeyboardButton(text=t, callback_data=d) for t, d in row] for row in rows
            ]
        )

    def _card_rows(
        self, view: CaseView, actions: Sequence[CaseAction], language: str
    ) -> list[list[tuple[str, str]]]:
        """The card's buttons as (text, callback data), in rows."""
        case_id, version = view.case.id or 0, view.version
        texts = _button_texts(self.tr, language, tuple(actions))
        buttons = [
            (text, _step_data(case_id, a, version))
            for text, a in zip(texts.steps, actions, strict=True)
        ]
        if CaseAction.ASSIGN in actions and view.case.status in UNDER_DEADLINE_VALUES:
            # Whoever may (re)assign may also move the deadline; re-checked on the press.
            buttons.append((texts.deadline, _tool_data(case_id, CardTool.CHANGE_DEADLINE, version)))
        rows = [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
        rows.append(
            [
                (texts.comment, _step_data(case_id, CaseAction.COMMENT, version)),
                (texts.history, _tool_data(case_id, CardTool.HISTORY, version)),
            ]
        )
        return rows

    def card(
        self,
        view: CaseView,
        actions: Sequence[CaseAction],
        language: str,
        headline: str | None = None,
    ) -> tuple[str, dict[str, Any] | None]:
        # The keyboard as `markup_dict` gives it, built as a dict directly: the models were
        # made only to be dumped again.
        rows = self._card_rows(view, actions, language)
        markup = {
            "inline_keyboard": [[{"text": t, "callback_data": d} for t, d in row] for row in rows]
        }
        return self.card_text(view, language, headline), markup

    def headline(
        self, view: CaseView, event: CaseEvent, actor: str | None, language: str
    ) -> str | None:
        if event.kind not in HEADLINED:
            return None
        key = f"cases.handoff.{event.kind}"
        data = event.data or {}
        if event.kind == EventKind.DEADLINE_CHANGED.value and event.note:
            key += "_why"  # 调整期限 with the leader's reason
        hours = data.get("hours") or 0
        return self.t(
            key,
            language,
            who=html.quote(actor) if actor else self.t("cases.system", language),
            note=_cut(event.note) or "—",
            days=int(hours) // 24,
            new=self._stamp(data.get("deadline")),
            old=self._stamp(data.get("old_deadline")),
        )

    def _stamp(self, iso: object) -> str:
        """A deadline kept in a ledger entry's data, as the reader's clock shows it."""
        return self.when(datetime.fromisoformat(iso)) if isinstance(iso, str) else "—"

    def retired_card(self, view: CaseView, language: str) -> str:
        return self.t(
            "cases.retired",
            language,
            code=view.case.code,
            status=self.status(view.case.status, language),
        )
