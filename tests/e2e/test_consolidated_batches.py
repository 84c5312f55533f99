"""Against the sandbox: a daily batch of one bag is one partner line, and tracking returns to
each retail order in it (#20, bug 9)."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select, update

from powerpact.extensions import db
from powerpact.models import (
    Cadence,
    OrderStatus,
    OrderSync,
    PartnerLineShare,
    PartnerStore,
    ShipTo,
)
from powerpact.orders import batches
from powerpact.shopify.session_tokens import mint_session_token
from tests.e2e.test_orders import NORTH, RETAIL, set_up

ORDERS = 30


def thirty_orders_of_one_bag_waiting(harness) -> dict:
    """30 retail orders of one North Star bag, waiting for North Star's daily batch (to the
    fulfilment centre); the product maps ``set_up`` chose."""
    maps = set_up(harness)
    db.session.execute(
        update(PartnerStore)
        .where(PartnerStore.shop_domain == NORTH)
        .values(cadence=Cadence.DAILY, ship_to=ShipTo.FULFILMENT_CENTRE)
    )
    db.session.commit()
    for _ in range(ORDERS):
        harness.control(
            "POST",
            f"/shops/{RETAIL}/orders",
            {"lines": [{"sku": maps[NORTH].bubbly_sku, "quantity": 1}], "shipping": "4.00"},
        )
    harness.settle()
    return maps


def daily_batch_of_one_bag(harness) -> tuple[list[OrderSync], dict]:
    """30 retail orders of one North Star bag, sent as North Star's daily batch."""
    thirty_orders_of_one_bag_waiting(harness)
    assert batches.send_now(NORTH) == ORDERS
    db.session.expire_all()
    syncs = list(db.session.scalars(select(OrderSync).order_by(OrderSync.id)))
    assert len(syncs) == ORDERS
    assert {o.status for o in syncs} == {OrderStatus.SYNCED}
    (partner_order,) = harness.shop(NORTH)["orders"]
    return syncs, partner_order


def retail_orders(harness) -> dict[str, dict]:
    return {o["id"]: o for o in harness.shop(RETAIL)["orders"]}


def fulfil(harness, partner_order, number, lines=None) -> None:
    body = {"tracking_number": number, "company": "UPS", "url": f"https://ups.example/{number}"}
    if lines:
        body["lines"] = lines
    harness.control(
        "POST", f"/shops/{NORTH}/orders/{partner_order['id'].rsplit('/', 1)[1]}/fulfil", body
    )
    harness.settle()


def test_thirty_orders_of_one_bag_are_one_line_and_tracking_reaches_all_thirty(harness):
    syncs, partner_order = daily_batch_of_one_bag(harness)

    (line,) = partner_order["line_items"]
    assert line["quantity"] == ORDERS
    assert line["variant_id"] == syncs[0].lines[0].partner_variant_id
    assert Decimal(partner_order["total"]) == sum((o.total for o in syncs), Decimal(0))
    shares = list(db.session.scalars(select(PartnerLineShare)))
    assert sorted(s.order_sync_id for s in shares) == [o.id for o in syncs]
    assert {s.quantity for s in shares} == {1}

    fulfil(harness, partner_order, "1ZBATCH")
    db.session.expire_all()
    by_id = retail_orders(harness)
    for order in syncs:
        retail = by_id[order.bubbly_order_id]
        assert retail["fulfillment_status"] == "FULFILLED", order.bubbly_order_name
        assert [f["tracking"]["number"] for f in retail["fulfillments"]] == ["1ZBATCH"]
        assert db.session.get(OrderSync, order.id).status == OrderStatus.FULFILLED


def test_a_partial_shipment_of_the_line_fulfils_the_oldest_retail_orders_first(harness):
    syncs, partner_order = daily_batch_of_one_bag(harness)
    (line,) = partner_order["line_items"]

    fulfil(harness, partner_order, "1ZFIRST", {line["id"]: 10})
    db.session.expire_all()
    by_id = retail_orders(harness)
    shipped = [o for o in syncs if by_id[o.bubbly_order_id]["fulfillments"]]
    assert shipped == syncs[:10]
    assert {db.session.get(OrderSync, o.id).status for o in syncs[10:]} == {OrderStatus.SYNCED}

    fulfil(harness, partner_order, "1ZREST")
    db.session.expire_all()
    by_id = retail_orders(harness)
    numbers = [
        [f["tracking"]["number"] for f in by_id[o.bubbly_order_id]["fulfillments"]] for o in syncs
    ]
    assert numbers == [["1ZFIRST"]] * 10 + [["1ZREST"]] * (ORDERS - 10)
    assert {db.session.get(OrderSync, o.id).status for o in syncs} == {OrderStatus.FULFILLED}


def test_the_partner_and_the_desk_still_list_each_retail_order(harness):
    syncs, partner_order = daily_batch_of_one_bag(harness)
    settings = harness.app.config["POWERPACT"]
    for shop, path in ((NORTH, "/partner/orders"), (RETAIL, "/admin/orders")):
        shown = ""
        token = mint_session_token(
            shop, api_key=settings.shopify_api_key, secret=settings.shopify_api_secret
        )
        for page in (1, 2):
            response = harness.client.get(
                f"{path}?page={page}",
                headers={"Authorization": f"Bearer {token}", "HX-Request": "true"},
            )
            assert response.status_code == 200
            shown += response.get_data(as_text=True)
        for order in syncs:
            assert order.bubbly_order_name in shown, (shop, order.bubbly_order_name)
        assert shown.count(partner_order["name"]) >= 1


def test_the_weekly_master_raises_the_line_of_a_bag_it_holds_and_tracking_reaches_both(harness):
    maps = set_up(harness)
    db.session.execute(
        update(PartnerStore)
        .where(PartnerStore.shop_domain == NORTH)
        .values(cadence=Cadence.WEEKLY, ship_to=ShipTo.FULFILMENT_CENTRE)
    )
    db.session.commit()
    for quantity in (1, 2):
        harness.control(
            "POST",
            f"/shops/{RETAIL}/orders",
            {"lines": [{"sku": maps[NORTH].bubbly_sku, "quantity": quantity}], "shipping": "4"},
        )
        harness.settle()
        assert batches.send_weekly(NORTH) == 1
    (master,) = harness.shop(NORTH)["orders"]
    (line,) = master["line_items"]
    assert line["quantity"] == 3

    fulfil(harness, master, "1ZWEEK")
    db.session.expire_all()
    syncs = list(db.session.scalars(select(OrderSync).order_by(OrderSync.id)))
    by_id = retail_orders(harness)
    assert [by_id[o.bubbly_order_id]["fulfillment_status"] for o in syncs] == ["FULFILLED"] * 2
    assert {o.status for o in syncs} == {OrderStatus.FULFILLED}
