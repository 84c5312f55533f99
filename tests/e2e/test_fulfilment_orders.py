"""Against the sandbox: tracking reaches a retail order split over locations, or held back."""

import pytest
from sqlalchemy import select

from powerpact.extensions import db
from powerpact.models import OrderStatus, OrderSync, ProductMap, WaitingTracking
from tests.e2e.test_orders import NORTH, RETAIL, set_up


def north_maps(harness):
    """Both imported variants of North Star's first product, each with stock at the partner."""
    set_up(harness)
    maps = list(
        db.session.scalars(
            select(ProductMap)
            .where(ProductMap.partner_shop_domain == NORTH)
            .order_by(ProductMap.id)
        )
    )
    assert len(maps) >= 2
    for m in maps[:2]:
        harness.control(
            "POST", f"/shops/{NORTH}/stock", {"variant_id": m.partner_variant_id, "available": 50}
        )
    harness.settle()
    return maps[:2]


def place(harness, lines):
    order = harness.control("POST", f"/shops/{RETAIL}/orders", {"lines": lines, "shipping": "5"})
    harness.settle()
    (sync,) = db.session.scalars(select(OrderSync))
    assert sync.status == OrderStatus.SYNCED, (sync.status, sync.hold_reason, sync.error_message)
    return order, sync


def north_ships(harness, number):
    (partner_order,) = harness.shop(NORTH)["orders"]
    harness.control(
        "POST",
        f"/shops/{NORTH}/orders/{partner_order['id'].rsplit('/', 1)[1]}/fulfil",
        {"tracking_number": number, "company": "UPS", "url": f"https://ups.example/{number}"},
    )
    harness.settle()
    return partner_order


def retail_order(harness, order_id):
    return next(o for o in harness.shop(RETAIL)["orders"] if o["id"] == order_id)


def test_tracking_for_lines_at_two_retail_locations_becomes_one_fulfilment_per_location(harness):
    first, second = north_maps(harness)
    floor = harness.control("POST", f"/shops/{RETAIL}/locations", {"name": "Bubbly shop floor"})
    warehouse = harness.shop(RETAIL)["location_id"]
    for location, available in ((warehouse, 0), (floor["id"], 20)):
        harness.control(
            "POST",
            f"/shops/{RETAIL}/stock",
            {
                "variant_id": second.bubbly_variant_id,
                "available": available,
                "location_id": location,
                "notify": False,
            },
        )
    order, sync = place(
        harness,
        [{"sku": first.bubbly_sku, "quantity": 2}, {"sku": second.bubbly_sku, "quantity": 1}],
    )
    routed = retail_order(harness, order["id"])["fulfillment_orders"]
    assert [fo["location_id"] for fo in routed] == [warehouse, floor["id"]]

    north_ships(harness, "1Z-BOTH")

    shipped = retail_order(harness, order["id"])
    assert sorted(f["location_id"] for f in shipped["fulfillments"]) == sorted(
        [warehouse, floor["id"]]
    )
    assert {f["tracking"]["number"] for f in shipped["fulfillments"]} == {"1Z-BOTH"}
    assert shipped["fulfillment_status"] == "FULFILLED"
    db.session.expire_all()
    assert db.session.get(OrderSync, sync.id).status == OrderStatus.FULFILLED


@pytest.mark.parametrize(
    ("stop", "stop_body", "resume", "words"),
    [
        ("hold", {"reason": "INCORRECT_ADDRESS"}, "release", "is on hold"),
        ("schedule", {"fulfill_at": "2030-01-01T00:00:00Z"}, "ready", "is scheduled for later"),
    ],
)
def test_tracking_for_a_held_fulfilment_waits_and_arrives_once_it_is_released(
    harness, stop, stop_body, resume, words
):
    first, _ = north_maps(harness)
    order, sync = place(harness, [{"sku": first.bubbly_sku, "quantity": 1}])
    (fulfillment_order,) = retail_order(harness, order["id"])["fulfillment_orders"]
    url = f"/shops/{RETAIL}/fulfillment_orders/{fulfillment_order['id'].rsplit('/', 1)[1]}"
    harness.control("POST", f"{url}/{stop}", stop_body)

    partner_order = north_ships(harness, "1Z-HELD")

    assert retail_order(harness, order["id"])["fulfillments"] == []
    db.session.expire_all()
    sync = db.session.get(OrderSync, sync.id)
    assert sync.status == OrderStatus.SYNCED
    waits = [e.message for e in sync.events if e.kind == "tracking_waits"]
    assert waits == [f"Tracking waits: the retail order's fulfilment at Bubbly warehouse {words}."]
    assert db.session.scalars(select(WaitingTracking)).one().tracking["number"] == "1Z-HELD"

    harness.control(
        "POST",
        f"/shops/{NORTH}/orders/{partner_order['id'].rsplit('/', 1)[1]}/tracking",
        {"tracking_number": "1Z-NEWER"},
    )
    harness.settle()
    harness.control("POST", f"{url}/{resume}")
    harness.settle()

    (copied,) = retail_order(harness, order["id"])["fulfillments"]
    assert copied["tracking"]["number"] == "1Z-NEWER"
    db.session.expire_all()
    assert db.session.get(OrderSync, sync.id).status == OrderStatus.FULFILLED
    assert db.session.scalars(select(WaitingTracking)).all() == []
