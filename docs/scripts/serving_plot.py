"""Draw docs/images/serving-throughput.png from the serving rows of the committed BENCHMARKS.md.

``make bench`` (bench/run_all.py) writes BENCHMARKS.md from the JSON each script produces with
``--json``; this script reads the table it wrote, so the picture shows exactly the committed run
(its date goes into the title). Each serving row is one case (model, concurrency c) with Shipyard's
requests per second and one peer's, all with one-row requests, measured in the same run.

    .venv/bin/python docs/scripts/serving_plot.py [--source BENCHMARKS.md]
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

ROOT = Path(__file__).resolve().parents[2]
OUTPUT = ROOT / "docs" / "images" / "serving-throughput.png"
SERVERS = ("Shipyard", "MLServer", "mlflow models serve")
COLOURS = {"Shipyard": "#4c78a8", "MLServer": "#f58518", "mlflow models serve": "#9d9d9d"}
DATE = re.compile(r"on (\d{4}-\d{2}-\d{2} \d{2}:\d{2}) UTC")


def _number(text: str) -> float:
    return float(text.replace(",", ""))


def read_serving_rows(markdown: str) -> tuple[str, dict[str, dict[str, float]]]:
    """The run's date and, per case, requests per second by server."""
    found = DATE.search(markdown)
    if found is None:
        raise SystemExit("BENCHMARKS.md has no 'on YYYY-MM-DD HH:MM UTC' date line")
    cases: dict[str, dict[str, float]] = {}
    for line in markdown.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) != 7 or cells[0] != "serving" or not cells[2].startswith("req/s"):
            continue
        case = cells[1].replace(", one-row requests", "").replace(", prediction log on", "")
        peer = "MLServer" if cells[4].startswith("MLServer") else cells[4]
        cases.setdefault(case, {})["Shipyard"] = _number(cells[3])
        cases[case][peer] = _number(cells[5])
    if not cases:
        raise SystemExit("BENCHMARKS.md has no serving rows")
    return found[1], cases


def draw(date: str, cases: dict[str, dict[str, float]]) -> Figure:
    figure = Figure(figsize=(11, 4.6), dpi=110, layout="constrained")
    FigureCanvasAgg(figure)
    axis = figure.subplots()
    positions = np.arange(len(cases))
    width = 0.27
    for offset, server in enumerate(SERVERS):
        values = [rates.get(server, np.nan) for rates in cases.values()]
        bars = axis.bar(positions + (offset - 1) * width, values, width, label=server, color=COLOURS[server])
        axis.bar_label(bars, labels=[f"{v:,.0f}" if v == v else "" for v in values], fontsize=7, padding=2)
    axis.set_xticks(positions, [case.replace("), ", ")\n") for case in cases], fontsize=8)
    axis.set_ylabel("requests per second (higher is better)")
    axis.set_title(f"One-row requests per second, prediction log on; make bench, {date} UTC", fontsize=10)
    axis.legend()
    return figure


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--source", type=Path, default=ROOT / "BENCHMARKS.md")
    parser.add_argument("--output", type=Path, default=OUTPUT)
    args = parser.parse_args()
    date, cases = read_serving_rows(args.source.read_text())
    args.output.parent.mkdir(parents=True, exist_ok=True)
    draw(date, cases).savefig(args.output, metadata={"Software": None})
    print(f"wrote {args.output} ({len(cases)} cases from the run of {date} UTC)")


if __name__ == "__main__":
    main()
