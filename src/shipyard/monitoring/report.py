"""A self-contained HTML drift report: one page, inline CSS and SVG, no script, no network access.

Each tested column gets a plot of its reference and current distributions: shares over 30 equal-width bins
of the combined range for numerical columns, shares of the (at most 20 most frequent) values for
categorical ones.
"""

from __future__ import annotations

import html
import logging
from collections.abc import Mapping

import numpy as np

from shipyard.monitoring.drift import ColumnDrift, DriftReport
from shipyard.monitoring.profile import ColumnProfile
from shipyard.monitoring.stattests import aligned_counts

__all__ = ["distribution_svg", "render_html"]

logger = logging.getLogger(__name__)

REF_COLOR, CUR_COLOR = "#4c78a8", "#f58518"
WIDTH, HEIGHT, PAD = 560, 200, 30
MAX_CATEGORIES = 20
NUMERIC_BINS = 30


def _numeric_shares(
    reference: ColumnProfile, current: ColumnProfile
) -> tuple[list[str], np.ndarray, np.ndarray]:
    assert reference.values is not None and current.values is not None
    low = min(reference.minimum, current.minimum)
    high = max(reference.maximum, current.maximum)
    edges = np.linspace(low, high if high > low else low + 1.0, NUMERIC_BINS + 1)
    shares = []
    for values in (reference.values, current.values):
        counts = np.diff(np.searchsorted(values, edges, "left"))
        counts[-1] += np.count_nonzero(values == edges[-1])
        shares.append(counts / max(values.size, 1))
    labels = [f"{edges[i]:.4g} to {edges[i + 1]:.4g}" for i in range(NUMERIC_BINS)]
    return labels, shares[0], shares[1]


def _category_shares(
    reference: ColumnProfile, current: ColumnProfile
) -> tuple[list[str], np.ndarray, np.ndarray]:
    keys, ref_counts, cur_counts = aligned_counts(reference, current)
    ref_shares, cur_shares = ref_counts / max(reference.n, 1), cur_counts / max(current.n, 1)
    top = np.argsort(-(ref_shares + cur_shares), kind="stable")[:MAX_CATEGORIES]
    return [str(k) for k in keys[top]], ref_shares[top], cur_shares[top]


def distribution_svg(reference: ColumnProfile, current: ColumnProfile, column_type: str) -> str:
    """An inline SVG bar chart of reference (blue) vs current (orange) shares.

    >>> import numpy as np, pandas as pd
    >>> from shipyard.monitoring.profile import profile_column
    >>> rng = np.random.default_rng(0)
    >>> svg = distribution_svg(profile_column(pd.Series(rng.normal(size=50))),
    ...                        profile_column(pd.Series(rng.normal(size=50))), "numerical")
    >>> svg.startswith("<svg") and svg.count("<rect") == 60
    True
    """
    numeric = column_type == "numerical" and reference.is_numeric and current.is_numeric
    labels, ref, cur = (_numeric_shares if numeric else _category_shares)(reference, current)
    top = max(float(np.max(ref, initial=0)), float(np.max(cur, initial=0)), 1e-12)
    slot = (WIDTH - 2 * PAD) / max(len(labels), 1)
    bar = slot / 2 if not numeric else slot
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" role="img">',
        f'<line x1="{PAD}" y1="{HEIGHT - PAD}" x2="{WIDTH - PAD}" y2="{HEIGHT - PAD}" stroke="#999"/>',
    ]
    for i, label in enumerate(labels):
        for j, (shares, color) in enumerate(((ref, REF_COLOR), (cur, CUR_COLOR))):
            h = (HEIGHT - 2 * PAD) * float(shares[i]) / top
            x = PAD + i * slot + (j * bar if not numeric else 0)
            opacity = "0.85" if not numeric else "0.5"
            parts.append(
                f'<rect x="{x:.1f}" y="{HEIGHT - PAD - h:.1f}" width="{max(bar - 1, 0.5):.1f}" '
                f'height="{h:.1f}" '
                f'fill="{color}" fill-opacity="{opacity}"><title>{html.escape(label)}: '
                f"{'reference' if j == 0 else 'current'} {float(shares[i]):.2%}</title></rect>"
            )
    if numeric:
        first, last = html.escape(labels[0].split(" to ")[0]), html.escape(labels[-1].split(" to ")[-1])
        parts.append(f'<text x="{PAD}" y="{HEIGHT - 10}" font-size="11">{first}</text>')
        parts.append(
            f'<text x="{WIDTH - PAD}" y="{HEIGHT - 10}" font-size="11" text-anchor="end">{last}</text>'
        )
    else:
        for i, label in enumerate(labels):
            short = label if len(label) <= 12 else label[:11] + "…"
            x = PAD + (i + 0.5) * slot
            parts.append(
                f'<text x="{x:.1f}" y="{HEIGHT - 12}" font-size="10" text-anchor="middle">'
                f"{html.escape(short)}</text>"
            )
    parts.append(f'<text x="{PAD}" y="{PAD - 10}" font-size="11">max share {top:.1%}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _row(column: ColumnDrift) -> str:
    verdict = '<b class="bad">drift</b>' if column.drifted else '<span class="ok">no drift</span>'
    cells = [column.column, column.type, column.stattest, f"{column.score:.6g}", f"{column.threshold:g}"]
    return "<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in cells) + f"<td>{verdict}</td></tr>"


def render_html(
    report: DriftReport,
    reference: Mapping[str, ColumnProfile],
    current: Mapping[str, ColumnProfile],
    *,
    title: str = "Shipyard drift report",
) -> str:
    """The whole report as one HTML string (write it with UTF-8)."""
    verdict = "Dataset drift detected" if report.dataset_drift else "No dataset drift"
    sections = []
    for column in report.columns:
        svg = distribution_svg(reference[column.column], current[column.column], column.type)
        sections.append(
            f"<section><h3>{html.escape(column.column)} &middot; {html.escape(column.stattest)} "
            f"{column.score:.6g} ({'drift' if column.drifted else 'no drift'})</h3>{svg}</section>"
        )
    skipped = "".join(
        f"<li><b>{html.escape(s.column)}</b>: {html.escape(s.reason)}</li>" for s in report.skipped
    )
    notes = "".join(f"<li>{html.escape(n)}</li>" for n in report.notes)
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>
body{{font-family:system-ui,sans-serif;margin:2em;color:#222}} table{{border-collapse:collapse}}
td,th{{border:1px solid #ddd;padding:4px 8px;text-align:left}} .bad{{color:#b00}} .ok{{color:#070}}
section{{display:inline-block;margin:0 1em 1em 0;vertical-align:top}} h3{{font-size:14px}}
.key span{{display:inline-block;width:12px;height:12px;margin:0 4px 0 12px}}
</style></head><body>
<h1>{html.escape(title)}</h1>
<p><b>{verdict}</b>: {report.drifted_columns} of {len(report.columns)} columns drifted
(share {report.drift_share:.3f}, threshold {report.drift_share_threshold:g}); mode {report.mode}.</p>
{f"<h2>Notes</h2><ul>{notes}</ul>" if notes else ""}
<table><tr><th>column</th><th>type</th><th>test</th><th>score</th><th>threshold</th><th>drifted</th></tr>
{"".join(_row(c) for c in report.columns)}</table>
{f"<h2>Skipped columns</h2><ul>{skipped}</ul>" if skipped else ""}
<h2>Distributions</h2>
<p class="key"><span style="background:{REF_COLOR}"></span>reference<span style="background:{CUR_COLOR}">
</span>current</p>
{"".join(sections)}
</body></html>
"""
