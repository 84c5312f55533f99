"""Each topic's body, as the sandbox sends it (Shopify's sample payloads), has its topic's
shape and no other topic's (``powerpact.shopify.payload_shapes``), bodies of one resource
apart: their handlers read only the id and pull the rest from Shopify."""

from __future__ import annotations

import json

import pytest

from powerpact.sandbox.fixtures import RETAIL
from powerpact.shopify.topics import (
    TOPICS,
    Audience,
    shape_problem,
    shop_topics,
    subscription_topic,
    topics_for,
)
from tests.sandbox.helpers import SHOP, subscribe, topics

# Topics whose bodies are one resource: each may pass for the others.
ONE_RESOURCE = [
    {"orders/create", "orders/paid", "orders/updated", "orders/cancelled"},
    {"fulfillments/create", "fulfillments/update"},
    {"fulfillment_orders/hold_released", "fulfillment_orders/scheduled_fulfillment_order_ready"},
]


def same_resource(one: str, other: str) -> bool:
    return one == other or any({one, other} <= group for group in ONE_RESOURCE)


def post(sandbox_app, path: str, body: dict | None = None, method: str = "post"):
    response = getattr(sandbox_app.test_client(), method)(f"/_sandbox{path}", json=body or {})
    assert response.status_code in (200, 201), response.get_json()
    return response.get_json()


@pytest.fixture
def bodies(sandbox_app, sandbox, data, token, retail_token, sent):
    """One genuine body per topic PowerPact subscribes to, as the sandbox sent it."""
    for topic in shop_topics(is_retail=True):
        subscribe(data, retail_token, subscription_topic(topic), RETAIL)
    for topic in shop_topics(is_retail=False):
        subscribe(data, token, subscription_topic(topic), SHOP)
    client = sandbox_app.test_client()
    floor = post(sandbox_app, f"/shops/{RETAIL}/locations", {"name": "Shop floor"})["id"]
    order = post(sandbox_app, f"/shops/{RETAIL}/orders", {"lines": [{"sku": "BUB-MUG"}]})
    first, second = (
        post(sandbox_app, f"/shops/{RETAIL}/orders", {"lines": [{"sku": "BUB-MUG"}]})
        for _ in range(2)
    )
    post(sandbox_app, f"/shops/{RETAIL}/orders/{order['id']}/risk", {"risk": "ACCEPT"})
    fo = lambda o: o["fulfillment_orders"][0]["id"]  # noqa: E731
    hold = post(sandbox_app, f"/shops/{RETAIL}/fulfillment_orders/{fo(order)}/hold")
    post(sandbox_app, f"/shops/{RETAIL}/fulfillment_orders/{fo(order)}/release", hold)
    post(
        sandbox_app,
        f"/shops/{RETAIL}/fulfillment_orders/{fo(first)}/schedule",
        {"fulfill_at": "2030-01-01T00:00:00Z"},
    )
    post(sandbox_app, f"/shops/{RETAIL}/fulfillment_orders/{fo(first)}/ready")
    post(
        sandbox_app, f"/shops/{RETAIL}/fulfillment_orders/{fo(second)}/move", {"location_id": floor}
    )
    post(sandbox_app, f"/shops/{RETAIL}/orders/{second['id']}/cancel", {"reason": "CUSTOMER"})
    two = post(
        sandbox_app, f"/shops/{RETAIL}/orders", {"lines": [{"sku": "BUB-MUG", "quantity": 3}]}
    )
    line = two["line_items"][0]["id"]
    post(sandbox_app, f"/shops/{RETAIL}/orders/{two['id']}/refund", {"lines": {line: 1}})
    post(sandbox_app, f"/shops/{RETAIL}/orders/{two['id']}/edit", {"lines": {line: 1}})
    product = next(iter(sandbox.shop(SHOP).products))
    post(sandbox_app, f"/shops/{SHOP}/products/{product}", {"title": "Renamed"})
    sku = sandbox.shop(SHOP).products[product].variants[0].sku
    partner_order = post(sandbox_app, f"/shops/{SHOP}/orders", {"lines": [{"sku": sku}]})["id"]
    post(sandbox_app, f"/shops/{SHOP}/orders/{partner_order}/fulfil", {"tracking_number": "1Z"})
    post(sandbox_app, f"/shops/{SHOP}/orders/{partner_order}/tracking", {"tracking_number": "2"})
    post(sandbox_app, f"/shops/{SHOP}/stock", {"sku": sku, "available": 3})
    post(sandbox_app, f"/shops/{SHOP}/products/{product}", method="delete")
    post(sandbox_app, f"/shops/{SHOP}/scopes", {"scopes": ["read_products"]})
    for topic in topics_for(Audience.COMPLIANCE):
        extra = {
            "customers/data_request": {
                "customer": {"id": 1, "email": "ada@example.com", "phone": None},
                "orders_requested": [1],
                "data_request": {"id": 9},
            },
            "customers/redact": {
                "customer": {"id": 1, "email": "ada@example.com", "phone": None},
                "orders_to_redact": [1],
            },
        }.get(topic, {})
        assert client.post(f"/_sandbox/shops/{SHOP}/compliance/{topic}", json=extra).status_code
    post(sandbox_app, f"/shops/{SHOP}/uninstall")
    topics(sandbox, sent)  # waits for every delivery
    collected = {}
    for _, headers, body in sent:
        collected.setdefault(headers["X-Shopify-Topic"], json.loads(body))
    return collected


def test_each_genuine_body_has_its_topics_shape_and_no_other(bodies):
    subscribed = set(TOPICS)
    assert set(bodies) >= subscribed, f"no body for {subscribed - set(bodies)}"
    for topic in sorted(subscribed):
        assert shape_problem(topic, bodies[topic]) is None, topic
        for other in sorted(subscribed):
            if not same_resource(topic, other):
                assert shape_problem(other, bodies[topic]), f"{topic} passes for {other}"
