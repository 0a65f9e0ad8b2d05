"""Admin commands in the private chat: the grid tree, people and roles, departments, invites.

Only admins get through (`handlers.admin_only`, a router-wide filter); anyone else typing an
admin command, or pressing an admin button, gets a polite refusal and nothing happens. The
work is done in `services.admin` and `services.groups`; each command parses its words
(`common.ARITY`), calls the service through `common.run` (which answers a mistake with its
reason and the usage) and renders (`bot/render/admin.py`). One module per job:

- ``grids``: /tree and its pages, /grid_add, /grid_rename, /grid_move, /grid_archive;
- ``people``: /members, /role, /remove, /admins, /dept_add, /invite, /bind.
"""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command

from bot.render.admin import ArchiveAction, TreeNav
from handlers.admin.common import ADMIN_COMMANDS
from handlers.admin.grids import (
    grid_add,
    grid_archive,
    grid_archive_answer,
    grid_move,
    grid_rename,
    show_tree,
    turn_tree_page,
)
from handlers.admin.people import (
    bind_code,
    dept_add,
    grant_role,
    invite,
    list_admins,
    members,
    remove_role,
)
from handlers.admin_only import guarded


def router() -> Router:
    r = Router(name=f"{__name__}.admin_only")
    r.message.register(show_tree, Command("tree"))
    r.callback_query.register(turn_tree_page, TreeNav.filter())
    r.message.register(grid_add, Command("grid_add"))
    r.message.register(grid_rename, Command("grid_rename"))
    r.message.register(grid_move, Command("grid_move"))
    r.message.register(grid_archive, Command("grid_archive"))
    r.callback_query.register(grid_archive_answer, ArchiveAction.filter())
    r.message.register(members, Command("members"))
    r.message.register(grant_role, Command("role"))
    r.message.register(remove_role, Command("remove"))
    r.message.register(list_admins, Command("admins"))
    r.message.register(dept_add, Command("dept_add"))
    r.message.register(invite, Command("invite"))
    r.message.register(bind_code, Command("bind"))
    outer = guarded(__name__, r, commands=ADMIN_COMMANDS, buttons=(TreeNav, ArchiveAction))
    outer.message.filter(F.chat.type == "private")
    return outer
