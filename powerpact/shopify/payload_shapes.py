"""What each webhook topic's payload must look like before its handler runs.

Shopify signs a delivery's body, not its headers: the HMAC is computed over "the raw
request body" (https://shopify.dev/docs/apps/build/webhooks/verify-deliveries). A
genuine body can therefore be posted again under another ``X-Shopify-Topic`` or
``X-Shopify-Shop-Domain``, and the signature still holds. So a body is processed only
if it is the topic's own resource, as Shopify's reference shows each topic's payload
(https://shopify.dev/docs/api/webhooks/latest; the compliance topics:
https://shopify.dev/docs/apps/build/compliance/privacy-law-compliance), and a body that
names its shop names the header's (``deliveries.read_payload``).

A shape asks for what tells the topic's body from every other topic's and for what
its handler reads, not for every documented field: Shopify adds fields, and a field
the handler never reads proves nothing. Resource bodies are told apart by their
``admin_graphql_api_id``, whose type (``gid://shopify/Order/…``) and number must be
the body's own. Bodies of one resource (the four order topics; fulfillments create
and update) cannot be told apart, and need not be: their handlers read the id and
pull the rest from Shopify, so one replayed as another is a repeat.

The topic registry (``topics.TOPICS``) names each topic's shape.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

Check = Callable[[Any], bool]


def is_numeric_id(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return value > 0
    return isinstance(value, str) and value.isascii() and value.isdigit()


def is_gid_of(kind: str) -> Check:
    prefix = f"gid://shopify/{kind}/"
    return lambda value: (
        isinstance(value, str) and value.startswith(prefix) and value[len(prefix) :].isdigit()
    )


def is_list(value: Any) -> bool:
    return isinstance(value, list)


def is_text(value: Any) -> bool:
    return isinstance(value, str) and bool(value.strip())


def is_object_with_id(value: Any) -> bool:
    return isinstance(value, dict) and is_text(value.get("id"))


def is_object(value: Any) -> bool:
    return isinstance(value, dict)


@dataclass(frozen=True)
class Field:
    key: str
    check: Check
    what: str


@dataclass(frozen=True)
class Shape:
    """A topic's payload: the fields it must carry, its resource's GraphQL type (its
    ``admin_graphql_api_id`` then names that type and the body's ``id``), the only keys
    it may carry (for a body Shopify documents whole), and keys it must never carry
    (another topic's body of the same keys otherwise)."""

    fields: tuple[Field, ...] = ()
    resource: str | None = None
    only: frozenset[str] | None = None
    never: frozenset[str] = frozenset()
    one_of: tuple[Field, ...] = ()

    def problem(self, payload: dict[str, Any]) -> str | None:
        for field in self.fields:
            if not field.check(payload.get(field.key)):
                return f"{field.key} is missing or not {field.what}"
        if self.one_of and not any(f.check(payload.get(f.key)) for f in self.one_of):
            return " or ".join(f"{f.key} ({f.what})" for f in self.one_of) + " is missing"
        if self.resource is not None:
            expected = f"gid://shopify/{self.resource}/{payload.get('id')}"
            if payload.get("admin_graphql_api_id") != expected:
                return f"admin_graphql_api_id is not the {self.resource} of this id"
        foreign = sorted((set(payload) - self.only) if self.only is not None else ())
        foreign += sorted(set(payload) & self.never)
        if foreign:
            return "it carries " + ", ".join(k[:40] for k in foreign[:5])
        return None


ID = Field("id", is_numeric_id, "a numeric id")
SHOP_DOMAIN = Field("shop_domain", is_text, "a shop domain")
SHOP_ID = Field("shop_id", is_numeric_id, "a numeric id")
CUSTOMER = Field("customer", is_object, "an object")
ORDER = Shape(fields=(ID,), resource="Order")
# A refund also has an id and an order_id: a fulfillment carries no refund line items.
FULFILLMENT = Shape(
    fields=(ID, Field("order_id", is_numeric_id, "a numeric id")),
    never=frozenset({"refund_line_items"}),
)
FULFILLMENT_ORDER_EVENT = Shape(
    fields=(Field("fulfillment_order", is_object_with_id, "an object with an id"),)
)
# A customer's request also names the shop by shop_id and shop_domain: a shop redact
# body is the one that carries nothing about a customer.
CUSTOMER_KEYS = frozenset({"customer", "orders_to_redact", "orders_requested", "data_request"})

RISK_ASSESSMENT = Shape(
    fields=(Field("risk_level", is_text, "a risk level"),),
    one_of=(
        Field("order_id", is_numeric_id, "a numeric id"),
        Field("admin_graphql_api_order_id", is_gid_of("Order"), "an Order gid"),
    ),
)
# "refunds/create": the REST Refund resource, which names its order by ``order_id``
# (https://shopify.dev/docs/api/admin-rest/latest/resources/refund).
REFUND = Shape(fields=(ID, Field("order_id", is_numeric_id, "a numeric id")), resource="Refund")


def is_order_edit(value: Any) -> bool:
    """``orders/edited``'s body, ``{"order_edit": {...}}``: the edit's id and its order's
    ``order_id`` (Shopify's reference of the topic, https://shopify.dev/docs/api/webhooks/latest)."""
    return (
        isinstance(value, dict)
        and is_numeric_id(value.get("id"))
        and is_numeric_id(value.get("order_id"))
    )


ORDER_EDITED = Shape(
    fields=(Field("order_edit", is_order_edit, "an order edit naming its order"),),
    never=frozenset({"admin_graphql_api_id", "line_items"}),
)
FULFILLMENT_ORDER_MOVED = Shape(
    fields=(
        Field("original_fulfillment_order", is_object_with_id, "an object with an id"),
        Field("moved_fulfillment_order", is_object_with_id, "an object with an id"),
    )
)
PRODUCT = Shape(fields=(ID,), resource="Product")
# "products/delete": the id of the product, nothing else.
PRODUCT_DELETED = Shape(fields=(ID,), only=frozenset({"id"}))
INVENTORY_LEVEL = Shape(
    fields=(
        Field("inventory_item_id", is_numeric_id, "a numeric id"),
        Field("location_id", is_numeric_id, "a numeric id"),
    )
)
# The shop itself (https://shopify.dev/docs/api/admin-rest/latest/resources/shop).
SHOP = Shape(fields=(ID, Field("myshopify_domain", is_text, "a myshopify.com domain")))
SCOPES_UPDATE = Shape(
    fields=(
        Field("previous", is_list, "a list of scopes"),
        Field("current", is_list, "a list of scopes"),
    )
)
CUSTOMER_DATA_REQUEST = Shape(
    fields=(
        SHOP_ID,
        SHOP_DOMAIN,
        CUSTOMER,
        Field("orders_requested", is_list, "a list of order ids"),
    )
)
CUSTOMER_REDACT = Shape(
    fields=(
        SHOP_ID,
        SHOP_DOMAIN,
        CUSTOMER,
        Field("orders_to_redact", is_list, "a list of order ids"),
    )
)
SHOP_REDACT = Shape(fields=(SHOP_ID, SHOP_DOMAIN), never=CUSTOMER_KEYS)
