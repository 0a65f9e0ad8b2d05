"""The scoreboard's chart: a PNG of the expected size whose every text is drawn with a font
that has all its glyphs (Noto Sans SC, shipped with the project), and no glyph missing."""

from __future__ import annotations

import struct
import warnings

from matplotlib.ft2font import FT2Font

from bot.render.charts import DPI, SIZE_IN, ChartData, build_chart, cjk_font, fonts_used, png_of

DATA = ChartData(
    bars_title="林和街道 下级网格 · 2026-03",
    trend_title="林和街道 趋势 · 2026-03",
    names=["林和东社区", "林和西社区"],
    completion=[0.8, None],
    on_time=[0.25, 1.0],
    completion_label="巡查完成率",
    on_time_label="按期结案率",
    trend_labels=[f"{d:02d}" for d in range(1, 21)],
    patrols=[1, 2, 0, 0, 1, *[3] * 15],
    closed=[1, 0, 0, 1, *[0] * 16],
    patrols_label="巡查次数",
    closed_label="结案数",
    empty_label="（无下级网格）",
)


def png_size(png: bytes) -> tuple[int, int]:
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and png[12:16] == b"IHDR"
    width, height = struct.unpack(">II", png[16:24])
    return int(width), int(height)


def test_the_chart_is_a_png_of_its_size() -> None:
    png = png_of(build_chart(DATA))
    assert png_size(png) == (int(SIZE_IN[0] * DPI), int(SIZE_IN[1] * DPI))


def test_every_text_is_drawn_with_a_font_that_has_its_glyphs() -> None:
    font = cjk_font()
    assert font is not None and font.name == "NotoSansSC-Regular.otf"
    fig = build_chart(DATA)
    used = fonts_used(fig)
    assert {"林和东社区", "按期结案率", "林和街道 趋势 · 2026-03"} <= set(used)
    for text, path in used.items():
        charmap = FT2Font(str(path)).get_charmap()
        missing = [ch for ch in text if not ch.isspace() and ord(ch) not in charmap]
        assert not missing, f"{text!r} drawn with {path.name}, which lacks {missing}"
    assert used["林和东社区"] == font
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # matplotlib warns "Glyph ... missing from font(s)"
        png_of(fig)


def test_a_grid_with_no_children_still_charts() -> None:
    empty = ChartData(**{**DATA.__dict__, "names": [], "completion": [], "on_time": []})
    fig = build_chart(empty)
    assert "（无下级网格）" in fonts_used(fig)
    assert png_size(png_of(fig))[0] == int(SIZE_IN[0] * DPI)
