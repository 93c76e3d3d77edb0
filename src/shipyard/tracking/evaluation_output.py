"""Showing and keeping evaluation results: a rich table, PNG plots, and logging into a run."""

from __future__ import annotations

import json
import math
import re
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from rich.table import Table

from shipyard.tracking.evaluation import LOWER_IS_BETTER, EvaluationReport

if TYPE_CHECKING:
    from shipyard.tracking.run_handle import RunHandle

__all__ = ["log_evaluation", "report_table", "save_plots"]


def _fmt(value: float, metric: str) -> str:
    if math.isnan(value):
        return "n/a"
    return f"{value:.0f}" if metric in ("tp", "tn", "fp", "fn") else f"{value:.4f}"


def report_table(report: EvaluationReport) -> Table:
    """Candidates as columns, metrics as rows; the best value of each row is bold."""
    table = Table(title=f"Evaluation ({report.task})", title_justify="left")
    table.add_column("metric")
    for row in report.rows:
        table.add_column(row.name, justify="right")
    for metric in report.metric_names:
        values = [row.metrics[metric] for row in report.rows]
        finite = [v for v in values if not math.isnan(v)]
        best = (min(finite) if metric in LOWER_IS_BETTER else max(finite)) if finite else None
        table.add_row(
            metric,
            *[
                f"[bold]{_fmt(v, metric)}[/]" if v == best and len(values) > 1 else _fmt(v, metric)
                for v in values
            ],
        )
    return table


def save_plots(report: EvaluationReport, folder: Path) -> list[Path]:
    """Confusion matrix per candidate and an ROC overlay (binary), as PNG files in ``folder``."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    folder.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    if report.task != "classification":
        return written
    for row in report.rows:
        figure, axes = plt.subplots(figsize=(4.5, 4))
        axes.imshow(row.confusion_matrix, cmap="Blues")
        for (i, j), count in _cells(row.confusion_matrix):
            axes.text(j, i, str(count), ha="center", va="center")
        axes.set_xticks(range(len(report.labels)), report.labels)
        axes.set_yticks(range(len(report.labels)), report.labels)
        axes.set_xlabel("predicted")
        axes.set_ylabel("actual")
        axes.set_title(f"Confusion matrix: {row.name}")
        path = folder / f"confusion_matrix_{_slug(row.name)}.png"
        figure.tight_layout()
        figure.savefig(path, dpi=110)
        plt.close(figure)
        written.append(path)
    curves = [row for row in report.rows if row.roc_curve]
    if curves:
        figure, axes = plt.subplots(figsize=(5, 4.5))
        for row in curves:
            axes.plot(
                row.roc_curve["fpr"],
                row.roc_curve["tpr"],
                label=f"{row.name} (AUC {row.metrics['roc_auc']:.3f})",
            )
        axes.plot([0, 1], [0, 1], linestyle="--", color="grey", label="chance")
        axes.set_xlabel("false positive rate (type I)")
        axes.set_ylabel("true positive rate (sensitivity)")
        axes.set_title("ROC")
        axes.legend(loc="lower right")
        path = folder / "roc.png"
        figure.tight_layout()
        figure.savefig(path, dpi=110)
        plt.close(figure)
        written.append(path)
    return written


def _cells(matrix: list[list[int]]) -> list[tuple[tuple[int, int], int]]:
    return [((i, j), value) for i, row in enumerate(matrix) for j, value in enumerate(row)]


def _slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "_", name).strip("_") or "candidate"


def log_evaluation(run: RunHandle, report: EvaluationReport) -> None:
    """Log every candidate's metrics (``eval.<candidate>.<metric>``), the JSON report and the plots."""
    for row in report.rows:
        run.log_metrics({f"eval.{_slug(row.name)}.{k}": v for k, v in row.metrics.items()}, step=0)
    with tempfile.TemporaryDirectory() as folder:
        target = Path(folder)
        (target / "evaluation.json").write_text(json.dumps(report.to_dict(), indent=2, allow_nan=True))
        run.log_artifact(target / "evaluation.json", "evaluation/evaluation.json")
        for path in save_plots(report, target / "plots"):
            run.log_artifact(path, f"evaluation/{path.name}")
    run.flush()
