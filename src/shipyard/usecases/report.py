"""The workshop report of a portfolio, in Markdown and HTML.

It shows the matrix picture, the ranking (with quadrant, voter spread and disagreement), the chosen
clusters with the reasons in words, the red flags and the ROI of each use case. The HTML page is self
-contained (the SVG matrix inline); the Markdown refers to ``matrix.png`` beside it, which
``shipyard usecases report`` writes too.
"""

from __future__ import annotations

import html
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from shipyard.core.database import utcnow
from shipyard.core.errors import InvalidParameterError
from shipyard.usecases._lookup import get_portfolio
from shipyard.usecases.matrix import Matrix, MatrixPoint, matrix_of
from shipyard.usecases.plot import PLOTS_MISSING, plots_available, render_matrix
from shipyard.usecases.portfolio import Selection, selection_of
from shipyard.usecases.roi import RoiResult, compute_roi
from shipyard.usecases.tables import Portfolio, UseCase, UseCaseCheck

__all__ = [
    "FORMATS",
    "Report",
    "build_report",
    "render",
    "render_html",
    "render_markdown",
]

FORMATS = ("markdown", "html")


@dataclass(frozen=True)
class Report:
    portfolio: Portfolio
    matrix: Matrix
    selection: Selection
    red_flags: tuple[tuple[MatrixPoint, UseCaseCheck], ...]
    roi: tuple[tuple[MatrixPoint, RoiResult], ...]
    generated_at: str


def build_report(session: Session, *, portfolio_id: str) -> Report:
    portfolio = get_portfolio(session, portfolio_id)
    matrix = matrix_of(session, portfolio)
    points = matrix.by_id()
    flags = session.scalars(
        select(UseCaseCheck)
        .join(UseCase, UseCase.id == UseCaseCheck.use_case_id)
        .where(UseCase.portfolio_id == portfolio.id, UseCaseCheck.red_flag.is_(True))
        .order_by(UseCaseCheck.id)
    )
    rois = [
        (points[u.id], compute_roi(u.roi))
        for u in session.scalars(select(UseCase).where(UseCase.portfolio_id == portfolio.id))
        if u.roi
    ]
    rois.sort(key=lambda item: (item[0].rank is None, item[0].rank or 0, item[0].title))
    return Report(
        portfolio=portfolio,
        matrix=matrix,
        selection=selection_of(session, portfolio),
        red_flags=tuple((points[f.use_case_id], f) for f in flags),
        roi=tuple(rois),
        generated_at=utcnow().strftime("%Y-%m-%d %H:%M UTC"),
    )


def _num(value: float | None, digits: int = 1) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def _money(value: float | None, currency: str) -> str:
    return "-" if value is None else f"{value:,.0f} {currency}"


def _spread(low: float | None, high: float | None) -> str:
    return "-" if low is None or high is None else f"{low:.1f}-{high:.1f}"


def _tables(report: Report) -> dict[str, tuple[list[str], list[list[str]]]]:
    ranking = [
        [
            str(p.rank) if p.rank else "-",
            p.title,
            p.business_unit,
            _num(p.value),
            _spread(p.scores.value.low, p.scores.value.high),
            _num(p.ease),
            _spread(p.scores.ease.low, p.scores.ease.high),
            p.quadrant.label if p.quadrant else "not scored",
            str(p.scores.voters),
            "yes: " + ", ".join(p.scores.disagreement_dimensions) if p.scores.disagreement else "",
            "✓" if p.use_case_id in report.selection.use_case_ids else "",
        ]
        for p in report.matrix.points
    ]
    flags = [
        [
            p.title,
            f.category.replace("_", " "),
            f.question,
            f.owner or "unassigned",
            f"signed off by {f.signed_off_by}: {f.signoff_reason}"
            if f.status == "signed_off"
            else f"{f.status.replace('_', ' ')}; blocks promotion until signed off",
        ]
        for p, f in report.red_flags
    ]
    roi = [
        [
            p.title,
            _money(r.benefit_per_period, r.currency) + f" / {r.period}",
            _money(r.net_per_period, r.currency) + f" / {r.period}",
            _money(r.total_cost, r.currency),
            _money(r.net_value, r.currency) + f" over {r.horizon} {r.period}s",
            "-" if r.roi is None else f"{r.roi * 100:.0f} %",
            "never" if r.payback_periods is None else f"{r.payback_periods:.1f} {r.period}s",
        ]
        for p, r in report.roi
    ]
    return {
        "ranking": (
            [
                "rank",
                "use case",
                "business unit",
                "value",
                "value spread",
                "ease",
                "ease spread",
                "quadrant",
                "voters",
                "disagreement",
                "chosen",
            ],
            ranking,
        ),
        "flags": (["use case", "area", "red flag", "owner", "status"], flags),
        "roi": (["use case", "benefit", "net", "total cost", "net value", "ROI", "payback"], roi),
    }


def _md_table(columns: list[str], rows: list[list[str]]) -> str:
    def cell(text: str) -> str:
        return text.replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(cell(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def render_markdown(report: Report, *, image: str | None = "matrix.png") -> str:
    """The report as Markdown; ``image`` is the path of the matrix picture beside it (None: none)."""
    tables = _tables(report)
    titles = {p.use_case_id: p.title for p in report.matrix.points}
    out = [f"# Use-case portfolio: {report.portfolio.name}", ""]
    if report.portfolio.description:
        out += [report.portfolio.description, ""]
    out += [
        f"Generated {report.generated_at}. Thresholds: value {report.matrix.value_threshold:g}, "
        f"ease {report.matrix.ease_threshold:g}; ease floor for selection {report.portfolio.ease_floor:g}.",
        "",
        "## Prioritisation matrix",
        "",
    ]
    out += [f"![Prioritisation matrix]({image})", ""] if image else [f"_No picture: {PLOTS_MISSING}._", ""]
    out += ["## Ranking", "", _md_table(*tables["ranking"]), "", "## Chosen clusters", ""]
    if report.selection.locked:
        out += [f"Locked by {report.selection.locked_by} at {report.selection.locked_at}.", ""]
    for cluster in report.selection.clusters:
        members = ", ".join(titles.get(i, i) for i in cluster.use_case_ids)
        out += [f"### {cluster.kind.replace('_', ' ')}: {cluster.label}", "", f"Use cases: {members}.", ""]
    out += ["Why:", ""] + [f"- {line}" for line in report.selection.explanation] + [""]
    out += ["## Red flags", ""]
    out += [_md_table(*tables["flags"]) if tables["flags"][1] else "No red flags raised.", ""]
    out += ["## ROI", ""]
    out += [_md_table(*tables["roi"]) if tables["roi"][1] else "No ROI estimates yet.", ""]
    out += [
        "ROI = net value / total cost; net value = benefit per period x horizon - (build cost + running "
        "cost x horizon); payback = build cost / (benefit - running cost) per period.",
        "",
    ]
    return "\n".join(out)


def _html_table(columns: list[str], rows: list[list[str]]) -> str:
    head = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


_STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;max-width:1200px;margin:2em auto;
color:#222;padding:0 1em}
table{border-collapse:collapse;width:100%;margin:1em 0;font-size:.9em}
th,td{border:1px solid #ddd;padding:.35em .5em;text-align:left;vertical-align:top}
th{background:#f4f4f4}.matrix svg{max-width:100%;height:auto}.note{color:#666}
"""


def render_html(report: Report, *, picture: str | None = None) -> str:
    """A self-contained HTML page; ``picture`` is the SVG markup of the matrix (drawn here when None)."""
    if picture is None and plots_available():
        svg = render_matrix(report.matrix, fmt="svg").decode()
        picture = svg[svg.find("<svg") :]
    tables = _tables(report)
    titles = {p.use_case_id: p.title for p in report.matrix.points}
    esc = html.escape
    parts = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>Use-case portfolio: {esc(report.portfolio.name)}</title>",
        f"<style>{_STYLE}</style></head><body>",
        f"<h1>Use-case portfolio: {esc(report.portfolio.name)}</h1>",
        f"<p>{esc(report.portfolio.description)}</p>" if report.portfolio.description else "",
        f"<p class='note'>Generated {esc(report.generated_at)}. Thresholds: value "
        f"{report.matrix.value_threshold:g}, ease {report.matrix.ease_threshold:g}; ease floor "
        f"{report.portfolio.ease_floor:g}.</p>",
        "<h2>Prioritisation matrix</h2>",
        f"<div class='matrix'>{picture}</div>"
        if picture
        else f"<p class='note'>No picture: {esc(PLOTS_MISSING)}</p>",
        "<h2>Ranking</h2>",
        _html_table(*tables["ranking"]),
        "<h2>Chosen clusters</h2>",
    ]
    if report.selection.locked:
        parts.append(
            f"<p>Locked by {esc(report.selection.locked_by or '')} "
            f"at {esc(report.selection.locked_at or '')}.</p>"
        )
    for cluster in report.selection.clusters:
        members = ", ".join(titles.get(i, i) for i in cluster.use_case_ids)
        parts.append(
            f"<h3>{esc(cluster.kind.replace('_', ' '))}: {esc(cluster.label)}</h3><p>{esc(members)}</p>"
        )
    parts.append("<ul>" + "".join(f"<li>{esc(line)}</li>" for line in report.selection.explanation) + "</ul>")
    parts.append("<h2>Red flags</h2>")
    parts.append(_html_table(*tables["flags"]) if tables["flags"][1] else "<p>No red flags raised.</p>")
    parts.append("<h2>ROI</h2>")
    parts.append(_html_table(*tables["roi"]) if tables["roi"][1] else "<p>No ROI estimates yet.</p>")
    parts.append("</body></html>")
    return "\n".join(p for p in parts if p)


def render(
    session: Session, *, portfolio_id: str, fmt: str = "markdown", image: str | None = "matrix.png"
) -> str:
    """Build and render the report of a portfolio in ``markdown`` or ``html``."""
    if fmt not in FORMATS:
        raise InvalidParameterError(f"format must be markdown or html; got {fmt!r}", field="format")
    report = build_report(session, portfolio_id=portfolio_id)
    if fmt == "html":
        return render_html(report)
    return render_markdown(report, image=image if plots_available() else None)
