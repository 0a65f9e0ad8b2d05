"""Case cards, notices, transfer records and the case keyboards.

The buttons' callback data are in `bot/render/case_buttons.py`; every press is re-authorised
by `services.cases.perform`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from html import unescape
from typing import Any
from zoneinfo import ZoneInfo

from aiogram import html
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from bot.i18n import Translator
from bot.render.case_buttons import CardTool, CaseBtn, CaseTool
from domain.case_rules import Level, Stage
from domain.cases import UNDER_DEADLINE, CaseAction, CaseStatus, EventKind
from domain.categories import Category, by_label
from services.case_notify import CaseView
from storage.models import Case, CaseEvent, Department

CARD_DESCRIPTION_CHARS = 300
CARD_ADDRESS_CHARS = 80
CARD_REASON_CHARS = 120
"""A reason on a card (返工, 逐级上报, a hand-off's note) is cut to this; the ledger has all."""
CAPTION_LIMIT = 1024
"""Telegram's limit for a photo caption; a card goes out as one when the case has photos."""


UNDER_DEADLINE_VALUES = frozenset(s.value for s in UNDER_DEADLINE)
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


def _shown_length(html_text: str) -> int:
    """Length of an HTML-mode text as Telegram counts it: tags out, entities as one."""
    return len(unescape(re.sub(r"<[^>]+>", "", html_text)))


def markup_dict(markup: InlineKeyboardMarkup | None) -> dict[str, Any] | None:
    return markup.model_dump(exclude_none=True) if markup is not None else None


def rows_of(
    buttons: list[InlineKeyboardButton], width: int = 2
) -> list[list[InlineKeyboardButton]]:
    return [buttons[i : i + width] for i in range(0, len(buttons), width)]


def _cut(text: str | None, limit: int = CARD_REASON_CHARS) -> str:
    """A note someone typed, escaped, cut to fit on a card."""
    raw = (text or "").strip()
    return html.quote(raw if len(raw) <= limit else raw[:limit] + "…")


class CaseRender:
    """Implements `services.case_notify.CaseTexts` on the translation catalogues."""

    def __init__(
        self,
        translator: Translator,
        default_language: str,
        tz: ZoneInfo,
        *,
        categories: Sequence[Category] = (),
    ) -> None:
        self.tr = translator
        self.default_language = default_language
        self.tz = tz
        self.categories = tuple(categories)
        """The deployment's categories, for the lists' lines (a card's view carries its own)."""

    def t(self, key: str, language: str, **params: Any) -> str:
        return self.tr.t(key, language, **params)

    # --- pieces -------------------------------------------------------------------------

    def when(self, at: datetime | None) -> str:
        return at.astimezone(self.tz).strftime("%Y-%m-%d %H:%M") if at else "—"

    def status(self, status: str, language: str) -> str:
        return self.t(f"cases.status.{status}", language)

    def severity(self, severity: str, language: str) -> str:
        return self.t(f"cases.severity.{severity}", language)

    def category(self, label: str, language: str, known: Category | None = None) -> str:
        """A case's category (stored as its Chinese label) in the reader's language: from
        `known` (the view's), else from the deployment's categories; the label as stored when
        it is listed in neither. Not escaped."""
        found = known or by_label(self.categories, label)
        return found.shown(language) if found else label

    def place(self, case: Case, language: str, *, limit: int | None = None) -> str:
        parts = []
        if case.address:
            address = case.address
            if limit is not None and len(address) > limit:
                address = address[:limit] + "…"
            parts.append(html.quote(address))
        if case.lat is not None and case.lon is not None:
            parts.append(f"📍 {case.lat:.5f}, {case.lon:.5f}")
        return " ".join(parts) or self.t("cases.no_place", language)

    def event_line(self, event: CaseEvent, actor: str | None, language: str) -> str:
        label = self.t(f"cases.event.{event.kind}", language)
        extra = ""
        data = event.data or {}
        if event.kind == EventKind.REJECTED.value and data.get("reason"):
            extra = self.t(f"cases.reject.{data['reason']}", language)
        elif event.kind == EventKind.RATED.value and data.get("rating"):
            extra = self.t(f"cases.rating.{data['rating']}", language)
        elif data.get("deadline") and event.kind in (
            EventKind.ASSIGNED.value,
            EventKind.REASSIGNED.value,
            EventKind.TRANSFERRED.value,
            EventKind.EXTENSION_APPROVED.value,
            EventKind.DEADLINE_CHANGED.value,
        ):
            extra = self.t(
                "cases.deadline_short",
                language,
                when=self.when(datetime.fromisoformat(data["deadline"])),
            )
        elif event.kind == EventKind.EXTENSION_REQUESTED.value and data.get("hours"):
            extra = self.t("cases.ext_days", language, days=int(data["hours"]) // 24)
        line = self.t(
            "cases.history_line",
            language,
            when=self.when(event.at),
            what=label
            + (f"（{extra}）" if extra else "")
            + (" " + self.t("cases.held_mark", language) if data.get("held") else ""),
            who=html.quote(actor) if actor else self.t("cases.system", language),
        )
        if event.note:
            line += "\n    " + html.quote(event.note)
        photos = data.get("photos") or []
        if photos:
            line += " " + self.t("cases.photo_count", language, n=len(photos))
        return line

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
        if case.deadline_at and case.status not in (
            CaseStatus.REJECTED.value,
            CaseStatus.CLOSED.value,
            CaseStatus.RATED.value,
        ):
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
        case_id = view.case.id or 0
        buttons = [
            InlineKeyboardButton(
                text=self.t(f"cases.btn.{a.value}", language),
                callback_data=CaseBtn(id=case_id, a=a, v=view.version).pack(),
            )
            for a in actions
        ]
        if CaseAction.ASSIGN in actions and view.case.status in UNDER_DEADLINE_VALUES:
            # Whoever may (re)assign may also move the deadline; re-checked on the press.
            buttons.append(
                InlineKeyboardButton(
                    text=self.t("cases.btn.dl", language),
                    callback_data=CaseTool(
                        id=case_id, a=CardTool.CHANGE_DEADLINE, v=view.version
                    ).pack(),
                )
            )
        rows = rows_of(buttons)
        rows.append(
            [
                InlineKeyboardButton(
                    text=self.t("cases.btn.cmt", language),
                    callback_data=CaseBtn(id=case_id, a=CaseAction.COMMENT, v=view.version).pack(),
                ),
                InlineKeyboardButton(
                    text=self.t("cases.btn.history", language),
                    callback_data=CaseTool(id=case_id, a=CardTool.HISTORY, v=view.version).pack(),
                ),
            ]
        )
        return InlineKeyboardMarkup(inline_keyboard=rows)

    def card(
        self,
        view: CaseView,
        actions: Sequence[CaseAction],
        language: str,
        headline: str | None = None,
    ) -> tuple[str, dict[str, Any] | None]:
        return self.card_text(view, language, headline), markup_dict(
            self.card_markup(view, actions, language)
        )

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

    def transfer_delivered(self, case: Case, department: Department, language: str) -> str:
        return self.t(
            "cases.held_delivered",
            language,
            code=case.code,
            department=html.quote(department.name),
        )

    def retired_card(self, view: CaseView, language: str) -> str:
        return self.t(
            "cases.retired",
            language,
            code=view.case.code,
            status=self.status(view.case.status, language),
        )

    def photos_caption(
        self, view: CaseView, event: CaseEvent | None, actor: str | None, language: str
    ) -> str:
        if event is None:
            what = self.t("cases.event.reported", language)
            line = self.t(
                "cases.history_line",
                language,
                when=self.when(view.case.created_at),
                what=what,
                who=html.quote(view.reporter_name),
            )
        else:
            line = self.event_line(event, actor, language)
        text = self.t("cases.photos_caption", language, code=view.case.code, line=line)
        if _shown_length(text) > CAPTION_LIMIT:
            text = self.t("cases.photos_caption", language, code=view.case.code, line="")
        return text

    def notice(self, view: CaseView, event: CaseEvent, actor: str | None, language: str) -> str:
        return self.t(
            "cases.notice",
            language,
            code=view.case.code,
            line=self.event_line(event, actor, language),
            status=self.status(view.case.status, language),
        )

    def comment(self, view: CaseView, event: CaseEvent, actor: str | None, language: str) -> str:
        return self.t(
            "cases.comment_notice",
            language,
            code=view.case.code,
            who=html.quote(actor or ""),
            text=html.quote(event.note or ""),
        )

    def transfer_record(
        self, view: CaseView, event: CaseEvent, actor: str | None, language: str
    ) -> tuple[str, str, str]:
        case = view.case
        body = self.t(
            "cases.transfer.body",
            language,
            code=case.code,
            department=view.department_name or "",
            grid=view.grid.name,
            category=self.category(case.category, language, view.category),
            severity=self.severity(case.severity, language),
            description=case.description,
            place=(case.address or "")
            + (
                f" ({case.lat:.5f}, {case.lon:.5f})"
                if case.lat is not None and case.lon is not None
                else ""
            ),
            reported=self.when(case.created_at),
            reporter=view.reporter_name,
            photos=len(case.photos),
            deadline=self.when(case.deadline_at),
            who=actor or "",
            when=self.when(event.at),
            note=event.note or "—",
        )
        caption = self.t(
            "cases.transfer.caption",
            language,
            code=case.code,
            department=html.quote(view.department_name or ""),
            deadline=self.when(case.deadline_at),
        )
        return caption, f"transfer-{case.code}.txt", body
