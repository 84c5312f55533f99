"""What follows an install: learn the shop, subscribe to its webhooks, then what other
capabilities registered (``AFTER_INSTALL``: the catalog's import key, or an import).

Idempotent: subscriptions that exist are kept, the metafield definition is
created once, so a retried task or a reinstall changes nothing twice.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from flask import current_app
from sqlalchemy import select

from powerpact.extensions import db
from powerpact.models import PartnerStore, RetailStore
from powerpact.shopify.client import ShopifyClient
from powerpact.shopify.clients import client_for
from powerpact.shopify.errors import ShopifyError, UserErrors
from powerpact.shopify.topics import shop_topics, subscription_topic
from powerpact.shops import find_shop
from powerpact.timezones import known_zone

log = logging.getLogger(__name__)


def webhook_topics(is_retail: bool) -> tuple[str, ...]:
    """The ``WebhookSubscriptionTopic`` values a store of this role is subscribed to."""
    return tuple(subscription_topic(t) for t in shop_topics(is_retail))


def webhook_callback_url() -> str:
    return f"{current_app.config['POWERPACT'].app_url}/webhooks"


ADDRESS_KEYS = ("address1", "address2", "city", "province", "provinceCode", "zip", "phone")


def fulfilment_centre(
    location: dict[str, Any] | None, company: str | None
) -> dict[str, Any] | None:
    """Where batched partner orders ship: the retail store's location, as a mailing address.

    None when the location has no street and city (the partner order then goes without one).
    """
    address = (location or {}).get("address") or {}
    if not (address.get("address1") and address.get("city") and address.get("countryCode")):
        return None
    mailing = {k: address[k] for k in ADDRESS_KEYS if address.get(k)}
    return {"company": company, **mailing, "countryCode": address["countryCode"]}


def learn_shop(client: ShopifyClient, shop: RetailStore | PartnerStore) -> None:
    """Name, contact email, currency, zone and scopes; the retail store's stock location (the
    first active).

    A partner's ``location_id`` stays None: its stock counts at every location until the
    admin chooses one in the partner's settings.
    """
    data = client.execute("ShopInfo")
    info = data["shop"]
    shop.name = info["name"]
    shop.currency_code = info["currencyCode"]
    shop.timezone = info["ianaTimezone"]
    shop.contact_email = info.get("contactEmail") or shop.contact_email
    if (
        isinstance(shop, PartnerStore)
        and shop.cutoff_timezone == "UTC"
        and known_zone(info["ianaTimezone"])
    ):
        shop.cutoff_timezone = info["ianaTimezone"]
    locations = [loc for loc in data["locations"]["nodes"] if loc.get("isActive", True)]
    if isinstance(shop, RetailStore) and locations and not shop.location_id:
        shop.location_id = locations[0]["id"]
    if isinstance(shop, RetailStore) and not shop.fulfilment_centre_address:
        where = next((loc for loc in locations if loc["id"] == shop.location_id), None)
        shop.fulfilment_centre_address = fulfilment_centre(where, shop.name)
    if isinstance(shop, PartnerStore) and data.get("productsCount"):
        shop.products_available = data["productsCount"]["count"]
    scopes = (data.get("currentAppInstallation") or {}).get("accessScopes") or []
    if scopes:
        shop.scopes = ",".join(s["handle"] for s in scopes)


def subscribe_webhooks(client: ShopifyClient, topics: tuple[str, ...], uri: str) -> list[str]:
    """Create the subscriptions that are missing; return the topics created."""
    return repair_subscriptions(client, topics, uri)["created"]


# Shopify's answer to a second subscription of one address to one topic.
TAKEN = "Address for this topic has already been taken"


def repair_subscriptions(
    client: ShopifyClient, topics: tuple[str, ...], uri: str
) -> dict[str, list[str]]:
    """Make the shop's subscriptions exactly ``topics`` at ``uri``.

    A subscription for one of PowerPact's topics at another address (an old ``APP_URL``)
    is deleted; a missing one (never made, or removed by Shopify after its deliveries
    kept failing) is created. Subscriptions to other topics are left alone.
    """
    existing = list(client.paginate("WebhookSubscriptions", {}, ("webhookSubscriptions",)))
    removed = []
    for node in existing:
        if node["topic"] in topics and node.get("uri") != uri:
            payload = client.execute("WebhookSubscriptionDelete", {"id": node["id"]})
            UserErrors.raise_for(payload["webhookSubscriptionDelete"])
            removed.append(node["topic"])
    present = {node["topic"] for node in existing if node.get("uri") == uri}
    created = []
    for topic in topics:
        if topic in present:
            continue
        payload = client.execute("WebhookSubscriptionCreate", {"topic": topic, "uri": uri})
        errors = payload["webhookSubscriptionCreate"].get("userErrors") or []
        if any(TAKEN in (e.get("message") or "") for e in errors):
            continue  # another worker created it a moment ago (an install and a check at once)
        UserErrors.raise_for(payload["webhookSubscriptionCreate"])
        created.append(topic)
    return {"created": created, "removed": removed}


def check_subscriptions() -> dict[str, dict[str, list[str]]]:
    """Repair every installed shop's subscriptions (at the worker's start, and hourly).

    Shopify may remove a subscription whose deliveries keep failing, and a changed
    ``APP_URL`` leaves the old ones pointing nowhere; nothing else would notice. A shop
    whose token is refused is skipped (its re-authorization is flagged elsewhere).
    """
    report: dict[str, dict[str, list[str]]] = {}
    shops: list[RetailStore | PartnerStore] = [
        *db.session.scalars(select(RetailStore)),
        *db.session.scalars(select(PartnerStore)),
    ]
    for shop in shops:
        if not shop.is_active:
            continue
        try:
            changes = repair_subscriptions(
                client_for(shop),
                webhook_topics(isinstance(shop, RetailStore)),
                webhook_callback_url(),
            )
        except ShopifyError as exc:
            log.warning("subscriptions of %s not checked: %s", shop.shop_domain, exc)
            continue
        if changes["created"] or changes["removed"]:
            log.warning("subscriptions of %s repaired: %s", shop.shop_domain, changes)
            report[shop.shop_domain] = changes
    return report


# What other capabilities do once a shop is ready, in the order they registered: each gets
# the shop's client and the shop, and returns what to add to the install's result. The
# catalog registers its own (``catalog.tasks``), so this edge module imports no capability.
AfterInstall = Callable[[ShopifyClient, RetailStore | PartnerStore], dict[str, Any]]
AFTER_INSTALL: list[AfterInstall] = []


def after_install(shop_domain: str) -> dict[str, Any]:
    """Learn the shop, subscribe it to its role's topics, then run the ``AFTER_INSTALL`` hooks."""
    shop = find_shop(shop_domain)
    if shop is None or not shop.is_active:
        return {"outcome": "not installed"}
    client = client_for(shop)
    learn_shop(client, shop)
    db.session.commit()
    is_retail = isinstance(shop, RetailStore)
    created = subscribe_webhooks(client, webhook_topics(is_retail), webhook_callback_url())
    result: dict[str, Any] = {"outcome": "ready", "webhooks_created": created}
    for hook in AFTER_INSTALL:
        result.update(hook(client, shop))
    return result
