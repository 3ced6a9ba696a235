"""Fixtures for the whole-system tests: the built page, a running demo, a browser."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect, sync_playwright

from .harness import CHROMIUM, CHROMIUM_ARGS, ROOT, Demo, running_demo

# Playwright's assertions give up after 5 s by default; on a loaded two-core machine a
# command or a ride request can take longer to come back. A wait, not a timing asserted.
expect.set_options(timeout=30_000)


@pytest.fixture(scope="session")
def built_web() -> Path:
    index = ROOT / "web" / "dist" / "index.html"
    if not index.exists():
        pytest.fail("web/dist is missing: run `make web` (npm ci && npm run build in web/)")
    return index.parent


@pytest.fixture(scope="session")
def demo_server(built_web: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    """`headway demo --vehicles 50 --seed 3` as a separate process, as a user starts it."""
    with running_demo(tmp_path_factory.mktemp("demo"), vehicles=50, seed=3) as d:
        yield d


@pytest.fixture(scope="module")
def chromium() -> Iterator[Browser]:
    """Debian's Chromium, never a downloaded one.

    Module-scoped: Playwright's sync API keeps an event loop running in the main thread
    while it is open, which would stop asyncio tests in other modules from starting.
    """
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: run `make browser` (scripts/install-browser)")
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()
