"""/report: a hazard report in a few taps (信息收集), as a conversation in the private chat.

grid (only when the person has several) → category → description → photos (0–10, albums,
"完成") → location (the location button, or a typed address) → severity → summary (change any
field; a possible duplicate is shown with "add as a comment") → submit. Every step has a back
button; /cancel (handlers/common.py) works in every state. The draft lives in the FSM data,
which is stored in the database, so a restart resumes where the person was. Questions and
buttons are in bot/render/report.py; what a valid draft is, in services/reporting.py.
"""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command, CommandStart, StateFilter

from bot.keyboards import menu_words
from bot.render.drafts import DraftKeep
from bot.render.report import ReportCb
from bot.render.report import ReportPress as P
from handlers.report.answers import (
    chose_category,
    chose_grid,
    chose_severity,
    description_not_text,
    edit_field,
    go_back,
    got_address,
    got_description,
    got_location,
    got_photo,
    location_wrong,
    photos_done,
    photos_wrong,
    press_a_button,
)
from handlers.report.flow import (
    PRIVATE,
    Report,
    report_command,
    report_from_link,
    report_in_group,
)
from handlers.report.keep import keep_pressed
from handlers.report.submit import add_to_case, submit


def router() -> Router:
    r = Router(name=__name__)
    r.message.register(report_in_group, Command("report"), F.chat.type.in_({"group", "supergroup"}))
    r.message.register(
        report_from_link, CommandStart(deep_link=True, magic=F.args.startswith("report")), PRIVATE
    )
    menu = F.text.in_(menu_words("menu.report"))  # the menu's button, in any language
    r.message.register(report_command, menu, PRIVATE, StateFilter("*"))
    r.message.register(report_command, Command("report"), PRIVATE, StateFilter("*"))
    r.callback_query.register(chose_grid, ReportCb.filter(F.k == P.GRID), Report.grid)
    r.callback_query.register(chose_category, ReportCb.filter(F.k == P.CATEGORY), Report.category)
    r.message.register(got_description, Report.description, F.text)
    r.message.register(description_not_text, Report.description)
    r.message.register(got_photo, Report.photos, F.photo)
    r.message.register(photos_wrong, Report.photos)
    r.callback_query.register(photos_done, ReportCb.filter(F.k == P.PHOTOS_DONE), Report.photos)
    r.message.register(got_location, Report.location, F.location)
    r.message.register(got_address, Report.location, F.text, ~F.text.startswith("/"))
    r.message.register(location_wrong, Report.location)
    r.callback_query.register(chose_severity, ReportCb.filter(F.k == P.SEVERITY), Report.severity)
    for state in (Report.grid, Report.category, Report.severity, Report.confirm):
        r.message.register(press_a_button, state)
    r.callback_query.register(go_back, ReportCb.filter(F.k == P.BACK), StateFilter(Report))
    r.callback_query.register(edit_field, ReportCb.filter(F.k == P.EDIT), Report.confirm)
    r.callback_query.register(add_to_case, ReportCb.filter(F.k == P.ADD_TO), Report.confirm)
    r.callback_query.register(submit, ReportCb.filter(F.k == P.SUBMIT), Report.confirm)
    r.callback_query.register(keep_pressed, DraftKeep.filter(), StateFilter("*"))
    return r
