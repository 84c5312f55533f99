"""Where stock is counted: the retail store's one location, and a partner's one or all.

The retail store's stock for imported products lives at one location (the first active
one read at install, until the admin chooses another). A partner's sellable stock is the
sum over its locations, or one location its settings choose. Both lists of choices are
read from the shop itself: ``locations`` answers "inventory locations where merchants can
stock Product items", "only active locations by default" (schema, ``QueryRoot.locations``).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from powerpact.extensions import db
from powerpact.models import PartnerStore, RetailStore
from powerpact.shopify.clients import client_for
from powerpact.shopify.errors import ShopifyError


class LocationRefused(Exception):
    """The location cannot be chosen; the message says why in plain words."""


@dataclass(frozen=True)
class Location:
    id: str
    name: str


def active_locations(shop: RetailStore | PartnerStore) -> list[Location]:
    data = client_for(shop).execute("Locations")
    return [
        Location(node["id"], node["name"])
        for node in data["locations"]["nodes"]
        if node.get("isActive", True)
    ]


def installed_retail() -> RetailStore:
    retail: RetailStore | None = db.session.scalar(select(RetailStore))
    if retail is None or not retail.is_active:
        raise LocationRefused("The retail store is not connected.")
    return retail


def retail_location_choices() -> tuple[RetailStore, list[Location]]:
    """The retail store and its active locations (``LocationRefused`` if they cannot be read)."""
    retail = installed_retail()
    try:
        return retail, active_locations(retail)
    except ShopifyError as exc:
        raise LocationRefused(f"The retail store's locations could not be read: {exc}") from exc


def choose_retail_location(location_id: str) -> Location:
    """Make ``location_id`` the retail store's stock location, if it is one of its own."""
    retail, choices = retail_location_choices()
    chosen = next((loc for loc in choices if loc.id == location_id), None)
    if chosen is None:
        raise LocationRefused(
            "That location is not one of the retail store's active locations; choose one "
            "from the list."
        )
    retail.location_id = chosen.id
    db.session.commit()
    return chosen
