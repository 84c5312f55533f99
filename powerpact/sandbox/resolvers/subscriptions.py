"""Webhook subscriptions: create (one per topic and address), list, delete."""

from __future__ import annotations

import ipaddress
from typing import Any
from urllib.parse import urlsplit

from graphql import GraphQLResolveInfo

from powerpact.sandbox import shapes
from powerpact.sandbox.resolvers.context import Context, failed
from powerpact.sandbox.store import Subscription


def subscription_node(sub: Subscription) -> dict[str, Any]:
    endpoint = {"__typename": "WebhookHttpEndpoint", "callbackUrl": sub.uri}
    return {
        "__typename": "WebhookSubscription",
        "id": sub.id,
        "legacyResourceId": sub.id.rsplit("/", 1)[1],
        "topic": sub.topic,
        "uri": sub.uri,
        "callbackUrl": sub.uri,
        "endpoint": endpoint,
        "format": "JSON",
        "includeFields": [],
        "createdAt": sub.created_at,
        "updatedAt": sub.created_at,
    }


def q_webhook_subscriptions(
    ctx: Context, args: dict[str, Any], info: GraphQLResolveInfo
) -> dict[str, Any]:
    topics = args.get("topics")
    uri = args.get("uri") or args.get("callbackUrl")
    subs = [
        s
        for s in ctx.shop.subscriptions.values()
        if (not topics or s.topic in topics) and (not uri or s.uri == uri)
    ]
    return shapes.connection(subs, subscription_node, **args)


def q_webhook_subscription(
    ctx: Context, args: dict[str, Any], info: GraphQLResolveInfo
) -> dict[str, Any] | None:
    sub = ctx.shop.subscriptions.get(args["id"])
    return subscription_node(sub) if sub else None


def is_loopback(uri: str) -> bool:
    """Whether ``uri`` names this machine (``localhost``, ``127.0.0.0/8``, ``::1``)."""
    host = urlsplit(uri).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def m_webhook_create(
    ctx: Context, args: dict[str, Any], info: GraphQLResolveInfo
) -> dict[str, Any]:
    """Subscribe an address to a topic: HTTPS only, but for this machine.

    The schema's ``WebhookSubscriptionInput.uri`` "Supports an HTTPS URL, a Google
    Pub/Sub URI ... or an Amazon EventBridge event source ARN": over HTTP, only an
    HTTPS address (https://shopify.dev/docs/apps/build/webhooks/subscribe). A
    loopback ``http://`` address is the sandbox's one allowance: it delivers on this
    machine, where the demo and the tests serve PowerPact over plain HTTP.
    """
    data = args.get("webhookSubscription") or {}
    uri = data.get("uri") or data.get("callbackUrl")
    field = ["webhookSubscription", "callbackUrl"]
    if not uri:
        return failed("webhookSubscription", "Address can't be blank", field)
    if not uri.startswith(("https://", "http://")):
        scheme = uri.split(":", 1)[0]
        return failed("webhookSubscription", f"Address protocol {scheme} is not supported", field)
    if uri.startswith("http://") and not is_loopback(uri):
        return failed("webhookSubscription", "Address protocol http:// is not supported", field)
    if any(s.topic == args["topic"] and s.uri == uri for s in ctx.shop.subscriptions.values()):
        return failed("webhookSubscription", "Address for this topic has already been taken", field)
    sub = Subscription(ctx.ids.gid("WebhookSubscription"), args["topic"], uri)
    ctx.shop.subscriptions[sub.id] = sub
    return {"webhookSubscription": subscription_node(sub), "userErrors": []}


def m_webhook_delete(
    ctx: Context, args: dict[str, Any], info: GraphQLResolveInfo
) -> dict[str, Any]:
    if ctx.shop.subscriptions.pop(args["id"], None) is None:
        return failed("deletedWebhookSubscriptionId", "Webhook subscription does not exist", ["id"])
    return {"deletedWebhookSubscriptionId": args["id"], "userErrors": []}


QUERIES = {
    "webhookSubscriptions": q_webhook_subscriptions,
    "webhookSubscription": q_webhook_subscription,
}
MUTATIONS = {
    "webhookSubscriptionCreate": m_webhook_create,
    "webhookSubscriptionDelete": m_webhook_delete,
}
