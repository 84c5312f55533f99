"""Products and variants: search, sort, paging; productSet, productUpdate, productDelete."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from graphql import GraphQLResolveInfo

from powerpact.sandbox import shapes
from powerpact.sandbox.catalog import decimal_or_none, handleize
from powerpact.sandbox.resolvers.context import Context, failed, user_error
from powerpact.sandbox.search import matcher
from powerpact.sandbox.store import Product, Shop, Variant, now_iso, numeric

PRODUCT_SORTS = {
    "TITLE": lambda p: p.title.lower(),
    "UPDATED_AT": lambda p: p.updated_at,
    "CREATED_AT": lambda p: p.created_at,
    "VENDOR": lambda p: p.vendor.lower(),
    "PRODUCT_TYPE": lambda p: p.product_type.lower(),
}
VARIANT_SORTS = {
    "SKU": lambda v: v.sku or "",
    "TITLE": lambda v: v.title.lower(),
}


def product_fields(product: Product) -> dict[str, list[str]]:
    return {
        "title": [product.title],
        "vendor": [product.vendor],
        "product_type": [product.product_type],
        "status": [product.status.lower()],
        "tag": product.tags,
        "sku": [v.sku or "" for v in product.variants],
        "handle": [product.handle],
        "id": [str(numeric(product.id))],
        "created_at": [product.created_at],
        "updated_at": [product.updated_at],
    }


def search_products(shop: Shop, args: dict[str, Any]) -> list[Product]:
    predicate = matcher(
        args.get("query"), product_fields, ("title", "vendor", "sku", "tag", "product_type")
    )
    products = [p for p in shop.products.values() if predicate(p)]
    sort = PRODUCT_SORTS.get(args.get("sortKey") or "ID", lambda p: numeric(p.id))
    if args.get("sortKey") == "INVENTORY_TOTAL":
        sort = lambda p: sum(shop.available(v.inventory_item_id) for v in p.variants)  # noqa: E731
    return sorted(products, key=sort, reverse=bool(args.get("reverse")))


def q_products(ctx: Context, args: dict[str, Any], info: GraphQLResolveInfo) -> dict[str, Any]:
    return shapes.connection(
        search_products(ctx.shop, args), lambda p: shapes.product_node(ctx.shop, p), **args
    )


def q_products_count(
    ctx: Context, args: dict[str, Any], info: GraphQLResolveInfo
) -> dict[str, Any]:
    return shapes.count(len(search_products(ctx.shop, args)))


def q_product(
    ctx: Context, args: dict[str, Any], info: GraphQLResolveInfo
) -> dict[str, Any] | None:
    product = ctx.shop.products.get(args.get("id", ""))
    return shapes.product_node(ctx.shop, product) if product else None


def q_product_by_identifier(
    ctx: Context, args: dict[str, Any], info: GraphQLResolveInfo
) -> dict[str, Any] | None:
    product = find_product(ctx.shop, args.get("identifier"))
    return shapes.product_node(ctx.shop, product) if product else None


def variant_fields(variant: Variant) -> dict[str, list[str]]:
    return {
        "sku": [variant.sku or ""],
        "title": [variant.title],
        "product_id": [str(numeric(variant.product_id))],
        "id": [str(numeric(variant.id))],
        "updated_at": [variant.updated_at],
    }


def q_product_variants(
    ctx: Context, args: dict[str, Any], info: GraphQLResolveInfo
) -> dict[str, Any]:
    predicate = matcher(args.get("query"), variant_fields, ("sku", "title"))
    variants = [v for v in ctx.shop.variants().values() if predicate(v)]
    sort = VARIANT_SORTS.get(args.get("sortKey") or "ID", lambda v: numeric(v.id))
    variants.sort(key=sort, reverse=bool(args.get("reverse")))
    return shapes.connection(variants, lambda v: shapes.variant_node(ctx.shop, v), **args)


def q_product_variant(
    ctx: Context, args: dict[str, Any], info: GraphQLResolveInfo
) -> dict[str, Any] | None:
    variant = ctx.shop.variants().get(args.get("id", ""))
    return shapes.variant_node(ctx.shop, variant) if variant else None


def find_product(shop: Shop, identifier: dict[str, Any] | None) -> Product | None:
    """The product an identifier (``id``, ``handle`` or ``customId`` metafield) names."""
    identifier = identifier or {}
    if identifier.get("id"):
        return shop.products.get(identifier["id"])
    if identifier.get("handle"):
        return next((p for p in shop.products.values() if p.handle == identifier["handle"]), None)
    custom = identifier.get("customId")
    if custom:
        wanted = (custom.get("namespace") or "", custom["key"])
        return next(
            (p for p in shop.products.values() if p.metafields.get(wanted) == custom["value"]),
            None,
        )
    return None


def product_set_errors(
    product: Product | None, identifier: dict[str, Any], data: dict[str, Any]
) -> list[dict[str, Any]]:
    variants = data.get("variants")
    if product is None and (identifier.get("id") or data.get("id")):
        return [
            user_error("Product does not exist", ["identifier", "id"], "PRODUCT_DOES_NOT_EXIST")
        ]
    if product is None and not data.get("title"):
        return [user_error("Title can't be blank", ["input", "title"], "MISSING_FIELD_REQUIRED")]
    if variants is not None and len(variants) > 2048:
        return [user_error("Too many variants", ["input", "variants"], "VARIANTS_OVER_LIMIT")]
    skus = [variant_sku(v) for v in variants or [] if variant_sku(v)]
    if len(skus) != len(set(skus)):
        return [
            user_error(
                "SKUs must be unique within a product", ["input", "variants"], "DUPLICATED_VALUE"
            )
        ]
    return variant_input_errors(product, variants or [])


def variant_input_errors(
    product: Product | None, variants: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Variant ids must name variants of this product; option-value sets must be unique.

    ``ProductVariantSetInput.id`` "Specifies the product variant to update"
    (``PRODUCT_VARIANT_DOES_NOT_EXIST``: "Product variant does not exist"); two
    variants with the same option values are one variant twice (``INVALID_VARIANT``).
    """
    existing = {v.id for v in product.variants} if product else set()
    seen: set[tuple[tuple[str, str], ...]] = set()
    for index, data in enumerate(variants):
        if data.get("id") and data["id"] not in existing:
            return [
                user_error(
                    "Product variant does not exist",
                    ["input", "variants", str(index), "id"],
                    "PRODUCT_VARIANT_DOES_NOT_EXIST",
                )
            ]
        options = tuple(input_options(data))
        if options and options in seen:
            title = " / ".join(value for _, value in options)
            return [
                user_error(
                    f"The variant '{title}' already exists.",
                    ["input", "variants", str(index), "optionValues"],
                    "INVALID_VARIANT",
                )
            ]
        seen.add(options)
    return []


def input_options(data: dict[str, Any]) -> list[tuple[str, str]]:
    return [
        (o.get("optionName") or "Title", o.get("name") or "")
        for o in data.get("optionValues") or []
    ]


def variant_sku(data: dict[str, Any]) -> str | None:
    return data.get("sku") or (data.get("inventoryItem") or {}).get("sku")


def m_product_set(ctx: Context, args: dict[str, Any], info: GraphQLResolveInfo) -> dict[str, Any]:
    """Create or update a whole product; variants left out are removed, as Shopify does."""
    shop, data = ctx.shop, args["input"]
    identifier = dict(args.get("identifier") or {})
    if data.get("id") and not identifier:
        identifier["id"] = data["id"]
    product = find_product(shop, identifier)
    errors = product_set_errors(product, identifier, data)
    if errors:
        return {"product": None, "productSetOperation": None, "userErrors": errors}
    created = product is None
    if product is None:
        product = new_product(ctx, identifier, data)
        shop.products[product.id] = product
    apply_product_input(product, data)
    if data.get("variants") is not None:
        old_items = {v.inventory_item_id for v in product.variants}
        product.variants = set_variants(ctx, product, data["variants"])
        kept = {v.inventory_item_id for v in product.variants}
        for item in old_items - kept:
            for location in shop.locations:
                shop.levels.pop((item, location["id"]), None)
    ctx.sandbox.product_changed(shop, product, created=created)
    node = shapes.product_node(shop, product)
    if args.get("synchronous") is False:
        operation = {"id": ctx.ids.gid("ProductSetOperation"), "status": "COMPLETE"}
        return {
            "product": None,
            "productSetOperation": operation | {"product": node},
            "userErrors": [],
        }
    return {"product": node, "productSetOperation": None, "userErrors": []}


def new_product(ctx: Context, identifier: dict[str, Any], data: dict[str, Any]) -> Product:
    product = Product(
        id=ctx.ids.gid("Product"),
        title=data["title"],
        handle=data.get("handle") or identifier.get("handle") or handleize(data["title"]),
        vendor=ctx.shop.name,
    )
    custom = identifier.get("customId")
    if custom:
        product.metafields[(custom.get("namespace") or "", custom["key"])] = custom["value"]
    return product


PRODUCT_INPUTS = (
    ("title", "title"),
    ("vendor", "vendor"),
    ("productType", "product_type"),
    ("status", "status"),
    ("descriptionHtml", "description_html"),
    ("handle", "handle"),
)


def apply_product_input(product: Product, data: dict[str, Any]) -> None:
    for source, target in PRODUCT_INPUTS:
        if data.get(source) is not None:
            setattr(product, target, data[source])
    if data.get("tags") is not None:
        product.tags = list(data["tags"])
    for metafield in data.get("metafields") or []:
        key = (metafield.get("namespace") or "", metafield["key"])
        product.metafields[key] = metafield["value"]
    if data.get("files"):
        product.image_url = data["files"][0].get("originalSource")
    if data.get("productOptions") is not None:
        product.options = [
            (o["name"], [v["name"] for v in o.get("values") or []]) for o in data["productOptions"]
        ]


def set_variants(ctx: Context, product: Product, inputs: list[dict[str, Any]]) -> list[Variant]:
    """The product's variants after ``productSet``: one per input, in the input's order.

    An input with ``id`` updates that variant. One without updates the variant with
    the same option values only under the ``"options"`` reading of
    ``SandboxConfig.product_set_variant_match``; under the strict ``"id"`` reading it
    is a new variant (new id, new inventory item). Existing variants no input
    matched are dropped by the caller, as a list field's missing entries are.
    """
    match_options = ctx.sandbox.config.product_set_variant_match == "options"
    named = {data["id"] for data in inputs if data.get("id")}
    unnamed = [v for v in product.variants if v.id not in named]
    by_id = {v.id: v for v in product.variants}
    variants = []
    for data in inputs:
        existing = by_id.get(data.get("id") or "")
        if existing is None and match_options:
            options = input_options(data)
            existing = next((v for v in unnamed if options and v.options == options), None)
            if existing is not None:
                unnamed.remove(existing)
        variants.append(upsert_variant(ctx, product, data, existing))
    return variants


def upsert_variant(
    ctx: Context, product: Product, data: dict[str, Any], variant: Variant | None
) -> Variant:
    options = input_options(data)
    variant = variant or Variant(
        id=ctx.ids.gid("ProductVariant"),
        product_id=product.id,
        title="",
        sku=None,
        price=Decimal(0),
        compare_at=None,
        options=options,
        inventory_item_id=ctx.ids.gid("InventoryItem"),
    )
    variant.options = options or variant.options
    variant.title = " / ".join(v for _, v in variant.options) or "Default Title"
    if variant_sku(data) is not None:
        variant.sku = variant_sku(data)
    if data.get("price") is not None:
        variant.price = Decimal(str(data["price"]))
    if "compareAtPrice" in data:
        variant.compare_at = decimal_or_none(data["compareAtPrice"])
    if data.get("inventoryPolicy"):
        variant.inventory_policy = data["inventoryPolicy"]
    if (data.get("inventoryItem") or {}).get("tracked") is not None:
        variant.tracked = bool(data["inventoryItem"]["tracked"])
    variant.updated_at = now_iso()
    for quantity in data.get("inventoryQuantities") or []:
        ctx.sandbox.set_level(
            ctx.shop, variant.inventory_item_id, quantity["locationId"], int(quantity["quantity"])
        )
    return variant


def m_product_update(
    ctx: Context, args: dict[str, Any], info: GraphQLResolveInfo
) -> dict[str, Any]:
    data = args.get("product") or args.get("input") or {}
    product = ctx.shop.products.get(data.get("id", ""))
    if product is None:
        return failed("product", "Product does not exist", ["id"], "PRODUCT_DOES_NOT_EXIST")
    apply_product_input(product, data)
    ctx.sandbox.product_changed(ctx.shop, product)
    return {"product": shapes.product_node(ctx.shop, product), "userErrors": []}


def m_product_delete(
    ctx: Context, args: dict[str, Any], info: GraphQLResolveInfo
) -> dict[str, Any]:
    product = ctx.shop.products.get((args.get("input") or {}).get("id") or "")
    if product is None:
        return failed("deletedProductId", "Product does not exist", ["id"])
    ctx.sandbox.delete_product(ctx.shop, product)
    return {"deletedProductId": product.id, "productDeleteOperation": None, "userErrors": []}


def m_metafield_definition(
    ctx: Context, args: dict[str, Any], info: GraphQLResolveInfo
) -> dict[str, Any]:
    definition = args["definition"]
    key = (definition.get("namespace") or "", definition["key"])
    if key in ctx.shop.metafield_definitions:
        message = (
            f"Key is in use for {definition.get('ownerType', 'PRODUCT').title()} metafields"
            f" on the '{key[0]}' namespace."
        )
        return failed("createdDefinition", message, ["definition", "key"], "TAKEN")
    ctx.shop.metafield_definitions.add(key)
    created = {
        "__typename": "MetafieldDefinition",
        "id": ctx.ids.gid("MetafieldDefinition"),
        "name": definition["name"],
        "namespace": key[0],
        "key": key[1],
    }
    return {"createdDefinition": created, "userErrors": []}


QUERIES = {
    "products": q_products,
    "productsCount": q_products_count,
    "product": q_product,
    "productByIdentifier": q_product_by_identifier,
    "productVariants": q_product_variants,
    "productVariant": q_product_variant,
}
MUTATIONS = {
    "productSet": m_product_set,
    "productUpdate": m_product_update,
    "productDelete": m_product_delete,
    "metafieldDefinitionCreate": m_metafield_definition,
}
