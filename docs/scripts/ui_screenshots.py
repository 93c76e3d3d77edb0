"""Screenshots of the web UI's main pages for the docs and the README.

Starts a real ``shipyard`` server on a random loopback port over a fresh store in a temporary folder,
seeds it like a small team's first weeks (a portfolio with votes and a red flag, an experiment of runs
with loss curves, a registered model with a pending promotion, an endpoint serving a real scikit-learn
model with traffic and feedback, a monitor with scored windows and a firing alert), then drives Debian's
Chromium (light theme, 1280x800) and writes one PNG per page into ``docs/images/ui/``.

    .venv/bin/python docs/scripts/ui_screenshots.py [--output docs/images/ui] [--chromium /usr/bin/chromium]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))  # the UI tests' seeding is reused, so the pictures show what the tests check

from tests.ui.seed import seed  # noqa: E402
from tests.ui.serving_seed import seed_serving, serving_version, wait_until  # noqa: E402

from shipyard.client import RemoteClient  # noqa: E402
from shipyard.core.auth import LOCAL_ADMIN  # noqa: E402
from shipyard.core.config import Settings  # noqa: E402
from shipyard.core.platform import Platform  # noqa: E402
from shipyard.server import create_app  # noqa: E402
from shipyard.testing.servers import live_server  # noqa: E402
from shipyard.tracking import runs  # noqa: E402
from shipyard.tracking.metrics import MetricPoint  # noqa: E402

VIEWPORT = {"width": 1280, "height": 800}
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]


def more_runs(platform: Platform, experiment_id: int, count: int = 14) -> None:
    """A fuller runs table: a small learning-rate and depth sweep with loss curves."""
    rng = np.random.default_rng(3)
    with platform.database.session(write=True) as s:
        for index in range(count):
            depth, rate = 3 + index % 5, [0.3, 0.1, 0.03][index % 3]
            run = runs.create_run(
                s,
                actor=LOCAL_ADMIN,
                experiment_id=experiment_id,
                run_name=f"gbm-d{depth}-lr{rate}",
                start_time=1_700_000_100_000 + index * 60_000,
            )
            floor = 0.2 + 0.02 * depth * rate + rng.uniform(0, 0.05)
            points = [
                MetricPoint(
                    "loss", floor + 0.8 * float(np.exp(-step * rate / 20)), 1_700_000_100_000 + step, step
                )
                for step in range(300)
            ]
            points.append(MetricPoint("accuracy", 0.97 - floor / 3, 1_700_000_100_500, 299))
            runs.log_batch(
                s,
                actor=LOCAL_ADMIN,
                run_id=run.id,
                metrics=points,
                params={"model": "gbm", "max_depth": str(depth), "learning_rate": str(rate)},
                tags={},
            )
            runs.update_run(
                s, actor=LOCAL_ADMIN, run_id=run.id, status="FINISHED", end_time=1_700_000_200_000
            )


def shoot(page: Any, url: str, path: Path, *, wait_for: str | None = None) -> None:
    response = page.goto(url)
    if response is None or response.status != 200:
        raise SystemExit(f"{url}: HTTP {response.status if response else 'no response'}")
    if wait_for:
        page.wait_for_selector(wait_for)
    page.wait_for_load_state("networkidle")
    page.screenshot(path=str(path))
    shown = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
    print(f"wrote {shown} ({path.stat().st_size:,} bytes)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=ROOT / "docs" / "images" / "ui")
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    args = parser.parse_args()
    args.output.mkdir(parents=True, exist_ok=True)
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as folder:
        home = Path(folder)
        settings = Settings(
            home=home / "home",
            database_url=f"sqlite:///{home / 'shipyard.db'}",
            artifact_root=str(home / "artifacts"),
            serving_poll_seconds=0.2,
        )
        with Platform.open(settings) as platform, live_server(create_app(platform=platform)) as url:
            seeded = seed(platform)
            more_runs(platform, seeded.experiment_id)
            served = seed_serving(platform, url, None)
            with RemoteClient(url) as client:  # a second endpoint: the new version as a canary
                client.create_endpoint("cancer-canary", f"models:/{served.model}/2", sample_rate=0.25)
            wait_until(lambda: serving_version(url, None, "cancer-canary") == "2", "the canary to serve")
            ui = f"{url}/ui"
            shots = [
                ("portfolio-matrix", f"/portfolio/{seeded.portfolio_id}", "svg"),
                ("runs-table", f"/experiments/{seeded.experiment_id}", "#runs"),
                ("compare", f"/compare?experiment={seeded.experiment_id}&limit=500", ".chart .uplot"),
                ("run-detail", f"/runs/{seeded.run_ids[0]}", ".chart .uplot"),
                ("registry-model", f"/registry/models/{seeded.model}", None),
                ("registry-approvals", "/registry/approvals", None),
                ("endpoints", "/endpoints", "#endpoints"),
                ("endpoint", f"/endpoints/{served.endpoint}", "#live"),
                ("monitoring", f"/monitoring/{served.monitor_id}", "#distributions figure svg"),
            ]
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(
                    executable_path=args.chromium, headless=True, args=CHROMIUM_ARGS
                )
                context = browser.new_context(viewport=VIEWPORT, color_scheme="light")
                context.set_default_timeout(30_000)
                page = context.new_page()
                for name, path, wait_for in shots:
                    shoot(page, ui + path, args.output / f"{name}.png", wait_for=wait_for)
                browser.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
