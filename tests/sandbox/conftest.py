"""A sandbox with the demo shops, a recording webhook transport and a clock the tests move."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask

from powerpact.sandbox import Sandbox, SandboxConfig, create_sandbox_app
from powerpact.sandbox.fixtures import RETAIL, load_named
from tests.sandbox.helpers import APP_URL, KEY, SECRET, SHOP, mint


class Clock:
    """Monotonic and wall time that only move when a test says so."""

    def __init__(self) -> None:
        self.now = 100.0
        self.wall = time.time()

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds
        self.wall += seconds


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def sent() -> list[tuple[str, dict[str, str], bytes]]:
    return []


@pytest.fixture
def config(clock: Clock, sent: list) -> SandboxConfig:
    def transport(url: str, headers: dict[str, str], body: bytes) -> int:
        sent.append((url, headers, body))
        return 200

    return SandboxConfig(
        api_key=KEY,
        api_secret=SECRET,
        app_url=APP_URL,
        transport=transport,
        clock=clock,
        wall_clock=lambda: clock.wall,
        webhook_retry_delays=(0.01, 0.01),
        risk_assessment_delays=(0.01, 0.02),
    )


@pytest.fixture
def sandbox_app(config: SandboxConfig) -> Flask:
    app = create_sandbox_app(config)
    load_named(app.extensions["sandbox"], "demo")
    return app


@pytest.fixture
def sandbox(sandbox_app: Flask) -> Sandbox:
    return sandbox_app.extensions["sandbox"]


@pytest.fixture
def token(sandbox: Sandbox) -> str:
    return mint(sandbox, SHOP)


@pytest.fixture
def retail_token(sandbox: Sandbox) -> str:
    return mint(sandbox, RETAIL)


Gql = Callable[..., tuple[int, dict[str, Any]]]


@pytest.fixture
def gql(sandbox_app: Flask) -> Gql:
    """POST a document to a shop's Admin API; answers (status, JSON body)."""

    def post(
        token: str, query: str, variables: dict[str, Any] | None = None, shop: str = SHOP
    ) -> tuple[int, dict[str, Any]]:
        response = sandbox_app.test_client().post(
            f"/shops/{shop}/admin/api/2026-07/graphql.json",
            json={"query": query, "variables": variables or {}},
            headers={"X-Shopify-Access-Token": token},
        )
        return response.status_code, response.get_json()

    return post


@pytest.fixture
def data(gql: Gql) -> Callable[..., dict[str, Any]]:
    """The ``data`` of a document that must run without errors."""

    def run(token: str, query: str, variables: dict[str, Any] | None = None, shop: str = SHOP):
        status, body = gql(token, query, variables, shop)
        assert status == 200, body
        assert "errors" not in body, body["errors"]
        return body["data"]

    return run
