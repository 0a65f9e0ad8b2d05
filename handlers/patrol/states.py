"""The patrol conversation's states and the keys it keeps in the FSM data.

The FSM data is stored in the database with the update's unit of work, so a patrol resumes
where it was after a restart: ``m`` (membership), ``grid_id``, ``role_id``, ``kind``,
``patrol_id`` and, while a checklist problem is being reported, ``REPORT_PREFILL_KEY``.
"""

from __future__ import annotations

from aiogram.fsm.state import State, StatesGroup

REPORT_PREFILL_KEY = "report_prefill"
DEEP_LINK = "patrol"


class PatrolFlow(StatesGroup):
    grid = State()
    mode = State()
    location = State()
    checklist = State()
    finding = State()
    finding_photos = State()
    severity = State()
    finding_confirm = State()
    notes = State()
    measures = State()
    companions = State()
