"""Bad input is refused at the door, naming the field, and nothing reaches the disk."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from shipyard.core.errors import InvalidParameterError, StoreUnavailableError
from shipyard.serving.predlog import PredictionLog
from tests.serving.predlog.entries import make_entry

BAD_NAMES = [
    "..",
    "../x",
    "a/b",
    "a\\b",
    "/etc",
    ".hidden",
    "",
    "a..b",
    "x" * 129,
    "a b",
    "é",
    "a\x00",
    "-x",
    5,
]


@pytest.mark.parametrize("name", BAD_NAMES)
def test_bad_endpoint_names_are_rejected_everywhere(root: Path, log: PredictionLog, name: object) -> None:
    calls = [
        lambda: log.submit(replace(make_entry(), endpoint=name)),
        lambda: log.scan(name),
        lambda: log.scan_feedback(name),
        lambda: log.labelled(name),
        lambda: log.add_feedback(name, ["r"], [1]),
        lambda: log.stats(name),
        lambda: log.compact(name),
    ]
    for call in calls:
        with pytest.raises(InvalidParameterError) as caught:
            call()
        assert caught.value.field == "endpoint"
    assert sorted(p.name for p in root.iterdir()) == [".lock"]


def test_good_endpoint_names_are_accepted(log: PredictionLog) -> None:
    for name in ("churn", "fraud-v2", "a.b_c", "X" * 128, "0day"):
        log.submit(make_entry(endpoint=name)).result(timeout=30)
    assert log.endpoints() == sorted(["churn", "fraud-v2", "a.b_c", "X" * 128, "0day"])


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"rows": [0]}, "rows"),
        ({"received_at": np.zeros(3)}, "received_at"),
        ({"latency_ms": np.zeros(1)}, "latency_ms"),
        ({"protocol": ["v2"]}, "protocol"),
        ({"inputs": {"x": np.zeros(3)}}, "inputs.x"),
        ({"inputs": {"x": [1.0, 2.0]}}, "inputs.x"),
        ({"inputs": {"x": np.zeros((2, 2, 2))}}, "inputs.x"),
        ({"outputs": {"": np.zeros(2)}}, "outputs"),
        ({"outputs": {"p\n": np.zeros(2)}}, "outputs"),
        ({"outputs": [np.zeros(2)]}, "outputs"),
        ({"model_version": "1\x00"}, "model_version"),
        ({"request_ids": 7}, "request_ids"),
    ],
)
def test_inconsistent_entries_are_rejected_naming_the_field(
    log: PredictionLog, change: dict, field: str
) -> None:
    entry = replace(make_entry(rows=2), **change)
    with pytest.raises(InvalidParameterError) as caught:
        log.submit(entry)
    assert caught.value.field == field


def test_unconvertible_entry_fails_alone(log: PredictionLog) -> None:
    good, bad, also_good = make_entry(rows=2), make_entry(rows=2), make_entry(rows=2)
    bad.rows = np.array([2**40, 0])  # does not fit the int32 row column; checked on the writer thread
    futures = [log.submit(good), log.submit(bad), log.submit(also_good)]
    futures[2].result(timeout=30)
    futures[0].result(timeout=30)
    with pytest.raises(InvalidParameterError) as caught:
        futures[1].result(timeout=30)
    assert caught.value.field == "rows"
    assert log.scan("churn").column("request_id").to_pylist() == good.request_ids + also_good.request_ids


def test_a_log_that_is_not_running_refuses_writes(root: Path) -> None:
    log = PredictionLog(root)
    with pytest.raises(StoreUnavailableError):
        log.submit(make_entry())
    with pytest.raises(StoreUnavailableError):
        log.compact()
    log.start()
    log.close()
    log.close()  # twice is harmless
    with pytest.raises(StoreUnavailableError):
        log.submit(make_entry())


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("segment_rows", 0),
        ("segment_rows", 1.5),
        ("segment_seconds", 0),
        ("retention_days", -1),
        ("compact_rows", 0),
        ("compression", "brotli9"),
    ],
)
def test_bad_settings_are_rejected(root: Path, option: str, value: object) -> None:
    with pytest.raises(InvalidParameterError) as caught:
        PredictionLog(root, **{option: value})
    assert caught.value.field == option


def test_bad_scan_arguments(log: PredictionLog) -> None:
    with pytest.raises(InvalidParameterError) as caught:
        log.scan("churn", since="yesterday")  # type: ignore[arg-type]
    assert caught.value.field == "since"
    with pytest.raises(InvalidParameterError) as caught:
        log.scan("churn", columns="input.x")  # type: ignore[arg-type]
    assert caught.value.field == "columns"


@pytest.mark.parametrize(
    "at", [float("nan"), -1.0, 1e12, float("inf")], ids=["nan", "before-1970", "year-33658", "inf"]
)
def test_a_time_outside_1970_to_5000_fails_that_entry_alone(log: PredictionLog, at: float) -> None:
    bad = make_entry(rows=3)
    bad.received_at = np.array([bad.received_at[0], at, bad.received_at[0]])
    good = log.submit(make_entry(rows=2))
    with pytest.raises(InvalidParameterError) as caught:
        log.submit(bad).result(timeout=30)
    assert caught.value.field == "received_at"
    good.result(timeout=30)
    assert log.stats("churn")["rows"] == 2
