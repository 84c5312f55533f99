"""A throwaway world for benchmarks: the sandbox on a loopback port, a fresh database, the app."""

from __future__ import annotations

import contextlib
import math
import os
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

import flask_migrate
import psycopg
from flask import Flask, current_app
from sqlalchemy import select
from werkzeug.serving import make_server

from powerpact import create_app
from powerpact.db_types import utcnow
from powerpact.extensions import db
from powerpact.models import PartnerStore, RetailStore
from powerpact.sandbox import Sandbox, SandboxConfig, create_sandbox_app
from powerpact.sandbox.core import CallRecord

PG_ADMIN = os.environ.get("POWERPACT_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
RETAIL = "bench-retail.myshopify.com"


@dataclass
class World:
    app: Flask
    sandbox: Sandbox
    base: str

    def install(self, domain: str, name: str, *, retail: bool = False, **settings: Any) -> Any:
        """A shop with PowerPact installed: a sandbox token and the row that holds it."""
        shop = self.sandbox.add_shop(domain, name, **settings)
        token = self.sandbox.store.issue_token(
            domain, ["write_orders"], expiring=False, now=time.time()
        )
        model = RetailStore if retail else PartnerStore
        row = model(
            shop_domain=domain,
            name=name,
            access_token=token.value,
            location_id=shop.location_id,
            installed_at=utcnow(),
        )
        db.session.add(row)
        return shop, row

    def app_retail(self) -> RetailStore:
        return db.session.scalars(select(RetailStore)).one()

    def calls(self, shops: list[str]) -> list[CallRecord]:
        return [c for s in shops for c in self.sandbox.calls.get(s, [])]


@contextlib.contextmanager
def temporary_database() -> Iterator[str]:
    """A new PostgreSQL database when one answers locally, else a SQLite file."""
    name = f"powerpact_bench_{uuid.uuid4().hex[:8]}"
    try:
        with psycopg.connect(PG_ADMIN, autocommit=True, connect_timeout=3) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
    except psycopg.OperationalError:
        with tempfile.TemporaryDirectory() as folder:
            yield f"sqlite:///{folder}/bench.db"
        return
    try:
        yield "postgresql+psycopg://" + PG_ADMIN.split("://", 1)[1].rsplit("/", 1)[0] + f"/{name}"
    finally:
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextlib.contextmanager
def bench_world(plan: str = "standard") -> Iterator[World]:
    settings = current_app.config["POWERPACT"]
    sandbox_app = create_sandbox_app(
        SandboxConfig(
            api_key=settings.shopify_api_key,
            api_secret=settings.shopify_api_secret,
            transport=lambda url, headers, body: 200,
            default_plan=plan,
        )
    )
    server = make_server("127.0.0.1", 0, sandbox_app, threaded=True)
    base = f"http://127.0.0.1:{server.server_port}"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        with temporary_database() as url:
            bench_settings = replace(
                settings,
                database_url=url,
                shopify_admin_origin=f"{base}/shops/{{shop}}",
                retail_shop=RETAIL,
            )
            app = create_app(
                {"SQLALCHEMY_ENGINE_OPTIONS": {"pool_size": 20}}
                if url.startswith("postgresql")
                else {},
                settings=bench_settings,
            )
            with app.app_context():
                flask_migrate.upgrade()
                try:
                    yield World(app, sandbox_app.extensions["sandbox"], base)
                finally:
                    db.session.remove()
                    db.engine.dispose()
    finally:
        server.shutdown()


def rate_limit_bound(costs: dict[str, float], sandbox: Sandbox) -> float:
    """Seconds the buckets alone force: each shop's cost beyond its bucket, at its restore rate."""
    bound = 0.0
    for shop, cost in costs.items():
        bucket = sandbox.buckets[shop]
        bound = max(bound, max(0.0, cost - bucket.maximum) / bucket.restore_rate)
    return bound


def ceil_div(a: int, b: int) -> int:
    return math.ceil(a / b) if a else 0
