"""The migrations build exactly the models' schema, so the two can never drift."""

import uuid

import flask_migrate
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from powerpact import create_app
from powerpact.extensions import db
from tests.conftest import _admin_execute, settings_for


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
