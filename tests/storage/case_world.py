"""Fixtures for the case service and storage tests: fire-safety-5-level.yaml imported into a
fresh migrated SQLite file, and a renderer that records nothing but plain texts."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import select

from domain.cases import CaseAction
from domain.identity import Identity
from domain.scenario import parse_scenario
from services.case_notify import CaseView
from storage.db import Database
from storage.importer import apply_import
from storage.models import Case, CaseEvent, Department, Grid, Person
from storage.people import identity_of
from tests.conftest import scenario_path

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 3, 10, 9, 0, tzinfo=SHANGHAI)
GUARD, GUARD2, PIANQU_LEADER, COMMUNITY_LEADER = 810000001, 810000002, 810000000, 800000020


class PlainTexts:
    """CaseTexts for tests: readable, deterministic, no translations needed."""

    default_language = "zh"

    def card(
        self,
        view: CaseView,
        actions: Sequence[CaseAction],
        language: str,
        headline: str | None = None,
    ) -> tuple[str, dict[str, Any] | None]:
        text = f"card {view.case.code} {view.case.status}"
        return (f"{headline}\n" if headline else "") + text, {"actions": [a.value for a in actions]}

    def headline(
        self, view: CaseView, event: CaseEvent, actor: str | None, language: str
    ) -> str | None:
        return f"to you: {event.kind} {event.note or ''}".strip()

    def retired_card(self, view: CaseView, language: str) -> str:
        return f"retired {view.case.code}"

    def photos_caption(
        self, view: CaseView, event: CaseEvent | None, actor: str | None, language: str
    ) -> str:
        return f"photos {view.case.code} {event.kind if event else 'reported'}"

    def transfer_delivered(self, case: Case, department: Department, language: str) -> str:
        return f"delivered {case.code} {department.code}"

    def notice(self, view: CaseView, event: CaseEvent, actor: str | None, language: str) -> str:
        return f"notice {view.case.code} {event.kind}"

    def transfer_record(
        self, view: CaseView, event: CaseEvent, actor: str | None, language: str
    ) -> tuple[str, str, str]:
        return f"transfer {view.case.code}", f"{view.case.code}.txt", "record"

    def comment(self, view: CaseView, event: CaseEvent, actor: str | None, language: str) -> str:
        return f"comment {view.case.code} {event.note}"


@pytest.fixture
async def fire(db: Database) -> Database:
    scenario = parse_scenario(
        scenario_path("fire-safety-5-level.yaml").read_text(encoding="utf-8"), source="fire"
    )
    async with db.session() as s:
        await apply_import(s, scenario, now=NOW)
    return db


async def who(s: Any, tg_id: int) -> Identity:
    person = (await s.exec(select(Person).where(Person.tg_id == tg_id))).one()
    return await identity_of(s, person, default_language="zh", admin_ids=frozenset())


async def grid_id(s: Any, code: str) -> int:
    grid = (await s.exec(select(Grid).where(Grid.code == code))).one()
    assert grid.id is not None
    return grid.id
