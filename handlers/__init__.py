"""aiogram Routers, one module per feature, each built by its `router()`. `routers()` builds
them all, in matching order: every Dispatcher (a restart in tests, the demo) gets its own."""

from __future__ import annotations

from collections.abc import Sequence

from aiogram import Router

from bot.quick_routing import quick_routing
from handlers import (
    admin,
    cases,
    common,
    digest,
    errors,
    export,
    fallback,
    group_ack,
    group_report,
    groups,
    my,
    patrol,
    patrol_admin,
    report,
    schedule_admin,
    start,
    stats,
    summary,
)


def routers(*, extra: Sequence[Router] = (), quick: bool = True) -> list[Router]:
    """`extra` (test-only routers) claim updates after the features, before the fallback.
    Each feature router passes over, without running their filters, the handlers that cannot
    take an update (bot/quick_routing.py); `quick=False` (a test comparing the two) leaves
    them as aiogram has them."""
    features = [
        errors.router(),
        common.router(),
        admin.router(),
        groups.router(),
        group_report.router(),
        group_ack.router(),
        patrol_admin.router(),
        patrol.router(),
        report.router(),
        cases.router(),
        my.router(),
        digest.router(),
        schedule_admin.router(),
        stats.router(),
        summary.router(),
        export.router(),
        start.router(),
    ]
    built = [*features, *extra, fallback.router()]
    return [quick_routing(r) if quick and r not in extra else r for r in built]
