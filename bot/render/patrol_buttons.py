"""The patrol buttons' callback data: ids and short Enum values, well under 64 bytes. Every
press is re-authorised by the handlers against the presser and the patrol as it is now."""

from __future__ import annotations

from enum import StrEnum

from bot.keyboards import Callback
from domain.cases import Severity


class PatrolAct(StrEnum):
    """A step of the patrol a button moves to (`PatrolStep.a`)."""

    ALL_OK = "all_ok"  # the checklist's items not marked yet are fine
    NEXT = "next"  # the checklist is done: on to the notes
    SKIP = "skip"  # a problem item recorded without a hazard report
    MEASURES = "measures"  # 措施: what was done on the spot
    PEOPLE = "people"  # 同行人员: who came along
    BACK = "back"  # back to the notes
    FINDING_PHOTOS_DONE = "fdone"  # a problem's photos are all sent: on to its severity
    FINDING_FILE = "ffile"  # a problem's hazard report confirmed: file it
    FINDING_BACK = "fback"  # from a problem's confirmation back to its severity
    FINISH = "finish"


class PatrolPick(Callback, prefix="pp"):
    m: int  # membership id


class PatrolMode(Callback, prefix="pm"):
    m: int
    quick: bool


class PatrolItem(Callback, prefix="pi"):
    p: int  # patrol id
    i: int  # item index
    ok: bool


class PatrolStep(Callback, prefix="ps"):
    p: int
    a: PatrolAct


class PatrolSeverity(Callback, prefix="pv"):
    p: int
    s: Severity


class PatrolMate(Callback, prefix="pc"):
    """Toggle a companion (同行人员) on the patrol: a person id of the grid."""

    p: int
    x: int


class PatrolLog(Callback, prefix="pl"):
    """A page of the patrol ledger: grid id, month as yyyymm, page."""

    g: int
    m: int
    n: int = 0
    doc: bool = False
