"""The pure parts of bench/serving.py: wrk's summary line, the physical bound, the goal verdicts."""

from __future__ import annotations

import doctest

import _wrk
import pytest
from _paired import Paired
from _servers import mlflow_body, v2_body
from _wrk import WrkResult, parse_wrk_output, physical_bound

from serving import MODELS, evaluate_goals, goal_cell

WRK_STDOUT = """\
Running 10s test @ http://127.0.0.1:4100/v2/models/bench-rf/infer
  1 threads and 16 connections
  Latency Distribution
     50%    8.10ms
     99%   21.37ms
  15000 requests in 10.00s, 3.00MB read
Requests/sec:   1500.00
BENCH {"requests":15000,"duration_us":10000000,"non_2xx":2,"connect":0,"read":0,"write":0,"timeout":1,\
"p50_us":8100,"p99_us":21370}
"""


def result(rps: float, p99_ms: float = 5.0, non_2xx: int = 0) -> WrkResult:
    return WrkResult(int(rps * 10), 10.0, rps, p99_ms / 2, p99_ms, non_2xx, 0)


def test_parse_wrk_output_reads_the_bench_line() -> None:
    parsed = parse_wrk_output(WRK_STDOUT)
    assert parsed == WrkResult(15000, 10.0, 1500.0, 8.1, 21.37, 2, 1)


def test_parse_wrk_output_without_the_summary_line_names_the_output() -> None:
    with pytest.raises(ValueError, match=r"no BENCH summary line.*Requests/sec"):
        parse_wrk_output("Running 1s test\nRequests/sec: 10\n")


def test_lua_script_prints_every_field_the_parser_reads() -> None:
    for key in (
        "requests",
        "duration_us",
        "non_2xx",
        "connect",
        "read",
        "write",
        "timeout",
        "p50_us",
        "p99_us",
    ):
        assert f'"{key}":%d' in _wrk.LUA_SCRIPT


def test_wrk_module_doctests() -> None:
    outcome = doctest.testmod(_wrk)
    assert outcome.attempted >= 4 and outcome.failed == 0


def test_physical_bound_is_rows_in_flight_over_the_batch_time() -> None:
    assert physical_bound(16, 0.009) == pytest.approx(1777.8, abs=0.1)
    assert physical_bound(1, 0.02) == pytest.approx(50.0)
    with pytest.raises(ValueError, match="positive"):
        physical_bound(16, 0.0)


def test_bodies_carry_one_row_of_thirty_floats() -> None:
    row = [float(i) for i in range(30)]
    assert b'"shape": [1, 30], "datatype": "FP64"' in v2_body(row)
    assert mlflow_body([f"c{i}" for i in range(30)], row).startswith(b'{"dataframe_split": {"columns": ["c0"')


def test_forest_goals_pass_and_miss_on_the_bound_mlserver_ratio_p99_and_log_cost() -> None:
    t_s = {1: 0.009, 16: 0.009, 64: 0.012}  # bound at c=16: 1,778 req/s; p99 limit 27 ms
    passing = {
        ("shipyard", 16): result(1500.0, p99_ms=20.0),
        ("shipyard-nolog", 16): result(1550.0),
        ("mlserver", 16): result(350.0),
        ("echo", 16): result(12000.0),
    }
    goals = evaluate_goals(MODELS["rf"], passing, t_s)
    assert [g.passed for g in goals] == [True, True, True, True, True]
    assert goals[1].value == "84 % (1,500 of 1,778 req/s)"
    assert goal_cell(goals).endswith("PASS[/]")
    missing = {**passing, ("shipyard", 16): result(1200.0, p99_ms=30.0, non_2xx=1)}
    verdicts = {g.goal: g.passed for g in evaluate_goals(MODELS["rf"], missing, t_s)}
    assert verdicts == {
        "no errors": False,
        ">= 80 % of the bound": False,  # 67 %
        ">= 4x MLServer": False,  # 3.4x
        "p99 <= 27.0 ms (= 3 x t(16))": False,
        "prediction log costs <= 10%": False,  # 23 %
    }


def test_pipeline_goals_use_the_echo_ceiling_and_a_fixed_p99() -> None:
    t_s = {1: 0.0006, 16: 0.0008, 64: 0.001}
    results = {
        ("shipyard", 16): result(5000.0, p99_ms=9.0),
        ("shipyard-nolog", 16): result(5200.0),
        ("mlserver", 16): result(600.0),
        ("echo", 16): result(12000.0),
    }
    verdicts = {g.goal: (g.value, g.passed) for g in evaluate_goals(MODELS["lr"], results, t_s)}
    assert verdicts[">= 40 % of the echo"] == ("42 % (5,000 of 12,000 req/s)", True)
    assert verdicts[">= 8x MLServer"] == ("8.3x", True)
    assert verdicts["p99 <= 10.0 ms"] == ("9.0 ms", True)


def test_a_missing_peer_makes_its_goal_not_measurable_rather_than_passed() -> None:
    t_s = {1: 0.0006, 16: 0.0008, 64: 0.001}
    results = {("shipyard", 16): result(5000.0), ("shipyard-nolog", 16): None, ("mlserver", 16): None}
    goals = {g.goal: g for g in evaluate_goals(MODELS["lr"], results, t_s)}
    assert goals[">= 8x MLServer"].passed is None
    assert goals["prediction log costs <= 10%"].passed is None
    assert goals[">= 40 % of the echo"].passed is None
    assert goal_cell(list(goals.values())).startswith("[yellow]n/a")
    assert evaluate_goals(MODELS["lr"], {}, t_s)[0].passed is None


def test_serving_module_doctests_read_v2_and_mlflow_predictions() -> None:
    import serving

    outcome = doctest.testmod(serving)
    assert outcome.attempted >= 2 and outcome.failed == 0


def test_paired_rounds_judge_the_goals_by_the_median_round() -> None:
    """A slow phase of the machine during one cell must not decide a goal: the paired rounds do."""
    t_s = {1: 0.0006, 16: 0.0008, 64: 0.001}
    cells = {
        ("shipyard", 16): result(3000.0, p99_ms=11.0),  # measured in a slow minute: 25 % of the echo
        ("shipyard-nolog", 16): result(5200.0),  # and the log would seem to cost 42 %
        ("mlserver", 16): result(600.0),
        ("echo", 16): result(12000.0),
    }
    rounds = {
        "echo": [result(20000.0), result(12000.0), result(15000.0)],
        # 43 %, 33 %, 42 % of the echo; a p99 of 12 ms in the slow round
        "shipyard": [result(8600.0, p99_ms=4.0), result(4000.0, p99_ms=12.0), result(6300.0, p99_ms=6.0)],
        "shipyard-nolog": [result(9000.0), result(4100.0), result(7300.0)],  # costs 4.4 %, 2.4 %, 13.7 %
        "mlserver": [result(1000.0), result(600.0), result(700.0)],  # 8.6x, 6.7x, 9.0x
    }

    def verdicts() -> dict[str, tuple[str, bool | None]]:
        found = evaluate_goals(MODELS["lr"], cells, t_s, Paired(16, rounds))
        return {g.goal: (g.value, g.passed) for g in found}

    goals = verdicts()
    assert goals[">= 40 % of the echo"] == ("42% (median of 3 paired rounds; 33% to 43%)", True)
    assert goals["prediction log costs <= 10%"] == (
        "+4.4% (median of 3 paired rounds; +2.4% to +13.7%)",
        True,
    )
    assert goals[">= 8x MLServer"] == ("8.6x (median of 3 paired rounds; 6.7x to 9.0x)", True)
    assert goals["p99 <= 10.0 ms"] == ("6.0 ms (median of 3 paired rounds)", True)
    rounds["shipyard"] = [result(7000.0), result(3000.0), result(6000.0)]  # 35 %, 25 %, 40 %
    goals = verdicts()
    assert goals[">= 40 % of the echo"][1] is False
    assert goals["prediction log costs <= 10%"][1] is False  # 22 %, 27 %, 18 %
    assert goals[">= 8x MLServer"][1] is False  # 7.0x, 5.0x, 8.6x


def test_paired_module_doctests() -> None:
    import _paired

    outcome = doctest.testmod(_paired)
    assert outcome.attempted >= 1 and outcome.failed == 0
