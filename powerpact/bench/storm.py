"""``bench storm``: partner sales fire ``products/update``; count the ``productSet`` calls out.

Shopify sends ``products/update`` whenever a product is "updated, ordered, or
variants are added, removed or updated" (the schema's ``PRODUCTS_UPDATE``), so a
partner's sales are a storm of them. One partner's products are imported onto the
retail store, the partner is subscribed to ``products/update`` at the app, then
customers buy its products (each sale fires one ``products/update`` per product).
Every delivery goes through the real intake (HMAC, stored delivery) and is
processed in the same request, as Huey's immediate mode runs tasks. Then the
partner changes the price of ``--changes`` products. The retail store's call log
counts the ``productSet`` calls of each phase: 0 for sales, 1 per real change.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections import Counter
from collections.abc import Iterator
from typing import Any

import click
from flask import Flask
from flask.cli import with_appcontext
from sqlalchemy import select

from powerpact.bench.harness import RETAIL, World, bench_world
from powerpact.catalog.imports import create_import_job, run_import_job
from powerpact.catalog.pricing import MarkupRule
from powerpact.extensions import db
from powerpact.models import PartnerStore, RunStatus, WebhookDelivery
from powerpact.queue import huey
from powerpact.sandbox import place_order
from powerpact.sandbox.store import Shop, Subscription

PARTNER = "bench-storm-partner.myshopify.com"
PRODUCTS = 5
SIZES = ("250g", "500g", "1kg")


@contextlib.contextmanager
def tasks_run_inline() -> Iterator[None]:
    """Huey's immediate mode for the block: each stored delivery is processed at once."""
    previous = huey.immediate
    huey.immediate = True
    try:
        yield
    finally:
        huey.immediate = previous


def deliver_to(app: Flask) -> Any:
    """A sandbox webhook transport that posts to the app's ``/webhooks`` in this process."""

    def deliver(url: str, headers: dict[str, str], body: bytes) -> int:
        with app.app_context():
            status = app.test_client().post("/webhooks", data=body, headers=headers).status_code
            db.session.remove()
        return status

    return deliver


def partner_with_products(world: World) -> tuple[Shop, PartnerStore]:
    shop, row = world.install(PARTNER, "Bench Storm Roasters")
    for n in range(PRODUCTS):
        world.sandbox.add_product(
            shop,
            {
                "title": f"Storm Roast {n}",
                "options": ["Size"],
                "variants": [
                    {
                        "options": [size],
                        "sku": f"STORM-{n}-{size}",
                        "price": f"{12 + i}.00",
                        "stock": 1_000_000,
                    }
                    for i, size in enumerate(SIZES)
                ],
            },
        )
    db.session.commit()
    return shop, row


def product_sets(world: World) -> int:
    return sum(1 for c in world.sandbox.calls.get(RETAIL, []) if c.operation == "ProductSet")


def settle(world: World) -> None:
    if not world.sandbox.webhooks.drain(600):
        raise click.ClickException("the webhooks were not all delivered within 10 minutes")


def products_updates(world: World) -> list[Any]:
    return [d for d in world.sandbox.webhooks.log if d.topic == "products/update"]


@click.command("storm")
@click.option("--sales", default=1000, show_default=True, type=click.IntRange(0))
@click.option(
    "--changes",
    default=1,
    show_default=True,
    type=click.IntRange(0, PRODUCTS),
    help="Products whose price the partner then changes.",
)
@with_appcontext
def storm_command(sales: int, changes: int) -> None:
    """Partner sales in, productSet calls out: 0 for the sales, 1 per real change."""
    with bench_world() as world, tasks_run_inline():
        world.install(RETAIL, "Bench Retail", retail=True)
        partner_shop, partner = partner_with_products(world)
        job = run_import_job(
            create_import_job(partner, list(partner_shop.products), MarkupRule()).id
        )
        if job.status != RunStatus.SUCCEEDED:
            raise click.ClickException(f"the import {job.status.value}")
        world.sandbox.webhooks.transport = deliver_to(world.app)
        partner_shop.subscriptions["bench"] = Subscription(
            "bench", "PRODUCTS_UPDATE", f"{world.app.config['POWERPACT'].app_url}/webhooks"
        )
        world.sandbox.calls[RETAIL].clear()
        world.sandbox.calls[PARTNER].clear()

        variants = [v for p in partner_shop.products.values() for v in p.variants]
        started = time.perf_counter()
        for n in range(sales):
            variant = variants[n % len(variants)]
            place_order(world.sandbox, partner_shop, {"lines": [{"sku": variant.sku}]})
        settle(world)
        sales_seconds = time.perf_counter() - started
        sale_webhooks = len(products_updates(world))
        sets_for_sales = product_sets(world)
        reads_for_sales = len(world.sandbox.calls[PARTNER])

        for product in list(partner_shop.products.values())[:changes]:
            world.sandbox.update_product(partner_shop, product, {"price": "30.00"})
        settle(world)
        outcomes = Counter(
            (d.result or {}).get("outcome", d.status.value)
            for d in db.session.scalars(select(WebhookDelivery))
        )
        click.echo(
            json.dumps(
                {
                    "benchmark": "storm",
                    "sales": sales,
                    "products_update_webhooks": sale_webhooks,
                    "productset_calls_for_sales": sets_for_sales,
                    "partner_reads_for_sales": reads_for_sales,
                    "price_changes": changes,
                    "productset_calls_for_changes": product_sets(world) - sets_for_sales,
                    "outcomes": dict(sorted(outcomes.items())),
                    "sales_webhooks_seconds": round(sales_seconds, 3),
                },
                indent=2,
            )
        )
