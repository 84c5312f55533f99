"""What happens to a shop's catalog and stock, and the webhooks each change fires."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from powerpact.sandbox import payloads
from powerpact.sandbox.errors import SandboxError
from powerpact.sandbox.store import Product, Shop, Store, Variant, now_iso

if TYPE_CHECKING:
    from powerpact.sandbox.config import SandboxConfig


def handleize(title: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")


def decimal_or_none(value: Any) -> Decimal | None:
    return Decimal(str(value)) if value not in (None, "") else None


def stock_by_location(shop: Shop, stock: Any) -> list[tuple[str, int]]:
    """Fixture ``stock``: a number at the first location, or one per location in order.

    ``null`` in the list leaves the variant not stocked at that location.
    """
    quantities = stock if isinstance(stock, list) else [stock]
    if len(quantities) > len(shop.locations):
        raise SandboxError(f"{len(quantities)} stock figures for {len(shop.locations)} locations")
    return [
        (location["id"], int(quantity))
        for location, quantity in zip(shop.locations, quantities, strict=False)
        if quantity is not None
    ]


class CatalogActions:
    """Products, variants and stock levels of a shop (mixed into ``Sandbox``)."""

    config: SandboxConfig
    store: Store
    lock: threading.RLock
    emit: Callable[[Shop, str, dict[str, Any]], None]

    def add_product(self, shop: Shop, data: dict[str, Any]) -> Product:
        """Add a product from fixture data (``title``, ``options``, ``variants`` with ``stock``)."""
        with self.lock:
            product = Product(
                id=self.store.ids.gid("Product"),
                title=data["title"],
                handle=data.get("handle") or handleize(data["title"]),
                vendor=data.get("vendor", shop.name),
                product_type=data.get("product_type", ""),
                status=str(data.get("status", "ACTIVE")).upper(),
                tags=list(data.get("tags", [])),
                description_html=data.get("description", ""),
                image_url=data.get("image_url"),
            )
            option_names = data.get("options") or ["Title"]
            values: dict[str, list[str]] = {name: [] for name in option_names}
            default = {
                "title": "Default Title",
                "price": data.get("price", "10.00"),
                "sku": data.get("sku"),
                "stock": data.get("stock", 0),
            }
            for spec in data.get("variants") or [default]:
                chosen = spec.get("options") or [spec.get("title", "Default Title")]
                for name, value in zip(option_names, chosen, strict=False):
                    if value not in values[name]:
                        values[name].append(value)
                variant = self._new_variant(product, option_names, chosen, spec)
                product.variants.append(variant)
                for location_id, available in stock_by_location(shop, spec.get("stock", 0)):
                    shop.levels[(variant.inventory_item_id, location_id)] = available
            product.options = list(values.items())
            shop.products[product.id] = product
            shop.catalog_changed()
            return product

    def _new_variant(
        self, product: Product, option_names: list[str], chosen: list[str], spec: dict[str, Any]
    ) -> Variant:
        return Variant(
            id=self.store.ids.gid("ProductVariant"),
            product_id=product.id,
            title=" / ".join(chosen),
            sku=spec.get("sku"),
            price=Decimal(str(spec["price"])),
            compare_at=decimal_or_none(spec.get("compare_at")),
            options=list(zip(option_names, chosen, strict=False)),
            inventory_item_id=self.store.ids.gid("InventoryItem"),
            inventory_policy=str(spec.get("inventory_policy", "DENY")).upper(),
        )

    def find_variant(
        self, shop: Shop, *, variant_id: str | None = None, sku: str | None = None
    ) -> Variant:
        if variant_id is not None:
            variant = shop.variants().get(variant_id)
            if variant is not None:
                return variant
        if sku is not None:
            for variant in shop.variants().values():
                if variant.sku == sku:
                    return variant
        raise SandboxError(f"no variant {variant_id or sku} on {shop.domain}")

    def find_product(self, shop: Shop, product_id: str) -> Product:
        gid = (
            product_id if product_id.startswith("gid://") else f"gid://shopify/Product/{product_id}"
        )
        product = shop.products.get(gid)
        if product is None:
            raise SandboxError(f"no product {product_id} on {shop.domain}")
        return product

    def set_level(
        self,
        shop: Shop,
        inventory_item_id: str,
        location_id: str,
        available: int,
        *,
        notify: bool = True,
    ) -> None:
        """Set one inventory level; ``inventory_levels/update`` fires when it changed."""
        key = (inventory_item_id, location_id)
        changed = shop.levels.get(key) != available
        shop.levels[key] = available
        if notify and changed:
            self.emit(
                shop,
                "inventory_levels/update",
                payloads.inventory_level(inventory_item_id, location_id, available),
            )

    def connect_level(
        self, shop: Shop, inventory_item_id: str, location_id: str, available: int
    ) -> None:
        """Stock an item at a location; fires ``inventory_levels/connect``, which "occurs
        whenever an inventory level is connected" (schema, ``WebhookSubscriptionTopic``)."""
        shop.levels[(inventory_item_id, location_id)] = available
        self.emit(
            shop,
            "inventory_levels/connect",
            payloads.inventory_level(inventory_item_id, location_id, available),
        )

    def set_stock(
        self,
        shop: Shop,
        variant: Variant,
        available: int,
        *,
        notify: bool = True,
        location_id: str | None = None,
    ) -> None:
        with self.lock:
            self.set_level(
                shop,
                variant.inventory_item_id,
                location_id or shop.location_id,
                available,
                notify=notify,
            )

    def adjust_stock(
        self, shop: Shop, variant: Variant, delta: int, location_id: str | None = None
    ) -> None:
        """An order's claim or return: at ``location_id`` (the location its fulfillment order
        is assigned to) when given; else a sale is taken from the first location that has
        enough (else the first stocked one), a return goes to the first."""
        item = variant.inventory_item_id
        if location_id is not None:
            where = location_id
        else:
            stocked = [loc["id"] for loc in shop.stocked_locations(item)] or [shop.location_id]
            enough = [loc for loc in stocked if shop.levels.get((item, loc), 0) >= -delta]
            where = enough[0] if delta < 0 and enough else stocked[0]
        self.set_level(shop, item, where, shop.levels.get((item, where), 0) + delta)

    def product_changed(self, shop: Shop, product: Product, *, created: bool = False) -> None:
        product.updated_at = now_iso()
        shop.catalog_changed()
        topic = "products/create" if created else "products/update"
        self.emit(shop, topic, payloads.product(shop, product))

    def update_product(self, shop: Shop, product: Product, changes: dict[str, Any]) -> Product:
        """A merchant's edit in the admin: ``title``, ``status``, ``vendor``, ``price``...

        ``available`` sets every variant's stock at the shop's location in the same
        edit, as the admin's bulk editor does: one action, so ``products/update`` and
        each ``inventory_levels/update`` share an event id (``Sandbox.action``).
        """
        with self.lock:
            for name in ("title", "vendor", "product_type"):
                if changes.get(name):
                    setattr(product, name, changes[name])
            if changes.get("status"):
                product.status = str(changes["status"]).upper()
            if changes.get("tags") is not None:
                product.tags = list(changes["tags"])
            if changes.get("price"):
                for variant in product.variants:
                    variant.price = Decimal(str(changes["price"]))
                    variant.updated_at = now_iso()
            if changes.get("available") is not None:
                for variant in product.variants:
                    self.set_stock(shop, variant, int(changes["available"]))
            self.product_changed(shop, product)
            return product

    def delete_product(self, shop: Shop, product: Product) -> None:
        with self.lock:
            del shop.products[product.id]
            shop.catalog_changed()
            self.emit(shop, "products/delete", {"id": int(product.id.rsplit("/", 1)[1])})
