"""Finding the shop a request or a webhook is about, whichever side it is on."""

from __future__ import annotations

from flask import current_app
from sqlalchemy import select

from powerpact.extensions import db
from powerpact.models import PartnerStore, RetailStore

InstalledShop = RetailStore | PartnerStore


def is_retail_shop(shop_domain: str) -> bool:
    return shop_domain == current_app.config["POWERPACT"].retail_shop


def find_shop(shop_domain: str) -> InstalledShop | None:
    model = RetailStore if is_retail_shop(shop_domain) else PartnerStore
    return db.session.scalar(select(model).where(model.shop_domain == shop_domain))


def missing_scopes(granted: str | list[str]) -> list[str]:
    """Scopes PowerPact asks for that are not granted (a write scope implies its read)."""
    if isinstance(granted, str):
        granted = granted.split(",")
    have = {s.strip() for s in granted if s.strip()}
    have |= {"read_" + s.removeprefix("write_") for s in have if s.startswith("write_")}
    wanted = current_app.config["POWERPACT"].shopify_scopes.split(",")
    return [s.strip() for s in wanted if s.strip() and s.strip() not in have]
