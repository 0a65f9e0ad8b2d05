"""What starting /report or /patrol would drop: a report with anything filled in, a patrol
checked in."""

from __future__ import annotations

from typing import Any

import pytest

from domain.drafts import Unfinished, unfinished


@pytest.mark.parametrize(
    ("state", "data", "expected"),
    [
        (None, {}, None),
        ("Step:note", {"case_id": 1}, None),  # a case step is no draft of these
        ("Report:category", {"draft": {"grid_id": 3}}, None),  # nothing typed yet
        ("Report:grid", {"draft": {}}, None),
        (
            "Report:description",
            {"draft": {"grid_id": 3, "category": "用电隐患"}},
            Unfinished.REPORT,
        ),
        ("Report:location", {"draft": {"photos": ["p1"]}}, Unfinished.REPORT),
        ("Report:confirm", {"draft": {"lat": 23.1, "severity": "major"}}, Unfinished.REPORT),
        ("Report:photos", {"draft": {"photos": [], "address": ""}}, None),
        ("PatrolFlow:location", {"m": 5, "grid_id": 3}, None),  # not checked in yet
        ("PatrolFlow:checklist", {"patrol_id": 9}, Unfinished.PATROL),
        ("PatrolFlow:notes", {"patrol_id": 9}, Unfinished.PATROL),
        ("PatrolFlow:finding_photos", {"finding": "插座烧焦"}, Unfinished.PATROL),
    ],
)
def test_what_would_be_dropped(
    state: str | None, data: dict[str, Any], expected: Unfinished | None
) -> None:
    assert unfinished(state, data) is expected
