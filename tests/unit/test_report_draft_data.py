"""A report's draft is kept in the state's data as `dataclasses.asdict` would give it: every
field, in order, the photos a list of their own."""

from __future__ import annotations

import json
from dataclasses import asdict

from services.reporting import Draft


def test_a_draft_s_data_is_its_asdict() -> None:
    drafts = [
        Draft(),
        Draft(grid_id=4, category="用电", description="配电箱", photos=["a", "b"], lat=23.1),
        Draft(grid_id=1, lon=113.2, address="某路1号", severity="major", patrol_id=9),
    ]
    for draft in drafts:
        data = draft.to_data()
        assert json.dumps(data) == json.dumps(asdict(draft))
        assert data["photos"] is not draft.photos
        assert Draft.from_data(data) == draft
