"""``shipyard drift REFERENCE CURRENT``: drift between two CSV/Parquet files, without a server.

NumPy, pandas and the engine are imported inside the command, and nothing here imports the ORM or the
web stack, so the command starts as fast as its data libraries allow.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from shipyard.core.console import console, error_console, print_json, print_table
from shipyard.core.errors import InvalidParameterError

if TYPE_CHECKING:
    import pandas as pd

    from shipyard.monitoring.drift import DriftReport
    from shipyard.monitoring.profile import ReferenceProfile

__all__ = ["check_mixed_text", "drift_command", "iter_batches", "parse_assignments", "read_table"]

logger = logging.getLogger(__name__)

PARQUET_MAGIC = b"PAR1"


@contextmanager
def _reading(path: Path) -> Iterator[None]:
    """Turn every way a file can fail to read into one clear message naming the file."""
    import pandas as pd

    if not path.is_file():
        raise InvalidParameterError(f"cannot read {path}: no such file", field=str(path))
    try:
        yield
    except InvalidParameterError:
        raise
    except pd.errors.EmptyDataError:
        raise InvalidParameterError(f"cannot read {path}: the file is empty", field=str(path)) from None
    except (OSError, ValueError, TypeError, pd.errors.ParserError) as exc:  # pyarrow's errors subclass these
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InvalidParameterError(
            f"cannot read {path} as CSV or Parquet: {message}", field=str(path)
        ) from None


def _is_parquet(path: Path) -> bool:
    return _starts_with(path, PARQUET_MAGIC) or path.suffix.lower() in (".parquet", ".pq")


def _separator(path: Path) -> str:
    return "\t" if path.suffix.lower() == ".tsv" else ","


def read_table(path: Path) -> pd.DataFrame:
    """Read a CSV or Parquet file (by content or suffix) or fail with one clear message."""
    import pandas as pd

    with _reading(path):
        frame = pd.read_parquet(path) if _is_parquet(path) else pd.read_csv(path, sep=_separator(path))
    if not _is_parquet(path):
        check_mixed_text(frame, path)
    return frame


def check_mixed_text(frame: pd.DataFrame, path: Path) -> None:
    """Refuse a text column that is mostly numbers: a CSV number column with stray text in it.

    pandas reads such a column as strings, which would silently turn a numerical test into a
    categorical one; at least half numbers and at least one non-number counts as mixed.
    """
    import pandas as pd

    for name in frame.columns:
        column = frame[name]
        if column.dtype != object:
            continue
        present = column.dropna()
        numbers = pd.to_numeric(present, errors="coerce")
        parsed = int(numbers.notna().sum())
        if len(present) - parsed > 0 and parsed * 2 >= len(present):
            example = present[numbers.isna()].iloc[0]
            raise InvalidParameterError(
                f"column {name!r} in {path} mixes numbers and text ({parsed} of {len(present)} values are "
                f"numbers, e.g. not {example!r}); expected one type per column: fix or drop those values",
                field=str(name),
            )


def parse_assignments(items: list[str] | None, option: str) -> tuple[str | None, dict[str, str]]:
    """Split ``["psi", "age=ks"]`` into a value for all columns and per-column values.

    >>> parse_assignments(["psi", "age=ks"], "--stattest")
    ('psi', {'age': 'ks'})
    """
    every: str | None = None
    per_column: dict[str, str] = {}
    for item in items or []:
        name, sep, value = item.rpartition("=")
        if not sep:
            every = item.strip()
        elif not name.strip() or not value.strip():
            raise InvalidParameterError(f"{option} expects COLUMN=VALUE or VALUE; got {item!r}", field=option)
        else:
            per_column[name.strip()] = value.strip()
    return every, per_column


def _threshold(value: str, option: str) -> float:
    try:
        number = float(value)
    except ValueError:
        raise InvalidParameterError(f"{option} expects a number; got {value!r}", field=option) from None
    if number != number:
        raise InvalidParameterError(f"{option} expects a number; got NaN", field=option)
    return number


def _starts_with(path: Path, magic: bytes) -> bool:
    if not path.is_file():
        return False
    with path.open("rb") as handle:
        return handle.read(len(magic)) == magic


def _print_report(report: DriftReport) -> None:
    rows = [
        [
            c.column + ("" if c.role == "feature" else f" ({c.role})"),
            c.type,
            c.stattest,
            f"{c.score:.6g}" + ("" if c.error_bound is None else f" ± {c.error_bound:.2g}"),
            f"{c.threshold:g}",
            "[red]yes[/]" if c.drifted else "[green]no[/]",
        ]
        for c in report.columns
    ]
    print_table("Drift by column", ["column", "type", "test", "score", "threshold", "drifted"], rows)
    for skipped in report.skipped:
        console.print(f"[yellow]skipped {skipped.column}: {skipped.reason}[/]")
    for note in report.notes:
        console.print(f"note: {note}")
    verdict = "[red]dataset drift[/]" if report.dataset_drift else "[green]no dataset drift[/]"
    console.print(
        f"{verdict}: {report.drifted_columns} of {len(report.columns)} columns drifted "
        f"(share {report.drift_share:.3f}, threshold {report.drift_share_threshold:g})"
    )


def iter_batches(path: Path, rows: int = 65_536) -> Iterator[pd.DataFrame]:
    """The file's rows in frames of at most ``rows``, never the whole file at once."""
    import pandas as pd

    with _reading(path):
        if _is_parquet(path):
            import pyarrow.parquet as pq

            for batch in pq.ParquetFile(path).iter_batches(batch_size=rows):
                yield batch.to_pandas()
        else:
            with pd.read_csv(path, chunksize=rows, sep=_separator(path)) as chunks:
                for chunk in chunks:
                    check_mixed_text(chunk, path)
                    yield chunk


def _sketch_report(
    profile: ReferenceProfile,
    current: Path,
    names: list[str] | None,
    every_test: str | None,
    per_test: dict[str, str],
    every_limit: str | None,
    per_limit: dict[str, str],
    types: dict[str, str],
) -> DriftReport:
    from shipyard.monitoring.sketch_drift import sketch_drift
    from shipyard.monitoring.sketches import WindowSketch

    window = WindowSketch()
    for batch in iter_batches(current):
        window.update(batch)
    if not window.columns or all(c.n_rows == 0 for c in window.columns.values()):
        raise InvalidParameterError(f"the current data {current} has no rows", field="current")
    columns = names or list(profile.columns)
    tests = {name: per_test.get(name, every_test) for name in columns if per_test.get(name, every_test)}
    limits = {n: _threshold(v, "--threshold") for n, v in per_limit.items()}
    if every_limit is not None:
        limits = {name: limits.get(name, _threshold(every_limit, "--threshold")) for name in columns}
    return sketch_drift(
        profile, window, columns=columns, stattests=tests, thresholds=limits, column_types=types
    )


def drift_command(
    reference: Annotated[Path, typer.Argument(help="Reference data: CSV, Parquet, or a saved profile.")],
    current: Annotated[Path, typer.Argument(help="Current data: CSV or Parquet.")],
    columns: Annotated[
        list[str] | None, typer.Option("--columns", help="Columns to compare (repeat or comma-separate).")
    ] = None,
    stattest: Annotated[
        list[str] | None,
        typer.Option("--stattest", help="Test by Evidently name: NAME for all columns or COLUMN=NAME."),
    ] = None,
    threshold: Annotated[
        list[str] | None, typer.Option("--threshold", help="Drift threshold: VALUE or COLUMN=VALUE.")
    ] = None,
    column_type: Annotated[
        list[str] | None, typer.Option("--type", help="Override a type: COLUMN=numerical|categorical.")
    ] = None,
    drift_share: Annotated[
        float, typer.Option("--drift-share", help="Share of drifted columns that means dataset drift.")
    ] = 0.5,
    target: Annotated[str | None, typer.Option(help="Target column (target drift).")] = None,
    prediction: Annotated[str | None, typer.Option(help="Prediction column (prediction drift).")] = None,
    json: Annotated[bool, typer.Option("--json", help="Print the result as one JSON object.")] = False,
    html: Annotated[
        Path | None, typer.Option("--html", help="Also write a self-contained HTML report.")
    ] = None,
    sketch: Annotated[
        bool,
        typer.Option(
            "--sketch", help="Read CURRENT in batches into mergeable sketches (windows too big for memory)."
        ),
    ] = False,
    save_profile: Annotated[
        Path | None, typer.Option("--save-profile", help="Also save the reference profile to this file.")
    ] = None,
) -> None:
    """Compare CURRENT with REFERENCE column by column, with Evidently's tests and thresholds."""
    from shipyard.monitoring.drift import compute_drift
    from shipyard.monitoring.profile import MAGIC, ReferenceProfile, profile_frame

    names = [name.strip() for item in columns or [] for name in item.split(",") if name.strip()] or None
    every_test, per_test = parse_assignments(stattest, "--stattest")
    every_limit, per_limit = parse_assignments(threshold, "--threshold")
    _, types = parse_assignments(column_type, "--type")
    for name, value in types.items():
        if value not in ("numerical", "categorical"):
            raise InvalidParameterError(
                f"--type {name}={value}: expected numerical or categorical", field="--type"
            )
    if _starts_with(reference, MAGIC):
        profile = ReferenceProfile.from_bytes(reference.read_bytes())
    else:
        frame = read_table(reference)
        if len(frame) == 0:
            raise InvalidParameterError(f"the reference data {reference} has no rows", field="reference")
        profile = ReferenceProfile.from_frame(frame, columns=names)
        del frame
    if sketch:
        if html is not None:
            raise InvalidParameterError("--html needs the exact mode; drop --sketch", field="--html")
        report = _sketch_report(profile, current, names, every_test, per_test, every_limit, per_limit, types)
        report = replace(report, drift_share_threshold=drift_share)
        print_json(report.to_dict()) if json else _print_report(report)
        return
    window = read_table(current)
    if len(window) == 0:
        raise InvalidParameterError(f"the current data {current} has no rows", field="current")
    current_data: pd.DataFrame | dict = window
    if html is not None:
        wanted = [str(c) for c in window.columns if names is None or str(c) in names]
        current_data = profile_frame(window, columns=wanted)
    report = compute_drift(
        profile,
        current_data,
        columns=names,
        stattest=every_test,
        stattests=per_test,
        threshold=None if every_limit is None else _threshold(every_limit, "--threshold"),
        thresholds={k: _threshold(v, "--threshold") for k, v in per_limit.items()},
        column_types=types,
        drift_share=drift_share,
        target=target,
        prediction=prediction,
    )
    if save_profile is not None:
        save_profile.write_bytes(profile.to_bytes())
    if html is not None:
        from shipyard.monitoring.report import render_html

        assert isinstance(current_data, dict)
        html.write_text(render_html(report, profile.columns, current_data), encoding="utf-8")
    if json:
        print_json(report.to_dict())
    else:
        _print_report(report)
        if html is not None:
            error_console.print(f"HTML report written to {html}")
