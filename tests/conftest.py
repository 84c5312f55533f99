"""Test fixtures, after pypi/warehouse and the Flask tutorial.

- One throwaway PostgreSQL database per run, built by the real migrations once.
- ``app`` / ``db_session``: each test inside a transaction that is rolled back;
  code under test that commits only releases a savepoint.
- ``client`` talks to that app; Huey runs tasks inline (``immediate``) unless a
  test starts a real consumer.
- Real network is blocked (pytest-socket: only loopback is allowed).
"""

from __future__ import annotations

import atexit
import contextlib
import os
import secrets
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

TEST_INSTANCE = Path(tempfile.mkdtemp(prefix="powerpact-test-"))
atexit.register(shutil.rmtree, TEST_INSTANCE, ignore_errors=True)
os.environ.pop("REDIS_URL", None)
os.environ.pop("DATABASE_URL", None)
os.environ["POWERPACT_INSTANCE_DIR"] = str(TEST_INSTANCE)

import psycopg  # noqa: E402
from cryptography.fernet import Fernet  # noqa: E402
from flask import Flask  # noqa: E402
from flask.testing import FlaskClient  # noqa: E402
from sqlalchemy.orm import Session, scoped_session, sessionmaker  # noqa: E402

from powerpact import create_app  # noqa: E402
from powerpact.config import Settings  # noqa: E402
from powerpact.extensions import db  # noqa: E402
from powerpact.queue import huey  # noqa: E402
from powerpact.shopify.delivery_store import STORE_KEY, ConnectionStore  # noqa: E402

PG_ADMIN_DSN = os.environ.get("POWERPACT_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS_TEST_URL = os.environ.get("POWERPACT_TEST_REDIS", "redis://127.0.0.1:6379/15")


def _admin_execute(sql: str) -> None:
    with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as conn:
        conn.execute(sql)


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    name = f"powerpact_test_{uuid.uuid4().hex[:10]}"
    _admin_execute(f'CREATE DATABASE "{name}"')
    base = PG_ADMIN_DSN.rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}"
    finally:
        _admin_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def settings_for(database_url: str, **overrides: str) -> Settings:
    env = {
        "DATABASE_URL": database_url,
        "SECRET_KEY": secrets.token_urlsafe(48),
        "SHOPIFY_API_KEY": "test-api-key",
        "SHOPIFY_API_SECRET": "test-api-secret-" + secrets.token_hex(8),
        "TOKEN_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "POWERPACT_INSTANCE_DIR": str(TEST_INSTANCE),
        "RETAIL_SHOP": "bubbly-retail.myshopify.com",
        "APP_URL": "http://127.0.0.1:5000",
        **overrides,
    }
    return Settings.from_env(env)


@pytest.fixture(scope="session")
def migrated_app(database_url: str) -> Iterator[Flask]:
    import flask_migrate

    app = create_app(
        {"TESTING": True, "SHOPIFY_CLIENT_OPTIONS": {"backoff_base": 0.001, "backoff_cap": 0.01}},
        settings=settings_for(database_url),
    )
    with app.app_context():
        flask_migrate.upgrade()
    huey.immediate = True
    yield app
    app.extensions[STORE_KEY].close()
    with app.app_context():
        db.engine.dispose()


@contextlib.contextmanager
def session_connection() -> Iterator[psycopg.Connection]:
    """The test session's connection, for the webhook intake's statement.

    In production the intake inserts on an autocommit connection of its own
    (``GroupCommitStore``, with the deliveries of concurrent requests); here the same
    statement runs inside the test's transaction and is "committed" as the session commits
    (a savepoint), so it is rolled back with the rest of the test.
    """
    raw = db.session.connection().connection.driver_connection
    try:
        yield raw
    except BaseException:
        db.session.rollback()
        raise
    db.session.commit()


@pytest.fixture
def app(migrated_app: Flask) -> Iterator[Flask]:
    """The app, inside an app context whose session is a rolled-back transaction."""
    original_store = migrated_app.extensions[STORE_KEY]
    migrated_app.extensions[STORE_KEY] = ConnectionStore(session_connection)
    with migrated_app.app_context():
        connection = db.engine.connect()
        outer = connection.begin()
        original_session = db.session
        db.session = scoped_session(
            sessionmaker(
                bind=connection,
                class_=Session,
                join_transaction_mode="create_savepoint",
            )
        )
        try:
            yield migrated_app
        finally:
            db.session.remove()
            db.session = original_session
            outer.rollback()
            connection.close()
            migrated_app.extensions[STORE_KEY] = original_store


@pytest.fixture
def db_session(app: Flask) -> Session:
    return db.session()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def send_webhook(client, app):
    """POST a webhook as Shopify would: signed with the app secret, with its headers."""
    import json as _json

    from powerpact.shopify.signatures import webhook_hmac

    def send(
        topic,
        payload,
        *,
        shop="bubbly-retail.myshopify.com",
        webhook_id=None,
        event_id=None,
        triggered_at=None,
        secret=None,
        raw=None,
        hmac_header=None,
    ):
        body = raw if raw is not None else _json.dumps(payload).encode()
        secret = secret or app.config["POWERPACT"].shopify_api_secret
        headers = {
            "X-Shopify-Topic": topic,
            "X-Shopify-Shop-Domain": shop,
            "X-Shopify-Webhook-Id": webhook_id or str(uuid.uuid4()),
            "X-Shopify-Event-Id": event_id or str(uuid.uuid4()),
            "X-Shopify-API-Version": "2026-07",
            "X-Shopify-Hmac-Sha256": webhook_hmac(secret, body)
            if hmac_header is None
            else hmac_header,
            "Content-Type": "application/json",
        }
        if triggered_at:
            headers["X-Shopify-Triggered-At"] = triggered_at
        return client.post("/webhooks", data=body, headers=headers)

    return send


@pytest.fixture
def personas(db_session):
    """Named shops for permission tests: the retail admin and two partners."""
    from types import SimpleNamespace

    from tests.factories import PartnerStoreFactory, RetailStoreFactory

    return SimpleNamespace(
        retail=RetailStoreFactory(),
        alice=PartnerStoreFactory(shop_domain="alice-roasters.myshopify.com", name="Alice"),
        bob=PartnerStoreFactory(shop_domain="bob-beans.myshopify.com", name="Bob"),
    )


@pytest.fixture
def stores(db_session):
    """The retail store and one partner, Alice, committed (a module may define its own)."""
    from tests.factories import PartnerStoreFactory, RetailStoreFactory

    retail = RetailStoreFactory()
    partner = PartnerStoreFactory(shop_domain="alice-roasters.myshopify.com", name="Alice Roasters")
    db_session.commit()
    return partner, retail


@pytest.fixture
def session_token(app):
    """Mint an App Bridge session token for a shop (our secret unless told otherwise)."""
    from powerpact.shopify.session_tokens import mint_session_token

    settings = app.config["POWERPACT"]

    def mint(shop, **overrides):
        options = {"api_key": settings.shopify_api_key, "secret": settings.shopify_api_secret}
        options.update(overrides)
        return mint_session_token(getattr(shop, "shop_domain", shop), **options)

    return mint


@pytest.fixture
def as_shop(client, session_token):
    """GET a page as a shop: htmx-style with a Bearer token, or a document with id_token."""

    def get(url, shop, *, htmx=True, **token_options):
        token = session_token(shop, **token_options)
        if htmx:
            headers = {"Authorization": f"Bearer {token}", "HX-Request": "true"}
            return client.get(url, headers=headers)
        separator = "&" if "?" in url else "?"
        return client.get(f"{url}{separator}id_token={token}")

    return get


@pytest.fixture
def committed_app(migrated_app: Flask) -> Iterator[Flask]:
    """The app with a real session that commits, for tests that cross threads or processes
    (a sandbox server thread, a browser). Every table is emptied afterwards."""
    with migrated_app.app_context():
        db.session.remove()
        yield migrated_app
        db.session.remove()
        tables = ", ".join(f'"{t.name}"' for t in db.metadata.sorted_tables)
        with db.engine.begin() as conn:
            conn.exec_driver_sql(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")


@pytest.fixture
def shopify():
    """Shopify's GraphQL endpoint as a programmable double (see tests/shopify_double.py)."""
    import responses

    from tests.shopify_double import ShopifyDouble

    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield ShopifyDouble(mock)
