"""Whether a person is in the middle of something that starting another flow would drop.

Pure: the conversation's state name and data in, the unfinished kind (or None) out. A report
counts once anything is filled in beyond its grid; a patrol once it is checked in (an open
patrol) or a problem is being described. An empty first step loses nothing: no question.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Any, Final

REPORT_STATES: Final = "Report:"
PATROL_STATES: Final = "PatrolFlow:"
_REPORT_FIELDS: Final = ("category", "description", "photos", "lat", "address", "severity")


class Unfinished(StrEnum):
    REPORT = "report"
    PATROL = "patrol"


def unfinished(state: str | None, data: Mapping[str, Any]) -> Unfinished | None:
    if not state:
        return None
    if state.startswith(REPORT_STATES):
        draft = data.get("draft") or {}
        filled = any(draft.get(f) not in (None, "", []) for f in _REPORT_FIELDS)
        return Unfinished.REPORT if filled else None
    if state.startswith(PATROL_STATES):
        return Unfinished.PATROL if data.get("patrol_id") or data.get("finding") else None
    return None
