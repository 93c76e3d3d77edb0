"""Batch scoring: a CSV or Parquet file through a registered model, in chunks, to Parquet.

The file is streamed (pyarrow readers), so its size is bounded by disk, not memory; each chunk is
validated against the model's signature like a request would be, predicted, and appended to the
output, which is written to a temporary name and renamed when complete.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from shipyard.core.console import console
from shipyard.core.errors import InvalidParameterError
from shipyard.core.platform import Platform
from shipyard.models.package import load_model
from shipyard.serving.rows import to_model_input, validate_columns
from shipyard.serving.sources import PlatformSource

__all__ = ["ScoreSummary", "score_file"]


@dataclass
class ScoreSummary:
    rows: int
    model: str
    version: str
    seconds: float


def _count_csv_rows(path: Path) -> int:
    lines = 0
    with open(path, "rb") as handle:
        while chunk := handle.read(4 * 1024 * 1024):
            lines += chunk.count(b"\n")
    return max(lines - 1, 0)


def _batches(path: Path, chunk_rows: int) -> tuple[Iterator[pa.RecordBatch], int]:
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        parquet = pq.ParquetFile(path)
        return parquet.iter_batches(batch_size=chunk_rows), parquet.metadata.num_rows
    if suffix == ".csv":
        reader = pa_csv.open_csv(path, read_options=pa_csv.ReadOptions(block_size=16 * 1024 * 1024))
        return iter(reader), _count_csv_rows(path)
    raise InvalidParameterError(f"{path.name}: give a .csv or .parquet file", field="input_file")


def score_file(
    platform: Platform,
    model_uri: str,
    source_path: Path,
    output: Path,
    *,
    chunk_rows: int = 50_000,
    probabilities: bool = True,
    keep_inputs: bool = True,
) -> ScoreSummary:
    source = PlatformSource(platform)
    ref = source.resolve(model_uri)
    folder, trusted = source.fetch(ref)
    loaded = load_model(folder, trusted=trusted)
    has_proba = probabilities and hasattr(loaded.model, "predict_proba") and hasattr(loaded.model, "classes_")
    classes = list(getattr(loaded.model, "classes_", []))
    started = time.perf_counter()
    batches, total = _batches(source_path, chunk_rows)
    partial = output.with_name(f".{output.name}.partial")
    writer: pq.ParquetWriter | None = None
    rows = 0
    progress = Progress(
        TextColumn("scoring"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=True,
    )
    try:
        with progress:
            task = progress.add_task("score", total=total or None)
            for batch in batches:
                for start in range(0, batch.num_rows, chunk_rows):
                    piece = batch.slice(start, chunk_rows)
                    columns = {
                        name: piece.column(name).to_numpy(zero_copy_only=False) for name in piece.schema.names
                    }
                    valid = validate_columns(
                        loaded.signature, columns, max_rows=max(chunk_rows, piece.num_rows)
                    )
                    data = to_model_input(valid, loaded.signature)
                    if keep_inputs:
                        table = pa.Table.from_batches([piece])
                    else:
                        table = pa.table({"row": np.arange(rows, rows + piece.num_rows)})
                    table = table.append_column(
                        "prediction", pa.array(np.asarray(loaded.flavor.predict(loaded.model, data)))
                    )
                    if has_proba:
                        proba = np.asarray(loaded.flavor.predict_proba(loaded.model, data))
                        for index, label in enumerate(classes):
                            table = table.append_column(f"proba_{label}", pa.array(proba[:, index]))
                    if writer is None:
                        writer = pq.ParquetWriter(partial, table.schema)
                    writer.write_table(table)
                    rows += piece.num_rows
                    progress.update(task, advance=piece.num_rows)
        if writer is None:
            raise InvalidParameterError(f"{source_path.name} has no rows to score", field="input_file")
        writer.close()
        writer = None
        os.replace(partial, output)
    finally:
        if writer is not None:
            writer.close()
        partial.unlink(missing_ok=True)
    return ScoreSummary(rows, ref.name, ref.version, time.perf_counter() - started)
