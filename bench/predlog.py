"""Prediction-log speed on this machine: what logging costs the serving path, and how fast monitoring scans.

Usage: ``.venv/bin/python bench/predlog.py [--quick] [--json PATH]`` (about a minute; ``--quick`` scans 200k
rows, not 1M).

Prints one table:
  * the disk's own fsync latency (2 KB append + fdatasync), the floor under every group commit;
  * ``submit()`` on the caller's thread, per call (what the event loop pays per served batch);
  * appends with fsync on, from 16 concurrent asyncio producers as a server would run them, for 1-row and
    64-row entries: entries/s, rows/s, latency of ``await write()`` (p50/p99), entries per fsync, and the
    writer thread's CPU per entry (it competes with the server for the GIL);
  * a paced run at 5,000 rows/s in batches of 1-64 rows (the serving target): added latency and the share
    of one core the writer uses;
  * scanning 1M logged rows of 30 float columns (sealed segments), a 10 % time window of them, and the
    labelled join with 100k feedback rows.

The peer is the disk itself: a log that fsyncs every entry could write at most 1 / (fsync latency)
entries/s, measured in the same run; group commit's entries/s are compared with that. With ``--json``
those comparisons become ratios, the paced run a goal (it keeps up with 5,000 rows/s), and the other
figures measured-only goal rows (no target: ``passed`` is null).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from shipyard.serving.predlog import LogEntry, PredictionLog

COLUMNS = [f"f{i}" for i in range(30)]
T0 = 1_767_225_600.0
PACED_ROWS_PER_SECOND = 5_000
FSYNC_PEER = "bound of a log fsyncing each entry (1 / fsync latency)"


def entry(g: np.random.Generator, rows: int, serial: int, at: float | None = None) -> LogEntry:
    ids = [f"r{serial}-{i}" for i in range(rows)]
    return LogEntry(
        endpoint="bench",
        model_name="forest",
        model_version="3",
        request_ids=ids,
        rows=np.zeros(rows, dtype=np.int32),
        protocol="v2",
        received_at=np.full(rows, time.time() if at is None else at),
        latency_ms=np.full(rows, 2.5),
        inputs={name: g.normal(size=rows) for name in COLUMNS},
        outputs={"prediction": g.integers(0, 2, rows), "proba": g.uniform(size=(rows, 2))},
    )


def writer_cpu(log: PredictionLog) -> float:
    writer = next(t for t in threading.enumerate() if t.name == "predlog-writer")
    return time.clock_gettime(time.pthread_getcpuclockid(writer.ident))  # type: ignore[arg-type]


def fsync_latency(folder: Path, count: int = 300) -> float:
    path = folder / "fsync-probe"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    data = b"x" * 2048
    start = time.perf_counter()
    for _ in range(count):
        os.write(fd, data)
        os.fdatasync(fd)
    elapsed = time.perf_counter() - start
    os.close(fd)
    path.unlink()
    return elapsed / count


def submit_cost(folder: Path, count: int = 20_000) -> tuple[float, float]:
    """Caller-thread CPU and wall time per ``submit()`` (the wall time includes waiting for the GIL)."""
    g = np.random.default_rng(0)
    entries = [entry(g, 1, i) for i in range(count)]
    with PredictionLog(folder / "submit", maintenance_seconds=None) as log:
        futures = []
        cpu, wall = time.thread_time(), time.perf_counter()
        for item in entries:
            futures.append(log.submit(item))
        cpu, wall = time.thread_time() - cpu, time.perf_counter() - wall
        for future in futures:
            future.result()
    return cpu / count, wall / count


def max_rate(folder: Path, rows: int, seconds: float, window: int = 2048) -> dict[str, float]:
    """One thread submits as fast as it can, ``window`` entries in flight: the writer's capacity."""
    g = np.random.default_rng(rows)
    pool = [entry(g, rows, i) for i in range(256)]
    with PredictionLog(folder / f"max-{rows}", maintenance_seconds=None) as log:
        fsyncs = _count_fsyncs()
        in_flight: list = []
        done, stop = 0, time.perf_counter() + seconds
        cpu0, wall0 = writer_cpu(log), time.perf_counter()
        while time.perf_counter() < stop:
            in_flight.append(log.submit(pool[done % len(pool)]))
            done += 1
            if len(in_flight) >= window:
                in_flight.pop(0).result()
        for future in in_flight:
            future.result()
        wall, cpu = time.perf_counter() - wall0, writer_cpu(log) - cpu0
        syncs = fsyncs()
    return {
        "entries/s": done / wall,
        "rows/s": done * rows / wall,
        "entries/fsync": done / max(syncs, 1),
        "writer µs/entry": cpu / done * 1e6,
    }


async def _producers(log: PredictionLog, rows: int, seconds: float, tasks: int = 16) -> dict[str, float]:
    g = np.random.default_rng(rows)
    pool = [entry(g, rows, i) for i in range(256)]
    latencies: list[float] = []
    done = 0
    stop = time.perf_counter() + seconds

    async def producer(k: int) -> None:
        nonlocal done
        i = k
        while time.perf_counter() < stop:
            item = pool[i % len(pool)]
            i += tasks
            began = time.perf_counter()
            await log.write(item)
            latencies.append(time.perf_counter() - began)
            done += 1

    cpu0, wall0 = writer_cpu(log), time.perf_counter()
    await asyncio.gather(*(producer(k) for k in range(tasks)))
    wall, cpu = time.perf_counter() - wall0, writer_cpu(log) - cpu0
    q = np.quantile(latencies, [0.5, 0.99]) * 1e3
    return {
        "entries/s": done / wall,
        "rows/s": done * rows / wall,
        "p50 ms": q[0],
        "p99 ms": q[1],
        "writer µs/entry": cpu / done * 1e6,
    }


def serving_like(folder: Path, rows: int, seconds: float) -> dict[str, float]:
    with PredictionLog(folder / f"load-{rows}", maintenance_seconds=None) as log:
        fsyncs = _count_fsyncs()
        result = asyncio.run(_producers(log, rows, seconds))
        result["entries/fsync"] = result["entries/s"] * seconds / max(fsyncs(), 1)
    return result


def _count_fsyncs():  # type: ignore[no-untyped-def]
    """Count WAL fsyncs from now on by wrapping the module's sync function (bench only)."""
    from shipyard.serving.predlog import _wal

    calls = [0]
    original = getattr(_wal._sync, "original", _wal._sync)

    def counted(fd: int) -> None:
        calls[0] += 1
        original(fd)

    counted.original = original  # type: ignore[attr-defined]
    _wal._sync = counted
    return lambda: calls[0]


async def _paced(log: PredictionLog, rows_per_second: float, seconds: float) -> dict[str, float]:
    g = np.random.default_rng(7)
    sizes = g.integers(1, 65, 4096)
    pool = {int(n): entry(g, int(n), int(n)) for n in np.unique(sizes)}
    latencies: list[float] = []
    pending: set[asyncio.Task[None]] = set()

    async def one(item: LogEntry) -> None:
        began = time.perf_counter()
        await log.write(item)
        latencies.append(time.perf_counter() - began)

    cpu0, start = writer_cpu(log), time.perf_counter()
    sent, k = 0, 0
    while time.perf_counter() - start < seconds:
        n = int(sizes[k % len(sizes)])
        k += 1
        task = asyncio.create_task(one(pool[n]))
        pending.add(task)
        task.add_done_callback(pending.discard)
        sent += n
        # Sleep until this many rows are due at the target rate.
        await asyncio.sleep(max(0.0, start + sent / rows_per_second - time.perf_counter()))
    await asyncio.gather(*pending)
    wall, cpu = time.perf_counter() - start, writer_cpu(log) - cpu0
    q = np.quantile(latencies, [0.5, 0.99]) * 1e3
    return {"rows/s": sent / wall, "p50 ms": q[0], "p99 ms": q[1], "writer core %": 100 * cpu / wall}


def scan_speed(folder: Path, rows: int) -> dict[str, Any]:
    g = np.random.default_rng(1)
    root = folder / "scan"
    chunk = 50_000
    with PredictionLog(root, segment_rows=100_000, maintenance_seconds=None) as log:
        for i in range(rows // chunk):
            item = entry(g, chunk, i, at=T0 + i * 60)
            item.received_at = T0 + i * 60 + np.arange(chunk) * (60 / chunk)
            log.submit(item).result()
        ids = [f"r{i}-{j}" for i in range(rows // chunk) for j in range(0, chunk, 10)]  # every 10th row
        for start in range(0, len(ids), 10_000):
            log.add_feedback("bench", ids[start : start + 10_000], [1] * len(ids[start : start + 10_000]))
    with PredictionLog(root, maintenance_seconds=None) as log:
        segments = log.stats("bench")["segments"]
        full = _best(lambda: log.scan("bench"))
        table = log.scan("bench")
        assert table.num_rows == rows
        times = table.column("received_at")
        lo, hi = times[int(rows * 0.45)].as_py(), times[int(rows * 0.55)].as_py()
        window = _best(lambda: log.scan("bench", since=lo, until=hi))
        cols = _best(lambda: log.scan("bench", columns=[f"input.{c}" for c in COLUMNS[:5]]))
        labelled = _best(lambda: log.labelled("bench"), repeat=2)
        feedback = log.stats("bench")["feedback_rows"]
    return {
        "rows": rows,
        "segments": segments,
        "full": full,
        "window": window,
        "5 cols": cols,
        "labelled": labelled,
        "feedback rows": feedback,
    }


def _best(call, repeat: int = 3) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    """The fastest of ``repeat`` runs: wall seconds, and CPU seconds over all threads in that run."""
    best = (float("inf"), float("inf"))
    for _ in range(repeat):
        cpu, start = time.process_time(), time.perf_counter()
        call()
        best = min(best, (time.perf_counter() - start, time.process_time() - cpu))
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="scan 200k rows instead of 1M")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()
    seconds = 3.0
    ratios: list[dict[str, Any]] = []
    goals: list[dict[str, Any]] = []

    def measured(case: str, value: str) -> None:
        goals.append({"case": case, "goal": "measured (no target)", "value": value, "passed": None})

    with tempfile.TemporaryDirectory(dir=Path(__file__).resolve().parents[1]) as tmp:
        folder = Path(tmp)
        print(
            f"prediction log bench, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {os.cpu_count()} CPUs, "
            f"entries of 30 float inputs + 2 outputs, fsync on\n"
        )
        fsync_s = fsync_latency(folder)
        rows = [("fsync (2 KB append + fdatasync)", f"{fsync_s * 1e3:.3f} ms")]
        cpu, wall = submit_cost(folder)
        rows.append(("submit() per call: CPU / wall", f"{cpu * 1e6:.1f} / {wall * 1e6:.1f} µs"))
        measured("submit() on the caller's thread, CPU per call", f"{cpu * 1e6:.1f} µs")
        for size in (1, 64):
            r = max_rate(folder, size, seconds)
            rows.append((f"max rate, {size}-row entries: entries/s", f"{r['entries/s']:,.0f}"))
            rows.append((f"max rate, {size}-row entries: rows/s", f"{r['rows/s']:,.0f}"))
            rows.append((f"max rate, {size}-row entries: entries per fsync", f"{r['entries/fsync']:.1f}"))
            rows.append((f"max rate, {size}-row entries: writer CPU/entry", f"{r['writer µs/entry']:.0f} µs"))
            ratios.append(_versus_fsync(f"max rate, one thread, {size}-row entries", r["entries/s"], fsync_s))
        for size in (1, 64):
            r = serving_like(folder, size, seconds)
            rows.append((f"16 async producers, {size}-row: entries/s", f"{r['entries/s']:,.0f}"))
            latency = f"{r['p50 ms']:.2f} / {r['p99 ms']:.2f} ms"
            rows.append((f"16 async producers, {size}-row: write() p50/p99", latency))
            ratios.append(_versus_fsync(f"16 async producers, {size}-row entries", r["entries/s"], fsync_s))
            measured(f"16 async producers, {size}-row entries: await write() p50 / p99", latency)
        with PredictionLog(folder / "paced", maintenance_seconds=None) as log:
            r = asyncio.run(_paced(log, PACED_ROWS_PER_SECOND, seconds))
        rows.append(("paced 5,000 rows/s, 1-64 rows: achieved", f"{r['rows/s']:,.0f} rows/s"))
        rows.append(("paced: await write() p50 / p99", f"{r['p50 ms']:.2f} / {r['p99 ms']:.2f} ms"))
        rows.append(("paced: writer thread's share of a core", f"{r['writer core %']:.1f} %"))
        goals.append(
            {
                "case": "paced load, batches of 1-64 rows",
                "goal": f"keeps up with {PACED_ROWS_PER_SECOND:,} rows/s (>= 98 %)",
                "value": f"{r['rows/s']:,.0f} rows/s",
                "passed": r["rows/s"] >= 0.98 * PACED_ROWS_PER_SECOND,
            }
        )
        measured("paced load: await write() p50 / p99", f"{r['p50 ms']:.2f} / {r['p99 ms']:.2f} ms")
        measured("paced load: writer thread's share of a core", f"{r['writer core %']:.1f} %")
        s = scan_speed(folder, 200_000 if args.quick else 1_000_000)
        label = f"{s['rows'] / 1e6:g}M rows x 30 floats"

        def timing(key: str) -> str:
            wall, cpu = s[key]
            return f"{wall:.3f} s (CPU {cpu:.3f} s)"

        rows.append((f"scan {label} ({s['segments']} segments)", timing("full")))
        rows.append((f"scan {label}, 10 % time window", timing("window")))
        rows.append((f"scan {label}, 5 columns", timing("5 cols")))
        rows.append((f"labelled() {label}, {s['feedback rows']:,} labels", timing("labelled")))
        for name, value in rows[-4:]:
            measured(name, value)
    width = max(len(name) for name, _ in rows)
    print(f"{'measure':<{width}}  value")
    print(f"{'-' * width}  {'-' * 16}")
    for name, value in rows:
        print(f"{name:<{width}}  {value}")
    if args.json:
        report = {"measures": dict(rows), "ratios": ratios, "goals": goals}
        args.json.write_text(json.dumps(report, indent=2, ensure_ascii=False))


def _versus_fsync(case: str, entries_per_second: float, fsync_seconds: float) -> dict[str, Any]:
    """Group commit against the disk's floor for a log that fsyncs each entry on its own."""
    floor = 1.0 / fsync_seconds
    return {
        "case": case,
        "metric": "entries/s, fsync on",
        "better": "higher",
        "peer": FSYNC_PEER,
        "shipyard": entries_per_second,
        "peer_value": floor,
        "speedup": entries_per_second / floor,
    }


if __name__ == "__main__":
    main()
