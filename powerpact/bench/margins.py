"""``bench margins``: the margins page over a million OrderSyncs, against its own SQL.

The page's p95 should stay under three times the p95 of the queries it runs
(``margins.figures``: the partners' names, the period's lines grouped, the credited
orders' lines): what the page adds to its SQL (the folding, the chart, the table) must
stay small whatever the number of orders.

``seed_margin_orders`` and ``time_margin_page`` are the parts another benchmark can
call (``bench statements`` times the margin page beside each partner's statement):
seed once, then time the page on whatever the database holds.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

import click
from flask import Flask
from flask.cli import with_appcontext
from sqlalchemy import select, text

from powerpact.bench.harness import RETAIL, bench_world
from powerpact.bench.pages import PARTNERS, summary
from powerpact.extensions import db
from powerpact.margins.figures import (
    Level,
    credited_lines_query,
    grouped_lines_query,
    margin_report,
    period_of,
)
from powerpact.models import PartnerStore
from powerpact.money import round_money
from powerpact.shopify.session_tokens import mint_session_token

# Partners, then orders spread evenly over ``days`` (a tenth of them pending or cancelled, which
# the margins leave out), one or two lines each of a partner's ten variants (five
# products), one line in a hundred without a known retail price, one order in five with a
# 10% discount, and a refund of one unit for one sent order in twenty.
SEED = (
    PARTNERS
    + """;

INSERT INTO order_syncs (bubbly_order_id, bubbly_order_name, partner_shop_domain, status,
    retry_count, needs_attention, currency, subtotal, discount_total, shipping_share,
    tax_share, total, created_at, updated_at)
SELECT 'gid://shopify/Order/' || n, '#' || (100000 + n),
    'bench-partner-' || lpad((n % :partners)::text, 3, '0') || '.myshopify.com',
    (ARRAY['synced','fulfilled','synced','fulfilled','ready_for_sync','synced','fulfilled',
           'failed','pending','cancelled'])[1 + (n / :partners) % 10],
    0, false, 'USD', 24, 0, 5, 2.4, 31.4,
    now() - (n::bigint * :days * 86400 / :orders) * interval '1 second', now()
FROM generate_series(1, :orders) AS n;

INSERT INTO order_sync_lines (order_sync_id, bubbly_line_item_id, bubbly_variant_id, title,
    product_title, quantity, fulfilled_quantity, partner_unit_price, discount, tax,
    retail_unit_price, retail_discount, retail_price_source)
SELECT o.id, 'gid://shopify/LineItem/' || o.id || '-' || k,
    'gid://shopify/ProductVariant/' || o.partner_shop_domain || '-' || v.variant,
    'Blend ' || v.variant / 2 || ' - ' || (ARRAY['250g', '1kg'])[1 + v.variant % 2],
    'Blend ' || v.variant / 2,
    v.quantity, 0, v.cost, round(v.cost * v.quantity * v.off, 2), 0,
    CASE WHEN o.id % 100 = 0 THEN NULL ELSE v.price END,
    CASE WHEN o.id % 100 = 0 THEN NULL ELSE round(v.price * v.quantity * v.off, 2) END,
    CASE WHEN o.id % 100 = 0 THEN 'unknown' ELSE 'order' END
FROM order_syncs AS o
CROSS JOIN LATERAL generate_series(1, CASE WHEN o.id % 3 = 0 THEN 2 ELSE 1 END) AS k
CROSS JOIN LATERAL (
    SELECT (o.id / :partners + k) % 10 AS variant, 1 + o.id % 3 AS quantity,
        8 + (o.id / :partners + k) % 10 AS cost,
        round((8 + (o.id / :partners + k) % 10) * 1.4, 2) AS price,
        CASE WHEN o.id % 5 = 0 THEN 0.1 ELSE 0 END AS off
) AS v;

INSERT INTO partner_credits (order_sync_id, partner_shop_domain, kind, source_key,
    occurred_at, recorded_at, currency, lines, shipping, tax, total, applied_at_partner)
SELECT o.id, o.partner_shop_domain, 'refund', 'bench:' || o.id,
    o.created_at + interval '2 days', now(), 'USD', l.partner_unit_price, 0, 0,
    l.partner_unit_price, false
FROM order_syncs AS o
JOIN order_sync_lines AS l ON l.order_sync_id = o.id AND l.bubbly_line_item_id LIKE '%-1'
WHERE o.id % 20 = 0 AND o.status IN ('synced', 'fulfilled');
ANALYZE;
"""
)


def timed(fn: Callable[[], object], repeat: int) -> list[float]:
    """Milliseconds each of ``repeat`` calls of ``fn`` took."""
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append((time.perf_counter() - started) * 1000)
    return times


def seed_margin_orders(partners: int, orders: int, *, days: int = 90) -> float:
    """Seed the partners, their orders, lines and refunds (PostgreSQL); return the seconds."""
    if db.engine.dialect.name != "postgresql":
        raise click.ClickException("bench margins needs PostgreSQL (it seeds with generate_series)")
    started = time.perf_counter()
    for statement in SEED.split(";"):
        if statement.strip():
            db.session.execute(
                text(statement), {"partners": partners, "orders": orders, "days": days}
            )
    db.session.commit()
    return time.perf_counter() - started


def time_margin_page(
    app: Flask, repeat: int, *, days: int = 30, retail_shop: str = RETAIL
) -> dict[str, Any]:
    """Time ``/admin/margins`` (the whole request, as the retail admin) and its own SQL over
    what the database holds; the figures, and whether the page's p95 is under 3x its SQL's."""
    settings = app.config["POWERPACT"]
    client = app.test_client()
    url = f"/admin/margins?days={days}"

    def page() -> None:
        token = mint_session_token(
            retail_shop, api_key=settings.shopify_api_key, secret=settings.shopify_api_secret
        )
        response = client.get(url, headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 200, response.status_code

    def sql() -> None:
        period = period_of(days, ZoneInfo("UTC"))
        db.session.execute(select(PartnerStore.shop_domain, PartnerStore.name)).all()
        db.session.execute(grouped_lines_query(period)).all()
        db.session.execute(credited_lines_query(period)).all()
        db.session.rollback()

    page()  # the first request builds what every later one reuses (templates, the chart)
    page_times = summary(timed(page, repeat))
    sql_times = summary(timed(sql, repeat))
    report = margin_report(days, ZoneInfo("UTC"))
    totals = report.totals().get("USD")
    db.session.rollback()
    ratio = page_times["p95_ms"] / sql_times["p95_ms"] if sql_times["p95_ms"] else None
    return {
        "days": days,
        "page": page_times,
        "sql": sql_times,
        "p95_ratio": round(ratio, 2) if ratio is not None else None,
        "under_3x": ratio is not None and ratio < 3,
        "partner_rows": len(report.rows(Level.PARTNER)),
        "variant_rows": len(report.rows(Level.VARIANT)),
        "units": totals.units if totals else 0,
        "gross_margin": str(round_money(totals.margin, "USD")) if totals else "0",
    }


@click.command("margins")
@click.option("--orders", default=1_000_000, show_default=True, type=int)
@click.option("--partners", default=100, show_default=True, type=int)
@click.option("--repeat", default=20, show_default=True, type=int)
@with_appcontext
def margins_command(orders: int, partners: int, repeat: int) -> None:
    """Seed OrderSyncs over 90 days in PostgreSQL and time the margins page (30 and 90 days)
    against its own SQL."""
    with bench_world() as world:
        seeded = seed_margin_orders(partners, orders)
        world.install(RETAIL, "Bench Retail", retail=True)
        db.session.commit()
        results = {
            f"margins_{days}_days": time_margin_page(world.app, repeat, days=days)
            for days in (30, 90)
        }
        click.echo(
            json.dumps(
                {
                    "benchmark": "margins",
                    "orders": orders,
                    "partners": partners,
                    "repeat": repeat,
                    "seed_seconds": round(seeded, 1),
                    **results,
                },
                indent=2,
            )
        )
