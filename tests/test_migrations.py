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
