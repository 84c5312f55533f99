"""Orders: reads with Shopify's search syntax (through a lagging index, ``order_search``),
``orderCreate``, ``orderUpdate``, ``orderMarkAsPaid``, ``orderCancel``."""

from __future__ import annotations

import functools
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from graphql import GraphQLError, GraphQLResolveInfo

from powerpact.sandbox import order_shapes, shapes
from powerpact.sandbox.errors import SandboxError
from powerpact.sandbox.order_search import searchable
from powerpact.sandbox.orders import OrderLimitReached
from powerpact.sandbox.resolvers.context import Context, check_input_size, failed, user_error
from powerpact.sandbox.search import matcher, required_value
from powerpact.sandbox.store import LineItem, Order, ShippingLine, TaxLine

ORDER_SORTS = {
    "CREATED_AT": lambda o: o.created_at,
    "UPDATED_AT": lambda o: o.updated_at,
    "PROCESSED_AT": lambda o: o.created_at,
    "TOTAL_PRICE": lambda o: o.total,
    "CURRENT_TOTAL_PRICE": lambda o: o.total,
}


ALL_ORDERS_SCOPE = "read_all_orders"
RECENT_ORDER_DAYS = 60


def readable(ctx: Context, order: Order) -> bool:
    """Whether the token may read ``order``: without ``read_all_orders``, the last 60 days only.

    The schema's description of ``QueryRoot.order`` (and ``orders``): "You can only
    retrieve the last 60 days worth of orders from a store by default. If you want
    to access older orders, then you need to request access to all orders"
    (https://shopify.dev/docs/api/usage/access-scopes#orders-permissions).
    """
    if ALL_ORDERS_SCOPE in ctx.scopes:
        return True
    now = datetime.fromtimestamp(ctx.sandbox.config.wall_clock(), UTC)
    return datetime.fromisoformat(order.created_at) >= now - timedelta(days=RECENT_ORDER_DAYS)


def q_order(ctx: Context, args: dict[str, Any], info: GraphQLResolveInfo) -> dict[str, Any] | None:
    order = ctx.shop.orders.get(args.get("id", ""))
    return order_shapes.order_node(ctx.shop, order) if order and readable(ctx, order) else None


def search_orders(ctx: Context, args: dict[str, Any]) -> list[Order]:
    """The shop's orders, filtered by ``query`` through the lagging index (``order_search``).

    Without a query the list is read directly, every order at once.
    """
    query = args.get("query")
    if not (query or "").strip():
        orders = [o for o in ctx.shop.orders.values() if readable(ctx, o)]
    else:
        predicate = matcher(query, lambda pair: pair[1], ("name", "email", "tag", "sku"))
        identifier = required_value(query, "source_identifier")
        candidates = (
            ctx.shop.orders.values()
            if identifier is None
            else ctx.shop.orders_with_source_identifier(identifier)
        )
        indexed = searchable(candidates, ctx.sandbox.config.clock())
        orders = [
            order
            for order, fields in indexed
            if predicate((order, fields)) and readable(ctx, order)
        ]
    sort = ORDER_SORTS.get(args.get("sortKey") or "ID", lambda o: o.number)
    return sorted(orders, key=sort, reverse=bool(args.get("reverse")))


def q_orders(ctx: Context, args: dict[str, Any], info: GraphQLResolveInfo) -> dict[str, Any]:
    return shapes.connection(
        search_orders(ctx, args), lambda o: order_shapes.order_node(ctx.shop, o), **args
    )


def q_orders_count(ctx: Context, args: dict[str, Any], info: GraphQLResolveInfo) -> dict[str, Any]:
    return shapes.count(len(search_orders(ctx, args)))


def amount(money_bag: dict[str, Any] | None) -> Decimal:
    """The shop amount of a ``MoneyBagInput`` (``shopMoney { amount }``)."""
    return Decimal(str(((money_bag or {}).get("shopMoney") or {}).get("amount") or 0))


def tax_lines_of(data: list[dict[str, Any]] | None) -> list[TaxLine]:
    return [
        TaxLine(t.get("title") or "Tax", amount(t.get("priceSet")), Decimal(str(t["rate"])))
        for t in data or []
    ]


def order_line(ctx: Context, item: dict[str, Any]) -> LineItem:
    shop, sandbox = ctx.shop, ctx.sandbox
    variant = None
    if item.get("variantId"):
        variant = sandbox.find_variant(shop, variant_id=item["variantId"])
    elif not item.get("title"):
        raise SandboxError("a line item needs a variantId or a title")
    price = amount(item["priceSet"]) if item.get("priceSet") else None
    line = sandbox.line(
        shop, variant, int(item["quantity"]), price, title=item.get("title"), sku=item.get("sku")
    )
    line.tax_lines = tax_lines_of(item.get("taxLines"))
    return line


def shipping_lines_of(data: list[dict[str, Any]] | None) -> list[ShippingLine]:
    return [
        ShippingLine(
            s.get("title") or "Shipping",
            amount(s.get("priceSet")),
            s.get("code"),
            tax_lines_of(s.get("taxLines")),
        )
        for s in data or []
    ]


def build_order(ctx: Context, data: dict[str, Any], source: str) -> Order:
    lines = [order_line(ctx, item) for item in data.get("lineItems") or []]
    if not lines:
        raise SandboxError("An order must have at least one line item")
    customer = data.get("customer") or {}
    to_customer = customer.get("toUpsert") or customer.get("toAssociate") or {}
    return ctx.sandbox.new_order(
        ctx.shop,
        lines,
        currency=data.get("currency"),
        shipping_lines=shipping_lines_of(data.get("shippingLines")),
        tax_lines=tax_lines_of(data.get("taxLines")),
        financial_status=data.get("financialStatus") or "PAID",
        email=data.get("email") or to_customer.get("email"),
        customer={
            "first_name": to_customer.get("firstName"),
            "last_name": to_customer.get("lastName"),
            "email": to_customer.get("email"),
        }
        if to_customer
        else None,
        shipping_address=address_of(data.get("shippingAddress")),
        billing_address=address_of(data.get("billingAddress")),
        tags=list(data.get("tags") or []),
        source_identifier=data.get("sourceIdentifier"),
        source_name=source,
        note=data.get("note"),
        test=bool(data.get("test")),
    )


def source_name(ctx: Context, wanted: str | None) -> str:
    """The order's ``sourceName``: one of the app's attribution handles, or ``api``.

    The schema (``OrderCreateOrderInput.sourceName``): "Set this to the handle of
    an order attribution definition configured for your sales channel app"
    (https://shopify.dev/docs/apps/build/sales-channels/order-attribution). Any other
    value is refused or ignored, as ``SandboxConfig.unregistered_source_name`` says.
    """
    config = ctx.sandbox.config
    if wanted and wanted in config.attribution_handles:
        return wanted
    if wanted and config.unregistered_source_name != "ignore":
        raise UnregisteredSourceName(wanted)
    return "api"


class UnregisteredSourceName(SandboxError):
    """A ``sourceName`` that is no attribution handle of this app."""

    def __init__(self, handle: str) -> None:
        super().__init__(f"Source name {handle!r} is not an order attribution handle of this app")


def address_of(data: dict[str, Any] | None) -> dict[str, Any] | None:
    """A ``MailingAddressInput`` as the ``MailingAddress`` it becomes."""
    if data is None:
        return None
    address = {k: v for k, v in data.items() if k not in ("countryCode", "id")}
    if data.get("countryCode"):
        address["countryCodeV2"] = data["countryCode"]
    return address


def m_order_create(ctx: Context, args: dict[str, Any], info: GraphQLResolveInfo) -> dict[str, Any]:
    """Create an order as an app does; stock moves per ``options.inventoryBehaviour``."""
    sandbox, shop, data = ctx.sandbox, ctx.shop, args["order"]
    options = args.get("options") or {}
    check_input_size(data.get("lineItems"))
    try:
        source = source_name(ctx, data.get("sourceName"))
        sandbox.check_order_create_limit(shop)
        order = build_order(ctx, data, source)
        try:
            sandbox.decrement_stock(shop, order, options.get("inventoryBehaviour") or "BYPASS")
        except SandboxError:
            shop.remove_order(order)
            raise
    except UnregisteredSourceName as exc:
        return failed("order", str(exc), ["order", "sourceName"], "INVALID")
    except OrderLimitReached as exc:
        if sandbox.config.order_create_limit_answer == "throttled":
            raise GraphQLError(str(exc), extensions={"code": "THROTTLED"}) from None
        return failed("order", str(exc), ["order"])
    except SandboxError as exc:
        code = "INVENTORY_CLAIM_FAILED" if "Insufficient inventory" in str(exc) else "INVALID"
        return failed("order", str(exc), ["order"], code)
    payload = functools.partial(sandbox.order_payload, order)
    sandbox.emit(shop, "orders/create", payload)
    if order.financial_status == "PAID":
        sandbox.emit(shop, "orders/paid", payload)
    return {"order": order_shapes.order_node(shop, order), "userErrors": []}


def m_order_update(ctx: Context, args: dict[str, Any], info: GraphQLResolveInfo) -> dict[str, Any]:
    """Update an order's tags, note, email or shipping address, as ``orderUpdate`` does.

    ``OrderInput.shippingAddress``: "The new shipping address for the order. Overwrites
    the existing shipping address" (the same for the note, email and tags:
    https://shopify.dev/docs/api/admin-graphql/latest/input-objects/OrderInput), so the
    address given replaces the old one whole; nothing of the old one is kept.
    PowerPact erases a redacted customer from its partner orders this way
    (https://shopify.dev/docs/api/admin-graphql/latest/mutations/orderUpdate).
    """
    data = args["input"]
    order = ctx.shop.orders.get(data.get("id", ""))
    if order is None:
        return failed("order", "Order does not exist", ["id"])
    if data.get("tags") is not None:
        order.tags = list(data["tags"])
    for source in ("note", "email"):
        if data.get(source) is not None:
            setattr(order, source, data[source])
    if data.get("shippingAddress") is not None:
        order.shipping_address = address_of(data["shippingAddress"])
    ctx.sandbox.order_changed(ctx.shop, order)
    return {"order": order_shapes.order_node(ctx.shop, order), "userErrors": []}


def m_order_mark_as_paid(
    ctx: Context, args: dict[str, Any], info: GraphQLResolveInfo
) -> dict[str, Any]:
    order = ctx.shop.orders.get(args["input"]["id"])
    if order is None:
        return failed("order", "Order does not exist", ["id"])
    try:
        ctx.sandbox.pay(ctx.shop, order)
    except SandboxError as exc:
        return failed("order", str(exc), ["id"])
    return {"order": order_shapes.order_node(ctx.shop, order), "userErrors": []}


def m_order_cancel(ctx: Context, args: dict[str, Any], info: GraphQLResolveInfo) -> dict[str, Any]:
    order = ctx.shop.orders.get(args["orderId"])
    if order is None:
        error = user_error("Order does not exist", ["orderId"], "NOT_FOUND")
        return {"job": None, "orderCancelUserErrors": [error], "userErrors": [error]}
    try:
        ctx.sandbox.cancel(ctx.shop, order, reason=args["reason"], restock=args["restock"])
    except SandboxError as exc:
        error = user_error(str(exc), ["orderId"], "INVALID")
        return {"job": None, "orderCancelUserErrors": [error], "userErrors": [error]}
    job = {"__typename": "Job", "id": ctx.ids.gid("Job"), "done": True}
    return {"job": job, "orderCancelUserErrors": [], "userErrors": []}


QUERIES = {"order": q_order, "orders": q_orders, "ordersCount": q_orders_count}
MUTATIONS = {
    "orderCreate": m_order_create,
    "orderUpdate": m_order_update,
    "orderMarkAsPaid": m_order_mark_as_paid,
    "orderCancel": m_order_cancel,
}
