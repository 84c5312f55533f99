"""Fuzzing the webhook endpoint and the handlers: never a 500, never a crashed worker."""

import uuid

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from powerpact.models import DeliveryStatus
from powerpact.shopify.webhooks import delivery_by_webhook_id

TOPICS = [
    "orders/create", "orders/paid", "orders/updated", "orders/cancelled",
    "orders/risk_assessment_changed",
    "products/update", "products/delete", "inventory_levels/update", "fulfillments/create",
    "fulfillments/update", "app/uninstalled", "app/scopes_update", "customers/data_request",
    "customers/redact", "shop/redact", "carts/create",
]  # fmt: skip

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=12,
)
payloads = st.dictionaries(
    st.sampled_from(
        [
            "id",
            "order_id",
            "inventory_item_id",
            "admin_graphql_api_id",
            "current",
            "customer",
            "line_items",
            "status",
            "orders_to_redact",
        ]
    ),
    json_values,
    max_size=5,
)
FUZZ = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@FUZZ
@given(
    topic=st.sampled_from(TOPICS),
    payload=payloads,
)
def test_any_signed_payload_is_acknowledged_and_stored_with_an_outcome(
    send_webhook, personas, topic, payload
):
    webhook_id = f"fuzz-{uuid.uuid4()}"
    response = send_webhook(
        topic, payload, shop="alice-roasters.myshopify.com", webhook_id=webhook_id
    )
    assert response.status_code == 200
    delivery = delivery_by_webhook_id(webhook_id)
    assert delivery.status in {
        DeliveryStatus.PROCESSED,
        DeliveryStatus.IGNORED,
        DeliveryStatus.FAILED,
        DeliveryStatus.DUPLICATE,
        DeliveryStatus.RECEIVED,
    }
    if delivery.status == DeliveryStatus.FAILED:
        assert delivery.error


@FUZZ
@given(body=st.binary(max_size=200))
def test_any_signed_bytes_are_acknowledged_never_a_500(send_webhook, body):
    response = send_webhook("orders/create", None, raw=body)
    assert response.status_code == 200


@FUZZ
@given(
    body=st.binary(max_size=200),
    signature=st.text(st.characters(exclude_characters="\r\n"), max_size=60),
)
def test_unsigned_bytes_are_refused_never_a_500(client, body, signature):
    response = client.post(
        "/webhooks",
        data=body,
        headers={"X-Shopify-Hmac-Sha256": signature, "X-Shopify-Webhook-Id": "x"},
    )
    assert response.status_code == 401
