"""One headless Chromium (Debian's package) per test session, a seeded store per test, and a served
endpoint with a scored monitor per module."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from shipyard.core import auth
from shipyard.core.auth import LOCAL_ADMIN, Role
from shipyard.core.config import Settings
from shipyard.core.platform import Platform
from shipyard.server import create_app
from shipyard.testing.servers import live_server
from tests.conftest import BACKENDS
from tests.ui.seed import Seeded, seed
from tests.ui.serving_seed import ServedSeed, seed_serving

CHROMIUM = os.environ.get("SHIPYARD_TEST_CHROMIUM", "/usr/bin/chromium")
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Chromium for one test module. Not for the session: Playwright's sync API marks its event loop as
    running in the main thread while it is open, so any later ``asyncio.run`` on the same xdist worker
    (the batcher and prediction-log tests) would fail."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium package (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        yield launched
        launched.close()


@pytest.fixture
def seeded(platform: Platform) -> Seeded:
    return seed(platform)


@pytest.fixture
def auth_seeded(auth_platform: Platform) -> Seeded:
    return seed(auth_platform)


@dataclass(frozen=True)
class Served:
    """A live auth-enabled server hosting a seeded endpoint and monitor, shared by a module's tests."""

    platform: Platform
    url: str
    tokens: dict[str, str]
    seed: ServedSeed


@pytest.fixture(scope="module", params=BACKENDS)
def served(
    request: pytest.FixtureRequest, template_databases: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Served]:
    """One server per backend and module: seeding a served model and scoring windows takes seconds."""
    folder = tmp_path_factory.mktemp(f"served-{request.param}")
    settings = Settings(
        home=folder / "home",
        database_url=template_databases.clone(request.param, folder / "db"),
        artifact_root=str(folder / "artifacts"),
        auth_enabled=True,
        serving_poll_seconds=0.2,
    )
    with Platform.open(settings) as platform:
        secrets: dict[str, str] = {}
        with platform.database.session(write=True) as session:
            for role in Role:
                _, secrets[role.value] = auth.create_token(
                    session, actor=LOCAL_ADMIN, name=f"ui-{role.value}", role=role
                )
        with live_server(create_app(platform=platform)) as url:
            yield Served(platform, url, secrets, seed_serving(platform, url, secrets["admin"]))
