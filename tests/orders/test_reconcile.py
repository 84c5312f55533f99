"""The reconciliation: what Shopify lists as updated and PowerPact has not captured."""

from datetime import UTC, datetime, timedelta

from powerpact.models import Reconciliation, RetailOrderSeen
from powerpact.orders.capture import mark_seen
from powerpact.orders.reconcile import RETAIL_ORDERS, reconcile_retail_orders
from powerpact.orders.split import InvalidOrder
from powerpact.shopify.clients import client_for
from tests.factories import RetailStoreFactory

RETAIL = "bubbly-retail.myshopify.com"
T0 = datetime(2026, 12, 6, 10, 0, tzinfo=UTC)


def node(number: int, at: datetime) -> dict:
    return {"id": f"gid://shopify/Order/{number}", "updatedAt": at.isoformat()}


def listing(shopify, pages: list[list[dict]]):
    """``OrdersUpdatedSince`` answering ``pages``, one per call with a cursor."""
    queries = []

    def answer(variables):
        queries.append(variables)
        index = int(variables.get("after") or 0)
        return {
            "orders": {
                "nodes": pages[index],
                "pageInfo": {"hasNextPage": index + 1 < len(pages), "endCursor": str(index + 1)},
            }
        }

    shopify.on(RETAIL, "OrdersUpdatedSince", answer)
    return queries


def test_unseen_and_newer_orders_are_captured_across_pages_and_the_watermark_moves(
    shopify, db_session
):
    store = RetailStoreFactory()
    mark_seen("gid://shopify/Order/1", T0)  # captured at its current state long ago
    seen = db_session.get(RetailOrderSeen, "gid://shopify/Order/1")
    seen.captured_at = T0 + timedelta(minutes=1)
    mark_seen("gid://shopify/Order/2", T0)
    db_session.get(RetailOrderSeen, "gid://shopify/Order/2").captured_at = T0 + timedelta(hours=1)
    queries = listing(
        shopify,
        [
            [node(1, T0), node(2, T0 + timedelta(minutes=3))],
            [node(3, T0 + timedelta(minutes=4))],
        ],
    )
    captured = []
    result = reconcile_retail_orders(client_for(store), captured.append)
    assert captured == ["gid://shopify/Order/2", "gid://shopify/Order/3"]
    assert result["listed"] == 3 and result["captured"] == 2
    assert queries[0]["query"].startswith("updated_at:>'")
    row = db_session.get(Reconciliation, RETAIL_ORDERS)
    assert row.watermark == T0 + timedelta(minutes=4)

    queries.clear()
    reconcile_retail_orders(client_for(store), captured.append)
    assert queries[0]["query"] == "updated_at:>'2026-12-06T09:59:00Z'", "watermark less 5 min"


def test_a_capture_within_seconds_of_the_change_is_confirmed_once_more(shopify, db_session):
    """Shopify's updatedAt has whole seconds: a second change in that second looks the same."""
    store = RetailStoreFactory()
    mark_seen("gid://shopify/Order/5", T0)
    db_session.get(RetailOrderSeen, "gid://shopify/Order/5").captured_at = T0 + timedelta(seconds=1)
    listing(shopify, [[node(5, T0)]])
    captured = []
    reconcile_retail_orders(client_for(store), captured.append)
    assert captured == ["gid://shopify/Order/5"]


def test_a_malformed_order_is_recorded_and_the_run_goes_on(shopify, db_session):
    store = RetailStoreFactory()
    listing(
        shopify,
        [[{"id": "gid://shopify/Order/7", "updatedAt": "yesterday"}, node(8, T0)]],
    )

    def capture(order_gid):
        if order_gid.endswith("/8"):
            raise InvalidOrder("order.lineItems is not a list ({})")

    result = reconcile_retail_orders(client_for(store), capture)
    assert result["captured"] == 0
    assert [e["order"] for e in result["errors"]] == [
        "gid://shopify/Order/7",
        "gid://shopify/Order/8",
    ]
    assert "order.updatedAt is not a date and time" in result["errors"][0]["error"]
    row = db_session.get(Reconciliation, RETAIL_ORDERS)
    assert row.last_result == result
