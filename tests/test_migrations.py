"""The migrations build exactly the models' schema, so the two can never drift."""

import json
import uuid
from decimal import Decimal

import flask_migrate
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text

from powerpact import create_app
from powerpact.extensions import db
from tests.conftest import _admin_execute, settings_for

D = Decimal


@pytest.fixture
def empty_database(database_url):
    name = f"powerpact_mig_{uuid.uuid4().hex[:8]}"
    _admin_execute(f'CREATE DATABASE "{name}"')
    try:
        yield database_url.rsplit("/", 1)[0] + f"/{name}"
    finally:
        _admin_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_upgrade_on_an_empty_database_matches_the_models(empty_database):
    app = create_app({"TESTING": True}, settings=settings_for(empty_database))
    with app.app_context():
        flask_migrate.upgrade()
        with db.engine.connect() as conn:
            diff = compare_metadata(
                MigrationContext.configure(conn, opts={"compare_type": True}), db.metadata
            )
            tables = set(inspect(conn).get_table_names())
        assert diff == [], f"models and migrations differ: {diff}"
        assert {"order_syncs", "partner_stores", "webhook_deliveries"} <= tables

        flask_migrate.downgrade(revision="base")
        with db.engine.connect() as conn:
            assert set(inspect(conn).get_table_names()) == {"alembic_version"}
        db.engine.dispose()


def test_0015_counts_the_order_syncs_already_there(empty_database):
    """The count tables start from the rows that exist, and the triggers keep them after."""
    from sqlalchemy import text

    from tests.order_counts import assert_counts_match

    app = create_app({"TESTING": True}, settings=settings_for(empty_database))
    with app.app_context():
        flask_migrate.upgrade(revision="0021")
        db.session.execute(
            text(
                "INSERT INTO partner_stores (shop_domain, scopes, status, reauthorization_required,"
                " currency_code, timezone, cadence, cutoff_weekday, cutoff_time, cutoff_timezone,"
                " ship_to, auto_import_on_install, inventory_behaviour, created_at, updated_at)"
                " VALUES ('old.myshopify.com', '', 'active', false, 'USD', 'UTC', 'immediate', 0,"
                " '17:00', 'UTC', 'customer', false, 'DECREMENT_OBEYING_POLICY', now(), now())"
            )
        )
        db.session.execute(
            text(
                "INSERT INTO order_syncs (bubbly_order_id, partner_shop_domain, status,"
                " retry_count, needs_attention, currency, subtotal, discount_total, shipping_share,"
                " tax_share, total, created_at, updated_at)"
                " SELECT 'gid://shopify/Order/' || n, 'old.myshopify.com',"
                " (ARRAY['pending', 'synced', 'failed'])[1 + n % 3], 0, false, 'USD', 1, 0, 0, 0,"
                " 1, now() - n * interval '5 hours', now() FROM generate_series(1, 40) AS n"
            )
        )
        db.session.commit()

        flask_migrate.upgrade()
        hours = db.session.scalar(text("SELECT sum(orders) FROM order_sync_hour_counts"))
        assert hours == 40
        assert_counts_match()
        db.session.execute(text("UPDATE order_syncs SET status = 'fulfilled' WHERE id <= 10"))
        assert_counts_match()
        db.session.rollback()
        db.session.remove()
        db.engine.dispose()


PARTNER_ROW = (
    "INSERT INTO partner_stores (shop_domain, scopes, status, reauthorization_required,"
    " currency_code, timezone, cadence, cutoff_weekday, cutoff_time, cutoff_timezone,"
    " ship_to, auto_import_on_install, inventory_behaviour, created_at, updated_at)"
    " VALUES (:shop, '', 'active', false, 'USD', 'UTC', 'immediate', 0,"
    " '17:00', 'UTC', 'customer', false, 'DECREMENT_OBEYING_POLICY', now(), now())"
)
ORDER_SYNC_ROW = (
    "INSERT INTO order_syncs (bubbly_order_id, partner_shop_domain, status,"
    " last_order_failure_reason, retry_count, needs_attention, currency, subtotal,"
    " discount_total, shipping_share, tax_share, total, created_at, updated_at)"
    " VALUES (:order, :shop, :status, :reason, 0, false, 'USD', 1, 0, 0, 0, 1,"
    " now() - :hours * interval '1 hour', now())"
)


def test_0025_counts_reasons_and_retail_orders_already_there(empty_database):
    """The rebuilt counts start from the rows that exist: split retail orders once, at
    their first OrderSync; failed ones by reason."""
    from sqlalchemy import text

    from tests.order_counts import assert_counts_match

    app = create_app({"TESTING": True}, settings=settings_for(empty_database))
    with app.app_context():
        flask_migrate.upgrade(revision="0022")
        shops = ("a.myshopify.com", "b.myshopify.com", "c.myshopify.com")
        for shop in shops:
            db.session.execute(text(PARTNER_ROW), {"shop": shop})
        for n in range(30):
            db.session.execute(
                text(ORDER_SYNC_ROW),
                {
                    "order": f"gid://shopify/Order/{n % 12}",
                    "shop": shops[n // 12],
                    "status": ("failed", "synced", "pending")[n % 3],
                    "reason": ("throttled", None, "shopify_error", None, "throttled")[n % 5],
                    "hours": n * 5,
                },
            )
        db.session.commit()

        flask_migrate.upgrade()
        assert db.session.scalar(text("SELECT sum(orders) FROM retail_order_hour_counts")) == 12
        reasons = dict(
            db.session.execute(
                text(
                    "SELECT reason, sum(orders) FROM order_sync_day_counts"
                    " WHERE status = 'failed' GROUP BY reason"
                )
            ).all()
        )
        assert reasons == {"throttled": 4, "shopify_error": 2, "": 4}
        assert_counts_match()
        db.session.execute(text("DELETE FROM order_syncs WHERE id % 4 = 0"))
        assert_counts_match()
        db.session.rollback()
        flask_migrate.downgrade(revision="0022")
        # 0015's counts again, without the reason.
        assert db.session.scalar(text("SELECT sum(orders) FROM order_sync_hour_counts")) == 30
        db.session.remove()
        db.engine.dispose()


def test_a_second_transaction_on_the_same_retail_order_waits_and_counts_it_once(
    empty_database,
):
    """Two partners' OrderSyncs of one retail order, inserted by two transactions at once:
    the second waits for the first's commit, then sees its OrderSync (without the wait each
    would count the retail order as its own first)."""
    import threading

    from sqlalchemy import text

    from tests.order_counts import assert_counts_match

    app = create_app({"TESTING": True}, settings=settings_for(empty_database))
    with app.app_context():
        flask_migrate.upgrade()
        for shop in ("a.myshopify.com", "b.myshopify.com"):
            db.session.execute(text(PARTNER_ROW), {"shop": shop})
        db.session.commit()
        row = {"order": "gid://shopify/Order/1", "status": "pending", "reason": None}
        with db.engine.connect() as first, db.engine.connect() as second:
            first.execute(text(ORDER_SYNC_ROW), {**row, "shop": "a.myshopify.com", "hours": 1})

            def insert_second() -> None:
                second.execute(text(ORDER_SYNC_ROW), {**row, "shop": "b.myshopify.com", "hours": 3})
                second.commit()

            waiting = threading.Thread(target=insert_second)
            waiting.start()
            waiting.join(timeout=1)
            assert waiting.is_alive(), "the second transaction did not wait"
            first.commit()
            waiting.join(timeout=10)
            assert not waiting.is_alive()
        assert db.session.scalar(text("SELECT sum(orders) FROM retail_order_hour_counts")) == 1
        assert_counts_match()
        db.session.remove()
        db.engine.dispose()


PARTNER = "north-star.myshopify.com"


def orders_payload(order, updated_at, *items, **extra):
    """An ``orders/*`` webhook body as Shopify sends it (the fields the backfill reads)."""
    return json.dumps(
        {
            "id": order,
            "admin_graphql_api_id": f"gid://shopify/Order/{order}",
            "updated_at": updated_at,
            "currency": "USD",
            "line_items": list(items),
            **extra,
        }
    )


def payload_line(line, price, quantity, discounts=None, title="House Blend", **extra):
    item = {
        "id": line,
        "admin_graphql_api_id": f"gid://shopify/LineItem/{line}",
        "title": title,
        "quantity": quantity,
        "price": price,
        "price_set": {"shop_money": {"amount": price, "currency_code": "USD"}},
        **extra,
    }
    if discounts is not None:
        item["discount_allocations"] = [
            {"amount": d, "amount_set": {"shop_money": {"amount": d, "currency_code": "USD"}}}
            for d in discounts
        ]
    return item


def seed_before_0022(conn):
    """Orders captured before lines kept their retail side, and what could tell it."""
    conn.execute(
        text(
            "INSERT INTO partner_stores (shop_domain, name, scopes, status,"
            " reauthorization_required, currency_code, timezone, cadence, cutoff_weekday,"
            " cutoff_time, cutoff_timezone, ship_to, auto_import_on_install,"
            " inventory_behaviour, created_at, updated_at) VALUES (:d, 'North Star', '',"
            " 'active', false, 'USD', 'UTC', 'immediate', 0, '17:00', 'UTC', 'customer',"
            " false, 'DECREMENT_OBEYING_POLICY', now(), now())"
        ),
        {"d": PARTNER},
    )
    conn.execute(
        text(
            "INSERT INTO product_maps (partner_shop_domain, partner_product_id,"
            " partner_variant_id, partner_price, bubbly_product_id, bubbly_variant_id,"
            " markup_rule, partner_variant_missing, created_at, updated_at) VALUES"
            " (:d, 'gid://shopify/Product/1', 'gid://shopify/ProductVariant/1', 11.00,"
            " 'gid://shopify/Product/2', 'gid://shopify/ProductVariant/mapped',"
            " CAST(:rule AS JSONB), false, now(), now())"
        ),
        {"d": PARTNER, "rule": json.dumps({"kind": "percentage", "value": "30"})},
    )
    for order in (1, 2, 3, 4):
        conn.execute(
            text(
                "INSERT INTO order_syncs (id, bubbly_order_id, partner_shop_domain, status,"
                " retry_count, needs_attention, currency, subtotal, discount_total,"
                " shipping_share, tax_share, total, created_at, updated_at) VALUES (:o,"
                " :gid, :d, 'synced', 0, false, 'USD', 0, 0, 0, 0, 0, now(), now())"
            ),
            {"o": order, "gid": f"gid://shopify/Order/{order}", "d": PARTNER},
        )
    lines = [
        # (line id, order, line item, variant, quantity, partner price, partner discount)
        (11, 1, 11, "gid://shopify/ProductVariant/9", 1, "10.00", "1.00"),
        (12, 1, 12, "gid://shopify/ProductVariant/9", 1, "10.00", "0"),
        (21, 2, 21, "gid://shopify/ProductVariant/mapped", 2, "10.00", "1.00"),
        (31, 3, 31, "gid://shopify/ProductVariant/9", 1, "10.00", "0"),
        (41, 4, 41, "gid://shopify/ProductVariant/9", 1, "6.00", "0"),
    ]
    for line_id, order, item, variant, quantity, price, discount in lines:
        conn.execute(
            text(
                "INSERT INTO order_sync_lines (id, order_sync_id, bubbly_line_item_id,"
                " bubbly_variant_id, title, quantity, fulfilled_quantity, partner_unit_price,"
                " discount, tax) VALUES (:id, :o, :item, :v, 'House Blend - 250g', :q, 0,"
                " :p, :disc, 0)"
            ),
            {
                "id": line_id,
                "o": order,
                "item": f"gid://shopify/LineItem/{item}",
                "v": variant,
                "q": quantity,
                "p": price,
                "disc": discount,
            },
        )
    deliveries = [
        # order 1 was placed with 2 units of line 11 and 3.00 off them, then edited: the
        # latest body (by its updated_at, not its arrival) gives 4.00 off; one unit is left
        (
            "orders/create",
            orders_payload(
                1,
                "2026-03-01T10:00:00-05:00",
                payload_line(11, "15.00", 2, ["3.00"]),
            ),
        ),
        (
            "orders/updated",
            orders_payload(
                1, "2026-03-01T11:00:00-05:00", payload_line(11, "15.00", 2, ["1.50", "2.50"])
            ),
        ),
        (
            "orders/updated",
            orders_payload(1, "2026-03-01T10:30:00-05:00", payload_line(11, "15.00", 2, ["9.00"])),
        ),
        # order 3: its only body was redacted; and a body that is not JSON
        ("orders/create", '{"redacted": true}'),
        ("orders/paid", "{not json"),
        # order 4, in the sandbox's shape: total_discount, no discount_allocations
        (
            "orders/create",
            orders_payload(
                4,
                "2026-03-02T09:00:00Z",
                payload_line(41, "8.50", 1, title="Decaf", total_discount="1.00"),
            ),
        ),
        # another store's order with the same line ids changes nothing
        ("orders/create", orders_payload(99, "2026-03-05T09:00:00Z", payload_line(12, "1.00", 1))),
    ]
    for number, (topic, body) in enumerate(deliveries):
        conn.execute(
            text(
                "INSERT INTO webhook_deliveries (webhook_id, topic, shop_domain, payload, status,"
                " attempts, received_at) VALUES (:w, :t, 'bubbly-retail.myshopify.com', :p,"
                " 'processed', 1, now())"
            ),
            {"w": f"webhook-{number}", "t": topic, "p": body},
        )


def test_0022_backfills_retail_prices_from_stored_webhooks_else_the_markup_rule(empty_database):
    app = create_app({"TESTING": True}, settings=settings_for(empty_database))
    with app.app_context():
        flask_migrate.upgrade(revision="0015")
        with db.engine.begin() as conn:
            seed_before_0022(conn)
        flask_migrate.upgrade()
        with db.engine.connect() as conn:
            rows = {
                row.id: row
                for row in conn.execute(
                    text(
                        "SELECT id, retail_unit_price, retail_discount, retail_price_source,"
                        " product_title FROM order_sync_lines"
                    )
                )
            }

        def facts(line_id):
            row = rows[line_id]
            return (row.retail_unit_price, row.retail_discount, row.retail_price_source)

        # the latest body's 4.00 for two units, scaled to the one kept (rounded down)
        assert facts(11) == (D("15.00"), D("2.00"), "webhook")
        assert rows[11].product_title == "House Blend"
        assert facts(12) == (None, None, "unknown")  # in no body of its own order
        # 30% on the partner's 10.00; the partner's 1.00 off 20.00 is 1.30 off 26.00
        assert facts(21) == (D("13.00"), D("1.30"), "markup")
        assert rows[21].product_title is None
        assert facts(31) == (None, None, "unknown")
        assert facts(41) == (D("8.50"), D("1.00"), "webhook")
        assert rows[41].product_title == "Decaf"

        flask_migrate.downgrade(revision="0021")
        with db.engine.connect() as conn:
            columns = {c["name"] for c in inspect(conn).get_columns("order_sync_lines")}
        assert "retail_unit_price" not in columns
        db.engine.dispose()
