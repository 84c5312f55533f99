from datetime import datetime
from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, StatementError

from powerpact import models as m
from tests import factories as f

ALL_FACTORIES = [
    f.RetailStoreFactory,
    f.PartnerStoreFactory,
    f.ProductMapFactory,
    f.PartnerBatchFactory,
    f.OrderSyncFactory,
    f.OrderSyncLineFactory,
    f.OrderSyncEventFactory,
    f.WebhookDeliveryFactory,
    f.SyncRunFactory,
    f.ImportJobFactory,
    f.ImportJobItemFactory,
]


@pytest.mark.parametrize("factory", ALL_FACTORIES, ids=lambda fa: fa._meta.model.__name__)
def test_every_model_has_a_working_factory(db_session, factory):
    obj = factory()
    db_session.expire_all()
    assert db_session.get(type(obj), obj.id) is not None


def test_money_round_trips_as_decimal_and_times_as_aware_utc(db_session):
    order = f.OrderSyncFactory(subtotal=Decimal("10.005"))
    db_session.expire_all()
    reloaded = db_session.get(m.OrderSync, order.id)
    assert reloaded.subtotal == Decimal("10.005")
    assert isinstance(reloaded.subtotal, Decimal)
    assert reloaded.created_at.utcoffset().total_seconds() == 0


def test_money_refuses_floats(db_session):
    with pytest.raises(StatementError, match="Decimal, not a float"):
        f.OrderSyncFactory(subtotal=10.5)


def test_naive_datetimes_are_refused(db_session):
    with pytest.raises(StatementError, match="naive datetime"):
        f.SyncRunFactory(started_at=datetime(2026, 1, 1))  # noqa: DTZ001


def test_one_order_sync_per_order_and_partner(db_session):
    first = f.OrderSyncFactory()
    with pytest.raises(IntegrityError):
        f.OrderSyncFactory(partner=first.partner, bubbly_order_id=first.bubbly_order_id)


def test_product_map_unique_on_partner_variant_and_on_retail_variant(db_session):
    pm = f.ProductMapFactory()
    with db_session.begin_nested(), pytest.raises(IntegrityError):
        f.ProductMapFactory(partner=pm.partner, partner_variant_id=pm.partner_variant_id)
    with db_session.begin_nested(), pytest.raises(IntegrityError):
        f.ProductMapFactory(bubbly_variant_id=pm.bubbly_variant_id)


def test_webhook_delivery_is_unique_by_webhook_id(db_session):
    d = f.WebhookDeliveryFactory()
    with pytest.raises(IntegrityError):
        f.WebhookDeliveryFactory(webhook_id=d.webhook_id)


def test_uninstalled_partner_is_not_active(db_session):
    partner = f.PartnerStoreFactory(uninstalled=True)
    assert not partner.is_active
    assert f.PartnerStoreFactory().is_active


def test_failure_reasons_know_which_are_transient():
    assert m.FailureReason.THROTTLED.transient
    assert m.FailureReason.SHOPIFY_ERROR.transient
    assert not m.FailureReason.VARIANT_NOT_MAPPED.transient
    assert not m.FailureReason.CURRENCY_MISMATCH.transient


def test_every_failure_reason_reads_in_plain_words_for_both_sides():
    from powerpact.orders.listing import reason_text

    for reason in m.FailureReason:
        assert reason_text(reason) and reason_text(reason, for_admin=True), reason


def test_order_sync_keeps_lines_and_timeline_in_order(db_session):
    order = f.OrderSyncFactory()
    f.OrderSyncLineFactory(order_sync=order, quantity=1)
    f.OrderSyncLineFactory(order_sync=order, quantity=3)
    f.OrderSyncEventFactory(order_sync=order, kind="captured")
    f.OrderSyncEventFactory(order_sync=order, kind="ready")
    db_session.expire_all()
    loaded = db_session.scalars(select(m.OrderSync).where(m.OrderSync.id == order.id)).one()
    assert [line.quantity for line in loaded.lines] == [1, 3]
    assert [event.kind for event in loaded.events] == ["captured", "ready"]


def test_sync_run_duration(db_session):
    run = f.SyncRunFactory()
    assert run.duration_seconds is None
    run.finished_at = run.started_at.replace(microsecond=0) + (
        run.started_at - run.started_at.replace(microsecond=0)
    )
    assert run.duration_seconds == 0
