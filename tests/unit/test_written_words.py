"""storage/written_words.py writes plain words into the statement, and nothing else."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Select, column, select
from sqlalchemy.dialects import postgresql, sqlite

from domain.cases import CaseStatus
from storage.written_words import among_words


@pytest.mark.parametrize("dialect", [sqlite.dialect(), postgresql.dialect()])
def test_the_words_are_written_sorted_into_the_statement(dialect: object) -> None:
    statement: Select[Any] = select(column("id")).where(
        among_words(column("status"), ["open", "closed"])
    )
    compiled = statement.compile(dialect=dialect)  # type: ignore[arg-type]
    assert "status IN ('closed', 'open')" in str(compiled)
    assert not compiled.params, "nothing bound: the words are in the text"


@pytest.mark.parametrize("word", ["open'; DROP TABLE person; --", "Open", "in progress", ""])
def test_a_word_that_is_not_plain_is_refused(word: str) -> None:
    with pytest.raises(ValueError, match="plain word"):
        among_words(column("status"), ["open", word])


def test_every_case_status_is_a_plain_word() -> None:
    among_words(column("status"), (s.value for s in CaseStatus))
