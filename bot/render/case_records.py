"""A case's record as people read it: the ledger's lines, the notices and comments passed on,
the photos' captions and the 移交单 (a transfer's written record). The card and its buttons
build on these pieces in `bot/render/cases.py`."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from html import unescape
from typing import Any
from zoneinfo import ZoneInfo

from aiogram import html

from bot.i18n import Translator
from domain.cases import EventKind
from domain.categories import Category, shown_label
from services.case_notify import CaseView
from storage.models import Case, CaseEvent, Department

CAPTION_LIMIT = 1024
"""Telegram's limit for a photo caption; a card goes out as one when the case has photos."""


def _shown_length(html_text: str) -> int:
    """Length of an HTML-mode text as Telegram counts it: tags out, entities as one."""
    return len(unescape(re.sub(r"<[^>]+>", "", html_text)))


class CaseRecords:
    """The pieces of `CaseRender` that are not the card: the texts that record what happened."""

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
        if known is not None:
            return known.shown(language)
        return shown_label(self.categories, label, language)

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

    def transfer_delivered(self, case: Case, department: Department, language: str) -> str:
        return self.t(
            "cases.held_delivered",
            language,
            code=case.code,
            department=html.quote(department.name),
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
