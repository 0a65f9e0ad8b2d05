"""Hazard categories (隐患类别) belong to the deployment.

A scenario file may list its own (`categories:`, each `{key, label, en, checklist?}`); a file
that lists none gets the categories of its own checklist: each checklist item's usual
category from `KNOWN` (an item nobody named gets a category of its own name), then 其他. So
a fire-safety grid offers fire-safety categories and nothing about water or markets.

A case stores the Chinese label (`Case.category`): the ledger is kept in Chinese; the English
UI shows `en`. A patrol's problem on a checklist item becomes a case of the category linked to
that item (`checklist:`), else of the category keyed ``other``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Final

OTHER_KEY: Final = "other"


@dataclass(frozen=True)
class Category:
    key: str
    label: str
    en: str
    checklist: str | None = None

    def shown(self, language: str) -> str:
        """The label in the reader's language (the Chinese one unless English)."""
        return self.en if language == "en" and self.en else self.label


KNOWN: Final[tuple[Category, ...]] = (
    Category("exit", "消防通道堵塞", "Blocked fire exit", "安全疏散"),
    Category("equipment", "消防设施损坏", "Damaged fire equipment", "消防设施"),
    Category("extinguisher", "灭火器具缺失失效", "Missing or expired extinguisher", "灭火器具"),
    Category("fire", "火灾隐患", "Fire hazard", "用火"),
    Category("power", "用电隐患", "Electrical hazard", "用电"),
    Category("gas", "燃气隐患", "Gas hazard", "用气"),
    Category("oil", "油品隐患", "Fuel and oil hazard", "用油"),
    Category("sanitation", "环境卫生", "Sanitation", "环境卫生"),
    Category("dispute", "矛盾纠纷", "Dispute", "矛盾纠纷"),
)
"""The usual category of the checklist items the source documents use."""

OTHER: Final = Category(OTHER_KEY, "其他", "Other")


def default_categories(checklist: Sequence[str]) -> tuple[Category, ...]:
    """The categories of a deployment that lists none: one per checklist item, then 其他."""
    by_item = {c.checklist: c for c in KNOWN}
    out: list[Category] = []
    for i, item in enumerate(checklist, start=1):
        out.append(by_item.get(item) or Category(f"item{i}", item, item, item))
    if all(c.label != OTHER.label for c in out):
        out.append(OTHER)
    return tuple(out)


def for_checklist_item(categories: Sequence[Category], item: str) -> Category | None:
    """The category a problem on checklist `item` is reported as: the one linked to the
    item, else the one keyed ``other``; None when there is neither."""
    linked = next((c for c in categories if c.checklist == item), None)
    return linked or next((c for c in categories if c.key == OTHER_KEY), None)


def by_label(categories: Iterable[Category], label: str) -> Category | None:
    return next((c for c in categories if c.label == label), None)


def shown_label(categories: Iterable[Category], label: str, language: str) -> str:
    """A case's category (stored as its Chinese label) in the reader's language: the
    deployment's category of that label shown in it, else the label as stored (a category
    since removed from the file). The one reading for cards, lists, /summary and exports."""
    found = by_label(categories, label)
    return found.shown(language) if found else label


def to_stored(categories: Iterable[Category]) -> list[dict[str, Any]]:
    """As kept in `Deployment.categories` (JSON)."""
    return [
        {"key": c.key, "label": c.label, "en": c.en, "checklist": c.checklist} for c in categories
    ]


def from_stored(raw: Iterable[Any]) -> tuple[Category, ...]:
    """`Deployment.categories` as stored: dicts, or the bare Chinese labels older imports
    kept (their English label is then the Chinese one)."""
    out: list[Category] = []
    for item in raw:
        if isinstance(item, str):
            out.append(Category(item, item, item))
        elif isinstance(item, dict) and item.get("label"):
            label = str(item["label"])
            checklist = item.get("checklist")
            out.append(
                Category(
                    key=str(item.get("key") or label),
                    label=label,
                    en=str(item.get("en") or label),
                    checklist=str(checklist) if checklist else None,
                )
            )
    return tuple(out)
