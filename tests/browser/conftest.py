"""A real browser (Debian's Chromium, driven by Playwright) on the app served from a thread."""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from tests.e2e.conftest import Harness, harness  # noqa: F401  (the fixture, reused)

CHROMIUM = os.environ.get("POWERPACT_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-quic",
]


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    if not shutil.which(CHROMIUM):
        pytest.fail(f"Chromium is missing at {CHROMIUM}: `make test` installs Debian's package")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()


@pytest.fixture
def live(harness: Harness) -> Iterator[tuple[Harness, str]]:  # noqa: F811
    """The harness's app served on a loopback port for the browser."""
    server = make_server("127.0.0.1", 0, harness.app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield harness, f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()


@pytest.fixture
def page(browser):  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    yield page
    context.close()


def screenshot(page, name: str) -> Path:  # type: ignore[no-untyped-def]
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


WEB_VITALS = """() => new Promise(resolve => {
  let lcp = 0, cls = 0;
  new PerformanceObserver(list => { for (const e of list.getEntries()) lcp = e.startTime; })
    .observe({type: 'largest-contentful-paint', buffered: true});
  new PerformanceObserver(list => {
    for (const e of list.getEntries()) if (!e.hadRecentInput) cls += e.value;
  })
    .observe({type: 'layout-shift', buffered: true});
  setTimeout(() => resolve({lcp_ms: Math.round(lcp), cls: cls}), 500);
})"""


def web_vitals(page) -> dict[str, float]:  # type: ignore[no-untyped-def]
    return page.evaluate(WEB_VITALS)
