"""An input block stores the same rows as the same columns given one by one: in the WAL, after a
crash, once sealed, and when entries of both shapes share a log."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from shipyard.core.errors import InvalidParameterError
from shipyard.serving.predlog import InputBlock, LogEntry, PredictionLog
from tests.serving.predlog.entries import T0, crash_copy, make_entry

NAMES = ("mean radius", "texture", "x")


def block_entry(rows: int, at: float = T0, *, extra: bool = False) -> tuple[LogEntry, LogEntry]:
    """The same rows twice: once with an input block, once with one input column per feature."""
    g = np.random.default_rng(int(at) % 1000 + rows)
    values = np.ascontiguousarray(g.normal(size=(rows, len(NAMES))).T)
    more = {"n": g.integers(0, 9, rows)} if extra else {}
    blocked = make_entry(rows=rows, at=at, inputs=dict(more))
    blocked.input_block = InputBlock(NAMES, values)
    columns = make_entry(rows=rows, at=at, inputs={**dict(zip(NAMES, values, strict=True)), **more})
    for name in ("request_ids", "rows", "latency_ms", "outputs"):
        setattr(columns, name, getattr(blocked, name))
    return blocked, columns


def _same_tables(left: pa.Table, right: pa.Table) -> None:
    assert left.column_names == right.column_names
    assert left.equals(right)


@pytest.mark.parametrize("extra", [False, True], ids=["block-only", "block-and-columns"])
def test_a_block_reads_back_as_its_columns_unsealed_replayed_and_sealed(tmp_path: Path, extra: bool) -> None:
    pairs = [block_entry(rows, T0 + i, extra=extra) for i, rows in enumerate([1, 16, 3])]
    live, crashed, plain = tmp_path / "live", tmp_path / "crashed", tmp_path / "plain"
    with PredictionLog(plain, maintenance_seconds=None) as log:
        for _, columns in pairs:
            log.submit(columns).result(timeout=30)
        expected = log.scan("churn")
    assert [c for c in expected.column_names if c.startswith("input.")][:3] == [f"input.{n}" for n in NAMES]
    with PredictionLog(live, segment_seconds=3600, maintenance_seconds=None) as log:
        for blocked, _ in pairs:
            log.submit(blocked).result(timeout=30)
        _same_tables(log.scan("churn"), expected)  # from memory (the WAL's rows)
        crash_copy(live, crashed)
    with PredictionLog(crashed, maintenance_seconds=None) as log:
        _same_tables(log.scan("churn"), expected)  # replayed from the WAL after a crash
    with PredictionLog(live, maintenance_seconds=None) as log:
        assert log.stats("churn")["segments"] == 1
        _same_tables(log.scan("churn"), expected)  # sealed into a segment


def test_blocks_group_with_blocks_and_columns_with_columns(log: PredictionLog) -> None:
    pairs = [block_entry(rows, T0 + i) for i, rows in enumerate([2, 5, 1])]
    futures = [log.submit(entry) for pair in pairs for entry in pair]
    for future in futures:
        future.result(timeout=30)
    frame = log.scan("churn").to_pandas()
    assert len(frame) == 2 * 8  # each request twice: once from a block, once from columns
    inputs = [f"input.{name}" for name in NAMES]
    for _, rows in frame.groupby(["request_id", "row"]):
        assert len(rows) == 2 and rows[inputs].iloc[0].equals(rows[inputs].iloc[1])


@pytest.mark.parametrize(
    ("block", "message"),
    [
        (InputBlock(("a", "b"), np.zeros((2, 3))), "shape"),
        (InputBlock(("a",), np.zeros(2)), "2-D numeric"),
        (InputBlock(("a", "b"), np.array([["x", "y"], ["z", "w"]], dtype=object)), "2-D numeric"),
        (InputBlock(("a", "a"), np.zeros((2, 2))), "distinct"),
        (InputBlock(("a", "bad\x00name"), np.zeros((2, 2))), "input_block"),
        (InputBlock(("n", "b"), np.zeros((2, 2))), "same name"),
        ("not a block", "InputBlock"),
    ],
    ids=["rows", "one-dimensional", "objects", "repeated-name", "control-character", "collision", "type"],
)
def test_a_bad_block_is_refused_naming_it(log: PredictionLog, block: object, message: str) -> None:
    entry = make_entry(rows=2, inputs={"n": np.arange(2)})
    entry.input_block = block  # type: ignore[assignment]
    with pytest.raises(InvalidParameterError, match=message) as caught:
        log.submit(entry)
    assert caught.value.field == "input_block"
    assert log.stats("churn")["rows"] == 0
