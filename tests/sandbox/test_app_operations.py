"""Every GraphQL operation PowerPact ships runs against the sandbox without errors and without
touching a field the sandbox does not model (so gaps show up here, not in a demo)."""

import pytest

from powerpact.orders.privacy import ERASED_ADDRESS
from powerpact.sandbox.fixtures import RETAIL
from powerpact.shopify.operations import operation, operation_names
from tests.sandbox.helpers import SHOP, mint


@pytest.fixture
def run(gql, sandbox):
    tokens = {SHOP: mint(sandbox, SHOP), RETAIL: mint(sandbox, RETAIL)}
    ran = []

    def call(name, variables=None, shop=SHOP):
        status, body = gql(tokens[shop], operation(name), variables or {}, shop)
        assert status == 200 and "errors" not in body, (name, body)
        ran.append(name)
        return body["data"]

    call.ran = ran
    return call


def money(amount):
    return {"shopMoney": {"amount": amount, "currencyCode": "USD"}}


def test_every_operation_runs_against_the_sandbox(run, sandbox, clock):
    partner = sandbox.shop(SHOP)
    variants = list(partner.variants().values())[:3]
    run("ShopInfo")
    assert run("ShopId")["shop"]["id"].startswith("gid://shopify/Shop/")
    run("AppScopes")
    ids = run("CatalogProductIds", {"query": "status:active"})["products"]["nodes"]
    run("CatalogProducts", {"first": 5, "query": "vendor:'North Star Roasters'"})
    run("ProductForImport", {"id": ids[0]["id"]})
    run("VariantInventory", {"ids": [v.id for v in variants], "locationId": partner.location_id})
    run("VariantQuantities", {"ids": [v.id for v in variants]})
    prices = run("VariantPrices", {"ids": [v.id for v in variants]})["nodes"]
    assert [p["price"] for p in prices] == [f"{v.price:.2f}" for v in variants]
    items = [v.inventory_item_id for v in variants]
    run("InventoryAvailableAt", {"ids": items, "locationId": partner.location_id})
    run("Locations", {}, RETAIL)
    run(
        "WebhookSubscriptionCreate",
        {"topic": "ORDERS_CREATE", "uri": "http://127.0.0.1:5000/webhooks"},
        RETAIL,
    )
    subs = run("WebhookSubscriptions", {}, RETAIL)["webhookSubscriptions"]["nodes"]
    run("WebhookSubscriptionDelete", {"id": subs[0]["id"]}, RETAIL)
    definition = {
        "name": "PowerPact source",
        "namespace": "powerpact",
        "key": "source",
        "type": "single_line_text_field",
        "ownerType": "PRODUCT",
    }
    run("MetafieldDefinitionCreate", {"definition": definition}, RETAIL)
    retail = sandbox.shop(RETAIL)
    imported = run(
        "ProductSet",
        {
            "identifier": {
                "customId": {"namespace": "powerpact", "key": "source", "value": "nsr-1"}
            },
            "input": {
                "title": "Imported",
                "productOptions": [{"name": "Title", "values": [{"name": "Default Title"}]}],
                "variants": [
                    {
                        "optionValues": [{"optionName": "Title", "name": "Default Title"}],
                        "price": "12.00",
                        "inventoryItem": {"sku": "PARTNER-1", "tracked": True},
                        "inventoryQuantities": [
                            {"locationId": retail.location_id, "name": "available", "quantity": 4}
                        ],
                    }
                ],
            },
            "synchronous": True,
        },
        RETAIL,
    )["productSet"]["product"]
    item = imported["variants"]["nodes"][0]["inventoryItem"]["id"]
    run(
        "InventorySetQuantities",
        {
            "input": {
                "name": "available",
                "reason": "correction",
                "quantities": [
                    {
                        "inventoryItemId": item,
                        "locationId": retail.location_id,
                        "quantity": 3,
                        "changeFromQuantity": 4,
                    }
                ],
            },
            "idempotencyKey": "k-1",
        },
        RETAIL,
    )
    activated = run(
        "InventoryActivate",
        {
            "inventoryItemId": item,
            "locationId": retail.locations[1]["id"],
            "idempotencyKey": "activate-1",
        },
        RETAIL,
    )["inventoryActivate"]
    assert activated["userErrors"] == [] and retail.stocked(item, retail.locations[1]["id"])
    run("ProductArchive", {"id": imported["id"]}, RETAIL)
    order = run(
        "OrderCreate",
        {
            "order": {
                "currency": "USD",
                "lineItems": [
                    {"variantId": variants[0].id, "quantity": 2, "priceSet": money("10.00")}
                ],
                "shippingLines": [{"title": "Standard", "priceSet": money("4.00")}],
                "taxLines": [{"title": "Tax", "rate": 0.1, "priceSet": money("2.40")}],
                "sourceIdentifier": "powerpact-1",
                "tags": ["powerpact"],
                "financialStatus": "PAID",
            },
            "options": {"inventoryBehaviour": "DECREMENT_IGNORING_POLICY", "sendReceipt": False},
        },
    )["orderCreate"]["order"]
    run("OrdersBySourceIdentifier", {"query": "source_identifier:powerpact-1"})
    run("PartnerOrdersUpdatedSince", {"query": "tag:powerpact updated_at:>'2020-01-01T00:00:00Z'"})
    run("PartnerOrderFulfillments", {"id": order["id"]})
    clock.advance(sandbox.config.search_lag_seconds)  # the search index catches up
    updated = run("OrdersUpdatedSince", {"query": "updated_at:>'2020-01-01T00:00:00Z'"})
    assert order["id"] in {n["id"] for n in updated["orders"]["nodes"]}
    newest = run("PartnerOrderLookup", {"query": "source_identifier:powerpact-1"})["newest"]
    assert newest["nodes"][0]["sourceIdentifier"] == "powerpact-1"
    run("OrderForSync", {"id": order["id"]})
    run("OrderLineItemsPage", {"id": order["id"]})
    run("PartnerOrderLines", {"id": order["id"]})
    source = run("PartnerOrderSource", {"id": order["id"]})["order"]
    assert source["sourceIdentifier"] == "powerpact-1"
    session = run("OrderEditBegin", {"id": order["id"]})["orderEditBegin"]["calculatedOrder"]["id"]
    added = run("OrderEditAddVariant", {"id": session, "variantId": variants[1].id, "quantity": 1})
    line = added["orderEditAddVariant"]["calculatedLineItem"]["id"]
    run("OrderEditSetQuantity", {"id": session, "lineItemId": line, "quantity": 2, "restock": True})
    run("OrderEditCommit", {"id": session, "notifyCustomer": False, "staffNote": "batch"})
    placed = partner.orders[order["id"]]
    first_line = placed.line_items[0]
    sandbox.refund(partner, placed, [(first_line.id, 1, "CANCEL")], shipping=placed.shipping)
    edit = run("OrderEditBegin", {"id": order["id"]})["orderEditBegin"]["calculatedOrder"]["id"]
    lowered = {"id": edit, "lineItemId": line, "quantity": 1, "restock": True}
    run("OrderEditSetQuantity", lowered)
    run("OrderEditCommit", {"id": edit, "notifyCustomer": False, "staffNote": "less"})
    changes = run("OrderChangesAfterSend", {"id": order["id"]})["order"]
    (refund,) = changes["refunds"]
    assert refund["refundLineItems"]["nodes"][0]["restockType"] == "CANCEL"
    assert refund["refundShippingLines"]["nodes"][0]["subtotalAmountSet"] == money("4.00")
    agreements = [edge["node"] for edge in changes["agreements"]["edges"]]
    edits = [a for a in agreements if a["__typename"] == "OrderEditAgreement"]
    assert edits[0]["sales"]["nodes"][0]["actionType"] == "RETURN"  # the newest edit first
    lines = run("RefundLineItemsPage", {"id": refund["id"], "after": None})["node"]
    assert lines["refundLineItems"]["nodes"] == refund["refundLineItems"]["nodes"]
    older = run("OrderAgreementsPage", {"id": order["id"], "after": None})["order"]["agreements"]
    assert [e["node"]["id"] for e in older["edges"]] == [a["id"] for a in agreements]
    first = agreements.index(edits[0])
    before = changes["agreements"]["edges"][first - 1]["cursor"] if first else None
    sales = run("OrderEditSalesPage", {"id": order["id"], "agreementAfter": before})["order"]
    (again,) = sales["agreements"]["nodes"]
    assert again["id"] == edits[0]["id"] and again["sales"]["nodes"] == edits[0]["sales"]["nodes"]
    fulfilment_order = run("FulfillmentOrdersForOrder", {"id": order["id"]})["order"][
        "fulfillmentOrders"
    ]["nodes"][0]
    fulfilled = run(
        "FulfillmentCreate",
        {
            "fulfillment": {
                "lineItemsByFulfillmentOrder": [{"fulfillmentOrderId": fulfilment_order["id"]}],
                "trackingInfo": {"number": "1Z1", "company": "UPS"},
            }
        },
    )["fulfillmentCreate"]["fulfillment"]
    run(
        "FulfillmentTrackingInfoUpdate",
        {"fulfillmentId": fulfilled["id"], "trackingInfoInput": {"number": "1Z2"}},
    )
    second = run(
        "OrderCreate",
        {"order": {"lineItems": [{"variantId": variants[2].id, "quantity": 1}]}},
    )["orderCreate"]["order"]
    run("OrderCancel", {"orderId": second["id"], "staffNote": "duplicate"})
    redacted = run(
        "PartnerOrderRedact", {"input": {"id": order["id"], "shippingAddress": ERASED_ADDRESS}}
    )
    assert redacted["orderUpdate"] == {"order": {"id": order["id"]}, "userErrors": []}
    assert partner.orders[order["id"]].shipping_address == ERASED_ADDRESS

    shipped = set(operation_names())
    assert shipped <= set(run.ran), f"not exercised here: {sorted(shipped - set(run.ran))}"
    for shop in (SHOP, RETAIL):
        assert sandbox.call_summary(shop)["unmodelled_fields"] == []
