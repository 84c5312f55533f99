"""Orders: a customer's checkout by control API, orderCreate as the app does it, search,
payment, risk, cancellation, edits, fulfilment with tracking; each fires its webhooks."""

import json

import pytest

from powerpact.sandbox import SandboxConfig
from powerpact.sandbox.fixtures import RETAIL
from tests.sandbox.helpers import SHOP, subscribe, topics

ORDER_CREATE = """mutation C($order: OrderCreateOrderInput!, $options: OrderCreateOptionsInput) {
  orderCreate(order: $order, options: $options) {
    order { id name sourceIdentifier tags displayFinancialStatus displayFulfillmentStatus
      currencyCode
      totalPriceSet { shopMoney { amount currencyCode } }
      subtotalPriceSet { shopMoney { amount } }
      currentTotalTaxSet { shopMoney { amount } }
      currentShippingPriceSet { shopMoney { amount } }
      taxLines { title rate priceSet { shopMoney { amount } } }
      shippingLines(first: 5) { nodes { title code originalPriceSet { shopMoney { amount } } } }
      shippingAddress { firstName city countryCodeV2 }
      customer { firstName email }
      lineItems(first: 10) { nodes { id sku quantity currentQuantity
        originalUnitPriceSet { shopMoney { amount } } taxLines { priceSet { shopMoney { amount } } }
        variant { id } } } }
    userErrors { field message code }
  }
}"""
ORDER = """query O($id: ID!) { order(id: $id) {
  id name cancelledAt cancelReason displayFinancialStatus displayFulfillmentStatus tags note
  risk { recommendation assessments { riskLevel } }
  currentTotalPriceSet { shopMoney { amount } }
  lineItems(first: 10) { nodes { id sku quantity currentQuantity unfulfilledQuantity } }
  fulfillmentOrders(first: 5) { nodes { id status
    lineItems(first: 10) { nodes { id remainingQuantity totalQuantity lineItem { id } } } } }
  fulfillments { id status trackingInfo { number company url } } } }"""


@pytest.fixture
def partner(sandbox):
    shop = sandbox.shop(SHOP)
    variants = [v for v in shop.variants().values() if shop.available(v.inventory_item_id) >= 5]
    return shop, variants[0], variants[1]


def order_input(first, second, **extra):
    money = lambda amount: {"shopMoney": {"amount": amount, "currencyCode": "USD"}}  # noqa: E731
    return {
        "currency": "USD",
        "lineItems": [
            {
                "variantId": first.id,
                "quantity": 2,
                "priceSet": money("10.00"),
                "taxLines": [{"title": "VAT", "rate": 0.1, "priceSet": money("2.00")}],
            },
            {"variantId": second.id, "quantity": 1, "priceSet": money("5.00")},
        ],
        "shippingLines": [{"title": "Standard", "code": "STD", "priceSet": money("4.00")}],
        "taxLines": [{"title": "Shipping tax", "rate": 0.1, "priceSet": money("0.40")}],
        "shippingAddress": {"firstName": "Ana", "city": "Portland", "countryCode": "US"},
        "customer": {"toUpsert": {"firstName": "Ana", "email": "ana@example.com"}},
        "email": "ana@example.com",
        "sourceIdentifier": "powerpact-1001-nsr",
        "tags": ["powerpact", "bubbly-1001"],
        "financialStatus": "PAID",
        **extra,
    }


def test_order_create_builds_the_order_and_takes_stock_as_asked(
    data, token, partner, sandbox, sent
):
    shop, first, second = partner
    subscribe(data, token, "ORDERS_CREATE", SHOP)
    subscribe(data, token, "INVENTORY_LEVELS_UPDATE", SHOP)
    before = shop.available(first.inventory_item_id)
    created = data(
        token,
        ORDER_CREATE,
        {
            "order": order_input(first, second),
            "options": {"inventoryBehaviour": "DECREMENT_OBEYING_POLICY", "sendReceipt": False},
        },
    )["orderCreate"]
    assert created["userErrors"] == []
    order = created["order"]
    assert order["name"] == "#1001" and order["sourceIdentifier"] == "powerpact-1001-nsr"
    assert order["tags"] == ["powerpact", "bubbly-1001"]
    assert order["displayFinancialStatus"] == "PAID"
    assert order["displayFulfillmentStatus"] == "UNFULFILLED"
    assert order["subtotalPriceSet"]["shopMoney"]["amount"] == "25.00"
    assert order["currentShippingPriceSet"]["shopMoney"]["amount"] == "4.00"
    assert order["currentTotalTaxSet"]["shopMoney"]["amount"] == "2.40"
    assert order["totalPriceSet"]["shopMoney"] == {"amount": "31.40", "currencyCode": "USD"}
    assert [t["priceSet"]["shopMoney"]["amount"] for t in order["taxLines"]] == ["2.00", "0.40"]
    assert order["shippingLines"]["nodes"] == [
        {"title": "Standard", "code": "STD", "originalPriceSet": {"shopMoney": {"amount": "4.00"}}}
    ]
    assert order["shippingAddress"] == {
        "firstName": "Ana",
        "city": "Portland",
        "countryCodeV2": "US",
    }
    assert order["customer"] == {"firstName": "Ana", "email": "ana@example.com"}
    lines = order["lineItems"]["nodes"]
    assert [(li["sku"], li["quantity"]) for li in lines] == [(first.sku, 2), (second.sku, 1)]
    assert shop.available(first.inventory_item_id) == before - 2
    assert sorted(topics(sandbox, sent)) == ["inventory_levels/update"] * 2 + ["orders/create"]


@pytest.mark.parametrize(
    ("behaviour", "taken"), [("BYPASS", 0), ("DECREMENT_IGNORING_POLICY", 2), (None, 0)]
)
def test_inventory_behaviour(data, token, partner, behaviour, taken):
    shop, first, second = partner
    before = shop.available(first.inventory_item_id)
    options = {"inventoryBehaviour": behaviour} if behaviour else None
    data(token, ORDER_CREATE, {"order": order_input(first, second), "options": options})
    assert shop.available(first.inventory_item_id) == before - taken


@pytest.mark.parametrize("behaviour", ["DECREMENT_OBEYING_POLICY", "BYPASS"])
def test_an_order_fires_products_update_once_per_product_ordered(
    data, token, partner, sandbox, sent, behaviour
):
    shop, first, _ = partner
    subscribe(data, token, "PRODUCTS_UPDATE", SHOP)
    twice = order_input(first, first)
    twice["lineItems"][1]["variantId"] = first.id
    data(token, ORDER_CREATE, {"order": twice, "options": {"inventoryBehaviour": behaviour}})
    assert topics(sandbox, sent) == ["products/update"]
    payload = json.loads(sent[0][2])
    product = shop.products[first.product_id]
    assert payload["admin_graphql_api_id"] == product.id
    assert payload["title"] == product.title
    stock = {v["admin_graphql_api_id"]: v["inventory_quantity"] for v in payload["variants"]}
    assert stock[first.id] == shop.available(first.inventory_item_id)


def test_a_customer_sale_fires_products_update_for_each_product(
    sandbox_app, sandbox, data, token, partner, sent
):
    _, first, second = partner
    subscribe(data, token, "PRODUCTS_UPDATE", SHOP)
    response = sandbox_app.test_client().post(
        f"/_sandbox/shops/{SHOP}/orders",
        json={"lines": [{"sku": first.sku, "quantity": 1}, {"sku": second.sku, "quantity": 1}]},
    )
    assert response.status_code == 201, response.get_json()
    products = {first.product_id, second.product_id}
    assert topics(sandbox, sent) == ["products/update"] * len(products)
    assert {json.loads(body)["admin_graphql_api_id"] for _, _, body in sent} == products


def test_obeying_policy_refuses_an_order_beyond_stock(data, token, partner, sandbox):
    shop, first, second = partner
    sandbox.set_stock(shop, first, 1, notify=False)
    answer = data(
        token,
        ORDER_CREATE,
        {
            "order": order_input(first, second, sourceIdentifier="src-refused"),
            "options": {"inventoryBehaviour": "DECREMENT_OBEYING_POLICY"},
        },
    )["orderCreate"]
    assert answer["order"] is None
    assert answer["userErrors"][0]["code"] == "INVENTORY_CLAIM_FAILED"
    assert shop.orders == {} and shop.available(first.inventory_item_id) == 1
    assert shop.orders_with_source_identifier("src-refused") == []


def test_order_create_refusals(data, token):
    empty = data(token, ORDER_CREATE, {"order": {"lineItems": []}})["orderCreate"]
    assert empty["userErrors"][0]["code"] == "INVALID"
    unknown = {"lineItems": [{"variantId": "gid://shopify/ProductVariant/1", "quantity": 1}]}
    assert data(token, ORDER_CREATE, {"order": unknown})["orderCreate"]["userErrors"]
    custom = {
        "lineItems": [
            {
                "title": "Gift wrap",
                "quantity": 1,
                "priceSet": {"shopMoney": {"amount": "3.00", "currencyCode": "USD"}},
            }
        ]
    }
    made = data(token, ORDER_CREATE, {"order": custom})["orderCreate"]["order"]
    assert made["lineItems"]["nodes"][0]["variant"] is None


def test_development_stores_create_five_orders_a_minute(sandbox_app, data, token, partner, clock):
    _, first, second = partner
    sandbox_app.test_client().post("/_sandbox/order-create-limit", json={"per_minute": 5})
    answers = [
        data(token, ORDER_CREATE, {"order": order_input(first, second)})["orderCreate"]
        for _ in range(6)
    ]
    assert [bool(a["order"]) for a in answers] == [True] * 5 + [False]
    clock.advance(61)
    assert data(token, ORDER_CREATE, {"order": order_input(first, second)})["orderCreate"]["order"]


def test_orders_search_by_tag_source_identifier_name_and_date(data, token, partner, clock):
    _, first, second = partner
    for n in range(3):
        data(
            token,
            ORDER_CREATE,
            {
                "order": order_input(
                    first, second, sourceIdentifier=f"src-{n}", tags=[f"t{n}", "all"]
                )
            },
        )
    search = """query S($q: String) { orders(first: 10, query: $q, sortKey: CREATED_AT) {
      nodes { name sourceIdentifier } } ordersCount(query: $q) { count } }"""
    clock.advance(SandboxConfig.search_lag_seconds)

    def names(query):
        return [o["name"] for o in data(token, search, {"q": query})["orders"]["nodes"]]

    assert names("source_identifier:src-1") == ["#1002"]
    assert names("tag:all") == ["#1001", "#1002", "#1003"]
    assert names("tag:t2") == ["#1003"]
    assert names("name:#1002") == ["#1002"] == names("name:1002")
    assert names("created_at:>=2020-01-01 tag:t0") == ["#1001"]
    assert names("created_at:<2020-01-01") == []
    assert names("financial_status:paid status:open") == ["#1001", "#1002", "#1003"]
    assert data(token, search, {"q": "tag:all"})["ordersCount"] == {"count": 3}
    assert names("source_identifier:'SRC-2' tag:t2") == ["#1003"]
    assert names("source_identifier:src-2 tag:t0") == []
    assert names("source_identifier:src-1 OR source_identifier:src-2") == ["#1002", "#1003"]
    assert names("-source_identifier:src-1") == ["#1001", "#1003"]
    assert names("source_identifier:src*") == ["#1001", "#1002", "#1003"]


def place(sandbox_app, shop=RETAIL, **extra):
    body = {
        "lines": [{"sku": "BUB-MUG", "quantity": 2}, {"sku": "BUB-KIT", "quantity": 1}],
        "shipping": "5.00",
        "tax_rate": "0.1",
        "discount": "3.00",
        **extra,
    }
    response = sandbox_app.test_client().post(f"/_sandbox/shops/{shop}/orders", json=body)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def subscribe_retail(data, retail_token, *names):
    for topic in names:
        subscribe(data, retail_token, topic, RETAIL)


def test_a_customer_order_fires_create_and_paid_with_rest_payloads(
    sandbox_app, sandbox, data, retail_token, sent
):
    subscribe_retail(data, retail_token, "ORDERS_CREATE", "ORDERS_PAID")
    order = place(sandbox_app)
    assert topics(sandbox, sent) == ["orders/create", "orders/paid"]
    payload = json.loads(sent[0][2])
    assert payload["admin_graphql_api_id"] == order["id"]
    assert payload["id"] == int(order["id"].rsplit("/", 1)[1])
    assert payload["financial_status"] == "paid" and payload["fulfillment_status"] is None
    assert payload["total_discounts"] == "3.00"
    assert payload["subtotal_price"] == "64.00"
    assert [li["sku"] for li in payload["line_items"]] == ["BUB-MUG", "BUB-KIT"]
    assert payload["shipping_address"]["country_code"] == "US"
    assert order["tax"] == "6.90"  # (28 + 39 - 3) * 0.1 + 5 * 0.1
    assert order["total"] == "75.90"
    _, discount_total = (
        order["subtotal"],
        sum(json.loads(sent[0][2])["line_items"][i]["total_discount"] != "0.00" for i in range(2)),
    )
    assert discount_total == 2, "the discount is spread over both lines"


def test_pending_then_paid_risk_and_cancel_with_restock(
    sandbox_app, sandbox, data, retail_token, sent
):
    subscribe_retail(
        data,
        retail_token,
        "ORDERS_PAID",
        "ORDERS_UPDATED",
        "ORDERS_CANCELLED",
        "ORDERS_RISK_ASSESSMENT_CHANGED",
    )
    retail = sandbox.shop(RETAIL)
    mug = sandbox.find_variant(retail, sku="BUB-MUG")
    stock = retail.available(mug.inventory_item_id)
    order = place(sandbox_app, financial_status="PENDING", risk="INVESTIGATE")
    client = sandbox_app.test_client()
    url = f"/_sandbox/shops/{RETAIL}/orders/{order['id'].rsplit('/', 1)[1]}"
    read = lambda: data(retail_token, ORDER, {"id": order["id"]}, RETAIL)["order"]  # noqa: E731
    assert read()["displayFinancialStatus"] == "PENDING"
    assert sandbox.webhooks.drain()
    assert read()["risk"] == {
        "recommendation": "INVESTIGATE",
        "assessments": [{"riskLevel": "PENDING"}, {"riskLevel": "MEDIUM"}],
    }
    assert client.post(f"{url}/risk", json={"risk": "accept"}).get_json()["risk"] == "ACCEPT"
    assert client.post(f"{url}/pay").get_json()["financial_status"] == "PAID"
    assert client.post(f"{url}/pay").status_code == 400
    cancelled = client.post(f"{url}/cancel", json={"reason": "customer"}).get_json()
    assert cancelled["cancelled_at"]
    assert read()["cancelReason"] == "CUSTOMER"
    assert retail.available(mug.inventory_item_id) == stock, "restocked"
    assert client.post(f"{url}/cancel").status_code == 400
    assert client.post(f"{url}/pay").status_code == 400
    assert client.post(f"{url}/dance").status_code == 404
    assert client.post(f"/_sandbox/shops/{RETAIL}/orders/999/pay").status_code == 404
    assert topics(sandbox, sent) == [
        "orders/risk_assessment_changed",
        "orders/risk_assessment_changed",
        "orders/risk_assessment_changed",
        "orders/paid",
        "orders/updated",
        "orders/cancelled",
        "orders/updated",
    ]


def test_order_update_mark_as_paid_and_cancel_over_graphql(sandbox_app, data, retail_token):
    order = place(sandbox_app, financial_status="PENDING")
    update = data(
        retail_token,
        """mutation($id: ID!) { orderUpdate(input: {id: $id, tags: ["vip"], note: "gift",
             email: "x@example.com", shippingAddress: {city: "Salem", countryCode: US}}) {
             order { tags note email shippingAddress { city countryCodeV2 } }
             userErrors { message } } }""",
        {"id": order["id"]},
        RETAIL,
    )["orderUpdate"]
    assert update["order"] == {
        "tags": ["vip"],
        "note": "gift",
        "email": "x@example.com",
        "shippingAddress": {"city": "Salem", "countryCodeV2": "US"},
    }
    pay = """mutation($id: ID!) { orderMarkAsPaid(input: {id: $id}) {
      order { displayFinancialStatus } userErrors { message } } }"""
    assert data(retail_token, pay, {"id": order["id"]}, RETAIL)["orderMarkAsPaid"]["order"] == {
        "displayFinancialStatus": "PAID"
    }
    assert data(retail_token, pay, {"id": order["id"]}, RETAIL)["orderMarkAsPaid"]["userErrors"]
    cancel = """mutation($id: ID!) { orderCancel(orderId: $id, reason: CUSTOMER, refund: false,
      restock: true, notifyCustomer: false, staffNote: "n") {
        job { id done } orderCancelUserErrors { code message } } }"""
    first = data(retail_token, cancel, {"id": order["id"]}, RETAIL)["orderCancel"]
    assert first["job"]["done"] and first["orderCancelUserErrors"] == []
    again = data(retail_token, cancel, {"id": order["id"]}, RETAIL)["orderCancel"]
    assert again["orderCancelUserErrors"][0]["code"] == "INVALID"
    missing = data(retail_token, cancel, {"id": "gid://shopify/Order/1"}, RETAIL)["orderCancel"]
    assert missing["orderCancelUserErrors"][0]["code"] == "NOT_FOUND"
    for mutation in ("orderUpdate(input: {id: $id})", "orderMarkAsPaid(input: {id: $id})"):
        answer = data(
            retail_token,
            f"mutation($id: ID!) {{ {mutation} {{ userErrors {{ message }} }} }}",
            {"id": "gid://shopify/Order/1"},
            RETAIL,
        )
        assert next(iter(answer.values()))["userErrors"]


EDIT_BEGIN = """mutation($id: ID!) { orderEditBegin(id: $id) {
  calculatedOrder { id lineItems(first: 10) { nodes { id quantity sku } } }
  userErrors { message } } }"""
EDIT_ADD = """mutation($id: ID!, $variantId: ID!, $quantity: Int!) {
  orderEditAddVariant(id: $id, variantId: $variantId, quantity: $quantity, allowDuplicates: true) {
    calculatedLineItem { id quantity } calculatedOrder { addedLineItems(first: 5) { nodes { id } } }
    userErrors { message } } }"""
EDIT_SET = """mutation($id: ID!, $lineItemId: ID!, $quantity: Int!) {
  orderEditSetQuantity(id: $id, lineItemId: $lineItemId, quantity: $quantity, restock: true) {
    calculatedLineItem { id quantity } userErrors { message } } }"""
EDIT_COMMIT = """mutation($id: ID!) {
  orderEditCommit(id: $id, notifyCustomer: false, staffNote: "s") {
  order { id lineItems(first: 10) { nodes { sku quantity currentQuantity } } }
  userErrors { message } } }"""


def test_an_order_edit_appends_and_changes_lines_on_commit(data, token, partner, sandbox, sent):
    shop, first, second = partner
    subscribe(data, token, "ORDERS_UPDATED", SHOP)
    order = data(token, ORDER_CREATE, {"order": order_input(first, second)})["orderCreate"]["order"]
    begun = data(token, EDIT_BEGIN, {"id": order["id"]})["orderEditBegin"]["calculatedOrder"]
    session = begun["id"]
    assert [n["quantity"] for n in begun["lineItems"]["nodes"]] == [2, 1]
    third = next(v for v in shop.variants().values() if v not in (first, second))
    stock = shop.available(third.inventory_item_id)
    added = data(token, EDIT_ADD, {"id": session, "variantId": third.id, "quantity": 3})[
        "orderEditAddVariant"
    ]
    assert added["calculatedLineItem"]["quantity"] == 3
    assert added["calculatedOrder"]["addedLineItems"]["nodes"] == [
        {"id": added["calculatedLineItem"]["id"]}
    ]
    existing = begun["lineItems"]["nodes"][1]["id"]
    changed = data(token, EDIT_SET, {"id": session, "lineItemId": existing, "quantity": 0})
    assert changed["orderEditSetQuantity"]["calculatedLineItem"]["quantity"] == 0
    more = data(
        token,
        EDIT_SET,
        {"id": session, "lineItemId": added["calculatedLineItem"]["id"], "quantity": 4},
    )
    assert more["orderEditSetQuantity"]["userErrors"] == []
    assert shop.orders[order["id"]].line_items[1].current == 1, "nothing changes before commit"
    committed = data(token, EDIT_COMMIT, {"id": session})["orderEditCommit"]["order"]
    assert [
        (n["sku"], n["quantity"], n["currentQuantity"]) for n in committed["lineItems"]["nodes"]
    ] == [
        (first.sku, 2, 2),
        (second.sku, 1, 0),
        (third.sku, 4, 4),
    ]
    assert shop.available(third.inventory_item_id) == stock - 4
    assert topics(sandbox, sent) == ["orders/updated"]
    assert data(token, EDIT_COMMIT, {"id": session})["orderEditCommit"]["userErrors"]


def test_order_edit_refusals(data, token, partner, sandbox):
    shop, first, second = partner
    order = data(token, ORDER_CREATE, {"order": order_input(first, second)})["orderCreate"]["order"]
    assert data(token, EDIT_BEGIN, {"id": "gid://shopify/Order/1"})["orderEditBegin"]["userErrors"]
    session = data(token, EDIT_BEGIN, {"id": order["id"]})["orderEditBegin"]["calculatedOrder"][
        "id"
    ]
    nowhere = "gid://shopify/CalculatedOrder/1"
    assert data(token, EDIT_ADD, {"id": nowhere, "variantId": first.id, "quantity": 1})[
        "orderEditAddVariant"
    ]["userErrors"]
    assert data(
        token,
        EDIT_ADD,
        {"id": session, "variantId": "gid://shopify/ProductVariant/1", "quantity": 1},
    )["orderEditAddVariant"]["userErrors"]
    assert data(token, EDIT_ADD, {"id": session, "variantId": first.id, "quantity": 0})[
        "orderEditAddVariant"
    ]["userErrors"]
    no_duplicates = EDIT_ADD.replace("allowDuplicates: true", "allowDuplicates: false")
    assert data(token, no_duplicates, {"id": session, "variantId": first.id, "quantity": 1})[
        "orderEditAddVariant"
    ]["userErrors"]
    assert data(
        token,
        EDIT_SET,
        {"id": nowhere, "lineItemId": "gid://shopify/CalculatedLineItem/1", "quantity": 1},
    )["orderEditSetQuantity"]["userErrors"]
    assert data(
        token,
        EDIT_SET,
        {"id": session, "lineItemId": "gid://shopify/CalculatedLineItem/1", "quantity": 1},
    )["orderEditSetQuantity"]["userErrors"]
    line = shop.orders[order["id"]].line_items[0].id
    assert data(token, EDIT_SET, {"id": session, "lineItemId": line, "quantity": -1})[
        "orderEditSetQuantity"
    ]["userErrors"]
    sandbox.cancel(shop, shop.orders[order["id"]])
    assert data(token, EDIT_BEGIN, {"id": order["id"]})["orderEditBegin"]["userErrors"]


FULFILL = """mutation F($fulfillment: FulfillmentInput!) {
  fulfillmentCreate(fulfillment: $fulfillment) {
  fulfillment { id status name totalQuantity trackingInfo { number company url }
    fulfillmentLineItems(first: 5) { nodes { quantity lineItem { id } } } }
  userErrors { field message } } }"""


def test_fulfilment_orders_and_fulfillment_create_with_tracking(
    data, token, partner, sandbox, sent
):
    _, first, second = partner
    subscribe(data, token, "FULFILLMENTS_CREATE", SHOP)
    subscribe(data, token, "FULFILLMENTS_UPDATE", SHOP)
    order = data(token, ORDER_CREATE, {"order": order_input(first, second)})["orderCreate"]["order"]
    read = lambda: data(token, ORDER, {"id": order["id"]})["order"]  # noqa: E731
    fo = read()["fulfillmentOrders"]["nodes"][0]
    assert fo["status"] == "OPEN"
    items = fo["lineItems"]["nodes"]
    assert [(i["remainingQuantity"], i["totalQuantity"]) for i in items] == [(2, 2), (1, 1)]
    partial = {
        "lineItemsByFulfillmentOrder": [
            {
                "fulfillmentOrderId": fo["id"],
                "fulfillmentOrderLineItems": [{"id": items[0]["id"], "quantity": 1}],
            }
        ],
        "trackingInfo": {"number": "1Z999", "company": "UPS", "url": "https://ups.example/1Z999"},
        "notifyCustomer": False,
    }
    made = data(token, FULFILL, {"fulfillment": partial})["fulfillmentCreate"]["fulfillment"]
    assert made["trackingInfo"] == [
        {"number": "1Z999", "company": "UPS", "url": "https://ups.example/1Z999"}
    ]
    assert made["name"] == "#1001.1" and made["totalQuantity"] == 1
    after = read()
    assert after["displayFulfillmentStatus"] == "PARTIALLY_FULFILLED"
    assert after["fulfillmentOrders"]["nodes"][0]["status"] == "IN_PROGRESS"
    rest = {
        "lineItemsByFulfillmentOrder": [{"fulfillmentOrderId": fo["id"]}],
        "trackingInfo": {"numbers": ["1Z1000"]},
    }
    data(token, FULFILL, {"fulfillment": rest})
    done = read()
    assert done["displayFulfillmentStatus"] == "FULFILLED"
    assert done["fulfillmentOrders"]["nodes"][0]["status"] == "CLOSED"
    assert [f["trackingInfo"][0]["number"] for f in done["fulfillments"]] == ["1Z999", "1Z1000"]
    update = data(
        token,
        """mutation($id: ID!) { fulfillmentTrackingInfoUpdate(fulfillmentId: $id,
             trackingInfoInput: {number: "1Z42", company: "FedEx"}, notifyCustomer: false) {
             fulfillment { trackingInfo(first: 1) { number company url } }
             userErrors { message } } }""",
        {"id": made["id"]},
    )["fulfillmentTrackingInfoUpdate"]
    assert update["fulfillment"]["trackingInfo"] == [
        {"number": "1Z42", "company": "FedEx", "url": "https://ups.example/1Z999"}
    ]
    assert topics(sandbox, sent) == [
        "fulfillments/create",
        "fulfillments/create",
        "fulfillments/update",
    ]
    payload = json.loads(sent[0][2])
    assert payload["tracking_number"] == "1Z999" and payload["order_id"] == int(
        order["id"].rsplit("/", 1)[1]
    )
    looked_up = data(
        token,
        """query($fo: ID!, $f: ID!) {
             fulfillmentOrder(id: $fo) { id orderName } fulfillment(id: $f) { id } }""",
        {"fo": fo["id"], "f": made["id"]},
    )
    assert looked_up["fulfillmentOrder"]["orderName"] == "#1001"
    assert looked_up["fulfillment"] == {"id": made["id"]}


def test_fulfillment_refusals(data, token, partner):
    shop, first, second = partner
    order = data(token, ORDER_CREATE, {"order": order_input(first, second)})["orderCreate"]["order"]
    fo = shop.orders[order["id"]].fulfillment_order_id
    cases = [
        [{"fulfillmentOrderId": "gid://shopify/FulfillmentOrder/1"}],
        [
            {
                "fulfillmentOrderId": fo,
                "fulfillmentOrderLineItems": [
                    {"id": "gid://shopify/FulfillmentOrderLineItem/1", "quantity": 1}
                ],
            }
        ],
        [
            {
                "fulfillmentOrderId": fo,
                "fulfillmentOrderLineItems": [
                    {
                        "id": "gid://shopify/FulfillmentOrderLineItem/"
                        + shop.orders[order["id"]].line_items[0].id.rsplit("/", 1)[1],
                        "quantity": 9,
                    }
                ],
            }
        ],
        [],
    ]
    for groups in cases:
        answer = data(token, FULFILL, {"fulfillment": {"lineItemsByFulfillmentOrder": groups}})
        assert answer["fulfillmentCreate"]["fulfillment"] is None
        assert answer["fulfillmentCreate"]["userErrors"]
    tracking = data(
        token,
        """mutation { fulfillmentTrackingInfoUpdate(fulfillmentId: "gid://shopify/Fulfillment/1",
             trackingInfoInput: {number: "x"}) { userErrors { message } } }""",
    )
    assert tracking["fulfillmentTrackingInfoUpdate"]["userErrors"]


def test_fulfil_and_track_through_the_control_api(sandbox_app, sandbox, data, token, partner, sent):
    shop, first, second = partner
    subscribe(data, token, "FULFILLMENTS_CREATE", SHOP)
    subscribe(data, token, "FULFILLMENTS_UPDATE", SHOP)
    order = data(token, ORDER_CREATE, {"order": order_input(first, second)})["orderCreate"]["order"]
    client = sandbox_app.test_client()
    url = f"/_sandbox/shops/{SHOP}/orders/{order['id']}"
    line = shop.orders[order["id"]].line_items[0].id
    partial = client.post(
        f"{url}/fulfil", json={"tracking_number": "1Z1", "lines": {line: 1}}
    ).get_json()
    assert partial["fulfillment_status"] == "PARTIALLY_FULFILLED"
    whole = client.post(f"{url}/fulfil", json={"tracking_number": "1Z2"}).get_json()
    assert whole["fulfillment_status"] == "FULFILLED"
    assert client.post(f"{url}/fulfil", json={}).status_code == 400
    tracked = client.post(f"{url}/tracking", json={"tracking_number": "1Z3"}).get_json()
    assert tracked["fulfillments"][-1]["tracking"]["number"] == "1Z3"
    assert client.post(f"{url}/tracking", json={"fulfillment_id": "nope"}).status_code == 400
    assert client.post(f"{url}/cancel").status_code == 400, "a fulfilled order stays"
    assert topics(sandbox, sent) == [
        "fulfillments/create",
        "fulfillments/create",
        "fulfillments/update",
    ]


def test_placing_an_order_refuses_bad_input(sandbox_app):
    client = sandbox_app.test_client()
    url = f"/_sandbox/shops/{RETAIL}/orders"
    assert client.post(url, json={"lines": []}).status_code == 400
    assert client.post(url, json={"lines": [{"sku": "NOPE"}]}).status_code == 400
    too_much = {"lines": [{"sku": "BUB-MUG", "quantity": 1}], "discount": "100"}
    assert client.post(url, json=too_much).status_code == 400
    assert client.post(url, json={"lines": [{"sku": "BUB-MUG", "quantity": 0}]}).status_code == 400
    priced = {
        "lines": [{"sku": "BUB-MUG", "quantity": 1, "price": "9.00", "tax": "0.90"}],
        "extra_tax": "0.10",
    }
    answer = client.post(url, json=priced).get_json()
    assert (answer["total"], answer["tax"]) == ("10.00", "1.00")


def test_fraud_analysis_reports_after_the_order_pending_first_without_a_recommendation(
    sandbox_app, sandbox, data, retail_token, sent
):
    subscribe_retail(data, retail_token, "ORDERS_CREATE", "ORDERS_RISK_ASSESSMENT_CHANGED")
    sandbox.config.risk_assessment_delays = (1.0, 1.2)  # read at checkout well before these
    order = place(sandbox_app, risk="CANCEL")
    at_checkout = data(retail_token, ORDER, {"id": order["id"]}, RETAIL)["order"]["risk"]
    assert at_checkout == {"recommendation": "NONE", "assessments": []}
    assert topics(sandbox, sent) == [
        "orders/create",
        "orders/risk_assessment_changed",
        "orders/risk_assessment_changed",
    ]
    pending, final = (json.loads(body) for _, _, body in sent[1:])
    number = int(order["id"].rsplit("/", 1)[1])
    assert pending == {
        "order_id": number,
        "admin_graphql_api_order_id": order["id"],
        "risk_level": "pending",
        "facts": [{"description": "Fraud analysis in progress", "sentiment": "NEUTRAL"}],
        "provider_id": None,
        "provider_title": None,
        "created_at": pending["created_at"],
    }
    assert final["risk_level"] == "high" and "recommendation" not in final
    assert "id" not in final, "the payload names the order under its own keys"
    summary = data(retail_token, ORDER, {"id": order["id"]}, RETAIL)["order"]["risk"]
    assert summary == {
        "recommendation": "CANCEL",
        "assessments": [{"riskLevel": "PENDING"}, {"riskLevel": "HIGH"}],
    }
    event_ids = {headers["X-Shopify-Event-Id"] for _, headers, _ in sent}
    assert len(event_ids) == 3, "each assessment is its own event"


def test_the_risk_payload_can_name_the_order_by_one_key_only(
    sandbox_app, sandbox, data, retail_token, sent
):
    sandbox.config.risk_webhook_order_keys = ("order_id",)
    subscribe_retail(data, retail_token, "ORDERS_RISK_ASSESSMENT_CHANGED")
    place(sandbox_app)
    topics(sandbox, sent)
    assert all(set(json.loads(body)) >= {"order_id"} for _, _, body in sent)
    assert not any("admin_graphql_api_order_id" in json.loads(body) for _, _, body in sent)
