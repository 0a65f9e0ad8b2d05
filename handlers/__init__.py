"""aiogram Routers, one module per feature. `routers()` gives them in matching order."""

from __future__ import annotations

from aiogram import Router


def routers() -> list[Router]:
    from handlers import admin, common, errors, fallback, groups, patrol, patrol_admin, start

    return [
        errors.router,
        common.router,
        admin.router,
        groups.router,
        patrol_admin.router,
        patrol.router,
        start.router,
        fallback.router,
    ]
