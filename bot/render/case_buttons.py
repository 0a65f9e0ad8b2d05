"""The case buttons' callback data: ids and short Enum values only, well under 64 bytes.

Every press is re-authorised by `services.cases` against the presser and the case as it is
now; a value no Enum knows parses as no button of ours (the stale-button answer).
"""

from __future__ import annotations

from enum import StrEnum

from bot.keyboards import Callback
from domain.cases import CaseAction, RejectReason


class CardTool(StrEnum):
    """A card's buttons that are not a step of the loop."""

    HISTORY = "h"  # 台账: the case's ledger
    OPEN = "o"  # the card itself, sent anew (from /cases and /my)
    CHANGE_DEADLINE = "dl"  # a leader moves the deadline of a case being handled
    PHOTOS = "ph"  # every photo of every step, an album a step (from the ledger)


class StepChoice(StrEnum):
    """A choice inside a step's conversation (`CasePick.k`)."""

    REASON = "rj"  # x: index of the reject reason
    RATING = "rt"  # x: index of the rating
    EXTENSION = "eh"  # x: hours asked for
    PAGE = "pg"  # x: page of the people the case may be assigned to
    DEPARTMENTS = "dl"  # assign to a department instead: list them
    PERSON = "p"  # x: person id
    DEPARTMENT = "d"  # x: department id
    DAYS = "dd"  # x: days added to the deadline being set
    CONFIRM = "ok"  # the deadline being set
    DONE = "done"  # feedback: no more photos
    NEW_DAYS = "nd"  # x: days added to the deadline being changed
    NEW_CONFIRM = "nok"  # the deadline being changed


class ListFilter(StrEnum):
    """/cases: which cases the list shows (`cases.filter.<value>` names it)."""

    ALL = "all"
    OPEN = "open"
    OVERDUE = "ovd"
    WAITING = "wait"
    CRITICAL = "critical"
    MAJOR = "major"
    GENERAL = "general"


SEVERITY_FILTERS = frozenset({ListFilter.CRITICAL, ListFilter.MAJOR, ListFilter.GENERAL})


class CaseBtn(Callback, prefix="c"):
    """A step of the loop on a card, drawn for the card's `v` (version)."""

    id: int
    a: CaseAction
    v: int = 0


class CaseTool(Callback, prefix="ct"):
    """A card's other buttons: the ledger, the card anew, a deadline change (checks `v`)."""

    id: int
    a: CardTool
    v: int = 0


class CasePick(Callback, prefix="cp"):
    """A choice inside a step (a target, a reason, a rating, a deadline change, done)."""

    id: int
    k: StepChoice
    x: int = 0


class CaseSure(Callback, prefix="cs"):
    """An irreversible step confirmed (核查通过; 不予立案 with its reason `r`), as drawn for
    the case's version `v`."""

    id: int
    a: CaseAction
    v: int = 0
    r: RejectReason | None = None


class CaseUnsure(Callback, prefix="cu"):
    """Back from an irreversible step's confirmation: nothing is done."""

    id: int
    a: CaseAction


class CaseList(Callback, prefix="cl"):
    """/cases: a filter and a page."""

    f: ListFilter
    p: int = 0
