"""Compliance redaction removes the customer for real: after ``customers/redact`` or
``shop/redact`` is processed, every table is dumped and searched for the customer's
email, name, address and phone.

The customer reaches PowerPact by several roads, all taken here: the retail
order's webhooks (the whole order, customer and addresses), the order pulled
over GraphQL into each partner's OrderSync, a partner's fulfilment webhook (its
destination address), an earlier ``customers/data_request`` (payload and the
export kept as its result) and the redact request itself. Another customer's
order goes through the same roads and must survive, so a wipe of everything
would not pass.

The customer's shipment leaves traces too: the tracking numbers and link a partner
sent back (on the order's timeline, and kept while a held retail fulfillment order
waits), a refusal of Shopify's that echoes her address, and the partner order PowerPact
created with her name, address and phone, which is erased on the partner's store with
``orderUpdate`` (https://shopify.dev/docs/api/admin-graphql/latest/mutations/orderUpdate).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select

from powerpact.models import (
    Cadence,
    DeliveryStatus,
    OrderStatus,
    OrderSync,
    OrderSyncEvent,
    WaitingTracking,
    WebhookDelivery,
)
from powerpact.shopify.webhooks import delivery_by_webhook_id
from tests.factories import ProductMapFactory
from tests.security.dumps import database_dump
from tests.shopify_double import token_check_answers
from tests.webhook_bodies import customers_redact_body, data_request_body, shop_redact_body

RETAIL = "bubbly-retail.myshopify.com"
ADA = {
    "email": "adelheid.redact@example.com",
    "first_name": "Adelheid",
    "last_name": "Lovelace-Redact",
    "address1": "12 Secretive Lane",
    "city": "Redactville",
    "zip": "97999",
    "phone": "+15550199123",
}
GRACE = {
    "email": "grace.keep@example.com",
    "first_name": "Gracelyn",
    "last_name": "Hopper-Keep",
    "address1": "3 Kept Road",
    "city": "Keepsburg",
    "zip": "11111",
    "phone": "+15550100777",
}
ADA_ORDER, GRACE_ORDER = 9001, 9002
ALICE_PARTNER_ORDER = 555001
# What Alice's two shipments to Ada carry back: each a tracking number and link.
ADA_TRACKING = ["1ZADA0000001", "1ZADA0000002"]
ADA_LINKS = [f"https://ups.example/track/{number}" for number in ADA_TRACKING]


def money(amount: str) -> dict[str, Any]:
    return {"shopMoney": {"amount": amount, "currencyCode": "USD"}}


def graphql_order(number: int, person: dict[str, str], variants: list[str]) -> dict[str, Any]:
    """``OrderForSync`` as Shopify answers it, the customer's details included."""
    return {
        "id": f"gid://shopify/Order/{number}",
        "name": f"#{number}",
        "createdAt": "2026-12-06T10:00:00Z",
        "currencyCode": "USD",
        "displayFinancialStatus": "PAID",
        "risk": {"recommendation": "ACCEPT", "assessments": [{"riskLevel": "LOW", "facts": []}]},
        "cancelledAt": None,
        "test": False,
        "email": person["email"],
        "shippingAddress": {
            "firstName": person["first_name"],
            "lastName": person["last_name"],
            "address1": person["address1"],
            "city": person["city"],
            "zip": person["zip"],
            "countryCodeV2": "US",
            "phone": person["phone"],
        },
        "currentShippingPriceSet": money("5.00"),
        "currentTotalTaxSet": money("0"),
        "lineItems": {
            "pageInfo": {"hasNextPage": False, "endCursor": None},
            "nodes": [
                {
                    "id": f"gid://shopify/LineItem/{number}{i}",
                    "title": "House Blend",
                    "name": "House Blend",
                    "sku": None,
                    "quantity": 2,
                    "currentQuantity": 2,
                    "variant": {"id": variant},
                    "originalUnitPriceSet": money("10.00"),
                    "discountAllocations": [],
                    "taxLines": [],
                }
                for i, variant in enumerate(variants)
            ],
        },
    }


def rest_address(person: dict[str, str]) -> dict[str, str]:
    return {key: person[key] for key in ("first_name", "last_name", "address1", "city", "zip")} | {
        "phone": person["phone"],
        "name": f"{person['first_name']} {person['last_name']}",
    }


def order_webhook(number: int, person: dict[str, str]) -> dict[str, Any]:
    """An ``orders/*`` payload as Shopify sends it: the whole order, customer included."""
    return {
        "id": number,
        "admin_graphql_api_id": f"gid://shopify/Order/{number}",
        "email": person["email"],
        "phone": person["phone"],
        "customer": {
            "id": number * 10,
            "email": person["email"],
            "first_name": person["first_name"],
            "last_name": person["last_name"],
            "phone": person["phone"],
            "default_address": rest_address(person),
        },
        "shipping_address": rest_address(person),
        "billing_address": rest_address(person),
    }


def fulfilment_webhook(
    partner_order: int, person: dict[str, str], shipment: int, variant: str
) -> dict[str, Any]:
    """A partner's ``fulfillments/create`` of one unit: Shopify includes the destination."""
    return {
        "id": partner_order + shipment,
        "order_id": partner_order,
        "status": "success",
        "email": person["email"],
        "destination": rest_address(person),
        "tracking_company": "UPS",
        "tracking_number": ADA_TRACKING[shipment],
        "tracking_url": ADA_LINKS[shipment],
        "line_items": [{"variant_id": int(variant.rsplit("/", 1)[1]), "quantity": 1}],
    }


class RetailFulfilmentOrder:
    """The retail order's one fulfillment order: open, then put on hold by the merchant."""

    def __init__(self, shopify: Any) -> None:
        self.status = "OPEN"
        self.remaining: dict[str, int] = {}
        shopify.on(RETAIL, "FulfillmentOrdersForOrder", self.read)
        shopify.on(RETAIL, "FulfillmentCreate", self.create)

    def read(self, variables: dict[str, Any]) -> dict[str, Any]:
        number = variables["id"].rsplit("/", 1)[1]
        line_id = f"gid://shopify/LineItem/{number}0"  # the line at Alice (graphql_order)
        left = self.remaining.setdefault(line_id, 2)
        node = {
            "id": "gid://shopify/FulfillmentOrder/1",
            "status": self.status,
            "assignedLocation": {"name": "Warehouse", "location": {"id": "loc-1"}},
            "lineItems": {
                "nodes": [{"id": "fo-line", "remainingQuantity": left, "lineItem": {"id": line_id}}]
            },
        }
        return {"order": {"id": variables["id"], "fulfillmentOrders": {"nodes": [node]}}}

    def create(self, variables: dict[str, Any]) -> dict[str, Any]:
        for line_id in self.remaining:
            self.remaining[line_id] -= 1
        fulfillment = {"id": "gid://shopify/Fulfillment/1", "status": "SUCCESS"}
        return {"fulfillmentCreate": {"fulfillment": fulfillment, "userErrors": []}}


class PartnerOrderUpdates:
    """``orderUpdate`` on a partner's store: records what PowerPact asked for."""

    def __init__(self, shopify: Any, shop: str) -> None:
        self.inputs: list[dict[str, Any]] = []
        shopify.on(shop, "PartnerOrderRedact", self.update)

    def update(self, variables: dict[str, Any]) -> dict[str, Any]:
        self.inputs.append(variables["input"])
        return {"orderUpdate": {"order": {"id": variables["input"]["id"]}, "userErrors": []}}


def details_of(person: dict[str, str]) -> list[str]:
    details = [person[key] for key in ("email", "first_name", "last_name", "address1", "city")]
    details.append(person["phone"])
    return details + (ADA_TRACKING + ADA_LINKS if person is ADA else [])


def found_in(dump: str, person: dict[str, str]) -> list[str]:
    lowered = dump.lower()
    return [value for value in details_of(person) if value.lower() in lowered]


@pytest.fixture
def customers_everywhere(personas, send_webhook, shopify, db_session):
    """Ada's and Grace's orders captured across two partners, one fulfilled, one exported."""
    for partner in (personas.alice, personas.bob):
        partner.cadence = Cadence.DAILY  # nothing is pushed: the test is about what is kept
    alice_map = ProductMapFactory(partner=personas.alice, partner_price=Decimal("8.00"))
    bob_map = ProductMapFactory(partner=personas.bob, partner_price=Decimal("8.00"))
    variants = [alice_map.bubbly_variant_id, bob_map.bubbly_variant_id]
    orders = {
        f"gid://shopify/Order/{ADA_ORDER}": graphql_order(ADA_ORDER, ADA, variants),
        f"gid://shopify/Order/{GRACE_ORDER}": graphql_order(GRACE_ORDER, GRACE, variants),
    }
    shopify.on(RETAIL, "OrderForSync", lambda v: {"order": orders[v["id"]]})
    for number, person in ((ADA_ORDER, ADA), (GRACE_ORDER, GRACE)):
        for topic in ("orders/create", "orders/paid"):
            send_webhook(topic, order_webhook(number, person), webhook_id=f"{topic}-{number}")
            assert delivery_by_webhook_id(f"{topic}-{number}").status == DeliveryStatus.PROCESSED
    ada_at_alice = db_session.scalar(
        select(OrderSync).where(
            OrderSync.bubbly_order_id == f"gid://shopify/Order/{ADA_ORDER}",
            OrderSync.partner_shop_domain == personas.alice.shop_domain,
        )
    )
    ada_at_alice.status = OrderStatus.SYNCED
    ada_at_alice.partner_order_id = f"gid://shopify/Order/{ALICE_PARTNER_ORDER}"
    ada_at_alice.partner_order_name = "#A1"
    ada_at_bob = db_session.scalar(
        select(OrderSync).where(
            OrderSync.bubbly_order_id == f"gid://shopify/Order/{ADA_ORDER}",
            OrderSync.partner_shop_domain == personas.bob.shop_domain,
        )
    )
    refusal = (
        f"Shopify refused the order: shippingAddress: {ADA['address1']} is not in {ADA['city']}"
    )
    ada_at_bob.status, ada_at_bob.error_message = OrderStatus.FAILED, refusal
    ada_at_bob.events.append(OrderSyncEvent(kind="failed", message=refusal))
    db_session.commit()
    retail = RetailFulfilmentOrder(shopify)
    for shipment in (0, 1):  # the first is copied, the second waits for a held order
        send_webhook(
            "fulfillments/create",
            fulfilment_webhook(ALICE_PARTNER_ORDER, ADA, shipment, alice_map.partner_variant_id),
            shop=personas.alice.shop_domain,
            webhook_id=f"alice-fulfilment-{shipment}",
        )
        assert delivery_by_webhook_id(f"alice-fulfilment-{shipment}").status == (
            DeliveryStatus.PROCESSED
        )
        retail.status = "ON_HOLD"
    assert db_session.scalars(select(WaitingTracking)).all()
    send_webhook(
        "customers/data_request",
        {
            "shop_id": 1,
            "shop_domain": RETAIL,
            "customer": {"id": 1, "email": ADA["email"], "phone": ADA["phone"]},
            "orders_requested": [ADA_ORDER],
        },
        webhook_id="ada-data-request",
    )
    personas.updates = {
        partner.shop_domain: PartnerOrderUpdates(shopify, partner.shop_domain)
        for partner in (personas.alice, personas.bob)
    }
    dump = database_dump(db_session)
    assert found_in(dump, ADA) == details_of(ADA), "the scenario must put Ada everywhere"
    assert found_in(dump, GRACE) == details_of(GRACE)
    return personas


def test_customers_redact_leaves_nothing_of_the_customer_in_any_table(
    customers_everywhere, send_webhook, db_session
):
    send_webhook(
        "customers/redact",
        {
            "shop_id": 1,
            "shop_domain": RETAIL,
            "customer": {"id": 1, "email": ADA["email"], "phone": ADA["phone"]},
            "orders_to_redact": [ADA_ORDER],
        },
        webhook_id="ada-redact",
    )
    redact = delivery_by_webhook_id("ada-redact")
    assert redact.status == DeliveryStatus.PROCESSED
    assert redact.result["orders_redacted"] == 2  # her order at Alice and at Bob
    dump = database_dump(db_session)
    assert found_in(dump, ADA) == []
    assert found_in(dump, GRACE) == details_of(GRACE), "another customer was erased too"
    countries = {
        (o.bubbly_order_id.rsplit("/", 1)[1], o.ship_to_country)
        for o in db_session.scalars(select(OrderSync))
    }
    assert countries == {(str(ADA_ORDER), None), (str(GRACE_ORDER), "US")}


def test_customers_redact_erases_her_address_from_the_partner_order_powerpact_created(
    customers_everywhere, send_webhook, db_session
):
    """Only Alice received an order for her (Bob's failed); Grace's orders are left alone."""
    alice = customers_everywhere.updates[customers_everywhere.alice.shop_domain]
    bob = customers_everywhere.updates[customers_everywhere.bob.shop_domain]
    send_webhook(
        "customers/redact",
        customers_redact_body(RETAIL, {"id": 1, "email": ADA["email"]}),
        webhook_id="ada-redact",
    )
    assert bob.inputs == []
    (update,) = alice.inputs
    assert update["id"] == f"gid://shopify/Order/{ALICE_PARTNER_ORDER}"
    assert found_in(str(update), ADA) == []
    assert set(update["shippingAddress"]) >= {"firstName", "lastName", "address1", "phone"}
    ada_at_alice = db_session.scalar(
        select(OrderSync).where(OrderSync.partner_order_id == update["id"])
    )
    db_session.expire_all()
    assert ada_at_alice.events[-1].kind == "partner_redacted"
    assert "#A1" in ada_at_alice.events[-1].message


def test_customers_redact_by_email_alone_still_finds_her_orders(
    customers_everywhere, send_webhook, db_session
):
    """A data request naming no order is found by the email in its payload and its export."""
    send_webhook(
        "customers/data_request",
        data_request_body(RETAIL, {"id": 1, "email": ADA["email"]}),
        webhook_id="ada-data-request-by-email",
    )
    send_webhook(
        "customers/redact",
        customers_redact_body(RETAIL, {"id": 1, "email": ADA["email"].upper()}),
        webhook_id="ada-redact-by-email",
    )
    assert found_in(database_dump(db_session), ADA) == []


def test_shop_redact_of_the_retail_store_leaves_no_customer_in_any_table(
    customers_everywhere, send_webhook, db_session, shopify
):
    token_check_answers(shopify, RETAIL, 401)  # 48 hours after the uninstall
    send_webhook("shop/redact", shop_redact_body(RETAIL), webhook_id="retail-redact")
    assert delivery_by_webhook_id("retail-redact").status == DeliveryStatus.PROCESSED
    dump = database_dump(db_session)
    assert found_in(dump, ADA) == [] and found_in(dump, GRACE) == []


def test_shop_redact_of_a_partner_erases_what_came_through_it(
    customers_everywhere, send_webhook, db_session, shopify
):
    alice = customers_everywhere.alice.shop_domain
    token_check_answers(shopify, alice, 401)  # 48 hours after the uninstall
    send_webhook("shop/redact", shop_redact_body(alice), shop=alice, webhook_id="alice-redact")
    assert delivery_by_webhook_id("alice-redact").status == DeliveryStatus.PROCESSED
    dump = database_dump(db_session)
    assert "Secretive Lane" in dump, "the retail store's own copy is not the partner's to erase"
    from_alice = db_session.scalars(
        select(WebhookDelivery.payload).where(WebhookDelivery.shop_domain == alice)
    ).all()
    assert from_alice and all(found_in(payload, ADA) == [] for payload in from_alice)
    assert (
        db_session.scalars(select(OrderSync).where(OrderSync.partner_shop_domain == alice)).all()
        == []
    )
