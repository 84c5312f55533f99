"""Each event: a fixable failure to its partner, a closed month's statement, the digest."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from powerpact.models import (
    FailureReason,
    NotificationKind,
    NotificationOutbox,
    RunStatus,
)
from powerpact.notifications import digest, events
from powerpact.notifications.outbox import emit
from tests.factories import (
    OrderSyncFactory,
    PartnerStoreFactory,
    ProductMapFactory,
    RetailStoreFactory,
    SyncRunFactory,
)


@pytest.fixture
def shops(db_session):
    retail = RetailStoreFactory(contact_email="admin@bubbly.example", timezone="America/New_York")
    alice = PartnerStoreFactory(name="Alice", contact_email="alice@alice.example")
    bob = PartnerStoreFactory(name="Bob", contact_email="bob@bob.example")
    return retail, alice, bob


@pytest.mark.parametrize("reason", list(FailureReason))
def test_only_a_reason_the_partner_can_fix_mails_the_partner(db_session, shops, reason):
    _, alice, _ = shops
    order = OrderSyncFactory(partner=alice, failed=True, last_order_failure_reason=reason)
    found = events.order_failure_events()
    if reason in events.FIXABLE:
        assert [(e.shop_domain, e.key) for e in found] == [
            (alice.shop_domain, f"order_failed:{order.id}:{reason.value}")
        ]
    else:
        assert found == []


def test_a_second_failure_of_the_same_order_for_another_reason_is_another_email(db_session, shops):
    _, alice, _ = shops
    order = OrderSyncFactory(
        partner=alice, failed=True, last_order_failure_reason=FailureReason.VARIANT_NOT_MAPPED
    )
    assert len(emit(events.order_failure_events())) == 1
    order.last_order_failure_reason = FailureReason.INSUFFICIENT_INVENTORY
    db_session.flush()
    assert len(emit(events.order_failure_events())) == 1
    assert emit(events.order_failure_events()) == []


def test_a_closed_month_with_activity_is_one_statement_per_partner(db_session, shops):
    _, alice, bob = shops
    # Bubbly's zone is New York: Nov 30, 23:30 there is Dec 1, 04:30 UTC.
    OrderSyncFactory(partner=alice, synced=True, sent_at=datetime(2026, 12, 1, 4, 30, tzinfo=UTC))
    OrderSyncFactory(partner=bob, synced=True, sent_at=datetime(2026, 12, 1, 5, 30, tzinfo=UTC))
    now = datetime(2026, 12, 6, 12, tzinfo=UTC)
    found = events.statement_events(now)
    assert [(e.shop_domain, e.key) for e in found] == [
        (alice.shop_domain, f"statement:{alice.shop_domain}:2026-11")
    ]
    assert found[0].payload["label"] == "November 2026"
    assert found[0].payload["balance"] == "31.40"
    assert len(emit(found)) == 1
    assert emit(events.statement_events(now)) == []  # once per partner and month


def test_the_digest_lists_what_needs_attention_and_only_when_something_is_new(
    db_session, shops, time_machine
):
    time_machine.move_to(datetime(2026, 12, 6, 10, 5, tzinfo=UTC), tick=False)
    _, alice, bob = shops
    bob.reauthorization_required = True
    OrderSyncFactory(
        partner=alice,
        failed=True,
        bubbly_order_name="#2001",
        last_order_failure_reason=FailureReason.INSUFFICIENT_INVENTORY,
    )
    SyncRunFactory(
        partner_shop_domain=alice.shop_domain,
        status=RunStatus.PARTIAL,
        error_count=2,
        errors=[{"message": "Variant not found"}],
    )
    [event] = events.admin_digest_events()
    titles = [s["title"] for s in event.payload["sections"]]
    assert titles == [
        "Partners to re-authorize",
        "Orders failed after their retries",
        "Inventory sync errors",
    ]
    assert event.key == "admin_digest:2026-12-06T10"
    assert len(emit([event])) == 1
    # Within the hour: nothing, even with something new.
    OrderSyncFactory(partner=bob, failed=True)
    time_machine.move_to(datetime(2026, 12, 6, 10, 50, tzinfo=UTC), tick=False)
    assert events.admin_digest_events() == []
    # An hour on: the new failure makes a digest.
    time_machine.move_to(datetime(2026, 12, 6, 11, 10, tzinfo=UTC), tick=False)
    [later] = events.admin_digest_events()
    assert len(later.payload["new"]) == 1
    assert len(emit([later])) == 1
    # Another hour, nothing new: no digest.
    time_machine.move_to(datetime(2026, 12, 6, 12, 30, tzinfo=UTC), tick=False)
    assert events.admin_digest_events() == []
    rows = db_session.scalars(select(NotificationOutbox)).all()
    assert [(r.kind, r.recipient) for r in rows] == [
        (NotificationKind.ADMIN_DIGEST, "admin@bubbly.example")
    ] * 2


def test_low_stock_enters_the_digest_once_a_variant_falls_to_its_threshold(db_session, shops):
    retail, alice, _ = shops
    alice.low_stock_threshold = 5
    low = ProductMapFactory(
        partner=alice, retail_available=3, product_title="Ethiopia", variant_title="250 g"
    )
    ProductMapFactory(partner=alice, retail_available=6)  # above the threshold
    db_session.commit()
    found = digest.low_stock_section(retail)
    assert found["items"] == [
        {
            "key": f"low_stock:{low.id}",
            "text": "Ethiopia · 250 g (Alice): 3 left at the retail store, threshold 5.",
        }
    ]
    low.retail_available = 2  # selling on is not news
    db_session.commit()
    assert [i["key"] for i in digest.low_stock_section(retail)["items"]] == [f"low_stock:{low.id}"]


def test_an_old_failure_is_not_found_again(db_session, shops):
    _, alice, _ = shops
    order = OrderSyncFactory(
        partner=alice, failed=True, last_order_failure_reason=FailureReason.VARIANT_NOT_MAPPED
    )
    assert events.order_failure_events(since=order.updated_at + timedelta(seconds=1)) == []
