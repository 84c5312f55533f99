"""The Admin GraphQL endpoint: validate against the real schema, charge cost, execute.

Documents are validated and executed by graphql-core against Shopify's own
2026-07 schema, so response shapes are the schema's. Root fields dispatch to the
resolvers below; nested fields read the shaped dicts of ``shapes``. A selected
field the sandbox does not model resolves to null and is logged per shop.
"""

from __future__ import annotations

import time
from decimal import Decimal
from typing import Any

from graphql import (
    FragmentDefinitionNode,
    GraphQLError,
    GraphQLResolveInfo,
    OperationDefinitionNode,
    execute,
    parse,
    validate,
    value_from_ast_untyped,
)

from powerpact.sandbox import shapes
from powerpact.sandbox.core import CallRecord, Sandbox, SandboxError, handleize, numeric
from powerpact.sandbox.cost import MAX_QUERY_COST, CostCalculator
from powerpact.sandbox.search import matcher
from powerpact.sandbox.store import Order, Product, Shop, Subscription, Variant, now_iso
from powerpact.shopify.schema import admin_schema

ROOT = object()
MISSING = object()


class Context:
    def __init__(self, sandbox: Sandbox, shop: Shop, scopes: list[str]) -> None:
        self.sandbox = sandbox
        self.shop = shop
        self.scopes = scopes
        self.idempotency_key: str | None = None


def user_error(
    message: str, field: list[str] | None = None, code: str | None = None
) -> dict[str, Any]:
    return {"field": field, "message": message, "code": code}


# -- queries -------------------------------------------------------------------------


def q_shop(ctx: Context, args: dict[str, Any], info: GraphQLResolveInfo) -> dict[str, Any]:
    shop = ctx.shop
    return {
        "id": f"gid://shopify/Shop/{abs(hash(shop.domain)) % 10**10}",
        "name": shop.name,
        "currencyCode": shop.currency,
        "ianaTimezone": shop.timezone,
        "myshopifyDomain": shop.domain,
        "plan": {
            "displayName": shop.plan.title(),
            "publicDisplayName": shop.plan.title(),
            "partnerDevelopment": False,
            "shopifyPlus": shop.plan == "plus",
        },
    }


def q_locations(ctx: Context, args: dict[str, Any], info: GraphQLResolveInfo) -> dict[str, Any]:
    return shapes.connection(
        ctx.shop.locations, lambda loc: {"__typename": "Location", **loc}, **args
    )


def q_app_installation(
    ctx: Context, args: dict[str, Any], info: GraphQLResolveInfo
) -> dict[str, Any]:
    return {"accessScopes": [{"handle": s, "description": s} for s in ctx.scopes]}


def q_webhook_subscriptions(
    ctx: Context, args: dict[str, Any], info: GraphQLResolveInfo
) -> dict[str, Any]:
    subs = [
        s
        for s in ctx.shop.subscriptions.values()
        if not args.get("topics") or s.topic in args["topics"]
    ]
    return shapes.connection(subs, subscription_node, **args)


def subscription_node(sub: Subscription) -> dict[str, Any]:
    return {
        "__typename": "WebhookSubscription",
        "id": sub.id,
        "topic": sub.topic,
        "uri": sub.uri,
        "callbackUrl": sub.uri,
        "format": "JSON",
    }


def product_fields(shop: Shop) -> Any:
    def fields(product: Product) -> dict[str, list[str]]:
        return {
            "title": [product.title],
            "vendor": [product.vendor],
            "product_type": [product.product_type],
            "status": [product.status.lower()],
            "tag": product.tags,
            "sku": [v.sku or "" for v in product.variants],
            "handle": [product.handle],
            "id": [str(numeric(product.id))],
            "updated_at": [product.updated_at],
        }

    return fields


def search_products(shop: Shop, args: dict[str, Any]) -> list[Product]:
    predicate = matcher(
        args.get("query"), product_fields(shop), ("title", "vendor", "sku", "tag", "product_type")
    )
    products = [p for p in shop.products.values() if predicate(p)]
    sort_key = args.get("sortKey") or "ID"
    key = {
        "TITLE": lambda p: p.title.lower(),
        "UPDATED_AT": lambda p: p.updated_at,
        "VENDOR": lambda p: p.vendor,
    }.get(sort_key, lambda p: numeric(p.id))
    products.sort(key=key, reverse=bool(args.get("reverse")))
    return products


def q_products(ctx: Context, args: dict[str, Any], info: GraphQLResolveInfo) -> dict[str, Any]:
    return shapes.connection(
        search_products(ctx.shop, args), lambda p: shapes.product_node(ctx.shop, p), **args
    )


def q_products_count(
    ctx: Context, args: dict[str, Any], info: GraphQLResolveInfo
) -> dict[str, Any]:
    return {"count": len(search_products(ctx.shop, args)), "precision": "EXACT"}


def q_product(
    ctx: Context, args: dict[str, Any], info: GraphQLResolveInfo
) -> dict[str, Any] | None:
    product = ctx.shop.products.get(args.get("id", ""))
    return shapes.product_node(ctx.shop, product) if product else None


def q_product_variants(
    ctx: Context, args: dict[str, Any], info: GraphQLResolveInfo
) -> dict[str, Any]:
    variants = [v for p in ctx.shop.products.values() for v in p.variants]
    predicate = matcher(
        args.get("query"),
        lambda v: {"sku": [v.sku or ""], "product_id": [str(numeric(v.product_id))]},
        ("sku",),
    )
    return shapes.connection(
        [v for v in variants if predicate(v)], lambda v: shapes.variant_node(ctx.shop, v), **args
    )


def node_by_id(ctx: Context, gid: str) -> dict[str, Any] | None:
    shop = ctx.shop
    kind = gid.split("/")[3] if gid.count("/") >= 4 else ""
    if kind == "Product" and gid in shop.products:
        return shapes.product_node(shop, shop.products[gid])
    if kind == "ProductVariant":
        variant = shop.variants().get(gid)
        return shapes.variant_node(shop, variant) if variant else None
    if kind == "Order" and gid in shop.orders:
        return shapes.order_node(shop, shop.orders[gid])
    return None


def q_nodes(
    ctx: Context, args: dict[str, Any], info: GraphQLResolveInfo
) -> list[dict[str, Any] | None]:
    if len(args["ids"]) > 250:
        raise GraphQLError(
            "The input array size of 251 is greater than the maximum allowed of 250."
        )
    return [node_by_id(ctx, gid) for gid in args["ids"]]


def q_node(ctx: Context, args: dict[str, Any], info: GraphQLResolveInfo) -> dict[str, Any] | None:
    return node_by_id(ctx, args["id"])


def q_order(ctx: Context, args: dict[str, Any], info: GraphQLResolveInfo) -> dict[str, Any] | None:
    order = ctx.shop.orders.get(args.get("id", ""))
    return shapes.order_node(ctx.shop, order) if order else None


def order_fields(order: Order) -> dict[str, list[str]]:
    return {
        "name": [order.name, order.name.lstrip("#")],
        "tag": order.tags,
        "source_identifier": [order.source_identifier or ""],
        "created_at": [order.created_at],
        "email": [order.email or ""],
        "financial_status": [order.financial_status.lower()],
        "id": [str(numeric(order.id))],
    }


def q_orders(ctx: Context, args: dict[str, Any], info: GraphQLResolveInfo) -> dict[str, Any]:
    predicate = matcher(args.get("query"), order_fields, ("name", "email", "tag"))
    orders = sorted(
        (o for o in ctx.shop.orders.values() if predicate(o)),
        key=lambda o: o.number,
        reverse=bool(args.get("reverse")),
    )
    return shapes.connection(orders, lambda o: shapes.order_node(ctx.shop, o), **args)


QUERIES = {
    "shop": q_shop,
    "locations": q_locations,
    "currentAppInstallation": q_app_installation,
    "webhookSubscriptions": q_webhook_subscriptions,
    "products": q_products,
    "productsCount": q_products_count,
    "product": q_product,
    "productVariants": q_product_variants,
    "nodes": q_nodes,
    "node": q_node,
    "order": q_order,
    "orders": q_orders,
}


# -- mutations -----------------------------------------------------------------------
def m_webhook_create(
    ctx: Context, args: dict[str, Any], info: GraphQLResolveInfo
) -> dict[str, Any]:
    uri = (args.get("webhookSubscription") or {}).get("uri") or (
        args.get("webhookSubscription") or {}
    ).get("callbackUrl")
    if not uri:
        return {
            "webhookSubscription": None,
            "userErrors": [user_error("Address can't be blank", ["webhookSubscription", "uri"])],
        }
    for sub in ctx.shop.subscriptions.values():
        if sub.topic == args["topic"] and sub.uri == uri:
            return {
                "webhookSubscription": None,
                "userErrors": [
                    user_error(
                        "Address for this topic has already been taken",
                        ["webhookSubscription", "uri"],
                    )
                ],
            }
    sub = Subscription(ctx.sandbox.store.ids.gid("WebhookSubscription"), args["topic"], uri)
    ctx.shop.subscriptions[sub.id] = sub
    return {"webhookSubscription": subscription_node(sub), "userErrors": []}


def m_webhook_delete(
    ctx: Context, args: dict[str, Any], info: GraphQLResolveInfo
) -> dict[str, Any]:
    if ctx.shop.subscriptions.pop(args["id"], None) is None:
        return {
            "deletedWebhookSubscriptionId": None,
            "userErrors": [user_error("Webhook subscription does not exist", ["id"])],
        }
    return {"deletedWebhookSubscriptionId": args["id"], "userErrors": []}


def m_metafield_definition(
    ctx: Context, args: dict[str, Any], info: GraphQLResolveInfo
) -> dict[str, Any]:
    definition = args["definition"]
    key = (definition.get("namespace") or "", definition["key"])
    if key in ctx.shop.metafield_definitions:
        return {
            "createdDefinition": None,
            "userErrors": [
                user_error(
                    "Key is in use for Product metafields on the 'namespace' namespace.",
                    ["definition", "key"],
                    "TAKEN",
                )
            ],
        }
    ctx.shop.metafield_definitions.add(key)
    return {
        "createdDefinition": {
            "id": ctx.sandbox.store.ids.gid("MetafieldDefinition"),
            "name": definition["name"],
        },
        "userErrors": [],
    }


def find_product_for_set(
    shop: Shop, identifier: dict[str, Any] | None, data: dict[str, Any]
) -> Product | None:
    identifier = identifier or {}
    if identifier.get("id") or data.get("id"):
        return shop.products.get(identifier.get("id") or data["id"])
    if identifier.get("handle"):
        return next((p for p in shop.products.values() if p.handle == identifier["handle"]), None)
    custom = identifier.get("customId")
    if custom:
        wanted = (custom.get("namespace") or "", custom["key"])
        return next(
            (p for p in shop.products.values() if p.metafields.get(wanted) == custom["value"]), None
        )
    return None


def m_product_set(ctx: Context, args: dict[str, Any], info: GraphQLResolveInfo) -> dict[str, Any]:
    """Create or update a whole product: variants not listed are removed, as Shopify does."""
    sandbox, shop, data = ctx.sandbox, ctx.shop, args["input"]
    product = find_product_for_set(shop, args.get("identifier"), data)
    if product is None and (args.get("identifier") or {}).get("id"):
        return {
            "product": None,
            "userErrors": [
                user_error("Product does not exist", ["identifier", "id"], "PRODUCT_DOES_NOT_EXIST")
            ],
        }
    if product is None and not data.get("title"):
        return {
            "product": None,
            "userErrors": [user_error("Title can't be blank", ["input", "title"], "BLANK")],
        }
    variants_in = data.get("variants")
    if variants_in is not None and len(variants_in) > 2048:
        return {
            "product": None,
            "userErrors": [user_error("Too many variants", ["input", "variants"])],
        }
    skus = [v.get("sku") for v in variants_in or [] if v.get("sku")]
    if len(skus) != len(set(skus)):
        return {
            "product": None,
            "userErrors": [
                user_error("SKUs must be unique within a product", ["input", "variants"])
            ],
        }
    if product is None:
        product = Product(
            id=sandbox.store.ids.gid("Product"),
            title=data["title"],
            handle=data.get("handle") or handleize(data["title"]),
        )
        shop.products[product.id] = product
    for source, target in (
        ("title", "title"),
        ("vendor", "vendor"),
        ("productType", "product_type"),
        ("status", "status"),
        ("descriptionHtml", "description_html"),
        ("handle", "handle"),
    ):
        if data.get(source) is not None:
            setattr(product, target, data[source])
    if data.get("tags") is not None:
        product.tags = list(data["tags"])
    for metafield in data.get("metafields") or []:
        product.metafields[(metafield.get("namespace") or "", metafield["key"])] = metafield[
            "value"
        ]
    if data.get("files"):
        product.image_url = data["files"][0].get("originalSource")
    if data.get("productOptions") is not None:
        product.options = [
            (o["name"], [v["name"] for v in o.get("values") or []]) for o in data["productOptions"]
        ]
    if variants_in is not None:
        product.variants = [upsert_variant(ctx, product, v) for v in variants_in]
    shop.catalog_changed()
    product.updated_at = now_iso()
    return {
        "product": shapes.product_node(shop, product),
        "productSetOperation": None,
        "userErrors": [],
    }


def upsert_variant(ctx: Context, product: Product, data: dict[str, Any]) -> Variant:
    options = [
        (o.get("optionName") or "Title", o.get("name") or "")
        for o in data.get("optionValues") or []
    ]
    existing = next(
        (
            v
            for v in product.variants
            if (data.get("id") and v.id == data["id"]) or v.options == options
        ),
        None,
    )
    variant = existing or Variant(
        id=ctx.sandbox.store.ids.gid("ProductVariant"),
        product_id=product.id,
        title="",
        sku=None,
        price=Decimal(0),
        compare_at=None,
        options=options,
        inventory_item_id=ctx.sandbox.store.ids.gid("InventoryItem"),
    )
    variant.options = options
    variant.title = " / ".join(v for _, v in options) or "Default Title"
    if data.get("sku") is not None:
        variant.sku = data["sku"]
    if data.get("price") is not None:
        variant.price = Decimal(str(data["price"]))
    if "compareAtPrice" in data:
        variant.compare_at = (
            Decimal(str(data["compareAtPrice"])) if data["compareAtPrice"] else None
        )
    if data.get("inventoryPolicy"):
        variant.inventory_policy = data["inventoryPolicy"]
    for quantity in data.get("inventoryQuantities") or []:
        ctx.shop.levels[(variant.inventory_item_id, quantity["locationId"])] = int(
            quantity["quantity"]
        )
    return variant


def m_product_update(
    ctx: Context, args: dict[str, Any], info: GraphQLResolveInfo
) -> dict[str, Any]:
    data = args.get("product") or args.get("input") or {}
    product = ctx.shop.products.get(data.get("id", ""))
    if product is None:
        return {"product": None, "userErrors": [user_error("Product does not exist", ["id"])]}
    for source, target in (("title", "title"), ("status", "status"), ("vendor", "vendor")):
        if data.get(source) is not None:
            setattr(product, target, data[source])
    product.updated_at = now_iso()
    return {"product": shapes.product_node(ctx.shop, product), "userErrors": []}


def m_inventory_set(ctx: Context, args: dict[str, Any], info: GraphQLResolveInfo) -> dict[str, Any]:
    """Set absolute quantities, compare-and-set on ``changeFromQuantity``; all or nothing."""
    shop, data = ctx.shop, args["input"]
    key = ctx.idempotency_key
    if key is not None and key in shop.idempotency:
        return shop.idempotency[key]
    if data.get("name") not in ("available", "on_hand"):
        return {
            "inventoryAdjustmentGroup": None,
            "userErrors": [
                user_error(
                    "The quantity name must be available or on_hand",
                    ["input", "name"],
                    "INVALID_NAME",
                )
            ],
        }
    if len(data["quantities"]) > 250:
        return {
            "inventoryAdjustmentGroup": None,
            "userErrors": [
                user_error("Too many quantities (250 at most)", ["input", "quantities"])
            ],
        }
    items = shop.inventory_items()
    errors = []
    for index, change in enumerate(data["quantities"]):
        level_key = (change["inventoryItemId"], change["locationId"])
        if change["inventoryItemId"] not in items:
            errors.append(
                user_error(
                    "The specified inventory item could not be found.",
                    ["input", "quantities", str(index), "inventoryItemId"],
                    "INVALID_INVENTORY_ITEM",
                )
            )
        elif "changeFromQuantity" not in change:
            errors.append(
                user_error(
                    "changeFromQuantity is required",
                    ["input", "quantities", str(index)],
                    "COMPARE_QUANTITY_REQUIRED",
                )
            )
        elif (
            change["changeFromQuantity"] is not None
            and shop.levels.get(level_key, 0) != change["changeFromQuantity"]
        ):
            errors.append(
                user_error(
                    "The specified compare quantity does not match the current quantity.",
                    ["input", "quantities", str(index), "changeFromQuantity"],
                    "CHANGE_FROM_QUANTITY_STALE",
                )
            )
    if errors:
        result = {"inventoryAdjustmentGroup": None, "userErrors": errors}
    else:
        for change in data["quantities"]:
            shop.levels[(change["inventoryItemId"], change["locationId"])] = int(change["quantity"])
        result = {
            "inventoryAdjustmentGroup": {
                "id": ctx.sandbox.store.ids.gid("InventoryAdjustmentGroup"),
                "reason": data["reason"],
                "createdAt": now_iso(),
            },
            "userErrors": [],
        }
    if key is not None:
        shop.idempotency[key] = result
    return result


def m_order_create(ctx: Context, args: dict[str, Any], info: GraphQLResolveInfo) -> dict[str, Any]:
    sandbox, shop, data = ctx.sandbox, ctx.shop, args["order"]
    options = args.get("options") or {}
    try:
        sandbox.check_order_create_limit(shop)
        lines = []
        for item in data.get("lineItems") or []:
            variant = (
                sandbox.find_variant(shop, variant_id=item["variantId"])
                if item.get("variantId")
                else None
            )
            price = (
                item.get("priceSet", {}).get("shopMoney", {}).get("amount")
                if item.get("priceSet")
                else None
            )
            lines.append(
                sandbox.line(
                    shop,
                    variant,
                    int(item["quantity"]),
                    Decimal(price) if price else None,
                    title=item.get("title"),
                )
            )
        if not lines:
            raise SandboxError("An order must have at least one line item")
        shipping = sum(
            (
                Decimal(s["priceSet"]["shopMoney"]["amount"])
                for s in data.get("shippingLines") or []
            ),
            Decimal(0),
        )
        tax = sum(
            (Decimal(t["priceSet"]["shopMoney"]["amount"]) for t in data.get("taxLines") or []),
            Decimal(0),
        )
        order = sandbox.new_order(
            shop,
            lines,
            shipping=shipping,
            tax=tax,
            financial_status=data.get("financialStatus") or "PAID",
            email=data.get("email"),
            shipping_address=data.get("shippingAddress"),
            tags=list(data.get("tags") or []),
            source_identifier=data.get("sourceIdentifier"),
            note=data.get("note"),
            test=bool(data.get("test")),
        )
        try:
            sandbox.decrement_stock(shop, order, options.get("inventoryBehaviour") or "BYPASS")
        except SandboxError:
            del shop.orders[order.id]
            raise
    except SandboxError as exc:
        return {"order": None, "userErrors": [user_error(str(exc), ["order"], "INVALID")]}
    sandbox.emit(shop, "orders/create", sandbox.order_payload(order))
    return {"order": shapes.order_node(shop, order), "userErrors": []}


def m_order_cancel(ctx: Context, args: dict[str, Any], info: GraphQLResolveInfo) -> dict[str, Any]:
    order = ctx.shop.orders.get(args["orderId"])
    if order is None or order.cancelled_at:
        error = user_error("Order cannot be cancelled", ["orderId"], "INVALID")
        return {"job": None, "orderCancelUserErrors": [error], "userErrors": [error]}
    order.cancelled_at = now_iso()
    ctx.sandbox.emit(ctx.shop, "orders/cancelled", ctx.sandbox.order_payload(order))
    return {
        "job": {"id": ctx.sandbox.store.ids.gid("Job"), "done": True},
        "orderCancelUserErrors": [],
        "userErrors": [],
    }


EDITS: dict[str, dict[str, Any]] = {}


def m_order_edit_begin(
    ctx: Context, args: dict[str, Any], info: GraphQLResolveInfo
) -> dict[str, Any]:
    order = ctx.shop.orders.get(args["id"])
    if order is None or order.cancelled_at:
        return {
            "calculatedOrder": None,
            "userErrors": [user_error("The order cannot be edited", ["id"])],
        }
    calculated = ctx.sandbox.store.ids.gid("CalculatedOrder")
    EDITS[calculated] = {"shop": ctx.shop.domain, "order": order.id, "adds": [], "sets": {}}
    return {
        "calculatedOrder": {"id": calculated, "originalOrder": {"id": order.id}},
        "orderEditSession": {"id": calculated},
        "userErrors": [],
    }


def m_order_edit_add(
    ctx: Context, args: dict[str, Any], info: GraphQLResolveInfo
) -> dict[str, Any]:
    edit = EDITS.get(args["id"])
    if edit is None or edit["shop"] != ctx.shop.domain:
        return {
            "calculatedLineItem": None,
            "userErrors": [user_error("The edit session does not exist", ["id"])],
        }
    try:
        ctx.sandbox.find_variant(ctx.shop, variant_id=args["variantId"])
    except SandboxError as exc:
        return {"calculatedLineItem": None, "userErrors": [user_error(str(exc), ["variantId"])]}
    edit["adds"].append((args["variantId"], int(args["quantity"])))
    return {
        "calculatedLineItem": {"id": ctx.sandbox.store.ids.gid("CalculatedLineItem")},
        "userErrors": [],
    }


def m_order_edit_set_quantity(
    ctx: Context, args: dict[str, Any], info: GraphQLResolveInfo
) -> dict[str, Any]:
    edit = EDITS.get(args["id"])
    if edit is None:
        return {
            "calculatedLineItem": None,
            "userErrors": [user_error("The edit session does not exist", ["id"])],
        }
    edit["sets"][args["lineItemId"]] = int(args["quantity"])
    return {"calculatedLineItem": {"id": args["lineItemId"]}, "userErrors": []}


def m_order_edit_commit(
    ctx: Context, args: dict[str, Any], info: GraphQLResolveInfo
) -> dict[str, Any]:
    edit = EDITS.pop(args["id"], None)
    if edit is None:
        return {
            "order": None,
            "userErrors": [user_error("The edit session does not exist", ["id"])],
        }
    order = ctx.shop.orders[edit["order"]]
    for variant_id, quantity in edit["adds"]:
        variant = ctx.sandbox.find_variant(ctx.shop, variant_id=variant_id)
        order.line_items.append(ctx.sandbox.line(ctx.shop, variant, quantity))
    for line in order.line_items:
        if (
            line.id.replace("LineItem", "CalculatedLineItem") in edit["sets"]
            or line.id in edit["sets"]
        ):
            line.current_quantity = edit["sets"].get(
                line.id, edit["sets"].get(line.id.replace("LineItem", "CalculatedLineItem"))
            )
    ctx.sandbox.emit(ctx.shop, "orders/updated", ctx.sandbox.order_payload(order))
    return {"order": shapes.order_node(ctx.shop, order), "userErrors": []}


def m_fulfillment_create(
    ctx: Context, args: dict[str, Any], info: GraphQLResolveInfo
) -> dict[str, Any]:
    shop, data = ctx.shop, args["fulfillment"]
    quantities: dict[str, int] = {}
    target: Order | None = None
    for group in data["lineItemsByFulfillmentOrder"]:
        order = next(
            (
                o
                for o in shop.orders.values()
                if o.fulfillment_order_id == group["fulfillmentOrderId"]
            ),
            None,
        )
        if order is None:
            return {
                "fulfillment": None,
                "userErrors": [user_error("Fulfillment order does not exist", ["fulfillment"])],
            }
        target = order
        by_fo_line = {shapes.fulfillment_line_id(li): li for li in order.line_items}
        for item in group.get("fulfillmentOrderLineItems") or [
            {"id": k, "quantity": li.current - li.fulfilled} for k, li in by_fo_line.items()
        ]:
            line = by_fo_line.get(item["id"])
            if line is None:
                return {
                    "fulfillment": None,
                    "userErrors": [
                        user_error("Fulfillment order line item does not exist", ["fulfillment"])
                    ],
                }
            quantities[line.id] = quantities.get(line.id, 0) + int(item["quantity"])
    if target is None:
        return {
            "fulfillment": None,
            "userErrors": [user_error("Nothing to fulfil", ["fulfillment"])],
        }
    tracking = data.get("trackingInfo") or {}
    try:
        fulfillment = ctx.sandbox.fulfil(
            shop,
            target,
            quantities,
            {
                "number": tracking.get("number"),
                "company": tracking.get("company"),
                "url": tracking.get("url"),
            },
        )
    except SandboxError as exc:
        return {"fulfillment": None, "userErrors": [user_error(str(exc), ["fulfillment"])]}
    return {"fulfillment": shapes.fulfillment_node(fulfillment), "userErrors": []}


def m_tracking_update(
    ctx: Context, args: dict[str, Any], info: GraphQLResolveInfo
) -> dict[str, Any]:
    for order in ctx.shop.orders.values():
        for fulfillment in order.fulfillments:
            if fulfillment.id == args["fulfillmentId"]:
                fulfillment.tracking.update(
                    {
                        k: v
                        for k, v in args["trackingInfoInput"].items()
                        if k in ("number", "company", "url")
                    }
                )
                return {"fulfillment": shapes.fulfillment_node(fulfillment), "userErrors": []}
    return {
        "fulfillment": None,
        "userErrors": [user_error("Fulfillment does not exist", ["fulfillmentId"])],
    }


def m_product_delete(
    ctx: Context, args: dict[str, Any], info: GraphQLResolveInfo
) -> dict[str, Any]:
    product_id = (args.get("input") or {}).get("id") or args.get("id") or ""
    if ctx.shop.products.pop(product_id, None) is None:
        return {
            "deletedProductId": None,
            "userErrors": [user_error("Product does not exist", ["id"])],
        }
    ctx.shop.catalog_changed()
    ctx.sandbox.emit(ctx.shop, "products/delete", {"id": numeric(product_id)})
    return {"deletedProductId": product_id, "userErrors": []}


def m_order_update(ctx: Context, args: dict[str, Any], info: GraphQLResolveInfo) -> dict[str, Any]:
    data = args["input"]
    order = ctx.shop.orders.get(data.get("id", ""))
    if order is None:
        return {"order": None, "userErrors": [user_error("Order does not exist", ["id"])]}
    if data.get("tags") is not None:
        order.tags = list(data["tags"])
    for source, target in (
        ("note", "note"),
        ("email", "email"),
        ("shippingAddress", "shipping_address"),
    ):
        if data.get(source) is not None:
            setattr(order, target, data[source])
    ctx.sandbox.emit(ctx.shop, "orders/updated", ctx.sandbox.order_payload(order))
    return {"order": shapes.order_node(ctx.shop, order), "userErrors": []}


MUTATIONS = {
    "productDelete": m_product_delete,
    "orderUpdate": m_order_update,
    "webhookSubscriptionCreate": m_webhook_create,
    "webhookSubscriptionDelete": m_webhook_delete,
    "metafieldDefinitionCreate": m_metafield_definition,
    "productSet": m_product_set,
    "productUpdate": m_product_update,
    "inventorySetQuantities": m_inventory_set,
    "orderCreate": m_order_create,
    "orderCancel": m_order_cancel,
    "orderEditBegin": m_order_edit_begin,
    "orderEditAddVariant": m_order_edit_add,
    "orderEditSetQuantity": m_order_edit_set_quantity,
    "orderEditCommit": m_order_edit_commit,
    "fulfillmentCreate": m_fulfillment_create,
    "fulfillmentTrackingInfoUpdate": m_tracking_update,
}


# -- execution -----------------------------------------------------------------------
def field_resolver(source: Any, info: GraphQLResolveInfo, **args: Any) -> Any:
    ctx: Context = info.context
    if source is ROOT:
        table = MUTATIONS if info.operation.operation.value == "mutation" else QUERIES
        handler = table.get(info.field_name)
        if handler is None:
            ctx.sandbox.unmodelled.setdefault(ctx.shop.domain, set()).add(
                f"{info.parent_type.name}.{info.field_name}"
            )
            return None
        ctx.idempotency_key = idempotency_key(info)
        return handler(ctx, args, info)
    if isinstance(source, dict):
        value = source.get(info.field_name, MISSING)
        if value is MISSING:
            ctx.sandbox.unmodelled.setdefault(ctx.shop.domain, set()).add(
                f"{info.parent_type.name}.{info.field_name}"
            )
            return None
        return value(**args) if callable(value) else value
    return None


def idempotency_key(info: GraphQLResolveInfo) -> str | None:
    for directive in info.field_nodes[0].directives or ():
        if directive.name.value == "idempotent":
            for argument in directive.arguments:
                if argument.name.value == "key":
                    values = getattr(info.variable_values, "coerced", info.variable_values)
                    return str(value_from_ast_untyped(argument.value, values))
    return None


def error_body(message: str, code: str, cost: dict[str, Any] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"errors": [{"message": message, "extensions": {"code": code}}]}
    if cost:
        body["extensions"] = {"cost": cost}
    return body


def run_graphql(
    sandbox: Sandbox, shop: Shop, scopes: list[str], payload: dict[str, Any]
) -> dict[str, Any]:
    """Validate, charge and execute one request; always a Shopify-shaped JSON body."""
    document_text = payload.get("query") or ""
    variables = payload.get("variables") or {}
    try:
        document = parse(document_text)
    except GraphQLError as exc:
        return {"errors": [exc.formatted]}
    schema = admin_schema()
    errors = validate(schema, document)
    if errors:
        return {"errors": [e.formatted for e in errors]}
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    operation = next(
        (
            o
            for o in operations
            if not payload.get("operationName")
            or (o.name and o.name.value == payload["operationName"])
        ),
        None,
    )
    if operation is None:
        return {
            "errors": [
                {"message": 'Unknown operation named "{}".'.format(payload.get("operationName"))}
            ]
        }
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    calculator = CostCalculator(schema, fragments, variables)
    requested = calculator.operation_cost(operation)
    bucket = sandbox.buckets[shop.domain]
    operation_name = operation.name.value if operation.name else "anonymous"
    if requested > MAX_QUERY_COST:
        sandbox.record_call(shop.domain, CallRecord(operation_name, requested, 0, False, 200))
        return error_body(
            f"Query cost is {requested}, which exceeds the single query max cost limit"
            f" ({MAX_QUERY_COST}).",
            "MAX_COST_EXCEEDED",
            {
                "requestedQueryCost": requested,
                "actualQueryCost": None,
                "throttleStatus": bucket.status().as_dict(),
            },
        )
    if not bucket.take(requested):
        sandbox.record_call(shop.domain, CallRecord(operation_name, requested, 0, True, 200))
        return error_body(
            "Throttled",
            "THROTTLED",
            {
                "requestedQueryCost": requested,
                "actualQueryCost": None,
                "throttleStatus": bucket.status().as_dict(),
            },
        )
    with sandbox.lock:
        result = execute(
            schema,
            document,
            root_value=ROOT,
            context_value=Context(sandbox, shop, scopes),
            variable_values=variables,
            operation_name=payload.get("operationName"),
            field_resolver=field_resolver,
        )
    actual = (
        calculator.operation_cost(operation, result.data)
        if result.data is not None and operation.operation.value != "mutation"
        else requested
    )
    bucket.refund(requested - actual)
    sandbox.record_call(shop.domain, CallRecord(operation_name, requested, actual, False, 200))
    body: dict[str, Any] = {}
    if result.errors:
        body["errors"] = [e.formatted for e in result.errors]
    body["data"] = result.data
    body["extensions"] = {
        "cost": {
            "requestedQueryCost": requested,
            "actualQueryCost": actual,
            "throttleStatus": bucket.status().as_dict(),
        }
    }
    return body


def sleep_for_timeout(seconds: float) -> None:
    time.sleep(seconds)
