"""A partner's tracking link reaches the retail order only if it is an http(s) address.

The retail order's tracking link is shown to the customer and to the retail store's
staff; a partner could type ``javascript:`` or ``data:`` there. Such a link is dropped,
the number and carrier still go through, and the order's timeline says why.
"""

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from powerpact.models import OrderSync
from powerpact.orders.aftercare import copyable_tracking
from powerpact.orders.tasks import reconcile_task
from tests.orders.test_flow import ALICE, RETAIL, RetailFulfilment, world  # noqa: F401
from tests.webhook_bodies import order_body

HOSTILE = [
    "javascript:alert(1)",
    "JavaScript:alert(document.cookie)",
    " javascript:alert(1)",
    "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
    "vbscript:msgbox(1)",
    "ftp://files.example/1Z1",
    "https:///no-host",
    "//ups.example/1Z1",
]


@pytest.fixture
def sent(world, send_webhook, shopify, db_session):  # noqa: F811
    _, _, pm = world
    send_webhook("orders/paid", order_body(9001))
    (order,) = db_session.scalars(select(OrderSync)).all()
    retail = RetailFulfilment(shopify, order.bubbly_order_id, [order.lines[0].bubbly_line_item_id])
    return order, retail, pm


def fulfilment(order, pm, url, *, fid=1, number="1Z1"):
    return {
        "id": fid,
        "order_id": int(order.partner_order_id.rsplit("/", 1)[1]),
        "tracking_company": "UPS",
        "tracking_number": number,
        "tracking_url": url,
        "line_items": [{"variant_id": int(pm.partner_variant_id.rsplit("/", 1)[1]), "quantity": 1}],
    }


def timeline(db_session, order):
    db_session.expire_all()
    return [(e.kind, e.message, e.details) for e in order.events]


@pytest.mark.parametrize("url", HOSTILE)
def test_a_link_that_is_not_http_is_dropped_with_a_note(sent, send_webhook, db_session, url):
    order, retail, pm = sent
    send_webhook("fulfillments/create", fulfilment(order, pm, url), shop=ALICE)
    assert retail.created[0]["trackingInfo"] == {"company": "UPS", "number": "1Z1"}
    events = timeline(db_session, order)
    notes = [message for kind, message, _ in events if kind == "tracking_link_dropped"]
    assert len(notes) == 1 and "only http and https links are copied" in notes[0]
    assert url.strip() not in repr(events), "the hostile link is kept nowhere"


@pytest.mark.parametrize("url", ["https://ups.example/track?n=1Z1", "http://carrier.example/1Z1"])
def test_an_http_or_https_link_is_copied(sent, send_webhook, db_session, url):
    order, retail, pm = sent
    send_webhook("fulfillments/create", fulfilment(order, pm, url), shop=ALICE)
    assert retail.created[0]["trackingInfo"]["url"] == url
    assert "tracking_link_dropped" not in [kind for kind, _, _ in timeline(db_session, order)]


def test_a_hostile_link_in_a_tracking_update_is_dropped_once(sent, send_webhook, db_session):
    order, retail, pm = sent
    good = fulfilment(order, pm, "https://ups.example/1Z1")
    send_webhook("fulfillments/create", good, shop=ALICE)
    bad = fulfilment(order, pm, "javascript:alert(1)", number="1Z1-NEW")
    send_webhook("fulfillments/update", bad, shop=ALICE)
    send_webhook("fulfillments/update", bad, shop=ALICE)  # Shopify sends it again
    assert retail.tracking_updates[0]["trackingInfoInput"] == {
        "company": "UPS",
        "number": "1Z1-NEW",
    }
    kinds = [kind for kind, _, _ in timeline(db_session, order)]
    assert kinds.count("tracking_link_dropped") == 1


def test_the_reconciliation_drops_a_hostile_link_too(sent, shopify, db_session):
    """A fulfilment whose webhook was lost is read from the partner store: same check."""
    order, retail, pm = sent
    updated = datetime.now(UTC).isoformat()
    listed = {
        "id": order.partner_order_id,
        "updatedAt": updated,
        "displayFulfillmentStatus": "FULFILLED",
    }
    empty = {"nodes": [], "pageInfo": {"hasNextPage": False, "endCursor": None}}
    shopify.on(RETAIL, "OrdersUpdatedSince", lambda v: {"orders": empty})
    shopify.on(
        ALICE,
        "PartnerOrdersUpdatedSince",
        lambda v: {"orders": {**empty, "nodes": [listed]}},
    )
    shipped = {
        "id": "gid://shopify/Fulfillment/77",
        "trackingInfo": [{"number": "1Z7", "company": "UPS", "url": "javascript:alert(1)"}],
        "fulfillmentLineItems": {
            "nodes": [{"quantity": 1, "lineItem": {"variant": {"id": pm.partner_variant_id}}}]
        },
    }
    shopify.on(
        ALICE,
        "PartnerOrderFulfillments",
        lambda v: {"order": {"id": v["id"], "fulfillments": [shipped]}},
    )
    assert reconcile_task.call_local()[ALICE]["applied"] == 1
    assert retail.created[0]["trackingInfo"] == {"company": "UPS", "number": "1Z7"}
    assert "tracking_link_dropped" in [kind for kind, _, _ in timeline(db_session, order)]


def test_copyable_tracking_keeps_everything_but_a_bad_link():
    good = {"company": "UPS", "number": "1Z1", "url": "https://ups.example/1Z1"}
    assert copyable_tracking(good) == (good, None)
    assert copyable_tracking({"number": "1Z1", "url": "javascript:alert(1)"}) == (
        {"number": "1Z1"},
        "javascript",
    )
    assert copyable_tracking({"number": "1Z1"}) == ({"number": "1Z1"}, None)
