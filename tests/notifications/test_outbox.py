"""The outbox makes each (event, recipient) message once, whatever repeats it."""

from __future__ import annotations

import threading

from sqlalchemy import func, select

from powerpact.extensions import db
from powerpact.models import NotificationKind, NotificationOutbox, NotificationSetting
from powerpact.notifications.outbox import Event, emit
from tests.factories import PartnerStoreFactory


def failed(partner, n):
    key = f"order_failed:{n}:x"
    return Event(NotificationKind.ORDER_FAILED, partner.shop_domain, key, {"n": n})


def test_an_event_emitted_again_makes_no_second_row(db_session):
    partner = PartnerStoreFactory(contact_email="owner@alice.example")
    first = emit([failed(partner, 1), failed(partner, 1), failed(partner, 2)])
    again = emit([failed(partner, 1), failed(partner, 2)])
    assert len(first) == 2
    assert again == []
    rows = db_session.scalars(select(NotificationOutbox)).all()
    assert sorted(r.event_key for r in rows) == ["order_failed:1:x", "order_failed:2:x"]
    assert {r.recipient for r in rows} == {"owner@alice.example"}


def test_each_address_of_a_shop_is_its_own_recipient_and_a_muted_kind_none(db_session):
    partner = PartnerStoreFactory(contact_email="owner@alice.example")
    db_session.add(
        NotificationSetting(
            shop_domain=partner.shop_domain, email="a@x.example, B@x.example", muted=["statement"]
        )
    )
    made = emit(
        [
            failed(partner, 1),
            Event(NotificationKind.STATEMENT, partner.shop_domain, "statement:p:2026-11", {}),
        ]
    )
    rows = db_session.scalars(select(NotificationOutbox).where(NotificationOutbox.id.in_(made)))
    assert sorted((r.kind.value, r.recipient) for r in rows) == [
        ("order_failed", "a@x.example"),
        ("order_failed", "b@x.example"),
    ]


def test_a_shop_without_an_address_gets_nothing(db_session):
    partner = PartnerStoreFactory(contact_email=None)
    assert emit([failed(partner, 1)]) == []


def test_concurrent_repeated_events_make_each_message_once(committed_app):
    """Eight threads, each its own PostgreSQL connection and transaction, emit the same 200
    events (in different orders, each twice): 200 rows, and the ids handed out add up to
    exactly those rows (no row made twice, none handed to two senders)."""
    partner = PartnerStoreFactory(contact_email="owner@alice.example")
    db.session.commit()
    domain = partner.shop_domain
    barrier = threading.Barrier(8)
    made: list[list[int]] = []
    errors: list[BaseException] = []

    def storm(seed: int) -> None:
        try:
            with committed_app.app_context():
                keys = list(range(200))
                keys = keys[seed * 25 :] + keys[: seed * 25]
                events = [
                    Event(NotificationKind.ORDER_FAILED, domain, f"order_failed:{k}:x", {"k": k})
                    for k in keys + keys
                ]
                barrier.wait()
                ids = []
                for start in range(0, len(events), 50):
                    ids.extend(emit(events[start : start + 50]))
                    db.session.commit()
                made.append(ids)
                db.session.remove()
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=storm, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    handed_out = [i for ids in made for i in ids]
    assert len(handed_out) == len(set(handed_out)) == 200
    assert db.session.scalar(select(func.count()).select_from(NotificationOutbox)) == 200
