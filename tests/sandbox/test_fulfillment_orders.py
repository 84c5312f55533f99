"""Fulfillment orders as Shopify makes them: one per location, held, scheduled, incomplete."""

import json

import pytest

from powerpact.sandbox.fixtures import RETAIL
from tests.sandbox.helpers import subscribe, topics
from tests.sandbox.test_orders import FULFILL

FULFILLMENT_ORDERS = """query($id: ID!) { order(id: $id) { fulfillmentOrders(first: 5) { nodes {
  id status assignedLocation { name location { id } } fulfillmentHolds { id reason handle }
  lineItems(first: 10) { nodes { id remainingQuantity lineItem { sku } } } } } } }"""
HOLD = """mutation($id: ID!, $hold: FulfillmentOrderHoldInput!) {
  fulfillmentOrderHold(id: $id, fulfillmentHold: $hold) {
    fulfillmentHold { id handle } fulfillmentOrder { status } userErrors { message } } }"""
RELEASE = """mutation($id: ID!, $holds: [ID!]) {
  fulfillmentOrderReleaseHold(id: $id, holdIds: $holds) {
    fulfillmentOrder { status } userErrors { message } } }"""


@pytest.fixture
def two_locations(sandbox_app, sandbox):
    """The retail store gains a shop floor that alone stocks the pour-over kit."""
    client = sandbox_app.test_client()
    floor = client.post(f"/_sandbox/shops/{RETAIL}/locations", json={"name": "Shop floor"})
    assert floor.status_code == 201
    floor_id = floor.get_json()["id"]
    shop = sandbox.shop(RETAIL)
    others = [loc["id"] for loc in shop.locations if loc["id"] not in (shop.location_id, floor_id)]
    stock = [("BUB-KIT", shop.location_id, 0), ("BUB-KIT", floor_id, 30)]
    stock += [(sku, other, 0) for other in others for sku in ("BUB-KIT", "BUB-MUG")]
    for sku, location, available in stock:
        stocked = client.post(
            f"/_sandbox/shops/{RETAIL}/stock",
            json={"sku": sku, "available": available, "location_id": location},
        )
        assert stocked.status_code == 200
    return shop.location_id, floor_id


def place_mug_and_kit(sandbox_app):
    body = {"lines": [{"sku": "BUB-MUG", "quantity": 2}, {"sku": "BUB-KIT", "quantity": 1}]}
    response = sandbox_app.test_client().post(f"/_sandbox/shops/{RETAIL}/orders", json=body)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def fulfillment_orders(data, token, order):
    return data(token, FULFILLMENT_ORDERS, {"id": order["id"]}, RETAIL)["order"][
        "fulfillmentOrders"
    ]["nodes"]


def fulfil(data, token, *fulfillment_order_ids, number="1Z1"):
    groups = [{"fulfillmentOrderId": fo} for fo in fulfillment_order_ids]
    return data(
        token,
        FULFILL,
        {
            "fulfillment": {
                "lineItemsByFulfillmentOrder": groups,
                "trackingInfo": {"number": number},
            }
        },
        RETAIL,
    )["fulfillmentCreate"]


def test_an_order_gets_one_fulfillment_order_per_location_of_its_lines(
    sandbox_app, sandbox, data, retail_token, two_locations
):
    warehouse, floor = two_locations
    order = place_mug_and_kit(sandbox_app)
    nodes = fulfillment_orders(data, retail_token, order)
    assert [n["assignedLocation"]["location"]["id"] for n in nodes] == [warehouse, floor]
    assert [[i["lineItem"]["sku"] for i in n["lineItems"]["nodes"]] for n in nodes] == [
        ["BUB-MUG"],
        ["BUB-KIT"],
    ]
    assert [n["status"] for n in nodes] == ["OPEN", "OPEN"]
    shop = sandbox.shop(RETAIL)
    kit = sandbox.find_variant(shop, sku="BUB-KIT")
    assert shop.levels[(kit.inventory_item_id, floor)] == 29, "stock leaves where it ships from"
    assert shop.levels[(kit.inventory_item_id, warehouse)] == 0


def test_one_location_is_routed_the_whole_order_when_it_stocks_every_line(
    sandbox_app, data, retail_token, two_locations
):
    warehouse, _ = two_locations
    response = sandbox_app.test_client().post(
        f"/_sandbox/shops/{RETAIL}/orders", json={"lines": [{"sku": "BUB-MUG", "quantity": 1}]}
    )
    (node,) = fulfillment_orders(data, retail_token, response.get_json())
    assert node["assignedLocation"]["location"]["id"] == warehouse


def test_fulfillment_create_takes_the_fulfillment_orders_of_one_location(
    sandbox_app, sandbox, data, retail_token, two_locations, sent
):
    _, floor = two_locations
    subscribe(data, retail_token, "FULFILLMENTS_CREATE", RETAIL)
    order = place_mug_and_kit(sandbox_app)
    mug, kit = (n["id"] for n in fulfillment_orders(data, retail_token, order))
    refused = fulfil(data, retail_token, mug, kit)
    assert refused["fulfillment"] is None
    assert (
        "All fulfillment orders must be assigned to a single location"
        in (refused["userErrors"][0]["message"])
    )
    assert fulfil(data, retail_token, kit, number="1Z-FLOOR")["userErrors"] == []
    assert fulfil(data, retail_token, mug, number="1Z-WH")["userErrors"] == []
    assert [n["status"] for n in fulfillment_orders(data, retail_token, order)] == [
        "CLOSED",
        "CLOSED",
    ]
    assert topics(sandbox, sent) == ["fulfillments/create", "fulfillments/create"]
    floor_payload = json.loads(sent[0][2])
    assert floor_payload["tracking_number"] == "1Z-FLOOR"
    assert floor_payload["location_id"] == int(floor.rsplit("/", 1)[1])


def test_a_held_fulfillment_order_refuses_fulfilment_until_its_last_hold_is_released(
    sandbox_app, sandbox, data, retail_token, sent
):
    subscribe(data, retail_token, "FULFILLMENT_ORDERS_PLACED_ON_HOLD", RETAIL)
    subscribe(data, retail_token, "FULFILLMENT_ORDERS_HOLD_RELEASED", RETAIL)
    order = place_mug_and_kit(sandbox_app)
    (node,) = fulfillment_orders(data, retail_token, order)
    held = data(
        retail_token,
        HOLD,
        {"id": node["id"], "hold": {"reason": "INCORRECT_ADDRESS", "handle": "address"}},
        RETAIL,
    )["fulfillmentOrderHold"]
    assert held["userErrors"] == [] and held["fulfillmentOrder"]["status"] == "ON_HOLD"
    client = sandbox_app.test_client()
    url = f"/_sandbox/shops/{RETAIL}/fulfillment_orders/{node['id']}"
    assert client.post(
        f"{url}/hold", json={"reason": "OTHER", "handle": "address"}
    ).status_code == (400), "one hold per handle"
    second = client.post(f"{url}/hold", json={"reason": "awaiting_payment", "handle": "pay"})
    assert second.get_json()["fulfillment_orders"][0]["status"] == "ON_HOLD"

    refused = fulfil(data, retail_token, node["id"])
    assert refused["fulfillment"] is None
    assert "unfulfillable status= on_hold" in refused["userErrors"][0]["message"]
    order_url = f"/_sandbox/shops/{RETAIL}/orders/{order['id']}/fulfil"
    assert client.post(order_url, json={"tracking_number": "1Z"}).status_code == 400

    released = data(
        retail_token, RELEASE, {"id": node["id"], "holds": [held["fulfillmentHold"]["id"]]}, RETAIL
    )["fulfillmentOrderReleaseHold"]
    assert released["fulfillmentOrder"]["status"] == "ON_HOLD", "another hold remains"
    assert client.post(f"{url}/release").get_json()["fulfillment_orders"][0]["status"] == "OPEN"
    assert topics(sandbox, sent) == [
        "fulfillment_orders/placed_on_hold",
        "fulfillment_orders/hold_released",
    ]
    placed, release = (json.loads(body) for _, _, body in sent)
    assert placed["fulfillment_order"]["id"] == node["id"]
    assert placed["created_fulfillment_hold"]["reason"] == "incorrect_address"
    assert release == {"fulfillment_order": {"id": node["id"], "status": "open"}}
    assert fulfil(data, retail_token, node["id"])["userErrors"] == []


def test_a_scheduled_fulfillment_order_waits_for_its_time(
    sandbox_app, sandbox, data, retail_token, sent
):
    subscribe(data, retail_token, "FULFILLMENT_ORDERS_SCHEDULED_FULFILLMENT_ORDER_READY", RETAIL)
    order = place_mug_and_kit(sandbox_app)
    (node,) = fulfillment_orders(data, retail_token, order)
    client = sandbox_app.test_client()
    url = f"/_sandbox/shops/{RETAIL}/fulfillment_orders/{node['id']}"
    client.post(f"{url}/schedule", json={"fulfill_at": "2030-01-01T00:00:00Z"})
    assert fulfillment_orders(data, retail_token, order)[0]["status"] == "SCHEDULED"
    assert "status= scheduled" in fulfil(data, retail_token, node["id"])["userErrors"][0]["message"]
    client.post(f"{url}/ready")
    assert topics(sandbox, sent) == ["fulfillment_orders/scheduled_fulfillment_order_ready"]
    assert fulfil(data, retail_token, node["id"])["userErrors"] == []


def test_an_incomplete_fulfillment_order_ships_once_moved(
    sandbox_app, sandbox, data, retail_token, sent, two_locations
):
    _, floor = two_locations
    subscribe(data, retail_token, "FULFILLMENT_ORDERS_MOVED", RETAIL)
    response = sandbox_app.test_client().post(
        f"/_sandbox/shops/{RETAIL}/orders", json={"lines": [{"sku": "BUB-MUG", "quantity": 1}]}
    )
    order = response.get_json()
    (node,) = fulfillment_orders(data, retail_token, order)
    client = sandbox_app.test_client()
    url = f"/_sandbox/shops/{RETAIL}/fulfillment_orders/{node['id']}"
    client.post(f"{url}/incomplete")
    assert fulfillment_orders(data, retail_token, order)[0]["status"] == "INCOMPLETE"
    assert (
        "status= incomplete" in fulfil(data, retail_token, node["id"])["userErrors"][0]["message"]
    )
    moved = client.post(f"{url}/move", json={"location_id": floor}).get_json()
    assert moved["fulfillment_orders"][0] == {
        "id": node["id"],
        "status": "OPEN",
        "location_id": floor,
        "line_items": [order["line_items"][0]["id"]],
        "holds": [],
    }
    assert topics(sandbox, sent) == ["fulfillment_orders/moved"]
    assert json.loads(sent[0][2])["original_fulfillment_order"]["id"] == node["id"]
    assert fulfil(data, retail_token, node["id"])["userErrors"] == []


def test_the_control_api_ships_what_remains_once_per_location_and_skips_a_held_one(
    sandbox_app, sandbox, data, retail_token, two_locations
):
    warehouse, floor = two_locations
    order = place_mug_and_kit(sandbox_app)
    mug, kit = (n["id"] for n in fulfillment_orders(data, retail_token, order))
    client = sandbox_app.test_client()
    client.post(f"/_sandbox/shops/{RETAIL}/fulfillment_orders/{kit}/hold", json={})
    url = f"/_sandbox/shops/{RETAIL}/orders/{order['id']}/fulfil"
    shipped = client.post(url, json={"tracking_number": "1Z-A"}).get_json()
    assert [f["location_id"] for f in shipped["fulfillments"]] == [warehouse]
    assert client.post(url, json={"tracking_number": "1Z-B"}).status_code == 400, "held"
    client.post(f"/_sandbox/shops/{RETAIL}/fulfillment_orders/{kit}/release")
    done = client.post(url, json={"tracking_number": "1Z-B"}).get_json()
    assert [f["location_id"] for f in done["fulfillments"]] == [warehouse, floor]
    assert done["fulfillment_status"] == "FULFILLED"
    assert client.post(f"/_sandbox/shops/{RETAIL}/fulfillment_orders/{mug}/hold").status_code == (
        400
    ), "a closed fulfillment order cannot be held"
