"""Paired rounds: the servers a goal compares, measured turn by turn within the same minutes.

On a shared VM the speed one process gets drifts by a third within minutes (this bench has seen the
echo ceiling at 21k and at 37k req/s in runs an hour apart). A ratio of two cells measured minutes
apart then says more about the machine than about the servers. Here the compared servers run side by
side (only the one being measured has traffic) and take turns: every round measures each once, in an
order that rotates between rounds, and a ratio is taken within each round; the median over the rounds
is what a goal uses.
"""

from __future__ import annotations

import contextlib
import statistics
from dataclasses import dataclass
from pathlib import Path

from _servers import ServerSpec, running
from _wrk import WrkResult, run_wrk

__all__ = ["Paired", "paired_rounds"]


@dataclass(frozen=True)
class Paired:
    """Each server's result in every round, in round order."""

    connections: int
    rounds: dict[str, list[WrkResult]]

    def median(self, name: str) -> float:
        return statistics.median(r.requests_per_s for r in self.rounds[name])

    def ratio(self, ours: str, reference: str) -> float:
        """Median over the rounds of ``ours`` req/s divided by ``reference`` req/s in the same round.

        >>> def r(rps): return WrkResult(1, 1.0, rps, 1.0, 1.0, 0, 0)
        >>> Paired(16, {"a": [r(10), r(30), r(8)], "b": [r(20), r(30), r(10)]}).ratio("a", "b")
        0.8
        """
        pairs = zip(self.rounds[ours], self.rounds[reference], strict=True)
        return statistics.median(a.requests_per_s / b.requests_per_s for a, b in pairs)

    def spread(self, ours: str, reference: str) -> tuple[float, float]:
        """The lowest and highest per-round ratio, to show how far one round can mislead."""
        pairs = zip(self.rounds[ours], self.rounds[reference], strict=True)
        ratios = [a.requests_per_s / b.requests_per_s for a, b in pairs]
        return min(ratios), max(ratios)


def paired_rounds(
    specs: list[ServerSpec],
    body: Path,
    script: Path,
    log_dir: Path,
    *,
    connections: int,
    rounds: int,
    warmup_s: float,
    seconds: float,
) -> Paired:
    """Start every server, warm each up, then measure ``rounds`` rounds of one wrk run per server."""
    results: dict[str, list[WrkResult]] = {spec.name: [] for spec in specs}
    with contextlib.ExitStack() as stack:
        for spec in specs:
            stack.enter_context(running(spec, log_dir / f"paired-{spec.name}-{spec.port}.log"))
        for spec in specs:
            run_wrk(
                spec.base_url + spec.infer_path,
                body,
                connections=connections,
                seconds=warmup_s,
                script=script,
            )
        for index in range(rounds):
            shift = index % len(specs)
            for spec in specs[shift:] + specs[:shift]:
                url = spec.base_url + spec.infer_path
                results[spec.name].append(
                    run_wrk(url, body, connections=connections, seconds=seconds, script=script)
                )
    return Paired(connections, results)
