"""End-to-end fixtures: the sandbox served on a loopback port, the app talking to it.

The app runs with committed data (its webhooks arrive on the sandbox's sender
thread) and Huey inline; every table is emptied after each test.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
from flask import Flask
from werkzeug.serving import make_server

from powerpact import create_app
from powerpact.extensions import db
from powerpact.sandbox import Sandbox, SandboxConfig, create_sandbox_app
from powerpact.sandbox.fixtures import load_named
from tests.conftest import settings_for

APP_URL = "http://127.0.0.1:5000"


class Harness:
    """The app, the sandbox, and the moves a merchant makes between them."""

    def __init__(self, app: Flask, sandbox: Sandbox, base: str, sandbox_app: Flask) -> None:
        self.app = app
        self.sandbox = sandbox
        self.base = base
        self.client = app.test_client()
        self.sandbox_client = sandbox_app.test_client()

    def control(self, method: str, path: str, json: Any = None) -> Any:
        response = requests.request(method, f"{self.base}/_sandbox{path}", json=json, timeout=30)
        response.raise_for_status()
        return response.json()

    def settle(self) -> None:
        assert self.sandbox.webhooks.drain(30), "webhooks still queued"

    def install(self, shop: str) -> None:
        """Install through the real redirects: app -> sandbox authorize -> app callback."""
        client = self.app.test_client()
        start = client.get(f"/auth/install?shop={shop}")
        authorize = requests.get(start.headers["Location"], allow_redirects=False, timeout=30)
        callback = urlsplit(authorize.headers["Location"])
        assert callback.path == "/auth/callback"
        landed = client.get(f"{callback.path}?{callback.query}")
        assert landed.status_code == 302, landed.get_data(as_text=True)
        self.settle()

    def shop(self, domain: str) -> dict[str, Any]:
        return self.control("GET", f"/shops/{domain}")


@pytest.fixture
def harness(migrated_app: Flask, database_url: str) -> Iterator[Harness]:
    with running_harness(database_url, clean_up=empty_every_table) as ready:
        yield ready


@pytest.fixture
def sqlite_harness(migrated_app: Flask, tmp_path) -> Iterator[Harness]:
    """The same on an SQLite file, migrated for it, as the demo runs."""
    import flask_migrate

    with running_harness(f"sqlite:///{tmp_path / 'powerpact.db'}") as ready:
        flask_migrate.upgrade()
        yield ready


def empty_every_table() -> None:
    tables = ", ".join(f'"{t.name}"' for t in db.metadata.sorted_tables)
    with db.engine.begin() as conn:
        conn.exec_driver_sql(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")


@contextlib.contextmanager
def running_harness(
    database_url: str, clean_up: Callable[[], None] = lambda: None
) -> Iterator[Harness]:
    """The sandbox on a loopback port and the app on ``database_url``, inside its context;
    ``clean_up`` runs once the sandbox has stopped."""
    holder: dict[str, Flask] = {}

    def deliver(url: str, headers: dict[str, str], body: bytes) -> int:
        if not url.startswith(APP_URL):
            return 0
        app = holder["app"]
        with app.app_context():
            response = app.test_client().post(urlsplit(url).path, data=body, headers=headers)
            db.session.remove()
        return response.status_code

    config = SandboxConfig(
        transport=deliver,
        webhook_retry_delays=(0.05, 0.1, 0.2),
        risk_assessment_delays=(0.02, 0.1),  # Shopify's analysis, compressed
    )
    sandbox_app = create_sandbox_app(config)
    server = make_server("127.0.0.1", 0, sandbox_app, threaded=True)
    base = f"http://127.0.0.1:{server.server_port}"
    sandbox = sandbox_app.extensions["sandbox"]
    sandbox.config.base_url = base
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()

    settings = settings_for(
        database_url,
        SHOPIFY_ADMIN_ORIGIN=f"{base}/shops/{{shop}}",
        APP_URL=APP_URL,
    )
    app = create_app(
        {"TESTING": True, "SHOPIFY_CLIENT_OPTIONS": {"backoff_base": 0.01, "backoff_cap": 0.05}},
        settings=settings,
    )
    config.api_key = settings.shopify_api_key
    config.api_secret = settings.shopify_api_secret
    sandbox.webhooks.secret = settings.shopify_api_secret
    config.app_url = APP_URL
    load_named(sandbox, "demo")
    holder["app"] = app
    try:
        with app.app_context():
            yield Harness(app, sandbox, base, sandbox_app)
    finally:
        sandbox.webhooks.drain(10)
        server.shutdown()
        with app.app_context():
            db.session.remove()
            clean_up()
            db.engine.dispose()
