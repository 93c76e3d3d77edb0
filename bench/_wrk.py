"""wrk as a bounded load generator for the serving benchmark, and the arithmetic around its numbers.

wrk (the Debian package) sends the same POST body over ``c`` keep-alive connections for a fixed time.
Our Lua script ends the run by printing one ``BENCH {json}`` line from wrk's own ``done()`` hook, with
exact microsecond percentiles and the error counts, so nothing depends on wrk's rounded text report.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import asdict, dataclass
from pathlib import Path

__all__ = [
    "LUA_SCRIPT",
    "WrkResult",
    "parse_wrk_output",
    "percent",
    "physical_bound",
    "ratio",
    "run_wrk",
    "wrk_version",
]

# init() reads the body from the file named after "--"; done() prints the summary as one JSON line.
LUA_SCRIPT = """\
function init(args)
  local fh = io.open(args[1], "rb")
  wrk.body = fh:read("*a")
  fh:close()
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH {"requests":%d,"duration_us":%d,"non_2xx":%d,"connect":%d,"read":%d,"write":%d,' ..
    '"timeout":%d,"p50_us":%d,"p99_us":%d}\\n',
    summary.requests, summary.duration, e.status, e.connect, e.read, e.write, e.timeout,
    latency:percentile(50), latency:percentile(99)))
end
"""


@dataclass(frozen=True)
class WrkResult:
    """One wrk run. ``requests_per_s`` counts every completed response, as wrk does; ``non_2xx`` says
    how many of those were errors; ``socket_errors`` sums connect, read, write and timeout errors."""

    requests: int
    duration_s: float
    requests_per_s: float
    p50_ms: float
    p99_ms: float
    non_2xx: int
    socket_errors: int

    def as_dict(self) -> dict[str, float | int]:
        return asdict(self)


def parse_wrk_output(text: str) -> WrkResult:
    """The result from wrk's stdout, found on the ``BENCH`` line that :data:`LUA_SCRIPT` prints.

    >>> out = 'Running 1s test\\nBENCH {"requests":200,"duration_us":2000000,"non_2xx":3,"connect":0,'
    >>> out += '"read":1,"write":0,"timeout":2,"p50_us":1500,"p99_us":9000}\\n'
    >>> r = parse_wrk_output(out)
    >>> (r.requests_per_s, r.p50_ms, r.p99_ms, r.non_2xx, r.socket_errors)
    (100.0, 1.5, 9.0, 3, 3)
    """
    line = next((row for row in text.splitlines() if row.startswith("BENCH ")), None)
    if line is None:
        raise ValueError(f"wrk printed no BENCH summary line; its output was: {text[-500:]!r}")
    data = json.loads(line.removeprefix("BENCH "))
    duration_s = data["duration_us"] / 1e6
    if duration_s <= 0:
        raise ValueError(f"wrk reported a duration of {data['duration_us']} us")
    return WrkResult(
        requests=int(data["requests"]),
        duration_s=duration_s,
        requests_per_s=data["requests"] / duration_s,
        p50_ms=data["p50_us"] / 1000,
        p99_ms=data["p99_us"] / 1000,
        non_2xx=int(data["non_2xx"]),
        socket_errors=sum(int(data[key]) for key in ("connect", "read", "write", "timeout")),
    )


def run_wrk(
    url: str, body: Path, *, connections: int, seconds: float, script: Path, timeout_s: float = 10.0
) -> WrkResult:
    """One bounded wrk run (one thread, as in the reference measurements) against ``url``.

    The socket timeout is raised from wrk's 2 s because an unbatched forest at 64 connections answers
    in more than 2 s; a timed-out request would otherwise vanish from the latency percentiles.
    """
    command = [
        "wrk",
        "-t1",
        f"-c{connections}",
        f"-d{max(1, round(seconds))}s",
        f"--timeout={max(1, round(timeout_s))}s",
        "--latency",
        "-s",
        str(script),
        url,
        "--",
        str(body),
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=seconds + timeout_s + 30)
    if done.returncode != 0:
        raise RuntimeError(f"wrk exited with {done.returncode}: {done.stderr.strip()[-300:]}")
    return parse_wrk_output(done.stdout)


def wrk_version() -> str | None:
    if shutil.which("wrk") is None:
        return None
    done = subprocess.run(["wrk", "-v"], capture_output=True, text=True, timeout=10)
    first = (done.stdout or done.stderr).splitlines()
    return first[0].split(" [")[0].removeprefix("wrk ").strip() if first else None


def physical_bound(connections: int, seconds_for_rows: float) -> float:
    """Requests/s no server can beat with ``connections`` one-row requests in flight, when predicting
    that many rows at once takes ``seconds_for_rows``: at best every model call serves all of them.

    >>> physical_bound(16, 0.008)
    2000.0
    """
    if connections <= 0 or seconds_for_rows <= 0:
        raise ValueError(f"need positive connections and time; got {connections} and {seconds_for_rows}")
    return connections / seconds_for_rows


def ratio(ours: float | None, theirs: float | None) -> float | None:
    """``ours / theirs``, or None when either side is missing or the divisor is not positive.

    >>> ratio(900.0, 300.0), ratio(1.0, None), ratio(1.0, 0.0)
    (3.0, None, None)
    """
    if ours is None or theirs is None or theirs <= 0:
        return None
    return ours / theirs


def percent(ours: float | None, reference: float | None) -> float | None:
    """``ours`` as a percentage of ``reference`` (None when either is missing).

    >>> percent(45.0, 60.0)
    75.0
    """
    value = ratio(ours, reference)
    return None if value is None else 100 * value
