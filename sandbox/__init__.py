"""A local Telegram Bot API emulator for end-to-end tests and the no-token demo.

Public API::

    from sandbox import Emulator, FloodLimits, ManualClock

    async with Emulator(clock=ManualClock(), limits=FloodLimits.telegram()) as emu:
        emu.add_bot("123456789:TEST", "gridbot_test_bot")
        bot = Bot("123456789:TEST", session=emu.bot_session())
        alice = emu.user(800000001, first_name="Alice")   # sandbox.driver.DriverUser
        group = emu.create_group("一网格", members=[800000001], admins=[800000002])

Modules: emulator (lifecycle, facade), world (state), botapi (methods; forum topics
in botapi_forum and topics, reactions in botapi_reactions), server (HTTP), userside
(what people do; topics on, bot rights and reactions in userside_groups), driver
(conversation driver), control (HTTP API for other processes), terminal (a terminal
chat), flood, faults, html_text, images, render, session, webhook. Its clocks are the
application's (`domain.clock`).
"""

from domain.clock import Clock, ManualClock, SystemClock
from sandbox.driver import BotMessage, CallbackAnswer, DriverUser, LiveLocation
from sandbox.emulator import Emulator, PressError
from sandbox.errors import ApiError
from sandbox.faults import Faults, Stats
from sandbox.flood import FloodLimits
from sandbox.session import emulator_session
from sandbox.world import (
    GROUP_ANONYMOUS_BOT_ID,
    BotRecord,
    CallbackPress,
    Chat,
    TranscriptEntry,
    UserRecord,
)

__all__ = [
    "GROUP_ANONYMOUS_BOT_ID",
    "ApiError",
    "BotMessage",
    "BotRecord",
    "CallbackAnswer",
    "CallbackPress",
    "Chat",
    "Clock",
    "DriverUser",
    "Emulator",
    "Faults",
    "FloodLimits",
    "LiveLocation",
    "ManualClock",
    "PressError",
    "Stats",
    "SystemClock",
    "TranscriptEntry",
    "UserRecord",
    "emulator_session",
]
