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
from tests.ui.seed import Seeded

CSRF = re.compile(r'name="csrf-token" content="([^"]+)"')


def _csrf(client: httpx.Client, path: str) -> str:
    match = CSRF.search(client.get(path).text)
    assert match is not None
    return match.group(1)


def test_posts_without_the_csrf_token_are_refused(server_url: str, seeded: Seeded) -> None:
    with httpx.Client(base_url=server_url) as client:
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
    with httpx.Client(base_url=server_url) as client:
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
    with httpx.Client(base_url=server_url) as client:
        response = client.get(f"/ui/experiments/{seeded.experiment_id}", params={"filter": "metrics.acc >"})
    assert response.status_code == 400 and 'id="err-filter"' in response.text


def test_login_cookie_is_httponly_strict_and_next_stays_local(
    auth_server_url: str, tokens: dict[str, str]
) -> None:
    with httpx.Client(base_url=auth_server_url) as client:
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


def test_long_series_are_bucketed_in_sql_then_downsampled(
    platform: Platform, seeded: Seeded, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(series, "RAW_BUDGET", 100)
    run_id = seeded.run_ids[1]
    points = [MetricPoint("wave", float(np.sin(i / 50)), 1_700_000_000_000 + i, i) for i in range(5000)]
    points[2500] = MetricPoint("wave", 9.0, 1_700_000_000_000 + 2500, 2500)
    with platform.database.session(write=True) as session:
        for start in range(0, len(points), 1000):
            log_batch(session, actor=LOCAL_ADMIN, run_id=run_id, metrics=points[start : start + 1000])
    with platform.database.session() as session:
        (found,) = metric_series(session, [run_id], "wave", target=300)
    assert found.total == 5000 and len(found.steps) == 300 and found.downsampled
    assert max(found.values) == 9.0 and found.steps[0] == 0 and found.steps[-1] == 4999
