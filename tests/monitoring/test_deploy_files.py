"""deploy/grafana-dashboard.json and deploy/prometheus-alerts.yml: valid, and only real metric names.

The names are checked against what the serving layer actually exposes: a ``ServingMetrics`` registry
with one request, one batch and one load observed, rendered and parsed as Prometheus text.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from shipyard.serving.batching import BatchStats
from shipyard.serving.metrics import ServingMetrics

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
NAME = re.compile(r"\b((?:shipyard|process)_[a-z0-9_]+)\b")


def exposed() -> set[str]:
    metrics = ServingMetrics(hourly_price=1.0)
    metrics.observe_request(endpoint="e", model="m", version="1", protocol="native", status=200, seconds=0.01)
    metrics.observe_batch(
        "e", BatchStats(rows=4, requests=2, queue_seconds=[0.001, 0.002], model_seconds=0.003)
    )
    metrics.load_seconds.labels("e", "m", "1").set(0.5)
    metrics.swaps.labels("e", "loaded").inc()
    families = text_string_to_metric_families(metrics.render().decode())
    return {sample.name for family in families for sample in family.samples}


def check_expr(expr: str, known: set[str]) -> list[str]:
    problems = []
    for opening, closing in ("()", "{}", "[]"):
        if expr.count(opening) != expr.count(closing):
            problems.append(f"unbalanced {opening}{closing} in {expr!r}")
    names = set(NAME.findall(expr))
    if not names:
        problems.append(f"no Shipyard or process metric in {expr!r}")
    problems += [f"unknown metric {name} in {expr!r}" for name in sorted(names - known)]
    return problems


@pytest.fixture(scope="module")
def known() -> set[str]:
    names = exposed()
    assert {"shipyard_serving_requests_total", "shipyard_serving_request_duration_seconds_bucket"} <= names
    return names


def test_grafana_dashboard_is_valid_and_uses_exposed_metrics(known: set[str]) -> None:
    dashboard = json.loads((DEPLOY / "grafana-dashboard.json").read_text())
    assert dashboard["uid"] and dashboard["title"] and isinstance(dashboard["schemaVersion"], int)
    panels = dashboard["panels"]
    assert len({p["id"] for p in panels}) == len(panels), "panel ids must be unique"
    variables = {v["name"] for v in dashboard["templating"]["list"]}
    assert {"datasource", "endpoint"} <= variables
    problems: list[str] = []
    seen: set[str] = set()
    for panel in panels:
        grid = panel["gridPos"]
        assert grid["x"] >= 0 and grid["x"] + grid["w"] <= 24 and grid["h"] > 0, panel["title"]
        if panel["type"] == "row":
            continue
        assert panel["targets"], f"panel {panel['title']!r} has no query"
        for target in panel["targets"]:
            problems += check_expr(target["expr"], known)
            seen |= set(NAME.findall(target["expr"]))
    assert not problems, "\n".join(problems)
    wanted = {
        "shipyard_serving_requests_total",
        "shipyard_serving_request_duration_seconds_bucket",
        "shipyard_serving_queue_seconds_bucket",
        "shipyard_serving_model_seconds_bucket",
        "shipyard_serving_batch_size_sum",
        "shipyard_serving_predictions_total",
        "shipyard_serving_models_loaded",
        "shipyard_serving_model_load_seconds",
        "shipyard_serving_swaps_total",
        "shipyard_serving_cost_per_1000_predictions",
        "process_resident_memory_bytes",
    }
    assert wanted <= seen, f"the dashboard misses {sorted(wanted - seen)}"


def test_prometheus_rules_are_valid_and_use_exposed_metrics(known: set[str]) -> None:
    document = yaml.safe_load((DEPLOY / "prometheus-alerts.yml").read_text())
    rules = [rule for group in document["groups"] for rule in group["rules"]]
    assert all(group["name"] and group["rules"] for group in document["groups"])
    problems: list[str] = []
    for rule in rules:
        assert set(rule) <= {"alert", "expr", "for", "labels", "annotations", "keep_firing_for"}, rule
        assert re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", rule["alert"]), rule["alert"]
        assert rule["labels"]["severity"] in ("warning", "critical") and rule["annotations"]["summary"]
        if "for" in rule:
            assert re.fullmatch(r"\d+[smh]", rule["for"]), rule["for"]
        problems += check_expr(rule["expr"], known)
    assert not problems, "\n".join(problems)
    covered = " ".join(rule["expr"] for rule in rules)
    assert 'status=~"5.."' in covered, "an error-rate rule"
    assert (
        "histogram_quantile(0.99" in covered and "shipyard_serving_request_duration_seconds_bucket" in covered
    )
    assert "shipyard_serving_models_loaded" in covered, "a no-model-loaded rule"
    assert 'outcome="failed"' in covered, "a failed-swap rule"
