"""Against the sandbox: refunds and edits of a retail order after its partner orders went out
(``orders/refunds.py``), and an edit before they went out (the split's remaining quantities)."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal

import pytest
import redis
from sqlalchemy import select, update

from powerpact.catalog.imports import create_import_job, run_import_job
from powerpact.catalog.pricing import MarkupRule
from powerpact.db_types import utcnow
from powerpact.extensions import db
from powerpact.models import (
    AfterSendDue,
    CreditKind,
    OrderStatus,
    OrderSync,
    PartnerCredit,
    PartnerStore,
    ProductMap,
)
from powerpact.orders import refunds, tasks
from powerpact.orders.tasks import reconcile_task
from powerpact.shopify.errors import UserErrors
from tests.e2e.test_orders import HARBOR, NORTH, RETAIL, give_stock, set_up
from tests.e2e.test_real_store_events import past_the_search_lag


def numeric(gid: str) -> str:
    return gid.rsplit("/", 1)[1]


def place(harness, maps, north_units=3, **extra):
    order = harness.control(
        "POST",
        f"/shops/{RETAIL}/orders",
        {
            "lines": [
                {"sku": maps[NORTH].bubbly_sku, "quantity": north_units},
                {"sku": maps[HARBOR].bubbly_sku, "quantity": 1},
            ],
            "shipping": "9.00",
            "tax_rate": "0.08",
            **extra,
        },
    )
    harness.settle()
    return order


def act(harness, order, action, body=None):
    result = harness.control(
        "POST", f"/shops/{RETAIL}/orders/{numeric(order['id'])}/{action}", body
    )
    harness.settle()
    db.session.expire_all()
    return result


def north_line(order, maps):
    return next(li["id"] for li in order["line_items"] if li["sku"] == maps[NORTH].bubbly_sku)


def sync_of(partner):
    return db.session.scalars(
        select(OrderSync).where(OrderSync.partner_shop_domain == partner)
    ).one()


def partner_order(harness, partner):
    (order,) = harness.shop(partner)["orders"]
    return order


def credits():
    return list(db.session.scalars(select(PartnerCredit).order_by(PartnerCredit.id)))


def partner_edits(harness, partner):
    calls = harness.control("GET", f"/shops/{partner}/calls")["operations"]
    return [c for c in calls if c == "OrderEditCommit"]


@pytest.fixture(params=["postgresql", "sqlite"])
def any_harness(request):
    """The production database and the demo's."""
    return request.getfixturevalue("harness" if request.param == "postgresql" else "sqlite_harness")


def test_a_refund_with_restock_before_the_roaster_ships_shrinks_its_order(any_harness):
    harness = any_harness
    maps = set_up(harness)
    order = place(harness, maps)
    north = sync_of(NORTH)
    assert north.status == OrderStatus.SYNCED
    sent_total = Decimal(partner_order(harness, NORTH)["total"])
    [line] = north.lines
    unit = line.partner_unit_price - line.discount / 3

    act(harness, order, "refund", {"lines": {north_line(order, maps): 1}, "restock": True})

    shrunk = partner_order(harness, NORTH)
    assert sum(li["quantity"] for li in shrunk["line_items"]) == 2  # was 3
    (credit,) = credits()
    assert credit.kind == CreditKind.REFUND and credit.applied_at_partner
    assert credit.partner_shop_domain == NORTH and credit.order_sync_id == north.id
    refund_id = harness.shop(RETAIL)["orders"][0]["refunds"][0]["id"]
    assert credit.source_key == f"refund:{refund_id}:{NORTH}"
    assert credit.lines == unit.quantize(Decimal("0.01")) and credit.shipping == 0
    assert credit.tax == (line.tax / 3).quantize(Decimal("0.01"), rounding="ROUND_DOWN")
    assert credit.total == credit.lines + credit.tax
    assert Decimal(shrunk["total"]) == sent_total - credit.lines  # the partner's own order
    north = sync_of(NORTH)
    assert north.lines[0].removed_quantity == 1 and north.status == OrderStatus.SYNCED
    (event,) = [e for e in north.events if e.kind == "refund"]
    assert (
        "taken off partner order" in event.message and f"Credit {credit.total:.2f}" in event.message
    )
    assert partner_order(harness, HARBOR)["line_items"][0]["quantity"] == 1  # untouched
    assert len(partner_edits(harness, NORTH)) == 1


def test_a_refund_after_the_roaster_shipped_is_a_return_to_settle(harness):
    maps = set_up(harness)
    order = place(harness, maps)
    shipped = partner_order(harness, NORTH)
    harness.control(
        "POST",
        f"/shops/{NORTH}/orders/{numeric(shipped['id'])}/fulfil",
        {"tracking_number": "1Z1", "company": "UPS"},
    )
    harness.settle()
    db.session.expire_all()
    assert sync_of(NORTH).status == OrderStatus.FULFILLED
    calls_before = len(partner_edits(harness, NORTH))

    act(harness, order, "refund", {"lines": {north_line(order, maps): 1}, "restock": True})

    retail = harness.shop(RETAIL)["orders"][0]
    assert retail["refunds"][0]["lines"][0]["restock"] == "RETURN"
    assert partner_order(harness, NORTH)["line_items"] == shipped["line_items"] or (
        sum(li["quantity"] for li in partner_order(harness, NORTH)["line_items"]) == 3
    )
    assert len(partner_edits(harness, NORTH)) == calls_before  # nothing changed at the partner
    (credit,) = credits()
    assert credit.source_key.endswith(f":{NORTH}:return")
    assert not credit.applied_at_partner and credit.lines > 0
    north = sync_of(NORTH)
    assert north.lines[0].returned_quantity == 1 and north.lines[0].removed_quantity == 0
    (event,) = [e for e in north.events if e.kind == "refund"]
    assert "return to settle" in event.message


def test_a_refund_without_restock_after_shipping_owes_the_roaster_nothing(harness):
    maps = set_up(harness)
    order = place(harness, maps)
    shipped = partner_order(harness, NORTH)
    harness.control("POST", f"/shops/{NORTH}/orders/{numeric(shipped['id'])}/fulfil", {})
    harness.settle()
    act(harness, order, "refund", {"lines": {north_line(order, maps): 1}, "restock": False})
    assert credits() == []
    (event,) = [e for e in sync_of(NORTH).events if e.kind == "refund"]
    assert "customer keeps it" in event.message


def test_an_edit_after_sending_before_the_roaster_ships_edits_its_order(harness):
    maps = set_up(harness)
    order = place(harness, maps)

    act(harness, order, "edit", {"lines": {north_line(order, maps): 1}, "restock": True})

    assert sum(li["quantity"] for li in partner_order(harness, NORTH)["line_items"]) == 1
    (credit,) = credits()
    assert credit.kind == CreditKind.EDIT and credit.applied_at_partner
    assert credit.source_key.startswith("edit:gid://shopify/OrderEditAgreement/")
    [line] = sync_of(NORTH).lines
    assert line.removed_quantity == 2
    assert credit.lines == line.partner_unit_price * 3 - line.discount - (
        sum(
            Decimal(li["price"]) * li["quantity"]
            for li in partner_order(harness, NORTH)["line_items"]
        )
    )
    assert [e.kind for e in sync_of(NORTH).events].count("edit") == 1


def test_an_edit_before_sending_changes_what_is_sent_and_credits_nothing(harness):
    maps = set_up(harness)
    order = place(harness, maps, financial_status="PENDING")
    assert sync_of(NORTH).status == OrderStatus.PENDING
    act(harness, order, "edit", {"lines": {north_line(order, maps): 2}})
    act(harness, order, "pay")
    assert sum(li["quantity"] for li in partner_order(harness, NORTH)["line_items"]) == 2
    assert sync_of(NORTH).lines[0].quantity == 2
    assert credits() == []


def test_refund_webhooks_repeated_and_reordered_change_nothing_twice(harness):
    maps = set_up(harness)
    order = place(harness, maps)
    north_sent, harbor_sent = sync_of(NORTH), sync_of(HARBOR)
    harness.control("POST", "/webhooks", {"duplicates": True, "shuffle": True})
    line = north_line(order, maps)
    harness.control(
        "POST", f"/shops/{RETAIL}/orders/{numeric(order['id'])}/refund", {"lines": {line: 1}}
    )
    harness.control(
        "POST",
        f"/shops/{RETAIL}/orders/{numeric(order['id'])}/refund",
        {"lines": {line: 1}, "shipping": "9.00"},
    )
    harness.control("POST", "/webhooks/flush")
    harness.settle()
    db.session.expire_all()

    assert sum(li["quantity"] for li in partner_order(harness, NORTH)["line_items"]) == 1
    # the first delivery handled pulled both refunds (all were held until the flush): one
    # edit took both units off, and none of the other deliveries took anything again
    assert len(partner_edits(harness, NORTH)) == 1
    by_key = {c.source_key: c for c in credits()}
    refunds = [r["id"] for r in harness.shop(RETAIL)["orders"][0]["refunds"]]
    assert set(by_key) == {
        f"refund:{refunds[0]}:{NORTH}",
        f"refund:{refunds[1]}:{NORTH}",
        f"refund:{refunds[1]}:{HARBOR}",  # its share of the shipping given back
    }
    # the whole shipping refunded: each partner credited exactly its split share
    assert by_key[f"refund:{refunds[1]}:{NORTH}"].shipping == north_sent.shipping_share
    harbor = by_key[f"refund:{refunds[1]}:{HARBOR}"]
    assert harbor.shipping == harbor_sent.shipping_share and not harbor.applied_at_partner
    assert harbor.lines == 0

    # the first refund's delivery once more, as Shopify may resend it: nothing changes
    harness.control("POST", "/webhooks", {"duplicates": False, "shuffle": False})
    delivery = next(
        d
        for d in harness.control("GET", "/webhooks")["deliveries"]
        if d["topic"] == "refunds/create"
    )
    again = harness.sandbox.webhooks
    again.emit(RETAIL, "refunds/create", delivery["payload"], [delivery["url"]])
    harness.settle()
    db.session.expire_all()
    assert len(credits()) == 3 and len(partner_edits(harness, NORTH)) == 1
    assert [e.kind for e in sync_of(NORTH).events].count("refund") == 2
    assert json.dumps(delivery["payload"])  # the genuine body, not one made up here


def test_an_edit_whose_commit_here_was_lost_is_not_made_twice(harness, monkeypatch):
    """The partner order was edited, then the transaction recording it failed: the next run
    finds the units already gone from the partner line and takes nothing off again."""
    maps = set_up(harness)
    order = place(harness, maps)
    real_record = refunds.record_fact

    def crash(*args, **kwargs):
        raise RuntimeError("the worker died before its commit")

    monkeypatch.setattr(refunds, "record_fact", crash)
    act(harness, order, "refund", {"lines": {north_line(order, maps): 1}, "restock": True})
    assert sum(li["quantity"] for li in partner_order(harness, NORTH)["line_items"]) == 2
    assert credits() == [] and len(partner_edits(harness, NORTH)) == 1

    monkeypatch.setattr(refunds, "record_fact", real_record)
    refunds.apply_after_send(order["id"])
    db.session.expire_all()
    assert sum(li["quantity"] for li in partner_order(harness, NORTH)["line_items"]) == 2
    assert len(partner_edits(harness, NORTH)) == 1  # no second edit
    (credit,) = credits()
    assert credit.applied_at_partner and sync_of(NORTH).lines[0].removed_quantity == 1


def due_marks() -> list[str]:
    return list(db.session.scalars(select(AfterSendDue.order_gid)))


def test_a_refund_whose_task_never_reached_the_queue_is_applied_by_the_sweep(harness, monkeypatch):
    """Redis is unreachable when ``refunds/create`` is processed: the order's changes stay
    due (``after_send_due``), and the sweep applies them an hour on, once."""
    maps = set_up(harness)
    order = place(harness, maps)

    def queue_down(order_gid: str) -> None:
        raise redis.exceptions.ConnectionError("Error 111 connecting to 127.0.0.1:6379")

    with monkeypatch.context() as patch:
        patch.setattr(tasks, "apply_after_send_task", queue_down)
        act(harness, order, "refund", {"lines": {north_line(order, maps): 1}, "restock": True})
    assert sum(li["quantity"] for li in partner_order(harness, NORTH)["line_items"]) == 3
    assert credits() == [] and due_marks() == [order["id"]]
    assert tasks.resume_lost_aftercare.call_local()["refunds_and_edits"] == 0  # not an hour yet

    db.session.execute(update(AfterSendDue).values(due_at=utcnow() - timedelta(hours=2)))
    db.session.commit()
    assert tasks.resume_lost_aftercare.call_local()["refunds_and_edits"] == 1
    harness.settle()
    db.session.expire_all()
    assert sum(li["quantity"] for li in partner_order(harness, NORTH)["line_items"]) == 2
    (credit,) = credits()
    assert credit.applied_at_partner and due_marks() == []
    assert tasks.resume_lost_aftercare.call_local()["refunds_and_edits"] == 0
    assert len(partner_edits(harness, NORTH)) == 1


def test_changes_applied_clear_their_due_mark_and_a_newer_one_survives_an_older_run(harness):
    maps = set_up(harness)
    order = place(harness, maps)
    act(harness, order, "refund", {"lines": {north_line(order, maps): 1}, "restock": True})
    assert due_marks() == [] and len(credits()) == 1

    started = utcnow()
    refunds.mark_after_send_due(order["id"])  # a newer refund's capture, during a run
    db.session.commit()
    refunds.clear_after_send_due(order["id"], started - timedelta(seconds=1))
    assert due_marks() == [order["id"]]
    refunds.apply_after_send(order["id"])
    assert due_marks() == [] and len(credits()) == 1


def import_every_product(harness, partner_domain):
    partner = db.session.scalars(
        select(PartnerStore).where(PartnerStore.shop_domain == partner_domain)
    ).one()
    products = [p["id"] for p in harness.shop(partner_domain)["products"][1:]]
    run_import_job(create_import_job(partner, products, MarkupRule()).id)
    maps = list(
        db.session.scalars(
            select(ProductMap)
            .where(ProductMap.partner_shop_domain == partner_domain)
            .order_by(ProductMap.id)
        )
    )
    give_stock(harness, maps)
    return maps


def test_a_refund_and_an_edit_of_more_lines_than_a_page_reach_the_roaster_whole(harness):
    """OrderChangesAfterSend reads 20 lines of a refund and 20 sales of an edit: the rest
    are read page by page, so every unit taken off at the retail store leaves the roaster's
    order and is credited."""
    set_up(harness)
    maps = import_every_product(harness, NORTH)[:24]
    assert len(maps) == 24
    order = harness.control(
        "POST",
        f"/shops/{RETAIL}/orders",
        {"lines": [{"sku": m.bubbly_sku, "quantity": 2} for m in maps], "shipping": "9.00"},
    )
    harness.settle()
    db.session.expire_all()
    assert sync_of(NORTH).status == OrderStatus.SYNCED
    line_of = {li["sku"]: li["id"] for li in order["line_items"]}

    act(harness, order, "refund", {"lines": {line_of[m.bubbly_sku]: 1 for m in maps[:22]}})
    assert sum(li["quantity"] for li in partner_order(harness, NORTH)["line_items"]) == 48 - 22
    (refund,) = credits()
    assert refund.applied_at_partner
    assert sum(line.removed_quantity for line in sync_of(NORTH).lines) == 22

    act(harness, order, "edit", {"lines": {line_of[m.bubbly_sku]: 0 for m in maps[:21]}})
    assert sum(li["quantity"] for li in partner_order(harness, NORTH)["line_items"]) == 48 - 43
    refund_credit, edit_credit = credits()
    assert edit_credit.kind == CreditKind.EDIT and edit_credit.applied_at_partner
    north = sync_of(NORTH)
    assert sum(line.removed_quantity for line in north.lines) == 43
    owed = sum(line.partner_unit_price * 2 - line.discount for line in north.lines)
    per_unit = {line.bubbly_line_item_id: line.partner_unit_price for line in north.lines}
    taken = sum(per_unit[line_of[m.bubbly_sku]] for m in maps[:22]) + sum(
        per_unit[line_of[m.bubbly_sku]] for m in maps[:21]
    )
    assert refund_credit.lines + edit_credit.lines == taken
    assert owed - taken == sum(
        line.partner_unit_price * (2 - line.removed_quantity) for line in north.lines
    )


def test_a_shipping_refund_whose_webhook_was_lost_is_found_by_the_reconciliation(harness):
    """A refund of shipping alone changes no line, so only the order's shipping shows it:
    the reconciliation's capture sees less shipping than was applied and applies it."""
    harness.sandbox.search_lag_seconds = 0.5
    maps = set_up(harness)
    order = place(harness, maps)
    assert {sync_of(p).status for p in (NORTH, HARBOR)} == {OrderStatus.SYNCED}
    shares = {p: sync_of(p).shipping_share for p in (NORTH, HARBOR)}
    assert sum(shares.values()) == Decimal("9.00")

    delivered = harness.sandbox.webhooks.transport
    harness.sandbox.webhooks.transport = lambda url, headers, body: 503
    act(harness, order, "refund", {"shipping": "9.00"})
    harness.sandbox.webhooks.transport = delivered
    assert credits() == [], "the refund's webhook was lost"

    past_the_search_lag(harness)
    assert reconcile_task.call_local()["retail"]["captured"] >= 1
    harness.settle()
    db.session.expire_all()
    found = {c.partner_shop_domain: c.shipping for c in credits()}
    assert found == shares
    assert {sync_of(p).retail_shipping_applied for p in (NORTH, HARBOR)} == {Decimal("0.00")}

    past_the_search_lag(harness)
    reconcile_task.call_local()
    harness.settle()
    assert len(credits()) == 2, "applied once"


def test_a_refund_the_roaster_refuses_to_the_last_retry_is_flagged_for_a_person(
    harness, monkeypatch
):
    maps = set_up(harness)
    order = place(harness, maps)

    def refused(*args, **kwargs):
        raise UserErrors([{"field": ["id"], "message": "The order is archived"}])

    with monkeypatch.context() as patch:
        patch.setattr(refunds, "edit_partner_order", refused)
        act(harness, order, "refund", {"lines": {north_line(order, maps): 1}, "restock": True})
        assert credits() == [] and due_marks() == [order["id"]], "its retries are due"
        outcome = refunds.apply_after_send(order["id"], last_attempt=True)
    assert outcome["partners"] == {NORTH: "flagged", HARBOR: "nothing new"}
    db.session.expire_all()
    north = sync_of(NORTH)
    assert north.needs_attention and north.events[-1].kind == "needs_attention"
    assert "The order is archived" in north.events[-1].message
    assert due_marks() == [] and credits() == []

    refunds.apply_after_send(order["id"])  # the next change to the order, the store accepting
    db.session.expire_all()
    assert sum(li["quantity"] for li in partner_order(harness, NORTH)["line_items"]) == 2
    (credit,) = credits()
    assert credit.applied_at_partner
