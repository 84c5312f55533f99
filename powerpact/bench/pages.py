"""``bench pages``: the partner table and the admin desk over a million OrderSync rows."""

from __future__ import annotations

import json
import statistics
import time

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import select, text

from powerpact.bench.harness import RETAIL, bench_world
from powerpact.extensions import db
from powerpact.models import PartnerStore
from powerpact.orders.listing import Filters, filtered
from powerpact.shopify.session_tokens import mint_session_token

SEED = """
INSERT INTO partner_stores (shop_domain, name, access_token, scopes, status,
    reauthorization_required,
    currency_code, timezone, cadence, cutoff_weekday, cutoff_time, cutoff_timezone, ship_to,
    auto_import_on_install, inventory_behaviour, created_at, updated_at)
SELECT 'bench-partner-' || lpad(p::text, 3, '0') || '.myshopify.com', 'Bench Partner ' || p,
    NULL, '',
    'active', false, 'USD', 'UTC', 'immediate', 0, '17:00', 'UTC', 'customer', false,
    'DECREMENT_OBEYING_POLICY', now(), now()
FROM generate_series(0, :partners - 1) AS p;

INSERT INTO order_syncs (bubbly_order_id, bubbly_order_name, partner_shop_domain, status,
    retry_count,
    needs_attention, currency, subtotal, discount_total, shipping_share, tax_share, total,
    ship_to_city, ship_to_country, created_at, updated_at)
SELECT 'gid://shopify/Order/' || n, '#' || (100000 + n),
    'bench-partner-' || lpad((n % :partners)::text, 3, '0') || '.myshopify.com',
    (ARRAY['synced','fulfilled','synced','failed','pending','ready_for_sync'])[1 + n % 6],
    0, false, 'USD', 24, 0, 5, 2.4, 31.4, 'Portland', 'US',
    now() - (n % 2592000) * interval '1 second', now()
FROM generate_series(1, :orders) AS n;

INSERT INTO order_sync_lines (order_sync_id, bubbly_line_item_id, title, quantity,
    fulfilled_quantity,
    partner_unit_price, discount, tax)
SELECT id, 'gid://shopify/LineItem/' || id, 'House Blend 250g', 2, 0, 12, 0, 1.2 FROM order_syncs;
ANALYZE;
"""


def timed(fn, repeat: int) -> list[float]:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append((time.perf_counter() - started) * 1000)
    return times


def summary(times: list[float]) -> dict[str, float]:
    ordered = sorted(times)
    return {
        "median_ms": round(statistics.median(ordered), 2),
        "p95_ms": round(ordered[int(0.95 * (len(ordered) - 1))], 2),
    }


@click.command("pages")
@click.option("--orders", default=1_000_000, show_default=True, type=int)
@click.option("--partners", default=100, show_default=True, type=int)
@click.option("--repeat", default=30, show_default=True, type=int)
@with_appcontext
def pages_command(orders: int, partners: int, repeat: int) -> None:
    """Seed OrderSync rows in PostgreSQL and time both order pages against their bare SQL."""
    with bench_world() as world:
        if db.engine.dialect.name != "postgresql":
            raise click.ClickException(
                "bench pages needs PostgreSQL (it seeds with generate_series)"
            )
        started = time.perf_counter()
        for statement in SEED.split(";"):
            if statement.strip():
                db.session.execute(text(statement), {"partners": partners, "orders": orders})
        db.session.commit()
        seeded = time.perf_counter() - started
        world.install(RETAIL, "Bench Retail", retail=True)
        partner = "bench-partner-007.myshopify.com"
        row = db.session.scalars(
            select(PartnerStore).where(PartnerStore.shop_domain == partner)
        ).one()
        row.access_token = "shpat_bench_only"  # noqa: S105 (a throwaway benchmark shop)
        db.session.commit()
        settings = current_app.config["POWERPACT"]
        client = world.app.test_client()

        def page(url: str, shop: str) -> None:
            token = mint_session_token(
                shop, api_key=settings.shopify_api_key, secret=settings.shopify_api_secret
            )
            response = client.get(url, headers={"Authorization": f"Bearer {token}"})
            assert response.status_code == 200, response.status_code

        def bare(partner_domain: str | None) -> None:
            statement = filtered(Filters(), partner_domain).limit(25)
            db.session.execute(statement).all()

        results = {
            "partner_table": summary(timed(lambda: page("/partner/orders", partner), repeat)),
            "partner_table_sql": summary(timed(lambda: bare(partner), repeat)),
            "admin_desk": summary(timed(lambda: page("/admin/orders", RETAIL), repeat)),
            "admin_desk_sql": summary(timed(lambda: bare(None), repeat)),
        }
        click.echo(
            json.dumps(
                {
                    "benchmark": "pages",
                    "orders": orders,
                    "partners": partners,
                    "seed_seconds": round(seeded, 1),
                    **results,
                },
                indent=2,
            )
        )
