"""``bench statements``: a month's statement of every partner over a million OrderSyncs.

The seed (PostgreSQL, ``generate_series``) gives ``--partners`` partners ``--orders``
OrderSyncs: nine in ten sent within the measured month (the last one closed in the retail
store's zone, New York) or, with ``--months``, over that many months ending with it; one in
ten failed and never sent. One sent order in 33 has a refund three days later (some land
in the next month), one in 50 was cancelled an hour after it was sent, and every second
partner has a partial payment against the month.

The clock runs as in a production worker: what the process built before measuring is
frozen out of the garbage collector's way (``gc.freeze``, as ``gunicorn.conf.py`` does before
forking a worker), so a collection walks only what the measured work made.

Each part times one page's work against its own SQL and prints its figures under its own
key: ``statements`` builds every partner's statement ``--repeat`` times, each run next to a
run of the statement's three queries alone (``ledger.statement_queries``: executed and every
row fetched, nothing built; on the psycopg connection, and through SQLAlchemy for the
record), and holds the p95 of the builds to ``BUDGET`` times the p95 of that SQL;
``statement_pages`` times the pages themselves (the admin's statements of the month, the
largest statement, its CSV), for the record. A part is a function of the seeded
world: another page over the same rows (the margins) is one more entry in ``PARTS``.
"""

from __future__ import annotations

import gc
import json
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import select, text

from powerpact.bench.harness import RETAIL, World, bench_world
from powerpact.bench.pages import PARTNERS
from powerpact.db_types import utcnow
from powerpact.extensions import db
from powerpact.models import PartnerStore
from powerpact.shopify.session_tokens import mint_session_token
from powerpact.statements.ledger import (
    Partner,
    RetailTerms,
    build_statement,
    partner_of,
    retail_terms,
    statement_parameters,
    statement_queries,
)
from powerpact.statements.periods import Period, current_month

BUDGET = 3.0  # a statement within three times its SQL, at the p95
ZONE = "America/New_York"
SEED = """

INSERT INTO order_syncs (bubbly_order_id, bubbly_order_name, partner_shop_domain,
    partner_order_id, partner_order_name, status, retry_count, needs_attention, currency,
    subtotal, discount_total, shipping_share, tax_share, total, ship_to_city,
    ship_to_country, created_at, updated_at, sent_at)
SELECT 'gid://shopify/Order/' || n, '#' || (100000 + n),
    'bench-partner-' || lpad((n % :partners)::text, 3, '0') || '.myshopify.com',
    CASE WHEN k % 10 = 0 THEN NULL ELSE 'gid://shopify/Order/' || (50000000 + n) END,
    CASE WHEN k % 10 = 0 THEN NULL ELSE '#P' || n END,
    CASE WHEN k % 10 = 0 THEN 'failed' WHEN k % 50 = 1 THEN 'cancelled'
         WHEN k % 3 = 0 THEN 'fulfilled' ELSE 'synced' END,
    0, false, 'USD', 24 + k % 7, CASE WHEN k % 5 = 2 THEN 2.4 ELSE 0 END, 5, 2.4,
    24 + k % 7 - CASE WHEN k % 5 = 2 THEN 2.4 ELSE 0 END + 5 + 2.4, 'Portland', 'US',
    at - interval '1 hour', at, CASE WHEN k % 10 = 0 THEN NULL ELSE at END
FROM (
    -- k: the order's number among its partner's, so every partner gets the same mix
    SELECT n, n / :partners AS k,
        CAST(:end AS timestamptz) - (1 + (n::bigint * 7919) % :span) * interval '1 second' AS at
    FROM generate_series(1, :orders) AS n
) AS seeded;

INSERT INTO order_sync_lines (order_sync_id, bubbly_line_item_id, title, quantity,
    fulfilled_quantity, partner_unit_price, discount, tax)
SELECT id, 'gid://shopify/LineItem/' || id, 'House Blend 250g', 2, 0, 12, 0, 2.4
FROM order_syncs;

INSERT INTO partner_credits (order_sync_id, partner_shop_domain, kind, source_key,
    occurred_at, recorded_at, currency, lines, shipping, tax, total, applied_at_partner, note)
SELECT id, partner_shop_domain, 'refund', 'refund:' || id, sent_at + interval '3 days',
    sent_at + interval '3 days', 'USD', 2.4, 0, 0, 2.4, false, '1 x House Blend refunded'
FROM order_syncs WHERE sent_at IS NOT NULL AND id % 33 = 7 AND status <> 'cancelled';

INSERT INTO partner_credits (order_sync_id, partner_shop_domain, kind, source_key,
    occurred_at, recorded_at, currency, lines, shipping, tax, total, applied_at_partner, note)
SELECT id, partner_shop_domain, 'cancellation', 'cancel:' || id, sent_at + interval '1 hour',
    sent_at + interval '1 hour', 'USD', subtotal - discount_total, shipping_share, tax_share,
    total, true, 'Partner order ' || partner_order_name || ' cancelled'
FROM order_syncs WHERE status = 'cancelled';

INSERT INTO statement_payments (partner_shop_domain, period_start, period_end, paid_on, amount,
    currency, reference, recorded_by, recorded_at, confirmation_key)
SELECT shop_domain, :period_start, :period_end, :period_end, 1000, 'USD', 'BENCH-' || id,
    'bench', now(), md5(shop_domain)
FROM partner_stores WHERE id % 2 = 0;
ANALYZE;
"""


@dataclass(frozen=True)
class Seeded:
    """The world a part measures: the month, every partner, the retail store's terms."""

    world: World
    month: Period
    terms: RetailTerms
    partners: list[Partner]
    repeat: int


def timed(fn: Callable[[], object], repeat: int) -> list[float]:
    """Milliseconds of each of ``repeat`` runs of ``fn``."""
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append((time.perf_counter() - started) * 1000)
    return times


def summary(times: list[float]) -> dict[str, float]:
    ordered = sorted(times)
    return {"median_ms": round(statistics.median(ordered), 2), "p95_ms": round(p95(ordered), 2)}


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[int(0.95 * (len(ordered) - 1))]


def driver_sql(params: dict[str, Any]) -> Callable[[], None]:
    """The statement's three queries as the database driver runs them: the compiled SQL
    sent on the session's psycopg connection and every row fetched, no SQLAlchemy between."""
    dialect = db.engine.dialect
    compiled = [query.compile(dialect=dialect) for query in statement_queries()]
    driver = db.session.connection().connection.driver_connection
    cursor = driver.cursor()  # type: ignore[union-attr]  # psycopg's connection, never None here

    def run() -> None:
        for query in compiled:
            cursor.execute(query.string, query.construct_params(params))
            cursor.fetchall()

    return run


def statements_part(seeded: Seeded) -> dict[str, Any]:
    """Every partner's statement of the month, each build next to a run of its own SQL:
    the same three queries through SQLAlchemy (executed and fetched, nothing built) and
    straight on the driver. The budget holds the builds to the driver's SQL."""
    builds: list[float] = []
    through_orm: list[float] = []
    on_driver: list[float] = []
    ratios: list[float] = []
    rows: list[int] = []
    for partner in seeded.partners:
        params = statement_parameters(partner.domain, seeded.month, seeded.terms.zone)

        def build(partner: Partner = partner) -> None:
            build_statement(partner, seeded.month, seeded.terms)

        def sql(params: dict[str, Any] = params) -> None:
            for query in statement_queries():
                db.session.execute(query, params).all()

        driver = driver_sql(params)
        for warm_up in (build, sql, driver):  # compiled and cached before the clock runs
            warm_up()
        own_builds, own_driver = [], []
        for _ in range(seeded.repeat):
            own_builds += timed(build, 1)
            through_orm += timed(sql, 1)
            own_driver += timed(driver, 1)
        builds += own_builds
        on_driver += own_driver
        ratios.append(statistics.median(own_builds) / statistics.median(own_driver))
        found = build_statement(partner, seeded.month, seeded.terms)
        rows.append(len(found.orders) + len(found.credits) + len(found.payments))
        db.session.rollback()
    ratio = p95(builds) / p95(on_driver)
    return {
        "month": seeded.month.key,
        "statements": len(seeded.partners),
        "rows_per_statement": {"median": statistics.median(rows), "max": max(rows)},
        "build": summary(builds),
        "sql": summary(on_driver),
        "sql_through_sqlalchemy": summary(through_orm),
        "ratio_p95": round(ratio, 2),
        "worst_statement_ratio": round(max(ratios), 2),
        "budget": BUDGET,
        "met": ratio <= BUDGET,
    }


def statement_pages_part(seeded: Seeded) -> dict[str, Any]:
    """The pages over the same rows: the admin's statements of the month (every partner's
    sums), the largest statement's page and CSV, and its partner's own page."""
    settings = current_app.config["POWERPACT"]
    client = seeded.world.app.test_client()
    sizes = {
        partner: build_statement(partner, seeded.month, seeded.terms).figures.orders
        for partner in seeded.partners
    }
    largest = max(seeded.partners, key=sizes.__getitem__)
    row = db.session.scalars(
        select(PartnerStore).where(PartnerStore.shop_domain == largest.domain)
    ).one()
    row.access_token = "shpat_bench_only"  # noqa: S105 (a throwaway benchmark shop)
    db.session.commit()

    def page(url: str, shop: str) -> dict[str, float]:
        token = mint_session_token(
            shop, api_key=settings.shopify_api_key, secret=settings.shopify_api_secret
        )

        def get() -> None:
            response = client.get(url, headers={"Authorization": f"Bearer {token}"})
            assert response.status_code == 200, response.status_code

        return summary(timed(get, seeded.repeat))

    month = seeded.month.key
    own = f"/admin/partners/{largest.id}/statements/{month}"
    return {
        "largest_statement_orders": sizes[largest],
        "admin_statements": page(f"/admin/statements?month={month}", RETAIL),
        "admin_statement": page(own, RETAIL),
        "statement_csv": page(f"{own}.csv", RETAIL),
        "partner_statement": page(f"/partner/statements/{month}", largest.domain),
    }


PARTS: dict[str, Callable[[Seeded], dict[str, Any]]] = {
    "statements": statements_part,
    "statement_pages": statement_pages_part,
}


def seed(orders: int, partners: int, month: Period, months: int, terms: RetailTerms) -> float:
    """Seed the rows; return the seconds it took."""
    end = month.bounds(terms.zone)[1]
    first = month
    for _ in range(months - 1):
        first = first.previous_month()
    start = first.bounds(terms.zone)[0]
    values = {
        "partners": partners,
        "orders": orders,
        "end": end,
        "span": int((end - start).total_seconds()),
        "period_start": month.start,
        "period_end": month.end,
    }
    started = time.perf_counter()
    db.session.execute(text(PARTNERS), values)
    for statement in SEED.split(";"):
        if statement.strip():
            db.session.execute(text(statement), values)
    db.session.commit()
    return time.perf_counter() - started


@click.command("statements")
@click.option("--orders", default=1_000_000, show_default=True, type=int)
@click.option("--partners", default=100, show_default=True, type=int)
@click.option("--months", default=1, show_default=True, type=int, help="Months the sends span.")
@click.option("--repeat", default=10, show_default=True, type=int)
@click.option(
    "--part",
    "parts",
    multiple=True,
    type=click.Choice(sorted(PARTS)),
    help="Run only these parts (all by default).",
)
@with_appcontext
def statements_command(
    orders: int, partners: int, months: int, repeat: int, parts: tuple[str, ...]
) -> None:
    """Seed OrderSyncs, credits and payments in PostgreSQL and time each partner's statement
    of a month against its own SQL."""
    with bench_world() as world:
        if db.engine.dialect.name != "postgresql":
            raise click.ClickException("bench statements needs PostgreSQL (generate_series)")
        _, retail = world.install(RETAIL, "Bench Retail", retail=True)
        retail.timezone = ZONE
        db.session.commit()
        terms = retail_terms()
        month = current_month(terms.zone, utcnow()).previous_month()
        seeded_in = seed(orders, partners, month, max(months, 1), terms)
        everyone = [
            partner_of(row)
            for row in db.session.scalars(select(PartnerStore).order_by(PartnerStore.shop_domain))
        ]
        db.session.rollback()
        seeded = Seeded(world, month, terms, everyone, repeat)
        # As a production worker runs (gunicorn.conf.py's pre_fork): what the process built
        # before serving is moved out of the collector's way, so a collection walks only
        # what the requests themselves made.
        gc.collect()
        gc.freeze()
        try:
            figures = {name: PARTS[name](seeded) for name in (parts or list(PARTS))}
        finally:
            gc.unfreeze()
        click.echo(
            json.dumps(
                {
                    "benchmark": "statements",
                    "orders": orders,
                    "partners": partners,
                    "months": months,
                    "seed_seconds": round(seeded_in, 1),
                    **figures,
                },
                indent=2,
            )
        )
