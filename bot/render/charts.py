"""The scoreboard's chart (PNG): child grids' completion and on-time rates as bars, and the
period's trend (patrols, cases closed) as lines.

matplotlib's object API on the Agg canvas: no pyplot, no GUI, no global figure state. The
Chinese text needs a CJK font: Noto Sans SC ships with the project (the
``pylopdf-fonts-zh-cn`` package, SIL Open Font License 1.1). Without it, the first system
font that covers the chart's own words is used, and a warning says so; with neither, the
chart still renders, with boxes for the Chinese.
"""

from __future__ import annotations

import io
import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Final

import matplotlib

matplotlib.use("Agg")

from matplotlib import font_manager, rc_context
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ft2font import FT2Font
from matplotlib.text import Text
from matplotlib.ticker import MaxNLocator

log = logging.getLogger(__name__)

PROBE: Final = "网格巡查完成率按期结案趋势"
"""Words every chart draws: a fallback font must have all of them."""
MAX_BARS: Final = 20
SIZE_IN: Final = (10.0, 8.0)
DPI: Final = 100


def covers(font_path: Path | str, text: str) -> bool:
    """True when the font has a glyph for every character of ``text`` but spaces."""
    charmap = FT2Font(str(font_path)).get_charmap()
    return all(ord(ch) in charmap for ch in text if not ch.isspace())


@lru_cache(maxsize=1)
def cjk_font() -> Path | None:
    """The font the charts draw with: the shipped Noto Sans SC, else a system CJK font."""
    try:
        from pylopdf_fonts_zh_cn import sans_path

        shipped = Path(sans_path())
        if shipped.is_file():
            return shipped
    except ImportError:
        pass
    for found in sorted(font_manager.findSystemFonts()):
        try:
            if covers(found, PROBE):
                log.warning("charts: Noto Sans SC is not installed; using %s", found)
                return Path(found)
        except (OSError, RuntimeError):
            continue
    log.warning("charts: no CJK font found; Chinese text will show as boxes")
    return None


@lru_cache(maxsize=4)
def _family(path: Path) -> str:
    font_manager.fontManager.addfont(str(path))
    return str(font_manager.FontProperties(fname=str(path)).get_name())


@dataclass(frozen=True)
class ChartData:
    bars_title: str
    trend_title: str
    names: Sequence[str]
    completion: Sequence[float | None]
    on_time: Sequence[float | None]
    completion_label: str
    on_time_label: str
    trend_labels: Sequence[str]
    patrols: Sequence[int]
    closed: Sequence[int]
    patrols_label: str
    closed_label: str
    empty_label: str


def _pct(values: Sequence[float | None]) -> list[float]:
    return [math.nan if v is None else v * 100 for v in values]


def _draw(fig: Figure, data: ChartData) -> None:
    bars, trend = fig.subplots(2, 1, gridspec_kw={"height_ratios": [3, 2]})
    names = list(data.names[:MAX_BARS])
    bars.set_title(data.bars_title)
    if names:
        x = list(range(len(names)))
        width = 0.4
        left = bars.bar(
            [i - width / 2 for i in x],
            _pct(data.completion[: len(names)]),
            width,
            label=data.completion_label,
            color="#4472C4",
        )
        right = bars.bar(
            [i + width / 2 for i in x],
            _pct(data.on_time[: len(names)]),
            width,
            label=data.on_time_label,
            color="#ED7D31",
        )
        for drawn in (left, right):
            bars.bar_label(drawn, fmt="%.0f%%", fontsize=8)
        crowded = len(names) > 6
        bars.set_xticks(x)
        bars.set_xticklabels(
            names, rotation=30 if crowded else 0, ha="right" if crowded else "center"
        )
        bars.legend(loc="upper right")
    else:
        bars.text(0.5, 0.5, data.empty_label, ha="center", va="center", transform=bars.transAxes)
        bars.set_xticks([])
    bars.set_ylim(0, 110)
    bars.set_ylabel("%")
    bars.grid(axis="y", alpha=0.3)

    trend.set_title(data.trend_title)
    x = list(range(len(data.trend_labels)))
    trend.plot(x, list(data.patrols), marker="o", label=data.patrols_label, color="#4472C4")
    trend.plot(x, list(data.closed), marker="s", label=data.closed_label, color="#70AD47")
    step = max(1, math.ceil(len(x) / 16))
    trend.set_xticks(x[::step])
    trend.set_xticklabels(list(data.trend_labels)[::step])
    trend.set_ylim(bottom=0)
    trend.yaxis.set_major_locator(MaxNLocator(integer=True))
    trend.grid(alpha=0.3)
    trend.legend(loc="upper left")
    fig.tight_layout()


def build_chart(data: ChartData) -> Figure:
    """The chart as a Figure on an Agg canvas (`png_of` renders it)."""
    fig = Figure(figsize=SIZE_IN, dpi=DPI)
    FigureCanvasAgg(fig)
    with rc_context(_rc()):
        _draw(fig, data)
    return fig


def _rc() -> dict[Any, Any]:
    font = cjk_font()
    rc: dict[Any, Any] = {"axes.unicode_minus": False}
    if font is not None:
        rc["font.family"] = "sans-serif"
        rc["font.sans-serif"] = [_family(font), "DejaVu Sans"]
    return rc


def png_of(fig: Figure) -> bytes:
    out = io.BytesIO()
    with rc_context(_rc()):
        fig.savefig(out, format="png", dpi=DPI)
    return out.getvalue()


def render_chart(data: ChartData) -> bytes:
    return png_of(build_chart(data))


def fonts_used(fig: Figure) -> dict[str, Path]:
    """Each text drawn on the figure, and the font file matplotlib draws it with."""
    with rc_context(_rc()):
        return {
            t.get_text(): Path(font_manager.findfont(t.get_fontproperties()))
            for t in fig.findobj(Text)
            if isinstance(t, Text) and t.get_text().strip()
        }
