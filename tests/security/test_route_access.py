"""Every /admin and /partner route, found in ``app.url_map``, attacked as the wrong shop.

Each route and method is called with ids of another partner's rows (Bob's) in its
path, its query and its form, by: another partner (Alice, as htmx and as a
document), nobody (no token), and a partner that uninstalled. For each call:
no 5xx, the admin pages refuse (401/403), nothing of Bob's appears in the answer,
and every table of the database is the same before and after.

A new route under /admin or /partner is picked up automatically; a path
parameter this module has no id for fails the test until one is added to
``other_partners_ids``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.routing import Rule
from werkzeug.test import TestResponse

from powerpact.db_types import utcnow
from tests.factories import (
    ImportJobFactory,
    ImportJobItemFactory,
    OrderSyncFactory,
    OrderSyncLineFactory,
    PartnerBatchFactory,
    PartnerCreditFactory,
    PartnerStoreFactory,
    ProductMapFactory,
    StatementPaymentFactory,
    SyncRunFactory,
)
from tests.security.dumps import table_rows

PROTECTED = ("/admin", "/partner")
UNINSTALLED = "carol-closed.myshopify.com"
BOB_SECRETS = (
    "#BOB-LEAK-1",
    "bob.customer@leak.example",
    "Bobtown-Leak",
    "BOB SECRET BLEND",
    "Bob Beans Ltd",
    "bob-sync-secret",
    "BOB-PAYMENT-REF",
    "BOB CREDIT NOTE",
)


def protected_routes(app: Flask) -> list[tuple[Rule, str]]:
    return sorted(
        (
            (rule, method)
            for rule in app.url_map.iter_rules()
            if rule.rule.startswith(PROTECTED)
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"})
        ),
        key=lambda pair: (pair[0].rule, pair[1]),
    )


@pytest.fixture
def bobs_rows(personas, db_session):
    """Bob's rows of every kind, each holding a marker that must never reach Alice."""
    bob = personas.bob
    bob.name = "Bob Beans Ltd"
    PartnerStoreFactory(shop_domain="alice-other.myshopify.com")
    order = OrderSyncFactory(
        partner=bob,
        failed=True,
        bubbly_order_name="#BOB-LEAK-1",
        customer_email="bob.customer@leak.example",
        ship_to_city="Bobtown-Leak",
        shipping_address={"name": "Bob's Customer", "city": "Bobtown-Leak"},
    )
    OrderSyncLineFactory(order_sync=order, title="BOB SECRET BLEND")
    sent = OrderSyncFactory(partner=bob, synced=True, bubbly_order_name="#BOB-LEAK-1")
    PartnerCreditFactory(order_sync=sent, note="BOB CREDIT NOTE")
    StatementPaymentFactory(partner=bob, reference="BOB-PAYMENT-REF")
    OrderSyncFactory(partner=personas.alice, failed=True, bubbly_order_name="#ALICE-1")
    job = ImportJobFactory(partner=bob)
    ImportJobItemFactory(job=job, title="BOB SECRET BLEND")
    bob_map = ProductMapFactory(
        partner=bob, partner_price=Decimal("9.00"), product_title="BOB SECRET BLEND"
    )
    PartnerBatchFactory(partner=bob)
    SyncRunFactory(partner_shop_domain=bob.shop_domain, errors=[{"message": "bob-sync-secret"}])
    PartnerStoreFactory(shop_domain=UNINSTALLED, uninstalled=True)
    db_session.flush()
    return {
        "partner_id": bob.id,
        "order_id": order.id,
        "job_id": job.id,
        "product_map_id": bob_map.id,
        "period": f"{utcnow():%Y-%m}",  # the month Bob's order was sent, credited and paid
        "bob": bob,
    }


def other_partners_ids(rule: Rule, rows: dict[str, object]) -> dict[str, object]:
    missing = sorted(set(rule.arguments) - set(rows))
    if missing:
        pytest.fail(
            f"{rule.rule}: no id of another partner's row for {missing}; "
            "add one to the bobs_rows fixture"
        )
    return {name: rows[name] for name in rule.arguments}


def hostile_values(bob) -> dict[str, object]:
    """Query and form fields naming Bob's rows, whatever a view may read."""
    return {
        "partner": bob.shop_domain,
        "q": "LEAK",
        "status": "failed",
        "since": datetime.now(UTC).isoformat(),
        "expected": "1",
        "cadence": "weekly",
        "kind": "fixed",
        "value": "1",
        "product_id": "gid://shopify/Product/1",
    }


@dataclass(frozen=True)
class Caller:
    name: str
    headers: Callable[[], dict[str, str]]
    query: Callable[[], dict[str, str]]


def callers(session_token, personas) -> list[Caller]:
    def bearer(shop: str) -> Callable[[], dict[str, str]]:
        return lambda: {"Authorization": f"Bearer {session_token(shop)}", "HX-Request": "true"}

    return [
        Caller("another partner (htmx)", bearer(personas.alice.shop_domain), dict),
        Caller(
            "another partner (document)",
            dict,
            lambda: {"id_token": session_token(personas.alice)},
        ),
        Caller("nobody", lambda: {"HX-Request": "true"}, dict),
        Caller("an uninstalled partner", bearer(UNINSTALLED), dict),
    ]


def call(
    client: FlaskClient, app: Flask, rule: Rule, method: str, caller: Caller, rows, bob
) -> TestResponse:
    adapter = app.url_map.bind("localhost")
    path = adapter.build(rule.endpoint, other_partners_ids(rule, rows), method=method)
    values = hostile_values(bob)
    query = {**caller.query(), **(values if method == "GET" else {})}
    form = {**values, "order_id": [str(rows["order_id"])]} if method != "GET" else None
    return client.open(path, method=method, query_string=query, data=form, headers=caller.headers())


# A page where a partner edits its own settings: a POST may change the caller's own row of
# these tables (every changed row names the caller's shop), never another's.
OWN_SETTINGS = {("/partner/notifications", "POST"): {"notification_settings"}}
ALICE = "alice-roasters.myshopify.com"


def changes_only_own_rows(
    rule: Rule, method: str, caller: Caller, table: str, before: list[str], after: list[str]
) -> bool:
    if table not in OWN_SETTINGS.get((rule.rule, method), set()):
        return False
    if caller.name not in ("another partner (htmx)", "another partner (document)"):
        return False
    differing = set(before) ^ set(after)
    return all(ALICE in row and "bob-beans" not in row for row in differing)


def problems_of(
    rule: Rule, method: str, caller: Caller, response: TestResponse, before, after
) -> list[str]:
    where = f"{method} {rule.rule} as {caller.name}"
    found = []
    if response.status_code >= 500:
        found.append(f"{where}: {response.status_code}")
    refused = response.status_code in (401, 403)
    if rule.rule.startswith("/admin") and not refused:
        found.append(f"{where}: answered {response.status_code}, expected 401 or 403")
    if caller.name in ("nobody", "an uninstalled partner") and response.status_code != 401:
        found.append(f"{where}: answered {response.status_code}, expected 401")
    shown = response.get_data(as_text=True) + " ".join(
        f"{k}: {v}" for k, v in response.headers.items()
    )
    found += [f"{where}: shows {secret!r}" for secret in BOB_SECRETS if secret in shown]
    changed = sorted(
        t
        for t in before
        if before[t] != after.get(t)
        and not changes_only_own_rows(rule, method, caller, t, before[t], after.get(t) or [])
    )
    if changed:
        found.append(f"{where}: changed {changed}")
    return found


def test_no_partner_or_admin_route_leaks_or_changes_another_partners_rows(
    app, client, db_session, personas, session_token, bobs_rows, shopify
):
    shopify.mock.post(
        f"http://127.0.0.1:8765/shops/{UNINSTALLED}/admin/oauth/access_token",
        status=400,
        json={"error": "invalid_subject_token"},
    )
    routes = protected_routes(app)
    exercised, problems = set(), []
    for rule, method in routes:
        for caller in callers(session_token, personas):
            before = table_rows(db_session)
            response = call(client, app, rule, method, caller, bobs_rows, bobs_rows["bob"])
            after = table_rows(db_session)
            problems += problems_of(rule, method, caller, response, before, after)
            exercised.add((rule.rule, method))
    assert problems == []
    assert exercised == {(rule.rule, method) for rule, method in routes}
    assert len(routes) >= 15, "the url_map lost routes: is the app fully registered?"


def test_the_partner_pages_still_show_the_partner_its_own_rows(as_shop, personas, bobs_rows):
    """The guard above would pass on a page that shows nothing at all: this one shows."""
    page = as_shop("/partner/orders?q=1", personas.alice).get_data(as_text=True)
    assert "#ALICE-1" in page
    assert "#BOB-LEAK-1" not in page
