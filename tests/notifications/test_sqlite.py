"""The demo runs on SQLite: the outbox's insert-or-skip works there too."""

from __future__ import annotations

import flask_migrate
from sqlalchemy import func, select

from powerpact import create_app
from powerpact.extensions import db
from powerpact.models import NotificationKind, NotificationOutbox, PartnerStore
from powerpact.notifications.outbox import Event, emit
from tests.conftest import settings_for


def test_emitting_again_on_sqlite_makes_no_second_row(tmp_path):
    app = create_app({"TESTING": True}, settings=settings_for(f"sqlite:///{tmp_path}/demo.db"))
    with app.app_context():
        flask_migrate.upgrade()
        db.session.add(
            PartnerStore(shop_domain="north-star.myshopify.com", contact_email="o@n.example")
        )
        db.session.commit()
        events = [
            Event(NotificationKind.ORDER_FAILED, "north-star.myshopify.com", f"k{n % 3}", {})
            for n in range(7)
        ]
        assert len(emit(events)) == 3
        db.session.commit()
        assert emit(events) == []
        db.session.commit()
        assert db.session.scalar(select(func.count()).select_from(NotificationOutbox)) == 3
        db.session.remove()
        db.engine.dispose()
