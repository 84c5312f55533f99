"""The SKU of an imported variant, which the catalog writes and the orders read back.

An imported variant's SKU is ``PARTNER-{partner handle}-{partner SKU}``: a retail order's
line with such a SKU belongs to that partner (``orders.capture.line_owners``).
"""

from __future__ import annotations

SKU_PREFIX = "PARTNER-"


def partner_handle(shop_domain: str) -> str:
    """The short name used in imported SKUs: ``alice-roasters`` for alice-roasters.myshopify.com."""
    return shop_domain.removesuffix(".myshopify.com")


def imported_sku(shop_domain: str, partner_sku: str) -> str:
    return f"{SKU_PREFIX}{partner_handle(shop_domain)}-{partner_sku}"
