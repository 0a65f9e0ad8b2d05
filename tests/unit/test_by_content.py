"""What ByContent keeps is what its work gives for the same content: the same answer for
equal parts in new objects (worked out once), a new answer when the content changes, and
no sharing between contents that `==` would call equal (1 and True)."""

from __future__ import annotations

from typing import Any

from domain.categories import default_categories, from_stored
from services.by_content import ByContent

STORED: list[Any] = [
    {"key": "exit", "label": "消防通道堵塞", "en": "Blocked fire exit", "checklist": None},
    "电线老化",  # an older import's bare label
]


def _categories(stored: Any, checklist: Any) -> Any:
    return from_stored(stored) or default_categories(checklist)


def test_the_kept_answer_is_the_works_answer_for_each_content() -> None:
    calls: list[tuple[Any, ...]] = []

    def work(*parts: Any) -> Any:
        calls.append(parts)
        return _categories(*parts)

    kept = ByContent(work)
    contents: list[tuple[list[Any], list[str]]] = [
        (STORED, ["灭火器"]),
        ([], ["灭火器", "疏散指示"]),
        ([], []),
    ]
    for stored, checklist in contents * 2:
        # New objects of the same content each time, as each update reads the row anew.
        fresh = ([c if isinstance(c, str) else dict(c) for c in stored], list(checklist))
        assert kept(*fresh) == _categories(*fresh)
    assert len(calls) == len(contents)


def test_parts_that_compare_equal_but_read_differently_are_kept_apart() -> None:
    kept = ByContent(lambda *parts: repr(parts))
    assert kept(1, [1]) == "(1, [1])"
    assert kept(True, [True]) == "(True, [True])"
    assert kept([1, 2], 3) != kept([1], [2, 3])


def test_at_most_size_contents_are_kept() -> None:
    calls: list[int] = []

    def work(n: int) -> int:
        calls.append(n)
        return n * 2

    kept = ByContent(work, size=2)
    assert [kept(n) for n in (1, 2, 3, 1)] == [2, 4, 6, 2]
    assert len(kept.kept) <= 2
    assert calls == [1, 2, 3, 1]  # 1 was dropped to make room, so worked out again
