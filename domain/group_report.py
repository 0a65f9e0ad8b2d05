"""A report made in one group message: what its caption says, and what is still missing.

Pure. A photo's caption in a grid's group ("@bot 用电隐患 配电箱电线裸露 地点：3号楼东侧 较大",
or starting with /report) is read for the hazard's category (against the deployment's
categories: the Chinese label, the English one, or the checklist item it belongs to, the
earliest in the caption winning), its place (after 地点 / 位置 / 地址 / location / place and a
colon, to the end of the line), its severity (一般 / 较大 / 重大, or general / major /
critical) and the rest as its description. What is missing is asked for one field at a time,
category first, then the place; the severity, when not given, is the lowest offered.

Pending group reports are kept in the reporter's conversation state in that group, keyed by
the id of the message that started them (`PendingReport`), at most `PENDING_LIMIT` at a time
(the oldest goes).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Final

from domain.cases import SEVERITY_BY_ZH, Severity
from domain.categories import Category

PENDING_KEY: Final = "group_reports"
PENDING_LIMIT: Final = 5
SEVERITY_WORDS: Final[dict[str, Severity]] = {
    **SEVERITY_BY_ZH,
    "critical": Severity.CRITICAL,
    "major": Severity.MAJOR,
    "general": Severity.GENERAL,
}
_PLACE = re.compile(r"(?:地点|位置|地址|location|place)\s*[:：]\s*([^\n]*)", re.IGNORECASE)
_COMMAND = re.compile(r"^\s*/report(?:@\w+)?(?=\s|$)", re.IGNORECASE)
_TRIM = " \t\n，,。;；:：-—"


class Missing(StrEnum):
    CATEGORY = "category"
    PLACE = "place"


@dataclass(frozen=True)
class Caption:
    category: str | None  # the category's Chinese label, as a case keeps it
    severity: Severity | None
    address: str | None
    description: str


def _category(text: str, categories: Sequence[Category]) -> str | None:
    lowered = text.lower()
    found: list[tuple[int, int, str]] = []
    for c in categories:
        for word in (c.label, c.en, c.checklist):
            if word and (at := lowered.find(word.lower())) >= 0:
                found.append((at, -len(word), c.label))
    return min(found)[2] if found else None


def _severity(text: str) -> Severity | None:
    lowered = text.lower()
    found = [(lowered.find(w), s) for w, s in SEVERITY_WORDS.items() if w in lowered]
    return min(found)[1] if found else None


def read_caption(text: str | None, *, bot_username: str, categories: Sequence[Category]) -> Caption:
    """The caption's category, severity, place and description (the caption without the
    command, the bot's @mention and the place)."""
    body = _COMMAND.sub("", text or "")
    if bot_username:
        body = re.sub(rf"@{re.escape(bot_username)}\b", " ", body, flags=re.IGNORECASE)
    severity = _severity(body)
    place = _PLACE.search(body)
    address = _without_severity(place.group(1)) if place else ""
    if place:
        body = body[: place.start()] + body[place.end() :]
    description = _without_severity(body)
    return Caption(
        category=_category(description, categories),
        severity=severity,
        address=address or None,
        description=description,
    )


def _without_severity(text: str) -> str:
    """Words with a severity word standing alone left out, spaces made single."""
    words = [w for w in text.split() if w.strip(_TRIM).lower() not in SEVERITY_WORDS]
    return " ".join(words).strip(_TRIM)


@dataclass
class PendingReport:
    """One group report waiting for its reporter: the draft (services.reporting.Draft as a
    dict), the message asking for the missing part or showing the draft, the album whose
    further photos join it."""

    source: int  # the message id that started it
    draft: dict[str, Any]
    shown: int | None = None  # the bot's message asking or showing the draft
    album: str | None = None
    missing: Missing | None = None

    def to_data(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "draft": dict(self.draft),
            "shown": self.shown,
            "album": self.album,
            "missing": self.missing.value if self.missing else None,
        }

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> PendingReport:
        missing = data.get("missing")
        return cls(
            source=int(data["source"]),
            draft=dict(data.get("draft") or {}),
            shown=data.get("shown"),
            album=data.get("album"),
            missing=Missing(missing) if missing else None,
        )


@dataclass
class Pending:
    """The reporter's pending group reports in one group, oldest first."""

    reports: list[PendingReport] = field(default_factory=list)

    @classmethod
    def from_state(cls, data: Mapping[str, Any]) -> Pending:
        raw = data.get(PENDING_KEY) or []
        return cls([PendingReport.from_data(r) for r in raw if isinstance(r, Mapping)])

    def to_state(self) -> list[dict[str, Any]]:
        return [r.to_data() for r in self.reports]

    def by_source(self, source: int) -> PendingReport | None:
        return next((r for r in self.reports if r.source == source), None)

    def by_shown(self, message_id: int) -> PendingReport | None:
        return next((r for r in self.reports if r.shown == message_id), None)

    def by_album(self, album: str) -> PendingReport | None:
        return next((r for r in self.reports if r.album == album), None)

    def put(self, report: PendingReport) -> None:
        self.reports = [r for r in self.reports if r.source != report.source] + [report]
        del self.reports[:-PENDING_LIMIT]

    def drop(self, source: int) -> None:
        self.reports = [r for r in self.reports if r.source != source]


def missing_of(draft: Mapping[str, Any]) -> Missing | None:
    """The first part still missing: the category, then the place."""
    if not draft.get("category"):
        return Missing.CATEGORY
    if not draft.get("address") and draft.get("lat") is None:
        return Missing.PLACE
    return None
