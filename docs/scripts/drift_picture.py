"""Draw docs/images/drift-report.png: a drift report of iris traffic whose petal columns shifted.

The numbers come from Shipyard's drift engine (``shipyard.monitoring.drift.compute_drift``, the
engine behind ``shipyard drift`` and the monitors) on the iris data set that scikit-learn ships:
the training split of ``docs/examples/iris_data.py`` against its test split with the petal
measurements multiplied by 2.54, the shift of the getting-started page.
matplotlib draws it: per-column scores against their thresholds, and two columns' distributions.

    .venv/bin/python docs/scripts/drift_picture.py
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from shipyard.monitoring.drift import DriftReport, compute_drift

DOCS = Path(__file__).resolve().parents[1]
OUTPUT = DOCS / "images" / "drift-report.png"
sys.path.insert(0, str(DOCS / "examples"))
from iris_data import FEATURES, split  # noqa: E402 - the examples folder is not a package

REF_COLOUR, CUR_COLOUR, DRIFT_COLOUR, STABLE_COLOUR = "#4c78a8", "#f58518", "#d62728", "#2ca02c"


def drifted_traffic() -> tuple[object, object]:
    train, test = split()
    current = test.copy()
    current[["petal_length", "petal_width"]] *= 2.54
    return train[FEATURES], current[FEATURES]


def draw(report: DriftReport, reference: object, current: object) -> Figure:
    figure = Figure(figsize=(12, 4.2), dpi=110, layout="constrained")
    FigureCanvasAgg(figure)
    scores, *distributions = figure.subplots(1, 3, width_ratios=[1.3, 1, 1])
    columns = list(report.columns)
    positions = np.arange(len(columns))
    # Small p-values mean drift; a log scale shows the threshold and the scores together.
    values = [max(column.score, 1e-16) for column in columns]
    colours = [DRIFT_COLOUR if column.drifted else STABLE_COLOUR for column in columns]
    scores.barh(positions, values, color=colours)
    scores.set_xscale("log")
    scores.set_xlim(1e-16, 2)
    for position, column in zip(positions, columns, strict=True):
        scores.plot([column.threshold] * 2, [position - 0.4, position + 0.4], color="black", linewidth=1.5)
    scores.set_yticks(positions, [f"{c.column}\n({c.stattest})" for c in columns])
    scores.invert_yaxis()
    scores.set_xlabel("score (p-value; black tick: threshold)")
    verdict = "dataset drift" if report.dataset_drift else "no dataset drift"
    scores.set_title(f"{report.drifted_columns} of {len(columns)} columns drifted: {verdict}", fontsize=10)
    for axis, name in zip(distributions, ("petal_length", "sepal_width"), strict=True):
        result = report.column(name)
        both = np.concatenate([reference[name].to_numpy(), current[name].to_numpy()])
        edges = np.linspace(both.min(), both.max(), 25)
        axis.hist(reference[name], bins=edges, density=True, alpha=0.6, color=REF_COLOUR, label="reference")
        axis.hist(current[name], bins=edges, density=True, alpha=0.6, color=CUR_COLOUR, label="current")
        state = "drifted" if result.drifted else "stable"
        axis.set_title(f"{name}: {state} (p = {result.score:.2g})", fontsize=10)
        axis.set_xlabel("cm")
        axis.legend(fontsize=8)
    return figure


def main() -> None:
    reference, current = drifted_traffic()
    report = compute_drift(reference, current, workers=1)
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    draw(report, reference, current).savefig(OUTPUT, metadata={"Software": None})
    for column in report.columns:
        print(f"{column.column}: {column.stattest} score {column.score:.3g} drifted={column.drifted}")
    print(f"wrote {OUTPUT}")


if __name__ == "__main__":
    main()
