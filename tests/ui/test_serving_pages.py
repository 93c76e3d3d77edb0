"""Endpoint and monitoring pages on a real served model: rendering, live numbers, drift charts, roles,
and an endpoint following its alias to a new version.

All tests share one server per backend (``served``); the version switch changes it, so it runs last.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect
from sqlalchemy import event

from shipyard.serving import endpoints
from shipyard.ui.pages import endpoints as endpoint_pages
from shipyard.ui.pages import monitoring as monitoring_pages
from tests import live_http
from tests.ui.conftest import Served
from tests.ui.serving_seed import DRIFTED_FROM, FEATURES

TIMEOUT_MS = 20_000
CSRF = re.compile(r'name="csrf-token" content="([^"]+)"')


@pytest.fixture
def page_errors(browser: Any) -> Iterator[tuple[Any, list[str]]]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    errors: list[str] = []
    page.on(
        "console",
        lambda m: errors.append(f"{m.text} at {m.location.get('url')}") if m.type == "error" else None,
    )
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield page, errors
    context.close()


def _login(page: Any, served: Served, role: str, path: str) -> str:
    ui = f"{served.url}/ui"
    page.goto(f"{ui}{path}")
    page.wait_for_url("**/ui/login**")
    page.fill("#token", served.tokens[role])
    page.click("button:has-text('Log in')")
    page.wait_for_url(f"**/ui{path.split('?')[0]}**")
    return ui


def test_endpoint_and_monitoring_pages_render_live_numbers_and_links(
    served: Served, page_errors: tuple[Any, list[str]]
) -> None:
    page, errors = page_errors
    seed = served.seed
    ui = _login(page, served, "admin", "/endpoints")
    row = page.locator(f"#endpoint-{seed.endpoint}")
    expect(row).to_contain_text(f"{seed.model} v1")
    expect(row).to_contain_text("ready")
    expect(row).to_contain_text("1 monitor")

    page.goto(f"{ui}/endpoints/{seed.endpoint}")
    expect(page.locator("#serving-version")).to_contain_text("version 1")
    assert page.locator("#live-rate").inner_text() != "—"
    assert "/" in page.locator("#live-latency").inner_text()
    predictions = page.locator("#predictions tbody tr")
    expect(predictions).to_have_count(20)
    assert "none yet" not in predictions.first.inner_text()  # the feedback label is joined
    expect(page.locator("#versions")).to_contain_text("serving")
    # The live block refreshes itself (htmx polling) without a page load.
    with page.expect_response(lambda r: r.url.endswith(f"/endpoints/{seed.endpoint}/live"), timeout=15_000):
        pass
    expect(page.locator("#live-rate")).to_be_visible()
    page.click(f"a[href$='/monitoring/{seed.monitor_id}']")

    page.wait_for_url(f"**/monitoring/{seed.monitor_id}")
    page.wait_for_selector("#drift-chart .uplot")
    page.wait_for_selector("#performance-chart .uplot")
    expect(page.locator("#distributions figure svg")).to_have_count(len(FEATURES))
    expect(page.locator("#rules")).to_contain_text("firing")
    expect(page.locator("#alert-history tbody tr").first).to_contain_text("firing")
    assert page.locator("#results tbody tr").count() == len(seed.window_ids)
    page.click(f"h1 a[href$='/endpoints/{seed.endpoint}']")
    page.wait_for_url(f"**/endpoints/{seed.endpoint}")

    page.goto(f"{ui}/monitoring")
    expect(page.locator(f"#monitor-{seed.monitor_id}")).to_contain_text("drift")
    page.goto(f"{ui}/monitoring?endpoint=nobody")
    expect(page.locator(".empty")).to_contain_text("shipyard monitors create nobody")
    assert not errors, "\n".join(errors)


def test_open_a_drift_chart_for_a_chosen_window(served: Served, page_errors: tuple[Any, list[str]]) -> None:
    page, errors = page_errors
    seed = served.seed
    _login(page, served, "viewer", f"/monitoring/{seed.monitor_id}")
    page.wait_for_selector("#drift-chart .uplot")
    legend = page.locator("#drift-chart .u-legend").inner_text()
    assert all(feature in legend for feature in FEATURES)
    assert "(" in legend  # each column's drift type is named in its label

    calm, drifted = seed.window_ids[0], seed.window_ids[DRIFTED_FROM + 1]
    page.select_option("#window", str(calm))
    page.click("#window-form button:has-text('Show')")
    page.wait_for_url(f"**window={calm}**")
    expect(page.locator("#distributions figure svg")).to_have_count(len(FEATURES))
    expect(page.locator(f"#window-{calm}")).to_have_attribute("aria-current", "true")
    assert page.locator("#distributions .badge.bad").count() == 0

    page.select_option("#window", str(drifted))
    page.click("#window-form button:has-text('Show')")
    page.wait_for_url(f"**window={drifted}**")
    expect(page.locator("#distributions figure svg")).to_have_count(len(FEATURES))
    assert page.locator("#distributions .badge.bad").count() >= 1  # drift is named in text, not colour alone
    assert "✗ drift" in page.locator(f"#window-{drifted}").inner_text()
    assert not errors, "\n".join(errors)


def test_viewer_sees_no_write_buttons_and_the_server_refuses_writes(
    served: Served, page_errors: tuple[Any, list[str]]
) -> None:
    page, errors = page_errors
    seed = served.seed
    ui = _login(page, served, "viewer", f"/endpoints/{seed.endpoint}")
    for path in (
        f"/endpoints/{seed.endpoint}",
        f"/monitoring/{seed.monitor_id}",
        "/endpoints",
        "/monitoring",
    ):
        page.goto(ui + path)
        assert page.locator("main form[method=post]").count() == 0, f"{path} shows a write form to a viewer"
    csrf = page.locator('meta[name="csrf-token"]').get_attribute("content")
    for path, form in (
        (f"/endpoints/{seed.endpoint}/model", {"model_uri": f"models:/{seed.model}/2"}),
        (f"/monitoring/{seed.monitor_id}/run", {}),
    ):
        forged = page.request.post(ui + path, form={**form, "csrf_token": csrf}, max_redirects=0)
        assert forged.status == 403 and "editor role" in forged.text(), path
    with served.platform.database.session() as session:
        assert endpoints.get_endpoint(session, seed.endpoint).model_uri.endswith("@champion")
    assert not errors, "\n".join(errors)


@contextlib.contextmanager
def _admin_client(served: Served) -> Iterator[httpx.Client]:
    with live_http.Client(base_url=served.url, timeout=30) as client:
        token = CSRF.search(client.get("/ui/login").text)
        assert token is not None
        response = client.post(
            "/ui/login", data={"csrf_token": token.group(1), "token": served.tokens["admin"], "next": "/ui/"}
        )
        assert response.status_code == 303
        yield client


def test_pages_use_a_handful_of_queries_and_bad_input_is_named(served: Served) -> None:
    seed = served.seed
    # Each page's reads, counted on its own connection (the serving watcher queries the store meanwhile).
    reads = {
        "endpoints": lambda s: endpoint_pages._endpoints(s, 0),
        "endpoint": lambda s: endpoint_pages._endpoint(s, seed.endpoint),
        "monitoring": lambda s: monitoring_pages._monitors(s, None, 0),
        "monitor": lambda s: monitoring_pages._monitor(s, seed.monitor_id, None, 0),
        "drift chart": lambda s: monitoring_pages._windows_for_chart(s, seed.monitor_id),
    }
    for name, work in reads.items():
        statements: list[str] = []
        with served.platform.database.session() as session:
            connection = session.connection()
            event.listen(
                connection,
                "before_cursor_execute",
                lambda *args, found=statements: found.append(str(args[2])),
            )
            work(session)
        assert 1 <= len(statements) <= 6, (name, [text[:60] for text in statements])
    with _admin_client(served) as client:
        for path in (
            "/ui/endpoints",
            f"/ui/endpoints/{seed.endpoint}",
            f"/ui/endpoints/{seed.endpoint}/live",
            "/ui/monitoring",
            f"/ui/monitoring/{seed.monitor_id}",
            f"/ui/monitoring/{seed.monitor_id}/chart?kind=drift",
            f"/ui/monitoring/{seed.monitor_id}/chart?kind=performance",
            f"/ui/monitoring/{seed.monitor_id}/windows/{seed.window_ids[-1]}",
        ):
            response = client.get(path)
            assert response.status_code == 200, (path, response.text[:500])
        csrf = client.cookies.get("shipyard_csrf")
        bad = client.post(
            f"/ui/endpoints/{seed.endpoint}/model",
            data={"csrf_token": csrf, "model_uri": "file:///etc/passwd"},
        )
        assert bad.status_code == 400 and 'id="err-model_uri"' in bad.text
        missing = client.post(
            f"/ui/endpoints/{seed.endpoint}/model",
            data={"csrf_token": csrf, "model_uri": f"models:/{seed.model}/99"},
        )
        assert missing.status_code == 400 and "does not name a model here" in missing.text
        assert client.get("/ui/monitoring/nope").status_code == 404
        assert client.get(f"/ui/monitoring/{seed.monitor_id}?window=0").status_code == 422
        assert client.get(f"/ui/monitoring/{seed.monitor_id}/chart?kind=bogus").status_code == 422
        assert client.get("/ui/endpoints/no-such").status_code == 404
    with served.platform.database.session() as session:
        assert endpoints.get_endpoint(session, seed.endpoint).model_uri.endswith("@champion")


def test_see_the_endpoint_switch_version_after_an_approved_promotion(
    served: Served, page_errors: tuple[Any, list[str]]
) -> None:
    page, errors = page_errors
    seed = served.seed
    ui = _login(page, served, "admin", f"/endpoints/{seed.endpoint}")
    expect(page.locator("#serving-version")).to_contain_text("version 1")

    page.goto(f"{ui}/registry/models/{seed.model}")
    page.fill("#r-alias", "champion")
    page.select_option("#r-version", "2")
    page.fill("#r-reason", "smaller forest, same accuracy")
    page.click("#request-form button[type=submit]")
    page.wait_for_url("**/registry/approvals")
    request = page.locator("[id^='request-']", has_text="smaller forest").first
    request_id = (request.get_attribute("id") or "").removeprefix("request-")
    page.fill(f"#reason-{request_id}", "checked the evaluation")
    page.click(f"#request-{request_id} button:has-text('Approve')")
    page.wait_for_url("**/registry/approvals#decided")

    # The open endpoint page picks the hot swap up by itself (htmx polling), no reload.
    page.goto(f"{ui}/endpoints/{seed.endpoint}")
    expect(page.locator("#serving-version")).to_contain_text("version 2", timeout=30_000)
    page.reload()
    expect(page.locator("#versions tbody tr").first).to_contain_text("serving")
    assert "@champion v1 → v2" in page.locator("main").inner_text()
    assert not errors, "\n".join(errors)
