"""Against the sandbox: smaller truths of Shopify PowerPact must live with.

A development store's five ``orderCreate`` a minute, a partner store in another
currency, old orders behind ``read_all_orders``, HTTPS webhook addresses.
"""

import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from powerpact.catalog.imports import create_import_job, run_import_job
from powerpact.catalog.pricing import MarkupRule
from powerpact.extensions import db
from powerpact.models import FailureReason, OrderStatus, OrderSync, PartnerStore, ProductMap
from powerpact.orders.push import push_order_sync
from tests.e2e.test_orders import NORTH, RETAIL, set_up


def place(harness, sku, count):
    for _ in range(count):
        harness.control(
            "POST",
            f"/shops/{RETAIL}/orders",
            {"lines": [{"sku": sku, "quantity": 1}], "shipping": "4.00"},
        )
    harness.settle()


def syncs_of(domain=NORTH):
    db.session.expire_all()
    statement = (
        select(OrderSync).where(OrderSync.partner_shop_domain == domain).order_by(OrderSync.id)
    )
    return db.session.scalars(statement).all()


@pytest.mark.parametrize("answer", ["user_error", "throttled"])
def test_a_development_stores_order_limit_is_waited_out_not_failed(harness, answer):
    maps = set_up(harness)
    harness.sandbox.config.order_create_limit_answer = answer
    harness.control("POST", f"/shops/{NORTH}/throttle", {"plan": "development"})
    place(harness, maps[NORTH].bubbly_sku, 6)

    syncs = syncs_of()  # which five go first depends on when each one's fraud analysis ends
    statuses = sorted(s.status.value for s in syncs)
    assert statuses == [OrderStatus.READY_FOR_SYNC.value] + [OrderStatus.SYNCED.value] * 5
    sixth = next(s for s in syncs if s.status == OrderStatus.READY_FOR_SYNC)
    assert sixth.last_order_failure_reason == FailureReason.THROTTLED, sixth.error_message
    assert sixth.next_attempt_at is not None
    assert len(harness.shop(NORTH)["orders"]) == 5

    harness.sandbox.config.clock = lambda: time.monotonic() + 61  # a minute later
    assert push_order_sync(sixth.id) == "sent"
    assert len(harness.shop(NORTH)["orders"]) == 6


def test_a_retail_order_older_than_60_days_is_still_read(harness):
    """Shopify shows an app orders older than 60 days only with ``read_all_orders``."""
    maps = set_up(harness)
    placed = datetime.now(UTC) - timedelta(days=75)
    harness.control(
        "POST",
        f"/shops/{RETAIL}/orders",
        {
            "lines": [{"sku": maps[NORTH].bubbly_sku, "quantity": 1}],
            "shipping": "4.00",
            "created_at": placed.isoformat(),
        },
    )
    harness.settle()
    assert [s.status for s in syncs_of()] == [OrderStatus.SYNCED]
    assert len(harness.shop(NORTH)["orders"]) == 1


ZURICH = "zurich-roastery.myshopify.com"
ZURICH_SHOP = {
    "domain": ZURICH,
    "name": "Zurich Roastery",
    "currency": "CHF",
    "timezone": "Europe/Zurich",
    "products": [
        {
            "title": "Limmat Blend",
            "vendor": "Zurich Roastery",
            "options": ["Size"],
            "variants": [{"options": ["250g"], "sku": "ZR-250", "price": "14.00", "stock": 30}],
        }
    ],
}


def partner_row(domain):
    db.session.expire_all()
    return db.session.scalars(select(PartnerStore).where(PartnerStore.shop_domain == domain)).one()


def assert_not_sent_for_currency(harness, domain, currency):
    syncs = syncs_of(domain)
    assert [s.status for s in syncs] == [OrderStatus.FAILED], [s.error_message for s in syncs]
    assert syncs[0].last_order_failure_reason == FailureReason.CURRENCY_MISMATCH
    assert f"sells in {currency}" in syncs[0].error_message
    assert harness.shop(domain)["orders"] == []


def test_a_partner_store_in_another_currency_gets_no_order(harness):
    harness.control("POST", "/shops", ZURICH_SHOP)
    harness.install(RETAIL)
    harness.install(ZURICH)
    partner = partner_row(ZURICH)
    assert partner.currency_code == "CHF"
    product = harness.shop(ZURICH)["products"][0]
    run_import_job(create_import_job(partner, [product["id"]], MarkupRule()).id)
    mapped = db.session.scalars(
        select(ProductMap).where(ProductMap.partner_shop_domain == ZURICH)
    ).one()
    place(harness, mapped.bubbly_sku, 1)
    assert_not_sent_for_currency(harness, ZURICH, "CHF")


def test_a_partner_store_that_changed_currency_after_install_gets_no_order(harness):
    maps = set_up(harness)
    with harness.sandbox.lock:
        harness.sandbox.shop(NORTH).currency = "EUR"
    place(harness, maps[NORTH].bubbly_sku, 1)
    assert_not_sent_for_currency(harness, NORTH, "EUR")
    assert partner_row(NORTH).currency_code == "EUR"
