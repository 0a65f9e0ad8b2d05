"""aiogram Routers, one module per feature. `routers()` gives them in matching order."""

from __future__ import annotations

from aiogram import Router


def routers() -> list[Router]:
    from handlers import (
        admin,
        cases,
        common,
        digest,
        errors,
        fallback,
        groups,
        my,
        patrol,
        patrol_admin,
        report,
        schedule_admin,
        start,
    )

    return [
        errors.router,
        common.router,
        admin.router,
        groups.router,
        patrol_admin.router,
        patrol.router,
        report.router,
        cases.router(),
        my.router,
        digest.router,
        schedule_admin.router,
        start.router,
        fallback.router,
    ]
