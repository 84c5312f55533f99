"""Finding the shop a request or a webhook is about, whichever side it is on."""

from __future__ import annotations

import time
from typing import TypeVar

from flask import current_app
from sqlalchemy import select

from powerpact.extensions import db
from powerpact.models import PartnerStore, RetailStore

InstalledShop = RetailStore | PartnerStore
# Either kind, kept as the kind it is: ``select()`` of the union of the two classes would
# be typed as their common base, which has neither's columns.
Shop = TypeVar("Shop", bound=InstalledShop)


def is_retail_shop(shop_domain: str) -> bool:
    return shop_domain == current_app.config["POWERPACT"].retail_shop


def find_shop(shop_domain: str) -> InstalledShop | None:
    model: type[InstalledShop] = RetailStore if is_retail_shop(shop_domain) else PartnerStore
    return shop_of_kind(model, shop_domain)


def shop_of_kind(model: type[Shop], shop_domain: str) -> Shop | None:
    return db.session.scalar(select(model).where(model.shop_domain == shop_domain))


def display_name(name: str | None, shop_domain: str) -> str:
    """A shop as merchants know it: its name, else its domain without ``.myshopify.com``."""
    return name or shop_domain.removesuffix(".myshopify.com")


RETAIL_NAME_SECONDS = 300


def retail_store_name() -> str:
    """The retail store's display name, as its partners' pages name it.

    Kept for ``RETAIL_NAME_SECONDS`` in the process (a shop renames itself rarely, and a
    partner's order page has a budget of five queries): a new name shows within minutes.
    """
    kept = current_app.extensions.get("powerpact.retail_name")
    now = time.monotonic()
    if kept is not None and now - kept[0] < RETAIL_NAME_SECONDS:
        return str(kept[1])
    row = db.session.execute(select(RetailStore.name, RetailStore.shop_domain)).first()
    if row is None:
        return display_name(None, current_app.config["POWERPACT"].retail_shop)
    name = display_name(row.name, row.shop_domain)
    current_app.extensions["powerpact.retail_name"] = (now, name)
    return name


def missing_scopes(granted: str | list[str]) -> list[str]:
    """Scopes PowerPact asks for that are not granted (a write scope implies its read)."""
    if isinstance(granted, str):
        granted = granted.split(",")
    have = {s.strip() for s in granted if s.strip()}
    have |= {"read_" + s.removeprefix("write_") for s in have if s.startswith("write_")}
    wanted = current_app.config["POWERPACT"].shopify_scopes.split(",")
    return [s.strip() for s in wanted if s.strip() and s.strip() not in have]


def shop_name(shop: InstalledShop) -> str:
    """A shop's display name (templates: ``shop | shop_name``)."""
    return display_name(shop.name, shop.shop_domain)


def partner_names() -> dict[str, str]:
    """Every partner's display name by its domain, for rows that hold only the domain."""
    rows = db.session.execute(select(PartnerStore.shop_domain, PartnerStore.name))
    return {domain: display_name(name, domain) for domain, name in rows}


def partners_by_domain(domains: list[str]) -> dict[str, PartnerStore]:
    """The partners of ``domains`` (those that exist), by domain."""
    rows = db.session.scalars(select(PartnerStore).where(PartnerStore.shop_domain.in_(domains)))
    return {partner.shop_domain: partner for partner in rows}
