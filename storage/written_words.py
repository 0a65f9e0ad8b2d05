"""A column among a few of the domain's own words (case statuses), the words written into the
statement itself.

A list bound to an IN clause is an "expanding" parameter: SQLAlchemy spells the clause out
anew at each execution (~70 Python calls), where the statement is otherwise compiled once and
kept. The words are constants of the domain, never input, and checked to be plain words."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from sqlalchemy import ColumnElement, literal_column

_PLAIN_WORD = re.compile(r"[a-z_]+")


def among_words(column: Any, words: Iterable[str]) -> ColumnElement[bool]:
    """`column IN ('a', 'b', …)`, sorted, the words written in; a word that is not plain
    lower-case letters and underscores is refused (nothing may be quoted into SQL)."""
    chosen = sorted(set(words))
    for word in chosen:
        if not _PLAIN_WORD.fullmatch(word):
            raise ValueError(f"not a plain word to write into SQL: {word!r}")
    literals: list[ColumnElement[Any]] = [literal_column(f"'{word}'") for word in chosen]
    found: ColumnElement[bool] = column.in_(literals)
    return found
