"""Fuzzing order capture: a retail order as Shopify might answer it, then broken at random.

``OrderForSync`` answers are generated valid and then mutated: fields deleted or
replaced by hostile values (wrong types, negative, huge, NaN, NUL bytes, long
strings). Two properties:

- ``parse_order`` then ``record_order`` either record the order or refuse it with
  ``InvalidOrder`` and a readable reason: never a ``KeyError``, ``TypeError``,
  database error or anything else;
- through the webhook and the worker task, every such order is acknowledged (200),
  the task returns instead of raising, and a refused order leaves its delivery
  ``failed`` with an ``InvalidOrder`` reason.

The splitter itself is fed hostile amounts directly (negative, fractions of a cent,
unknown currency): it splits exactly or refuses with ``InvalidOrder``.
"""

from __future__ import annotations

import copy
import re
import uuid
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from powerpact.extensions import db
from powerpact.models import DeliveryStatus, OrderSync
from powerpact.orders.capture import parse_order, record_order
from powerpact.orders.split import RETAIL_PARTY, InvalidOrder, RetailLine, RetailOrder, split_order
from powerpact.shopify import tasks
from powerpact.shopify.webhooks import delivery_by_webhook_id
from tests.factories import ProductMapFactory
from tests.webhook_bodies import order_body

RETAIL = "bubbly-retail.myshopify.com"
FUZZ = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
HOSTILE_VALUES = st.sampled_from(
    [
        None,
        "",
        "abc",
        -1,
        0,
        10**20,
        "-5.00",
        "1e400",
        "NaN",
        "Infinity",
        "12.345678",
        "99999999999999999999.99",
        1.5,
        True,
        [],
        {},
        [None],
        {"amount": "1"},
        "\x00",
        "x" * 600,
        "gid://shopify/Order/\x00",
    ]
)


def money(amount: str) -> dict[str, Any]:
    return {"shopMoney": {"amount": amount, "currencyCode": "USD"}}


amounts = st.integers(0, 50_000).map(lambda cents: str(Decimal(cents) / 100))


@st.composite
def line_items(draw, variants: list[str]) -> dict[str, Any]:
    quantity = draw(st.integers(1, 5))
    return {
        "id": f"gid://shopify/LineItem/{draw(st.integers(1, 10**6))}",
        "title": "House Blend",
        "name": "House Blend - 250g",
        "sku": draw(st.sampled_from([None, "BUB-MUG", "PARTNER-alice-roasters-NSR-1"])),
        "quantity": quantity,
        "currentQuantity": draw(st.integers(1, quantity)),
        "variant": {"id": draw(st.sampled_from(variants))},
        "originalUnitPriceSet": money(draw(amounts)),
        "discountAllocations": [],
        "taxLines": [{"priceSet": money(draw(amounts))}] if draw(st.booleans()) else [],
    }


def line_tax(line: dict[str, Any]) -> Decimal:
    return sum(
        (Decimal(t["priceSet"]["shopMoney"]["amount"]) for t in line["taxLines"]), Decimal(0)
    )


RISK_ASSESSMENTS = [
    [],
    [{"riskLevel": "PENDING", "facts": []}],
    [
        {"riskLevel": "PENDING", "facts": []},
        {"riskLevel": "MEDIUM", "facts": [{"description": "Proxy", "sentiment": "NEGATIVE"}]},
    ],
]


@st.composite
def order_nodes(draw, variants: list[str]) -> dict[str, Any]:
    lines = draw(
        st.lists(line_items(variants), min_size=1, max_size=4, unique_by=lambda line: line["id"])
    )
    return {
        "id": f"gid://shopify/Order/{draw(st.integers(1, 10**9))}",
        "name": f"#{draw(st.integers(1000, 9999))}",
        "currencyCode": "USD",
        "displayFinancialStatus": draw(st.sampled_from(["PAID", "PENDING", "AUTHORIZED"])),
        "createdAt": draw(st.sampled_from(["2026-12-06T10:00:00Z", "2026-12-06T02:00:00-08:00"])),
        "risk": {
            "recommendation": draw(st.sampled_from(["ACCEPT", "INVESTIGATE", None])),
            "assessments": copy.deepcopy(draw(st.sampled_from(RISK_ASSESSMENTS))),
        },
        "cancelledAt": None,
        "test": False,
        "email": "ada@example.com",
        "shippingAddress": {"city": "Portland", "countryCodeV2": "US", "address1": "1 Main"},
        "currentShippingPriceSet": money(draw(amounts)),
        "currentTotalTaxSet": money(str(sum(map(line_tax, lines), Decimal(0)))),
        "lineItems": {
            "pageInfo": {"hasNextPage": False, "endCursor": None},
            "nodes": lines,
        },
    }


def paths_of(value: Any, prefix: tuple = ()) -> list[tuple]:
    """Every place in a JSON document: dict keys and list indexes, nested."""
    if isinstance(value, dict):
        children = list(value.items())
    elif isinstance(value, list):
        children = list(enumerate(value))
    else:
        return []
    found = []
    for key, child in children:
        found += [(*prefix, key), *paths_of(child, (*prefix, key))]
    return found


def mutate(node: dict[str, Any], path: tuple, replacement: Any, delete: bool) -> None:
    parent = node
    for key in path[:-1]:
        parent = parent[key]
    if delete and isinstance(parent, dict):
        del parent[path[-1]]
    else:
        parent[path[-1]] = replacement


@st.composite
def malformed_nodes(draw, variants: list[str]) -> dict[str, Any]:
    node = draw(order_nodes(variants))
    for _ in range(draw(st.integers(1, 3))):
        paths = paths_of(node)
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        mutate(node, path, draw(HOSTILE_VALUES), draw(st.booleans()))
    return node


@pytest.fixture
def partner_variants(personas, db_session) -> list[str]:
    for partner in (personas.alice, personas.bob):
        partner.cadence = "daily"  # capture only: nothing is pushed
    maps = [
        ProductMapFactory(partner=personas.alice, partner_price=Decimal("8.00")),
        ProductMapFactory(partner=personas.bob, partner_price=Decimal("9.00")),
    ]
    db_session.flush()
    return [m.bubbly_variant_id for m in maps] + ["gid://shopify/ProductVariant/own"]


def test_valid_orders_are_recorded(partner_variants, db_session):
    """The generator's orders before mutation are good ones: the fuzz starts from sense."""

    @FUZZ
    @given(node=order_nodes(partner_variants))
    def record(node):
        with db_session.begin_nested() as savepoint:
            record_order(parse_order(copy.deepcopy(node)))
            savepoint.rollback()

    record()


def test_a_malformed_order_is_recorded_or_refused_with_invalid_order(partner_variants, db_session):
    @FUZZ
    @given(node=malformed_nodes(partner_variants))
    def capture(node):
        with db_session.begin_nested() as savepoint:
            try:
                record_order(parse_order(node))
            except InvalidOrder as exc:
                assert str(exc)
            finally:
                savepoint.rollback()

    capture()


def test_a_malformed_order_through_the_webhook_and_worker_never_crashes_the_task(
    partner_variants, send_webhook, shopify, monkeypatch, db_session
):
    answers: dict[str, Any] = {}
    shopify.on(RETAIL, "OrderForSync", lambda variables: {"order": answers["order"]})
    worker_task = tasks.process_delivery_task
    monkeypatch.setattr(tasks, "process_delivery_task", lambda delivery_id: None)  # not inline

    @FUZZ
    @given(node=malformed_nodes(partner_variants))
    def deliver(node):
        answers["order"] = node
        webhook_id = f"fuzz-capture-{uuid.uuid4()}"
        response = send_webhook("orders/create", order_body(1), shop=RETAIL, webhook_id=webhook_id)
        assert response.status_code == 200
        delivery = delivery_by_webhook_id(webhook_id)
        outcome = worker_task.call_local(delivery.id)
        db.session.expire_all()
        delivery = delivery_by_webhook_id(webhook_id)
        assert outcome == delivery.status.value
        assert delivery.status in (DeliveryStatus.PROCESSED, DeliveryStatus.FAILED)
        if delivery.status == DeliveryStatus.FAILED:
            assert delivery.error.startswith("InvalidOrder: "), delivery.error

    deliver()
    assert db_session.scalars(select(OrderSync)).first() is not None, "nothing was ever recorded"


def valid_node() -> dict[str, Any]:
    line = {
        "id": "gid://shopify/LineItem/1",
        "title": "House Blend",
        "quantity": 2,
        "currentQuantity": 2,
        "variant": None,
        "originalUnitPriceSet": money("10.00"),
        "discountAllocations": [],
        "taxLines": [],
    }
    return {
        "id": "gid://shopify/Order/1",
        "name": "#1001",
        "createdAt": "2026-12-06T10:00:00Z",
        "currencyCode": "USD",
        "lineItems": {"nodes": [line]},
    }


@pytest.mark.parametrize(
    ("path", "value", "reason"),
    [
        (("lineItems", "nodes", 0, "quantity"), "2", "nodes[0].quantity is not a whole number"),
        (("lineItems", "nodes", 0, "currentQuantity"), 3, "is more than quantity"),
        (("lineItems", "nodes", 0, "originalUnitPriceSet"), {}, "shopMoney is missing"),
        (("lineItems", "nodes", 0, "originalUnitPriceSet"), money("NaN"), "is not an amount"),
        (("lineItems", "nodes", 0, "originalUnitPriceSet"), money("1e20"), "out of range"),
        (("lineItems", "nodes", 1), None, "nodes[1] is not an object"),
        (("name",), "#1\x00", "order.name contains a NUL"),
        (("name",), "#" * 65, "longer than 64"),
        (("id",), None, "order.id is not a text"),
        (("currencyCode",), "usd", "not a currency code"),
        (("shippingAddress",), {"city": 7}, "shippingAddress.city"),
        (("createdAt",), "yesterday", "order.createdAt is not a date and time"),
        (("createdAt",), "2026-12-06T10:00:00", "order.createdAt has no time zone"),
        (("risk",), {"assessments": {}}, "order.risk.assessments is not a list"),
        (("risk",), {"assessments": [{"riskLevel": "SEVERE"}]}, "is not a risk level"),
        (
            ("risk",),
            {"assessments": [{"riskLevel": "HIGH", "facts": [{"sentiment": "NEGATIVE"}]}]},
            "facts[0].description is not a text",
        ),
    ],
)
def test_a_malformed_order_is_refused_naming_the_field(path, value, reason):
    node = valid_node()
    node["lineItems"]["nodes"].append({**node["lineItems"]["nodes"][0], "id": "gid://x/2"})
    mutate(node, path, value, delete=False)
    with pytest.raises(InvalidOrder, match=re.escape(reason)):
        parse_order(node)


def test_a_line_item_seen_twice_is_refused():
    node = valid_node()
    node["lineItems"]["nodes"] *= 2
    with pytest.raises(InvalidOrder, match="appears twice"):
        parse_order(node)


hostile_amounts = st.decimals(
    allow_nan=False, allow_infinity=False, min_value=-(10**12), max_value=10**12
)


@st.composite
def hostile_retail_orders(draw) -> RetailOrder:
    """Orders the splitter may be handed: negative, fractional-cent, unknown currency."""
    lines = [
        RetailLine(
            line_id=f"L{i}",
            party=draw(st.sampled_from(["a.myshopify.com", "b.myshopify.com", RETAIL_PARTY])),
            title="t",
            quantity=draw(st.integers(-2, 10**6)),
            unit_price=draw(hostile_amounts),
            discount=draw(hostile_amounts),
            tax=draw(st.none() | hostile_amounts),
            partner_unit_price=draw(st.none() | hostile_amounts),
        )
        for i in range(draw(st.integers(0, 4)))
    ]
    return RetailOrder(
        draw(st.sampled_from(["USD", "JPY", "KWD", "XXX"])),
        lines,
        shipping=draw(hostile_amounts),
        tax=draw(hostile_amounts),
    )


@settings(max_examples=150, deadline=None)
@given(hostile_retail_orders())
def test_the_splitter_refuses_impossible_orders_only_with_invalid_order(order):
    try:
        shares = split_order(order)
    except InvalidOrder as exc:
        assert str(exc)
        return
    assert sum((s.shipping for s in shares.values()), Decimal(0)) == order.shipping
