"""/patrol (巡查打卡): pick the grid → location → checklist → notes, measures, companions →
finish. One module per step, composed here in the order they claim updates:

- ``entry``: /patrol, the menu button, the deep link from a group; grid and mode picks;
- ``checkin``: the location (a quick check-in ends here; forwarded ones are refused);
- ``live``: live-location moves added to the route;
- ``checklist``: items 正常 / 有问题, "the rest are fine", next;
- ``finding``: a problem item opens a hazard case prefilled from the patrol, then back;
- ``notes``: notes and photos, measures taken, companions, finish.

The flow runs in the private chat (the location button works there only). Its state and
data are stored in the database with each update, so a restart resumes where it was.
Texts and keyboards are in ``bot/render/patrol.py``; the rules in ``services/patrols.py``.
"""

from __future__ import annotations

from aiogram import Router

from bot.render.patrol_buttons import PatrolItem, PatrolMate, PatrolSeverity, PatrolStep
from handlers.patrol import checkin, checklist, entry, finding, live, notes
from handlers.patrol.common import is_forwarded
from handlers.patrol.quota import quota_section
from handlers.patrol.states import REPORT_PREFILL_KEY, PatrolFlow


def router() -> Router:
    r = Router(name=__name__)
    steps = (entry, checkin, live, checklist, finding, notes)
    r.include_routers(*(step.router() for step in steps))
    return r


__all__ = [
    "REPORT_PREFILL_KEY",
    "PatrolFlow",
    "PatrolItem",
    "PatrolMate",
    "PatrolSeverity",
    "PatrolStep",
    "is_forwarded",
    "quota_section",
    "router",
]
