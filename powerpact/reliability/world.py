"""One reliability world: PostgreSQL, a private Redis, gunicorn, Huey consumers and the sandbox.

Everything runs as its own process on free loopback ports, configured only through
the environment, as on Render. The harness (this process) plays the merchant and
the customers: it installs the stores through the real OAuth redirects, imports a
few products per roaster, places orders on the sandbox, posts signed webhooks, and
reads the database and the sandbox to count what was created.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import secrets
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import psycopg
import requests
from cryptography.fernet import Fernet
from flask import Flask
from sqlalchemy import func, select

from powerpact import create_app
from powerpact.catalog.imports import import_product
from powerpact.catalog.pricing import MarkupRule
from powerpact.config import PROJECT_ROOT, Settings
from powerpact.demo import install
from powerpact.extensions import db
from powerpact.models import (
    DeliveryStatus,
    OrderStatus,
    OrderSync,
    OrderSyncEvent,
    PartnerStore,
    ProductMap,
    RetailStore,
    WebhookDelivery,
)
from powerpact.orders.push import source_identifier
from powerpact.reliability.processes import (
    Service,
    free_port,
    http_ok,
    migrate,
    redis_service,
    running,
    throwaway_database,
    wait_for,
)
from powerpact.sandbox.fixtures import RETAIL, ROASTERS
from powerpact.sandbox.webhooks import sign
from powerpact.shopify.install import check_subscriptions
from powerpact.shopify.session_tokens import mint_session_token

PARTNERS = tuple(r["domain"] for r in ROASTERS)
PRODUCTS_PER_PARTNER = 2
PLENTY = 1_000_000
UNSETTLED = (OrderStatus.PENDING, OrderStatus.READY_FOR_SYNC)
BUSY_SENDERS_SQL = """
    SELECT a.application_name, a.query ILIKE '%FROM order_sync_lines%' AS creating
    FROM pg_stat_activity a
    WHERE a.datname = current_database() AND a.application_name LIKE 'huey-%'
      AND a.state = 'idle in transaction'
      AND EXISTS (
        SELECT 1 FROM pg_locks l JOIN pg_class c ON c.oid = l.relation
        WHERE l.pid = a.pid AND c.relname = 'partner_stores' AND l.mode = 'RowShareLock')
"""
BIN = Path(sys.executable).parent


@dataclass
class Placed:
    """A retail order the harness placed, and the partners its lines belong to."""

    gid: str
    name: str
    partners: frozenset[str]


@dataclass
class World:
    env: dict[str, str]
    app: Flask
    logs: Path
    sandbox: Service
    redis: Service
    web: Service
    workers: list[Service]
    skus: dict[str, list[str]] = field(default_factory=dict)
    http: requests.Session = field(default_factory=requests.Session)
    _watch: psycopg.Connection[Any] | None = None

    @property
    def app_url(self) -> str:
        return self.env["APP_URL"]

    @property
    def sandbox_url(self) -> str:
        return self.env["SHOPIFY_ADMIN_ORIGIN"].removesuffix("/shops/{shop}")

    # -- the sandbox -------------------------------------------------------------------
    def control(self, method: str, path: str, payload: Any = None) -> Any:
        response = self.http.request(
            method, f"{self.sandbox_url}/_sandbox{path}", json=payload, timeout=60
        )
        response.raise_for_status()
        return response.json()

    def hold_sandbox_webhooks(self, hold: bool) -> None:
        """Hold the sandbox's own deliveries (never flushed) while the harness posts its own."""
        self.control("POST", "/webhooks", {"shuffle": hold, "duplicates": False})

    def place_order(self, lines: list[dict[str, Any]]) -> Placed:
        order = self.control(
            "POST",
            f"/shops/{RETAIL}/orders",
            {"lines": lines, "shipping": "7.50", "tax_rate": "0.08"},
        )
        partners = frozenset(partner_of_sku(line["sku"]) for line in lines)
        return Placed(order["id"], order["name"], partners)

    def random_lines(self, rng: random.Random, partners: Sequence[str] = PARTNERS) -> list[dict]:
        chosen = rng.sample(list(partners), rng.randint(1, min(2, len(partners))))
        return [{"sku": rng.choice(self.skus[p]), "quantity": rng.randint(1, 3)} for p in chosen]

    def place_orders(
        self, count: int, rng: random.Random, partners: Sequence[str] = PARTNERS
    ) -> list[Placed]:
        return [self.place_order(self.random_lines(rng, partners)) for _ in range(count)]

    def partner_order_counts(self, partners: Sequence[str] = PARTNERS) -> Counter[str]:
        """How many partner orders carry each source identifier, on the partners' stores."""
        counts: Counter[str] = Counter()
        for partner in partners:
            for order in self.control("GET", f"/shops/{partner}")["orders"]:
                counts[order["source_identifier"] or ""] += 1
        return counts

    def set_faults(self, shop: str, **faults: float) -> None:
        self.control("POST", f"/shops/{shop}/faults", faults)

    # -- webhooks the harness signs itself ---------------------------------------------
    def post_webhook(self, delivery: dict[str, str]) -> int:
        """POST one order webhook as Shopify would; 0 when the app did not answer."""
        body = delivery["body"].encode()
        headers = {
            "Content-Type": "application/json",
            "X-Shopify-Topic": delivery["topic"],
            "X-Shopify-Hmac-Sha256": sign(self.env["SHOPIFY_API_SECRET"], body),
            "X-Shopify-Shop-Domain": RETAIL,
            "X-Shopify-Webhook-Id": delivery["webhook_id"],
            "X-Shopify-Event-Id": delivery["event_id"],
            "X-Shopify-Triggered-At": delivery["triggered_at"],
            "X-Shopify-API-Version": self.env["SHOPIFY_API_VERSION"],
        }
        try:
            return requests.post(
                f"{self.app_url}/webhooks", data=body, headers=headers, timeout=10
            ).status_code
        except requests.RequestException:
            return 0

    def post_webhooks(self, deliveries: Sequence[dict[str, str]], threads: int = 8) -> list[int]:
        with ThreadPoolExecutor(max_workers=threads) as pool:
            return list(pool.map(self.post_webhook, deliveries))

    # -- the merchant ------------------------------------------------------------------
    def install(self, shop: str) -> None:
        """Install through the real redirects, then wait for the webhook subscriptions."""
        install(self.app_url, shop)
        if not wait_for(lambda: bool(self.control("GET", f"/shops/{shop}")["subscriptions"]), 60):
            raise RuntimeError(f"{shop}: no webhook subscriptions after install")

    def admin_retry(self, order_ids: Sequence[int]) -> str:
        """Press *Retry* in the order desk's bulk bar, with an App Bridge session token."""
        token = mint_session_token(
            RETAIL, api_key=self.env["SHOPIFY_API_KEY"], secret=self.env["SHOPIFY_API_SECRET"]
        )
        response = requests.post(
            f"{self.app_url}/admin/orders/retry",
            data={"order_id": [str(i) for i in order_ids]},
            headers={"Authorization": f"Bearer {token}", "HX-Request": "true"},
            timeout=60,
        )
        response.raise_for_status()
        return response.text

    def import_products(self, partner: str) -> None:
        """Import a few products with plenty of stock, so no order fails for inventory."""
        shop = self.control("GET", f"/shops/{partner}")
        products = [p for p in shop["products"] if p["status"] == "ACTIVE"][:PRODUCTS_PER_PARTNER]
        for product in products:
            for variant in product["variants"]:
                self.control(
                    "POST",
                    f"/shops/{partner}/stock",
                    {"variant_id": variant["id"], "available": PLENTY, "notify": False},
                )
        with self.app.app_context():
            partner_row = db.session.scalars(
                select(PartnerStore).where(PartnerStore.shop_domain == partner)
            ).one()
            retail = db.session.scalars(select(RetailStore)).one()
            for product in products:
                import_product(partner_row, retail, product["id"], MarkupRule())
                db.session.commit()
            self.skus[partner] = list(
                db.session.scalars(
                    select(ProductMap.bubbly_sku).where(ProductMap.partner_shop_domain == partner)
                )
            )
            db.session.remove()

    # -- the workers -------------------------------------------------------------------
    def ensure_workers(self) -> None:
        for worker in self.workers:
            if not worker.running:
                worker.start()

    # -- what the database says --------------------------------------------------------
    def syncs_of(self, orders: Sequence[Placed]) -> list[OrderSync]:
        with self.app.app_context():
            rows = list(
                db.session.scalars(
                    select(OrderSync).where(OrderSync.bubbly_order_id.in_([o.gid for o in orders]))
                )
            )
            db.session.expunge_all()
            db.session.remove()
        return rows

    def unprocessed_deliveries(self) -> int:
        with self.app.app_context():
            count = db.session.scalar(
                select(func.count())
                .select_from(WebhookDelivery)
                .where(WebhookDelivery.status == DeliveryStatus.RECEIVED)
            )
            db.session.remove()
        return int(count or 0)

    def delivery_statuses(self, webhook_ids: Sequence[str]) -> dict[str, int]:
        with self.app.app_context():
            rows = db.session.execute(
                select(WebhookDelivery.status, func.count())
                .where(WebhookDelivery.webhook_id.in_(list(webhook_ids)))
                .group_by(WebhookDelivery.status)
            ).all()
            db.session.remove()
        return {status.value: count for status, count in rows}

    def busy_senders(self) -> dict[str, bool]:
        """Consumers inside a send now (holding a partner's row lock while Shopify answers).

        Each consumer connects under its own ``PGAPPNAME``. The value says whether the
        send is creating: its last query read the order's lines, which it does just
        before ``orderCreate``, so the create is in flight. Asked on a connection of its
        own, in autocommit, to be quick enough to catch a create in the act.
        """
        if self._watch is None:
            url = self.env["DATABASE_URL"].replace("postgresql+psycopg://", "postgresql://")
            self._watch = psycopg.connect(url, autocommit=True)
        rows = self._watch.execute(BUSY_SENDERS_SQL).fetchall()
        return {name: bool(creating) for name, creating in rows}

    def subscriptions(self, shop: str) -> set[str]:
        return {s["topic"] for s in self.control("GET", f"/shops/{shop}")["subscriptions"]}

    def webhook_summary(self) -> dict[str, int]:
        """The sandbox's deliveries so far: delivered, given up after every retry, trying."""
        return self.control("GET", "/webhooks/summary")

    def check_subscriptions(self) -> dict[str, dict[str, list[str]]]:
        """What the worker's hourly subscription check does, run now."""
        with self.app.app_context():
            report = check_subscriptions()
            db.session.remove()
        return report

    def close(self) -> None:
        self.http.close()
        if self._watch is not None:
            self._watch.close()

    def sends_recovered(self, orders: Sequence[Placed]) -> int:
        """Partner orders found on the partner's store by their source identifier.

        Each is an order Shopify created while the sender died before recording it:
        the next attempt found it instead of creating another.
        """
        with self.app.app_context():
            count = db.session.scalar(
                select(func.count())
                .select_from(OrderSyncEvent)
                .join(OrderSync, OrderSync.id == OrderSyncEvent.order_sync_id)
                .where(
                    OrderSync.bubbly_order_id.in_([o.gid for o in orders]),
                    OrderSyncEvent.kind == "sent",
                    OrderSyncEvent.message.startswith("Found the already created"),
                )
            )
            db.session.remove()
        return int(count or 0)

    def delivery_attempts_since(self, since: datetime) -> dict[str, int]:
        """How many tries the deliveries received since ``since`` took (1 = first time)."""
        with self.app.app_context():
            rows = db.session.execute(
                select(WebhookDelivery.attempts, func.count())
                .where(WebhookDelivery.received_at >= since)
                .group_by(WebhookDelivery.attempts)
            ).all()
            db.session.remove()
        return {str(attempts): count for attempts, count in sorted(rows)}

    def settled(self, orders: Sequence[Placed], partners: Sequence[str] = PARTNERS) -> bool:
        """Every expected (order, partner) has its OrderSync, and none is still on its way."""
        expected = sum(len(o.partners & set(partners)) for o in orders)
        rows = [s for s in self.syncs_of(orders) if s.partner_shop_domain in partners]
        return len(rows) >= expected and not any(s.status in UNSETTLED for s in rows)

    def wait_settled(
        self, orders: Sequence[Placed], timeout: float, partners: Sequence[str] = PARTNERS
    ) -> bool:
        return wait_for(lambda: self.settled(orders, partners), timeout, interval=2)

    def audit(self, orders: Sequence[Placed], partners: Sequence[str] = PARTNERS) -> dict[str, Any]:
        """Count, against the partners' stores, what each placed order should have made."""
        rows = {(s.bubbly_order_id, s.partner_shop_domain): s for s in self.syncs_of(orders)}
        counts = self.partner_order_counts(partners)
        expected = [(o.gid, p) for o in orders for p in sorted(o.partners) if p in partners]
        created = duplicates = lost = 0
        statuses: Counter[str] = Counter()
        reasons: Counter[str] = Counter()
        retries: Counter[int] = Counter()
        for key in expected:
            sync = rows.get(key)
            made = counts[source_identifier(sync)] if sync is not None else 0
            created += min(made, 1)
            duplicates += max(made - 1, 0)
            lost += made == 0
            if sync is not None:
                statuses[sync.status.value] += 1
                retries[sync.retry_count] += 1
                if sync.last_order_failure_reason is not None:
                    reasons[sync.last_order_failure_reason.value] += 1
        return {
            "partner_orders_expected": len(expected),
            "created": created,
            "duplicates": duplicates,
            "lost": lost,
            "order_sync_statuses": dict(statuses),
            "failure_reasons": dict(reasons),
            "attempts_per_order": {str(k): v for k, v in sorted(retries.items())},
        }


def partner_of_sku(sku: str) -> str:
    """``PARTNER-north-star-roasters-NSR-001-...`` belongs to north-star-roasters."""
    for partner in PARTNERS:
        if sku.startswith(f"PARTNER-{partner.removesuffix('.myshopify.com')}-"):
            return partner
    raise ValueError(f"{sku} is not an imported partner SKU")


def order_webhook(order: Placed, topic: str = "orders/paid") -> dict[str, str]:
    """A new webhook event for ``order``: the payload only names it (the app pulls the rest)."""
    number = order.gid.rsplit("/", 1)[-1]
    body = {"id": int(number), "admin_graphql_api_id": order.gid, "name": order.name}
    return {
        "topic": topic,
        "body": json.dumps(body),
        "webhook_id": str(uuid.uuid4()),
        "event_id": str(uuid.uuid4()),
        "triggered_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }


# Shopify's webhook retries (8 over 4 hours) compressed 1,000 times: 4 hours are 14.4 s.
WEBHOOK_TIME_SCALE = 0.001


def world_environment(database_url: str, folder: Path, ports: dict[str, int]) -> dict[str, str]:
    """The processes' environment. ``PYTHONPATH`` puts this checkout first: the Huey
    consumer imports ``powerpact`` from wherever the package is installed otherwise
    (a git worktree would run the main checkout's workers)."""
    env = {k: v for k, v in os.environ.items() if k not in ("POWERPACT_ENV", "FLASK_APP")}
    env.update(
        {
            "PYTHONPATH": os.pathsep.join(filter(None, [str(PROJECT_ROOT), env.get("PYTHONPATH")])),
            "DATABASE_URL": database_url,
            "REDIS_URL": f"redis://127.0.0.1:{ports['redis']}/0",
            "SECRET_KEY": secrets.token_urlsafe(32),
            "SHOPIFY_API_KEY": "powerpact-reliability",
            "SHOPIFY_API_SECRET": secrets.token_urlsafe(32),
            "SHOPIFY_API_VERSION": "2026-07",
            "TOKEN_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
            "APP_URL": f"http://127.0.0.1:{ports['web']}",
            "SHOPIFY_ADMIN_ORIGIN": f"http://127.0.0.1:{ports['sandbox']}/shops/{{shop}}",
            "RETAIL_SHOP": RETAIL,
            "POWERPACT_INSTANCE_DIR": str(folder),
            "DELIVERY_SWEEP_AFTER_SECONDS": "20",
            "RECONCILE_EVERY_MINUTES": "1",
            "PYTHONUNBUFFERED": "1",
        }
    )
    return env


def services(env: dict[str, str], logs: Path, ports: dict[str, int], workers: int) -> dict:
    flask = [str(BIN / "flask"), "--app", "wsgi"]
    sandbox = Service(
        "sandbox",
        [
            *flask,
            "sandbox",
            "--port",
            str(ports["sandbox"]),
            "--fixture",
            "demo",
            "--webhook-time-scale",
            str(WEBHOOK_TIME_SCALE),
        ],
        env,
        logs / "sandbox.log",
        ready=lambda: http_ok(f"http://127.0.0.1:{ports['sandbox']}/_sandbox/shops"),
    )
    web = Service(
        "gunicorn",
        [
            str(BIN / "gunicorn"),
            "wsgi:app",
            "--bind",
            f"127.0.0.1:{ports['web']}",
            "--workers",
            "2",
            "--threads",
            "4",
            "--graceful-timeout",
            "5",
        ],
        env,
        logs / "web.log",
        ready=lambda: http_ok(f"http://127.0.0.1:{ports['web']}/healthz"),
    )
    consumers = [
        Service(
            f"huey-{n}",
            [
                str(BIN / "huey_consumer"),
                "powerpact.tasks.huey",
                "--workers",
                "3",
                "--worker-type",
                "thread",
            ],
            {**env, "PGAPPNAME": f"huey-{n}"},
            logs / f"worker-{n}.log",
        )
        for n in range(workers)
    ]
    return {"sandbox": sandbox, "web": web, "workers": consumers}


def stop_each(services: list[Service]) -> None:
    for service in services:
        service.stop()


@contextlib.contextmanager
def reliability_world(workers: int = 2, keep_logs: Path | None = None) -> Iterator[World]:
    """Start everything, install the four stores, import products; stop it all afterwards."""
    with contextlib.ExitStack() as stack:
        folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="pp-reliability-")))
        logs = keep_logs or folder / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        database_url = stack.enter_context(throwaway_database())
        ports = {name: free_port() for name in ("sandbox", "web", "redis")}
        env = world_environment(database_url, folder, ports)
        migrate(env, logs / "migrate.log")
        redis = redis_service(ports["redis"], logs)
        procs = services(env, logs, ports, workers)
        stack.enter_context(running([redis, procs["sandbox"], procs["web"], *procs["workers"]]))
        app = create_app(settings=Settings.from_env(env))
        stack.callback(lambda: _dispose(app))
        world = World(env, app, logs, procs["sandbox"], redis, procs["web"], procs["workers"])
        stack.callback(stop_each, world.workers)
        stack.callback(world.close)
        for shop in (RETAIL, *PARTNERS):
            world.install(shop)
        for partner in PARTNERS:
            world.import_products(partner)
        yield world


def _dispose(app: Flask) -> None:
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
