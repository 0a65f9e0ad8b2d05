"""A case's category (kept as its Chinese label) as a reader sees it: the deployment's English
label for the English UI, escaped on the card; the stored label when it is no longer listed."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from bot.i18n import Translator
from bot.render.cases import CaseRender
from domain.categories import Category
from services.case_view import CaseView
from storage.models import Case, Grid

NOW = datetime(2026, 3, 10, 1, 0, tzinfo=UTC)
VENDING = Category("vending", "占道经营", "Street <vending>")
RENDER = CaseRender(Translator(), "zh", ZoneInfo("Asia/Shanghai"), categories=(VENDING,))


def test_a_listed_category_in_each_language_and_an_unlisted_one_as_stored() -> None:
    assert RENDER.category("占道经营", "en") == "Street <vending>"
    assert RENDER.category("占道经营", "zh") == "占道经营"
    assert RENDER.category("已删除的类别", "en") == "已删除的类别"
    # The view's own category comes first (the card's, found when the view was built).
    other = Category("x", "占道经营", "Roadside stalls")
    assert RENDER.category("占道经营", "en", other) == "Roadside stalls"
    bare = CaseRender(Translator(), "zh", ZoneInfo("Asia/Shanghai"))
    assert bare.category("占道经营", "en") == "占道经营"


def test_the_card_shows_the_views_category_escaped() -> None:
    case = Case(
        id=1,
        code="H260310-003",
        grid_id=1,
        origin_grid_id=1,
        reporter_id=1,
        category="占道经营",
        description="人行道摆摊",
        severity="general",
        status="reported",
        created_at=NOW,
        updated_at=NOW,
    )
    grid = Grid(id=1, code="LH-01-1", name="林和东第1片区", path="/1/", level=1)
    view = CaseView(
        case=case,
        grid=grid,
        version=1,
        reporter_name="甲",
        assignee_name=None,
        department_name=None,
        category=VENDING,
    )
    bare = CaseRender(Translator(), "zh", ZoneInfo("Asia/Shanghai"))
    assert "Category: Street &lt;vending&gt;" in bare.card_text(view, "en")
    assert "类别：占道经营" in bare.card_text(view, "zh")
