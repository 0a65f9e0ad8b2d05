"""The states of a case step's conversation."""

from __future__ import annotations

from aiogram.fsm.state import State, StatesGroup


class Step(StatesGroup):
    choose = State()  # buttons only (reason, rating, target, deadline, extension length)
    note = State()  # a text (and for feedback, then photos)
    photos = State()
