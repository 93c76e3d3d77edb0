"""UI behaviour checked over HTTP without a browser: CSRF, cookies, form errors, downsampling."""

from __future__ import annotations

import re

import httpx
import numpy as np
import pytest

from shipyard.core.auth import LOCAL_ADMIN
from shipyard.core.platform import Platform
from shipyard.tracking.metrics import MetricPoint
from shipyard.tracking.runs import log_batch
from shipyard.ui import series
from shipyard.ui.series import lttb, metric_series
from shipyard.usecases import canvas
from tests import live_http
from tests.ui.seed import Seeded

CSRF = re.compile(r'name="csrf-token" content="([^"]+)"')


def _csrf(client: httpx.Client, path: str) -> str:
    match = CSRF.search(client.get(path).text)
    assert match is not None
    return match.group(1)


def test_posts_without_the_csrf_token_are_refused(server_url: str, seeded: Seeded) -> None:
    with live_http.Client(base_url=server_url) as client:
        path = f"/ui/usecases/{seeded.use_case_id}/votes"
        refused = client.post(path, data={"score_know_how": "3"})
        assert refused.status_code == 403 and "CSRF" in refused.text
        token = _csrf(client, f"/ui/usecases/{seeded.use_case_id}")
        wrong = client.post(path, data={"score_know_how": "3", "csrf_token": "x" * 43})
        assert wrong.status_code == 403
        accepted = client.post(path, data={"score_know_how": "3", "csrf_token": token})
        assert accepted.status_code == 303


def test_bad_canvas_input_is_shown_next_to_the_field_and_nothing_is_saved(
    server_url: str, platform: Platform, seeded: Seeded
) -> None:
    with live_http.Client(base_url=server_url) as client:
        token = _csrf(client, f"/ui/usecases/{seeded.use_case_id}")
        response = client.post(
            f"/ui/usecases/{seeded.use_case_id}/canvas",
            data={"csrf_token": token, "owner": "zoe", "status": "in_production"},
        )
    assert response.status_code == 400
    assert 'id="err-status"' in response.text and "cannot move from idea to in_production" in response.text
    assert 'value="zoe"' in response.text  # the submitted values stay in the form
    with platform.database.session() as session:
        use_case = canvas.get_use_case(session, seeded.use_case_id)
        assert use_case.owner == "ana" and use_case.version == 1


def test_a_bad_run_filter_names_the_problem(server_url: str, seeded: Seeded) -> None:
    with live_http.Client(base_url=server_url) as client:
        response = client.get(f"/ui/experiments/{seeded.experiment_id}", params={"filter": "metrics.acc >"})
    assert response.status_code == 400 and 'id="err-filter"' in response.text


def test_login_cookie_is_httponly_strict_and_next_stays_local(
    auth_server_url: str, tokens: dict[str, str]
) -> None:
    with live_http.Client(base_url=auth_server_url) as client:
        assert client.get("/ui/audit").status_code == 303
        token = _csrf(client, "/ui/login")
        response = client.post(
            "/ui/login", data={"csrf_token": token, "token": tokens["viewer"], "next": "//evil.example/x"}
        )
    assert response.status_code == 303 and response.headers["location"] == "/ui/"
    cookie = next(h for h in response.headers.get_list("set-cookie") if h.startswith("shipyard_token="))
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/ui" in cookie


def test_lttb_keeps_the_extremes_and_the_requested_count() -> None:
    rng = np.random.default_rng(3)
    x = np.arange(100_000, dtype=float)
    y = rng.normal(0, 1, x.size)
    y[31_337], y[77_777] = 50.0, -50.0
    kept_x, kept_y = lttb(x, y, 1000)
    assert len(kept_x) == 1000 and kept_x[0] == 0 and kept_x[-1] == x[-1]
    assert 50.0 in kept_y and -50.0 in kept_y
    assert np.all(np.diff(kept_x) > 0)


def _log(platform: Platform, run_id: str, points: list[MetricPoint]) -> None:
    with platform.database.session(write=True) as session:
        for start in range(0, len(points), 1000):
            log_batch(session, actor=LOCAL_ADMIN, run_id=run_id, metrics=points[start : start + 1000])


def test_short_series_are_read_whole_and_long_ones_sampled_by_index_seeks(
    platform: Platform, seeded: Seeded, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(series, "RAW_BUDGET", 1000)
    short_run, long_run = seeded.run_ids[1], seeded.run_ids[2]
    _log(
        platform, short_run, [MetricPoint("wave", float(i % 7), 1_700_000_000_000 + i, i) for i in range(500)]
    )
    _log(
        platform,
        long_run,
        [MetricPoint("wave", float(np.sin(i / 50)), 1_700_000_000_000 + i, 3 * i) for i in range(5000)],
    )
    with platform.database.session() as session:
        short, long = metric_series(session, [short_run, long_run], "wave", target=300)
    assert short.stored == 500 and len(short.steps) == 300 and short.downsampled
    assert long.stored is None and long.span == (0, 14_997)
    assert len(long.steps) == 300 and long.steps[0] == 0 and long.steps[-1] == 14_997
    assert all(step % 3 == 0 for step in long.steps)  # real logged points, not interpolations
    assert max(long.values) > 0.99 and min(long.values) < -0.99


def test_many_points_at_one_step_are_reduced_in_sql(
    platform: Platform, seeded: Seeded, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(series, "RAW_BUDGET", 100)
    run_id = seeded.run_ids[1]
    _log(platform, run_id, [MetricPoint("flat", float(i), 1_700_000_000_000 + i, 0) for i in range(300)])
    with platform.database.session() as session:
        (found,) = metric_series(session, [run_id], "flat", target=50)
    assert found.span == (0, 0) and found.steps == [0.0] and found.values == [0.0]
