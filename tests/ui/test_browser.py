"""The UI in a real browser: every page renders cleanly, the main flows work end to end, roles hold."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import expect

from shipyard.core.platform import Platform
from shipyard.core.tables import Token
from tests import live_http
from tests.ui.seed import Seeded

TIMEOUT_MS = 15_000


@pytest.fixture
def page_errors(browser: Any) -> Iterator[tuple[Any, list[str]]]:
    """A fresh browser context and page, collecting console errors and uncaught exceptions."""
    context = browser.new_context()
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    errors: list[str] = []
    page.on(
        "console",
        lambda message: (
            errors.append(f"{message.text} at {message.location.get('url')}")
            if message.type == "error"
            else None
        ),
    )
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield page, errors
    context.close()


def test_every_page_renders_without_console_errors(
    server_url: str, seeded: Seeded, page_errors: tuple[Any, list[str]]
) -> None:
    page, errors = page_errors
    ui = f"{server_url}/ui"
    run = seeded.run_ids[0]
    pages = {
        "/portfolio": "Retail AI",
        f"/portfolio/{seeded.portfolio_id}": "Prioritisation matrix",
        f"/usecases/{seeded.use_case_id}": "Churn prediction",
        "/experiments": "churn-models",
        f"/experiments/{seeded.experiment_id}": "rf-8",
        f"/runs/{run}": "Metric charts",
        f"/runs/{run}/artifact?path=notes.txt": "March extract",
        f"/runs/{run}/artifact?path=evaluation/evaluation.json": '"confusion_matrix"',
        f"/compare?experiment={seeded.experiment_id}&limit=500": "Parallel coordinates",
        "/registry": "churn",
        "/registry/models/churn": "Alias history",
        "/registry/models/churn/versions/1": "Confusion matrix",
        "/registry/approvals": "better accuracy",
        "/audit": "usecase.vote",
        "/settings": "API tokens",
    }
    for path, expected in pages.items():
        response = page.goto(ui + path)
        assert response is not None and response.status == 200, f"{path}: {response and response.status}"
        assert expected in page.content(), f"{path} lacks {expected!r}"
        if path.startswith(("/runs/", "/compare")) and "artifact" not in path:
            page.wait_for_selector(".chart .uplot", timeout=TIMEOUT_MS)
        if path.startswith("/compare"):
            assert page.locator("canvas.parcoords").count() == 1
    assert not errors, "\n".join(errors)


def test_theme_toggle_and_matrix_points_reachable_by_keyboard(
    server_url: str, seeded: Seeded, page_errors: tuple[Any, list[str]]
) -> None:
    page, errors = page_errors
    page.goto(f"{server_url}/ui/portfolio/{seeded.portfolio_id}")
    # The theme toggle flips the theme and remembers it across pages.
    page.click("#theme-toggle")
    theme = page.locator("html").get_attribute("data-theme")
    assert theme in ("dark", "light")
    page.reload()
    assert page.locator("html").get_attribute("data-theme") == theme
    point = page.locator("svg a").first
    point.focus()
    page.keyboard.press("Enter")
    page.wait_for_url("**/ui/usecases/*")
    assert "Scores and voter spread" in page.content()
    assert not errors


def _login(page: Any, ui: str, secret: str) -> None:
    page.goto(f"{ui}/portfolio")
    page.wait_for_url("**/ui/login**")
    page.fill("#token", secret)
    page.click("button:has-text('Log in')")
    page.wait_for_url("**/ui/portfolio/**")


def test_flows_end_to_end(
    auth_server_url: str,
    auth_platform: Platform,
    auth_seeded: Seeded,
    tokens: dict[str, str],
    page_errors: tuple[Any, list[str]],
) -> None:
    page, errors = page_errors
    ui = f"{auth_server_url}/ui"

    # A wrong token is refused next to the field; the admin's logs in.
    page.goto(f"{ui}/login")
    page.fill("#token", "shp_not-a-token")
    page.click("button:has-text('Log in')")
    assert "that token is not valid" in page.locator("#err-token").inner_text()
    errors.clear()  # the 401 answer itself is logged by the browser as a failed resource
    _login(page, ui, tokens["admin"])
    cookie = next(c for c in page.context.cookies() if c["name"] == "shipyard_token")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"

    # Vote on a use case: the voter appears in the spread table.
    page.goto(f"{ui}/usecases/{auth_seeded.other_use_case_id}")
    page.select_option("#score-economic_value", "5")
    page.select_option("#score-know_how", "4")
    page.click("#vote-form button[type=submit]")
    page.wait_for_url("**#votes")
    assert "test-admin: 5" in page.locator("#votes").inner_text()

    # Approving champion is refused while the use case has an open red flag ...
    page.goto(f"{ui}/registry/approvals")
    page.fill(f"#reason-{auth_seeded.request_id}", "ship it")
    page.click(f"#request-{auth_seeded.request_id} button:has-text('Approve')")
    assert "red flag" in page.locator(f"#request-{auth_seeded.request_id}").inner_text()
    errors.clear()  # the 409 page load

    # ... so sign it off (a reason is required and its absence is shown next to the field) ...
    page.goto(f"{ui}/usecases/{auth_seeded.use_case_id}")
    row = page.locator(f"#check-{auth_seeded.red_flag_id}")
    row.locator("button:has-text('Sign off')").click()
    assert page.locator(f"#check-{auth_seeded.red_flag_id} .field-error").count() == 1
    errors.clear()
    page.fill(f"#reason-{auth_seeded.red_flag_id}", "DPO approved the processing")
    page.locator(f"#check-{auth_seeded.red_flag_id} button:has-text('Sign off')").click()
    page.wait_for_url(f"**#check-{auth_seeded.red_flag_id}")
    assert "signed off" in page.locator(f"#check-{auth_seeded.red_flag_id}").inner_text()

    # ... then approve the promotion: the alias moves.
    page.goto(f"{ui}/registry/approvals")
    page.fill(f"#reason-{auth_seeded.request_id}", "red flag cleared")
    page.click(f"#request-{auth_seeded.request_id} button:has-text('Approve')")
    page.wait_for_url("**/registry/approvals#decided")
    page.goto(f"{ui}/registry/models/churn")
    assert "@champion → version 2" in page.locator("section").first.inner_text()

    # Compare two runs picked in the table (htmx filter first, to check the partial swap).
    page.goto(f"{ui}/experiments/{auth_seeded.experiment_id}")
    page.fill("#filter", "params.model = 'rf'")
    page.click("#run-search button:has-text('Apply')")
    expect(page.locator("#runs tbody tr")).to_have_count(2)
    for box in page.locator("#runs tbody input[type=checkbox]").all():
        box.check()
    page.click("button:has-text('Compare selected')")
    page.wait_for_url("**/ui/compare?**")
    page.wait_for_selector(".chart .uplot")
    assert "Compare 2 runs" in page.content() and "params.max_depth" in page.content()

    # Revoke the viewer's token in settings; the API refuses it at once.
    with auth_platform.database.session() as session:
        viewer_id = session.query(Token.id).filter(Token.name == "test-viewer").scalar()
    page.goto(f"{ui}/settings")
    page.click(f"#token-{viewer_id} button:has-text('Revoke')")
    page.wait_for_url(f"**#token-{viewer_id}")
    assert "revoked" in page.locator(f"#token-{viewer_id}").inner_text()
    refused = live_http.get(
        f"{auth_server_url}/api/v1/audit", headers={"Authorization": f"Bearer {tokens['viewer']}"}
    )
    assert refused.status_code == 401

    # The audit log shows these UI actions under the admin's token, filterable by action.
    page.goto(f"{ui}/audit")
    page.fill("#f-action", "approval.*")
    page.click("#audit-filters button:has-text('Filter')")
    expect(page.locator("#audit")).to_contain_text("approval.approve")
    expect(page.locator("#audit")).not_to_contain_text("usecase.vote")
    actions = page.locator("#audit tbody td:nth-child(3)").all_inner_texts()
    assert actions and all(action.startswith("approval.") for action in actions)
    assert not errors, "\n".join(errors)


def test_viewer_sees_no_write_buttons_and_forged_posts_are_refused(
    auth_server_url: str, auth_seeded: Seeded, tokens: dict[str, str], page_errors: tuple[Any, list[str]]
) -> None:
    page, errors = page_errors
    ui = f"{auth_server_url}/ui"
    _login(page, ui, tokens["viewer"])
    for path in (
        f"/usecases/{auth_seeded.use_case_id}",
        "/registry/approvals",
        "/registry/models/churn",
    ):
        page.goto(ui + path)
        assert page.locator("main form[method=post]").count() == 0, f"{path} shows a write form to a viewer"
    assert page.locator("nav a:has-text('Settings')").count() == 0
    csrf = page.locator('meta[name="csrf-token"]').get_attribute("content")
    forged = page.request.post(
        f"{ui}/registry/approvals/{auth_seeded.request_id}/approve",
        form={"reason": "sneaky", "csrf_token": csrf},
        max_redirects=0,
    )
    assert forged.status == 403 and "approver role" in forged.text()
    no_csrf = page.request.post(
        f"{ui}/usecases/{auth_seeded.use_case_id}/votes", form={"score_know_how": "1"}, max_redirects=0
    )
    assert no_csrf.status == 403 and "CSRF" in no_csrf.text()
    settings = page.goto(f"{ui}/settings")
    assert settings is not None and settings.status == 403
    errors.clear()  # the 403 page load above
    assert not errors
