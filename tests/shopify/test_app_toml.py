"""``shopify.app.toml`` says what the code does: scopes, URLs, API version, topics.

Shopify applies this file to every store on ``shopify app deploy``
(https://shopify.dev/docs/apps/build/cli-for-apps/app-configuration); a scope or a
redirect URL that disagrees with the code breaks installs only on a real store.
"""

from __future__ import annotations

import dataclasses
import re
import tomllib
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit

import pytest
import yaml
from flask import url_for

from powerpact.config import DEFAULT_SCOPES, PROJECT_ROOT, Settings
from powerpact.sandbox.config import DEFAULT_SCOPES as SANDBOX_GRANTED_SCOPES
from powerpact.shopify import oauth
from powerpact.shopify.install import webhook_callback_url, webhook_topics
from powerpact.shopify.schema import API_VERSION, admin_schema
from powerpact.shopify.topics import TOPICS, Audience, subscription_topic, topics_for

TOML_PATH = PROJECT_ROOT / "shopify.app.toml"
REFERENCE_LINE = re.compile(r"^#\s+(retail store|partner stores|every store):\s*(.+)$")
SHOP_SPECIFIC = (Audience.RETAIL, Audience.PARTNER, Audience.EVERY_SHOP)
COMPLIANCE_TOPICS = topics_for(Audience.COMPLIANCE)


@pytest.fixture(scope="module")
def toml() -> dict[str, Any]:
    return tomllib.loads(TOML_PATH.read_text())


def scopes_of(text: str) -> list[str]:
    return [s.strip() for s in text.split(",") if s.strip()]


def declared_subscriptions(toml: dict[str, Any]) -> list[dict[str, Any]]:
    return toml["webhooks"].get("subscriptions", [])


def reference_topics(path: Path) -> dict[str, tuple[str, ...]]:
    """The file's comment listing the shop-specific topics, by role."""
    found = {}
    for line in path.read_text().splitlines():
        if match := REFERENCE_LINE.match(line):
            found[match[1]] = tuple(t.strip() for t in match[2].split(","))
    return found


def test_the_scopes_are_the_ones_the_code_asks_for_and_the_sandbox_grants(toml):
    declared = scopes_of(toml["access_scopes"]["scopes"])
    assert declared == scopes_of(DEFAULT_SCOPES)
    assert declared == scopes_of(Settings.shopify_scopes)
    assert set(declared) == set(SANDBOX_GRANTED_SCOPES)
    assert len(declared) == len(set(declared))


def test_render_asks_for_the_same_scopes(toml):
    blueprint = yaml.safe_load((PROJECT_ROOT / "render.yaml").read_text())
    settings = {
        var["key"]: var.get("value")
        for group in blueprint["envVarGroups"]
        for var in group["envVars"]
    }
    assert scopes_of(settings["SHOPIFY_SCOPES"]) == scopes_of(toml["access_scopes"]["scopes"])
    assert settings["SHOPIFY_API_VERSION"] == toml["webhooks"]["api_version"]


def test_orders_older_than_60_days_are_in_reach(toml):
    """``QueryRoot.order``: only the last 60 days of orders without ``read_all_orders``."""
    description = admin_schema().query_type.fields["order"].description
    assert "60 days" in description
    assert "read_all_orders" in scopes_of(toml["access_scopes"]["scopes"])


def test_the_webhook_api_version_is_the_one_the_client_speaks(toml):
    assert toml["webhooks"]["api_version"] == API_VERSION == Settings.shopify_api_version


def test_the_required_top_level_keys_are_there_with_placeholders_that_cannot_pass_for_real(toml):
    assert toml["name"] == "PowerPact"
    assert toml["embedded"] is True
    assert toml["client_id"].startswith("REPLACE-")
    assert urlsplit(toml["application_url"]).hostname == "powerpact.example.com"


@pytest.fixture
def served_from_toml(app, toml, monkeypatch):
    """The app with ``APP_URL`` set to the file's ``application_url``, in a request context."""
    settings = dataclasses.replace(
        app.config["POWERPACT"], app_url=toml["application_url"].rstrip("/")
    )
    monkeypatch.setitem(app.config, "POWERPACT", settings)
    with app.test_request_context():
        yield app


def test_the_redirect_url_is_the_one_the_install_sends(served_from_toml, toml):
    sent = parse_qs(urlsplit(oauth.authorize_url("x.myshopify.com", "state")).query)
    assert toml["auth"]["redirect_urls"] == sent["redirect_uri"]
    assert urlsplit(sent["redirect_uri"][0]).path == url_for("install.callback")


def test_the_app_opens_where_shopify_sends_the_merchant(served_from_toml, toml):
    assert (urlsplit(toml["application_url"]).path or "/") == url_for("home.index")


def test_compliance_topics_go_to_the_webhook_endpoint(served_from_toml, toml):
    compliance = [s for s in declared_subscriptions(toml) if s.get("compliance_topics")]
    assert len(compliance) == 1
    assert tuple(compliance[0]["compliance_topics"]) == COMPLIANCE_TOPICS
    resolved = urljoin(toml["application_url"] + "/", compliance[0]["uri"])
    assert resolved == webhook_callback_url()
    assert compliance[0]["uri"] == url_for("webhooks.receive")


def test_compliance_topics_cannot_be_subscribed_through_the_admin_api():
    """So the file is their only path: the API's topic enum has none of them."""
    enum = set(admin_schema().get_type("WebhookSubscriptionTopic").values)
    assert enum.isdisjoint(subscription_topic(t) for t in COMPLIANCE_TOPICS)


def test_every_handled_topic_arrives_by_exactly_one_path(toml):
    """A topic declared app-wide reaches every store and doubles a shop-specific one."""
    app_wide = {t for s in declared_subscriptions(toml) for t in s.get("topics", [])}
    compliance = {t for s in declared_subscriptions(toml) for t in s.get("compliance_topics", [])}
    shop_specific = {t for audience in SHOP_SPECIFIC for t in topics_for(audience)}
    assert app_wide.isdisjoint(shop_specific)
    assert compliance.isdisjoint(shop_specific | app_wide)
    assert set(TOPICS) == app_wide | compliance | shop_specific


def test_shop_specific_topics_are_valid_admin_api_topics():
    enum = set(admin_schema().get_type("WebhookSubscriptionTopic").values)
    assert set(webhook_topics(True)) <= enum
    assert set(webhook_topics(False)) <= enum


def test_the_files_list_of_shop_specific_topics_is_the_codes():
    assert reference_topics(TOML_PATH) == {
        audience.value: topics_for(audience) for audience in SHOP_SPECIFIC
    }
