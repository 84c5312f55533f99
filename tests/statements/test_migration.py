"""Migration 0023 dates the orders already sent: their first ``sent`` timeline event, else
the row's last update; an order never sent stays undated."""

from datetime import UTC, datetime

import flask_migrate
from sqlalchemy import text

from powerpact import create_app
from powerpact.extensions import db
from tests.conftest import settings_for
from tests.test_migrations import empty_database  # noqa: F401  (the fixture)

ORDER = """INSERT INTO order_syncs (id, bubbly_order_id, partner_shop_domain, partner_order_id,
    status, retry_count, needs_attention, currency, subtotal, discount_total, shipping_share,
    tax_share, total, created_at, updated_at)
VALUES (:id, :gid, 'alice.myshopify.com', :partner_order, :status, 0, false, 'USD', 24, 0, 5,
    2.4, 31.4, :created, :updated)"""
EVENT = """INSERT INTO order_sync_events (order_sync_id, kind, message, created_at)
VALUES (:id, :kind, '', :at)"""


def at(day: int, hour: int = 12) -> datetime:
    return datetime(2026, 3, day, hour, tzinfo=UTC)


def test_the_backfill_dates_each_sent_order_by_its_send(empty_database):  # noqa: F811
    app = create_app({"TESTING": True}, settings=settings_for(empty_database))
    with app.app_context():
        flask_migrate.upgrade(revision="0021")
        with db.engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO partner_stores (shop_domain, scopes, status,"
                    " reauthorization_required, currency_code, timezone, cadence,"
                    " cutoff_weekday, cutoff_time, cutoff_timezone, ship_to,"
                    " auto_import_on_install, inventory_behaviour, created_at, updated_at)"
                    " VALUES ('alice.myshopify.com', '', 'active', false, 'USD', 'UTC',"
                    " 'immediate', 0, '17:00', 'UTC', 'customer', false, 'DECREMENT', now(),"
                    " now())"
                )
            )
            orders = [
                (1, "gid://shopify/Order/1", "P1", "synced", at(1), at(9)),
                (2, "gid://shopify/Order/2", "P2", "fulfilled", at(2), at(8)),
                (3, "gid://shopify/Order/3", None, "failed", at(3), at(7)),
            ]
            for id_, gid, partner_order, status, created, updated in orders:
                conn.execute(
                    text(ORDER),
                    {
                        "id": id_,
                        "gid": gid,
                        "partner_order": partner_order,
                        "status": status,
                        "created": created,
                        "updated": updated,
                    },
                )
            for id_, kind, moment in (
                (1, "captured", at(1, 10)),
                (1, "sent", at(1, 11)),
                (1, "sent", at(4)),  # found again after a crash: the first send counts
                (3, "attempt_failed", at(3, 13)),
            ):
                conn.execute(text(EVENT), {"id": id_, "kind": kind, "at": moment})
        flask_migrate.upgrade(revision="0023")
        with db.engine.connect() as conn:
            sent = dict(conn.execute(text("SELECT id, sent_at FROM order_syncs")).all())
        assert sent == {1: at(1, 11), 2: at(8), 3: None}
        flask_migrate.downgrade(revision="0021")
        db.engine.dispose()
