"""``bench pages``: the partner table, the admin desk and the admin home over millions of
OrderSyncs, each page's time against the time of its own SQL, at one size or several; and
the home's chart readers over 30 days.

Several sizes (``--orders 1000000,10000000``) grow one table in one run, smallest
first, so that how a page's time grows with the table is read on one machine in one
sitting. Rows are loaded by ``generate_series`` in chunks, with the triggers off and
the secondary indexes dropped, then indexed; the count tables are then filled by the
product's own recount (``rollup.reconcile_counts``), as a drifted table would be.
"""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import Engine, event, func, select, text

from powerpact.bench.harness import RETAIL, bench_world
from powerpact.extensions import db
from powerpact.models import OrderSync, OrderSyncLine, PartnerStore
from powerpact.orders import charts_data, rollup
from powerpact.shopify.session_tokens import mint_session_token
from powerpact.timezones import shop_zone

CHUNK = 1_000_000
PARTNER = "bench-partner-007.myshopify.com"
PAGES = {
    "partner_table": ("/partner/orders", PARTNER),
    "admin_desk": ("/admin/orders", RETAIL),
    "admin_home": ("/admin/", RETAIL),
}
WARM_UP = 10
COUNTED_TABLES = (
    "order_syncs",
    "order_sync_lines",
    "order_sync_hour_counts",
    "order_sync_day_counts",
    "retail_order_firsts",
    "retail_order_hour_counts",
)

PARTNERS = """
INSERT INTO partner_stores (shop_domain, name, access_token, scopes, status,
    reauthorization_required,
    currency_code, timezone, cadence, cutoff_weekday, cutoff_time, cutoff_timezone, ship_to,
    auto_import_on_install, inventory_behaviour, created_at, updated_at)
SELECT 'bench-partner-' || lpad(p::text, 3, '0') || '.myshopify.com', 'Bench Partner ' || p,
    NULL, '',
    'active', false, 'USD', 'UTC', 'immediate', 0, '17:00', 'UTC', 'customer', false,
    'DECREMENT_OBEYING_POLICY', now(), now()
FROM generate_series(0, CAST(:partners AS integer) - 1) AS p
"""

# Rows :first to :last, spread over the last 30 days whatever their number (row n at
# n * 7919 seconds modulo 30 days; 7919 is prime to the 2,592,000 seconds of 30 days, so
# a million rows take a million different seconds): a million and ten million cover the
# same days, and the pages' window holds every row at either size.
ORDERS = """
INSERT INTO order_syncs (bubbly_order_id, bubbly_order_name, partner_shop_domain, status,
    retry_count,
    needs_attention, currency, subtotal, discount_total, shipping_share, tax_share, total,
    ship_to_city, ship_to_country, created_at, updated_at)
SELECT 'gid://shopify/Order/' || n, '#' || (100000 + n),
    'bench-partner-' || lpad((n % :partners)::text, 3, '0') || '.myshopify.com',
    (ARRAY['synced','fulfilled','synced','failed','pending','ready_for_sync'])[1 + n % 6],
    0, false, 'USD', 24, 0, 5, 2.4, 31.4, 'Portland', 'US',
    now() - ((n * 7919) % 2592000) * interval '1 second', now()
FROM generate_series(CAST(:first AS bigint), CAST(:last AS bigint)) AS n
"""

LINES = """
INSERT INTO order_sync_lines (order_sync_id, bubbly_line_item_id, title, quantity,
    fulfilled_quantity, partner_unit_price, discount, tax)
SELECT id, 'gid://shopify/LineItem/' || id, 'House Blend 250g', 2, 0, 12, 0, 1.2
FROM order_syncs WHERE id > :after
"""


def summary(times: list[float]) -> dict[str, float]:
    ordered = sorted(times)
    return {
        "median_ms": round(statistics.median(ordered), 2),
        "p95_ms": round(ordered[int(0.95 * (len(ordered) - 1))], 2),
    }


@dataclass
class StatementClock:
    """The time spent in SQL statements (cursor execute to its return) while it runs."""

    engine: Engine
    seconds: float = 0.0
    statements: int = 0
    _started: list[float] = field(default_factory=list)

    def __enter__(self) -> StatementClock:
        event.listen(self.engine, "before_cursor_execute", self._before)
        event.listen(self.engine, "after_cursor_execute", self._after)
        return self

    def __exit__(self, *exc: object) -> None:
        event.remove(self.engine, "before_cursor_execute", self._before)
        event.remove(self.engine, "after_cursor_execute", self._after)

    def _before(self, *args: Any) -> None:
        self._started.append(time.perf_counter())

    def _after(self, *args: Any) -> None:
        self.seconds += time.perf_counter() - self._started.pop()
        self.statements += 1

    def reset(self) -> None:
        self.seconds, self.statements = 0.0, 0


def measure(
    prepare: Callable[[], str],
    request: Callable[[str], None],
    clock: StatementClock,
    repeat: int,
) -> dict[str, Any]:
    """Each request's whole time and its statements' time: their medians, p95s and ratio.

    ``prepare`` (untimed) makes what the browser brings, the session token App Bridge mints.
    """
    for _ in range(WARM_UP):
        request(prepare())
    pages, sql, statements = [], [], []
    for _ in range(repeat):
        token = prepare()
        clock.reset()
        started = time.perf_counter()
        request(token)
        pages.append((time.perf_counter() - started) * 1000)
        sql.append(clock.seconds * 1000)
        statements.append(clock.statements)
    page, own = summary(pages), summary(sql)
    return {
        **page,
        "sql_median_ms": own["median_ms"],
        "sql_p95_ms": own["p95_ms"],
        "statements": max(statements),
        "p95_over_sql_p95": round(page["p95_ms"] / own["p95_ms"], 2) if own["p95_ms"] else None,
    }


CHART_REPEAT = 5


def charts() -> dict[str, dict[str, float]]:
    """The chart readers over 30 days (``orders/charts_data.py``, from the count tables
    of ``orders/rollup.py``), each timed whole."""
    zone = shop_zone("America/New_York")
    readers: dict[str, Callable[[], object]] = {
        "charts_data.partner_orders_per_day(partner)": lambda: charts_data.partner_orders_per_day(
            PARTNER, 30, zone
        ),
        "charts_data.partner_orders_per_day(all)": lambda: charts_data.partner_orders_per_day(
            None, 30, zone
        ),
        "charts_data.retail_orders_per_day": lambda: charts_data.retail_orders_per_day(30, zone),
        "charts_data.failures_by_reason": lambda: charts_data.failures_by_reason(30),
    }
    figures = {}
    for label, read in readers.items():
        read()
        times = []
        for _ in range(CHART_REPEAT):
            started = time.perf_counter()
            read()
            times.append((time.perf_counter() - started) * 1000)
        figures[label] = summary(times)
    db.session.remove()
    return figures


def secondary_indexes() -> list[Any]:
    return [*OrderSync.__table__.indexes, *OrderSyncLine.__table__.indexes]


def load_orders(first: int, last: int, partners: int) -> dict[str, float]:
    """Rows ``first`` to ``last``, as one bulk load: indexes dropped, triggers off, chunks."""
    timings: dict[str, float] = {}
    started = time.perf_counter()
    with db.engine.connect() as connection:
        connection.exec_driver_sql("SET session_replication_role = replica")  # no triggers
        connection.exec_driver_sql("SET synchronous_commit = off")
        connection.exec_driver_sql("SET maintenance_work_mem = '1GB'")
        connection.commit()  # the settings hold for the connection's session
        with connection.begin():
            for index in secondary_indexes():
                index.drop(connection)
        for start in range(first, last + 1, CHUNK):
            end = min(start + CHUNK - 1, last)
            with connection.begin():
                after = connection.scalar(select(func.coalesce(func.max(OrderSync.id), 0)))
                parameters = {"first": start, "last": end, "partners": partners}
                connection.execute(text(ORDERS), parameters)
                connection.execute(text(LINES), {"after": after})
            click.echo(f"loaded orders to {end:,}", err=True)
        timings["load_seconds"] = round(time.perf_counter() - started, 1)
        started = time.perf_counter()
        with connection.begin():
            for index in secondary_indexes():
                index.create(connection)
        timings["index_seconds"] = round(time.perf_counter() - started, 1)
        connection.exec_driver_sql("RESET ALL")
        connection.commit()
    started = time.perf_counter()
    reconciled = rollup.reconcile_counts(days=None)
    timings["recount_seconds"] = round(time.perf_counter() - started, 1)
    timings["count_rows_filled"] = len(reconciled.corrections)
    started = time.perf_counter()
    vacuum(db.engine)
    timings["vacuum_seconds"] = round(time.perf_counter() - started, 1)
    return timings


def vacuum(engine: Engine) -> None:
    """As autovacuum would leave them: statistics, and the visibility map index-only scans
    read."""
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        for table in COUNTED_TABLES:
            connection.exec_driver_sql(f"VACUUM (ANALYZE) {table}")


def growth(first: dict[str, Any], last: dict[str, Any], figure: str) -> dict[str, float]:
    """Each page's ``figure`` at the largest size over the same at the smallest."""
    return {name: round(last[name][figure] / first[name][figure], 2) for name in last}


def parse_sizes(value: str) -> list[int]:
    try:
        sizes = sorted({int(part.replace("_", "")) for part in value.split(",") if part.strip()})
    except ValueError:
        raise click.BadParameter(f"{value!r}: sizes are whole numbers, comma-separated") from None
    if not sizes or sizes[0] < 1:
        raise click.BadParameter(f"{value!r}: give at least one size of 1 or more")
    return sizes


@click.command("pages")
@click.option(
    "--orders",
    "sizes",
    default="1000000",
    show_default=True,
    help="OrderSync rows; several sizes, comma-separated, are measured in one run as the "
    "table grows (e.g. 1000000,10000000).",
)
@click.option(
    "--pages",
    "chosen",
    default=",".join(PAGES),
    show_default=True,
    help="The pages to time, comma-separated.",
)
@click.option(
    "--partners",
    default=100,
    show_default=True,
    type=click.IntRange(8),
    help="Partner stores the orders are dealt to (the partner table is the eighth's).",
)
@click.option("--repeat", default=100, show_default=True, type=click.IntRange(2))
@with_appcontext
def pages_command(sizes: str, chosen: str, partners: int, repeat: int) -> None:
    """Seed OrderSync rows in PostgreSQL and time the order pages and the home against the
    SQL they run."""
    wanted = parse_sizes(sizes)
    names = [name.strip() for name in chosen.split(",") if name.strip()]
    if not names or not set(names) <= set(PAGES):
        raise click.BadParameter(f"{chosen!r}: choose among {', '.join(PAGES)}")
    with bench_world() as world:
        if db.engine.dialect.name != "postgresql":
            raise click.ClickException(
                "bench pages needs PostgreSQL (it seeds with generate_series)"
            )
        db.session.execute(text(PARTNERS), {"partners": partners})
        world.install(RETAIL, "Bench Retail", retail=True)
        row = db.session.scalars(
            select(PartnerStore).where(PartnerStore.shop_domain == PARTNER)
        ).one()
        row.access_token = "shpat_bench_only"  # noqa: S105 (a throwaway benchmark shop)
        db.session.commit()
        settings = current_app.config["POWERPACT"]
        client = world.app.test_client()

        def token_of(shop: str) -> Callable[[], str]:
            return lambda: mint_session_token(
                shop, api_key=settings.shopify_api_key, secret=settings.shopify_api_secret
            )

        def page(url: str) -> Callable[[str], None]:
            def request(token: str) -> None:
                response = client.get(url, headers={"Authorization": f"Bearer {token}"})
                # The request ran in this command's app context, whose session a request
                # of its own would end with its context: end it here, timed with it.
                db.session.remove()
                assert response.status_code == 200, response.status_code

            return request

        runs: list[dict[str, Any]] = []
        loaded = 0
        for size in wanted:
            timings = load_orders(loaded + 1, size, partners)
            loaded = size
            db.session.remove()
            with StatementClock(db.engine) as clock:
                figures = {
                    name: measure(token_of(shop), page(url), clock, repeat)
                    for name, (url, shop) in PAGES.items()
                    if name in names
                }
            runs.append({"orders": size, **timings, "pages": figures, "charts_30_days": charts()})
        first, last = runs[0]["pages"], runs[-1]["pages"]
        click.echo(
            json.dumps(
                {
                    "benchmark": "pages",
                    "orders": wanted[-1],
                    "sizes": wanted,
                    "partners": partners,
                    "repeat": repeat,
                    "runs": runs,
                    "p95_growth": growth(first, last, "p95_ms") if len(runs) > 1 else None,
                    "median_growth": growth(first, last, "median_ms") if len(runs) > 1 else None,
                },
                indent=2,
            )
        )
