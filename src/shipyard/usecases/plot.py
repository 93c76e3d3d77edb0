"""The prioritisation matrix as a picture (PNG or SVG), drawn with matplotlib's Agg backend.

Ease runs along x, value up y, both 0-5; dashed lines mark the thresholds and tinted quadrants carry
their names. Each use case is a labelled point coloured by business unit, with error bars from the
lowest to the highest voter's own score on each axis; a red ring marks voter disagreement.

matplotlib is a core dependency; should an install lack it anyway, the functions here raise
``UnsupportedMediaTypeError`` saying so, and reports are written without the picture.
"""

from __future__ import annotations

import importlib.util
import io
import threading
from typing import Any

from shipyard.core.errors import InvalidParameterError, UnsupportedMediaTypeError
from shipyard.usecases.matrix import Matrix, Quadrant

__all__ = [
    "FORMATS",
    "MEDIA_TYPES",
    "PLOTS_MISSING",
    "plots_available",
    "render_matrix",
]

FORMATS = ("png", "svg")
MEDIA_TYPES = {"png": "image/png", "svg": "image/svg+xml"}
PLOTS_MISSING = "the matrix picture needs matplotlib: pip install 'shipyard-ml[plots]'"
_PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22", "#7f7f7f"]
# rc_context changes matplotlib's global settings, so renders (server threads) take turns.
_RENDER_LOCK = threading.Lock()
_QUADRANT_COLOURS = {
    Quadrant.QUICK_WIN: "#e3f4e1",
    Quadrant.STRATEGIC_BET: "#fdf0d5",
    Quadrant.FILL_IN: "#e3edf7",
    Quadrant.AVOID: "#f1f1f1",
}


def plots_available() -> bool:
    return importlib.util.find_spec("matplotlib") is not None


def _quadrant_boxes(ax: Any, matrix: Matrix) -> None:
    vt, et = matrix.value_threshold, matrix.ease_threshold
    boxes = {
        Quadrant.QUICK_WIN: (et, vt, 5 - et, 5 - vt, (4.95, 4.9), "right", "top"),
        Quadrant.STRATEGIC_BET: (0, vt, et, 5 - vt, (0.05, 4.9), "left", "top"),
        Quadrant.FILL_IN: (et, 0, 5 - et, vt, (4.95, 0.08), "right", "bottom"),
        Quadrant.AVOID: (0, 0, et, vt, (0.05, 0.08), "left", "bottom"),
    }
    from matplotlib.patches import Rectangle

    for quadrant, (x, y, w, h, (tx, ty), ha, va) in boxes.items():
        ax.add_patch(
            Rectangle((x, y), w, h, facecolor=_QUADRANT_COLOURS[quadrant], edgecolor="none", zorder=0)
        )
        ax.text(
            tx,
            ty,
            quadrant.label.upper(),
            ha=ha,
            va=va,
            fontsize=10,
            color="#555555",
            weight="bold",
            zorder=1,
        )
    ax.axhline(vt, color="#888888", linestyle="--", linewidth=1, zorder=1)
    ax.axvline(et, color="#888888", linestyle="--", linewidth=1, zorder=1)


# Label size in data units, estimated for the figure size and font used below.
_CHAR_WIDTH, _LABEL_HEIGHT = 0.036, 0.13
_OFFSETS = [
    (0.08, 0.12),
    (0.08, -0.12),
    (-0.08, 0.12),
    (-0.08, -0.12),
    (0.08, 0.3),
    (0.08, -0.3),
    (-0.08, 0.3),
    (-0.08, -0.3),
    (0.08, 0.48),
    (0.08, -0.48),
]


def _place_label(
    x: float, y: float, chars: int, placed: list[tuple[float, float, float, float]]
) -> tuple[tuple[float, float], str]:
    """A label position near (x, y) that overlaps no placed label and stays inside the axes."""
    width = chars * _CHAR_WIDTH
    best: tuple[int, tuple[float, float], str, tuple[float, float, float, float]] | None = None
    for dx, dy in _OFFSETS:
        ha = "left" if dx > 0 else "right"
        left = x + dx if dx > 0 else x + dx - width
        box = (left, y + dy - _LABEL_HEIGHT / 2, left + width, y + dy + _LABEL_HEIGHT / 2)
        outside = box[0] < 0.02 or box[2] > 4.98 or box[1] < 0.02 or box[3] > 4.98
        overlaps = sum(
            1
            for other in placed
            if box[0] < other[2] and other[0] < box[2] and box[1] < other[3] and other[1] < box[3]
        )
        penalty = overlaps * 10 + outside * 5
        if best is None or penalty < best[0]:
            best = (penalty, (x + dx, y + dy), ha, box)
        if penalty == 0:
            break
    assert best is not None
    placed.append(best[3])
    return best[1], best[2]


def render_matrix(matrix: Matrix, *, fmt: str = "png", title: str | None = None) -> bytes:
    """The matrix as PNG or SVG bytes (SVG keeps labels as text). Deterministic for equal input."""
    if fmt not in FORMATS:
        raise InvalidParameterError(f"format must be png or svg; got {fmt!r}", field="format")
    if not plots_available():
        raise UnsupportedMediaTypeError(PLOTS_MISSING, field="format")
    import matplotlib
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D

    with (
        _RENDER_LOCK,
        matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": "shipyard", "font.size": 9}),
    ):
        figure = Figure(figsize=(11, 8), dpi=120, layout="constrained")
        FigureCanvasAgg(figure)
        ax = figure.add_subplot()
        _quadrant_boxes(ax, matrix)
        units = sorted({p.business_unit or "(no unit)" for p in matrix.points if p.scored})
        colours = {unit: _PALETTE[i % len(_PALETTE)] for i, unit in enumerate(units)}
        placed: list[tuple[float, float, float, float]] = []
        for point in matrix.points:
            if not point.scored:
                continue
            value, ease = point.value or 0.0, point.ease or 0.0
            v, e = point.scores.value, point.scores.ease
            colour = colours[point.business_unit or "(no unit)"]
            ax.errorbar(
                ease,
                value,
                xerr=[[ease - (e.low if e.low is not None else ease)], [(e.high or ease) - ease]],
                yerr=[[value - (v.low if v.low is not None else value)], [(v.high or value) - value]],
                fmt="o",
                color=colour,
                ecolor=colour,
                elinewidth=1,
                capsize=3,
                alpha=0.9,
                markersize=8,
                markeredgecolor="#d62728" if point.scores.disagreement else "white",
                markeredgewidth=2 if point.scores.disagreement else 1,
                zorder=3,
            )
            label = f"{point.rank}. {point.title}" if point.rank else point.title
            label = label if len(label) <= 48 else label[:47] + "…"
            (x, y), ha = _place_label(ease, value, len(label), placed)
            ax.annotate(
                label,
                (ease, value),
                xytext=(x, y),
                textcoords="data",
                ha=ha,
                va="center",
                fontsize=8.5,
                color="#222222",
                zorder=4,
                arrowprops={
                    "arrowstyle": "-",
                    "color": "#999999",
                    "linewidth": 0.6,
                    "shrinkA": 0,
                    "shrinkB": 5,
                },
            )
        ax.set_xlim(0, 5)
        ax.set_ylim(0, 5)
        ax.set_xlabel("Ease (data, technology, integration, know-how)  →", fontsize=10)
        ax.set_ylabel("Value (economic, strategic)  →", fontsize=10)
        ax.set_title(title or f"Prioritisation matrix — {matrix.portfolio_name}", fontsize=13, loc="left")
        handles = [
            Line2D([], [], marker="o", linestyle="", color=colours[u], markersize=8, label=u) for u in units
        ]
        handles.append(
            Line2D(
                [],
                [],
                marker="o",
                linestyle="",
                color="#bbbbbb",
                markeredgecolor="#d62728",
                markeredgewidth=2,
                markersize=8,
                label="voters disagree",
            )
        )
        ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1), fontsize=8.5, frameon=False)
        ax.text(
            1.01,
            0.02,
            "bars: lowest to highest\nvoter's own score",
            transform=ax.transAxes,
            fontsize=8,
            color="#555555",
            va="bottom",
        )
        out = io.BytesIO()
        metadata = {"Software": None} if fmt == "png" else {"Date": None, "Creator": None}
        figure.savefig(out, format=fmt, metadata=metadata)
    return out.getvalue()
