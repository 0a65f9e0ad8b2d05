"""Case cards and every step of the closed loop; /case and /cases. One module per job,
composed by `router()` in the order they claim updates:

- ``card``: presses on a card (a step of the loop; the ledger, the card anew);
- ``confirm``: an irreversible step (核查通过, 不予立案) asked once;
- ``deadline``: a leader moves the deadline of a case being handled;
- ``steps``: a step that needs more than a press opens a conversation (``states``);
- ``choices``: its buttons (a reason, a rating, a target, the deadline ...);
- ``notes``: its note, and feedback's photos;
- ``reading``: /case, /cases and its pages, the cases part of /my.

Texts and keyboards are in ``bot/render/cases.py``, ``case_steps.py`` and ``case_lists.py``;
the buttons' callback data in ``bot/render/case_buttons.py``; the rules in ``services.cases``.
"""

from __future__ import annotations

from aiogram import Router

from handlers.cases import card, choices, confirm, deadline, notes, reading
from handlers.cases.reading import filter_of, render_waiting


def router() -> Router:
    r = Router(name=__name__)
    r.include_routers(
        card.router(),
        confirm.router(),
        deadline.router(),
        choices.router(),
        notes.router(),
        reading.router(),
    )
    return r


__all__ = ["filter_of", "render_waiting", "router"]
