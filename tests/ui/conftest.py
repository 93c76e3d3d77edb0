"""One headless Chromium (Debian's package) per test session, and a seeded store per test."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from shipyard.core.platform import Platform
from tests.ui.seed import Seeded, seed

CHROMIUM = os.environ.get("SHIPYARD_TEST_CHROMIUM", "/usr/bin/chromium")
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
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
