"""Every route of the app, every method, with hostile values in each of its inputs.

The rules come from ``app.url_map`` (every rule, every method but Werkzeug's HEAD and
OPTIONS), each called as nobody, as a partner (Alice) and as the retail store's admin.
What a view reads is found in the code, never listed here:

- ``request_inputs``: every literal name PowerPact's modules read from a request's
  ``args``, ``form`` or ``values``, or from the mapping a view hands them to (``data``,
  as ``MarkupRule.from_dict`` reads a form), plus ``url_for``'s own keywords;
- ``inputs_read_by``: the names one view reads, in its body and in the PowerPact
  functions it calls, three calls deep (``Filters.from_args(request.args)``...).

For each value of ``HOSTILE`` (huge and negative numbers, Unicode digits, NUL, 10 KB
strings, SQL and HTML metacharacters, ``1e309``, ``nan``, empty, an over-long shop) the
fuzz sends: every input at once; each path parameter in turn; each of the view's own
inputs in turn, the others absent or ``PLAUSIBLE`` (so that one refused field does not
hide another). Alice also sends Bob's ids and shop. Every answer must be below 500, show
no traceback, and (unless the caller is the retail admin, who sees every partner) show
nothing of Bob's. A new route, or a new field of an old one, is fuzzed without touching
this module; a route it must skip is in ``SKIPPED`` with the reason.
"""

from __future__ import annotations

import ast
import functools
import importlib
import inspect
import json
import pathlib
import re
import textwrap
import traceback
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import pytest
import responses
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.routing import Rule

import powerpact
from powerpact import create_app
from powerpact.db_types import utcnow
from powerpact.extensions import db
from tests.conftest import settings_for
from tests.factories import (
    ImportJobFactory,
    ImportJobItemFactory,
    OrderSyncFactory,
    OrderSyncLineFactory,
    PartnerBatchFactory,
    PartnerCreditFactory,
    ProductMapFactory,
    StatementPaymentFactory,
    SyncRunFactory,
)
from tests.shopify_double import GRAPHQL_URL

SKIPPED = {
    "static": "Werkzeug serves the files under static/ from disk; no PowerPact code reads it",
}
NOT_IN_THE_APP = ("sandbox", "bench", "reliability")  # their own servers and commands
# A request's fields, and the names of the mappings views hand them to.
REQUEST_MAPPINGS = {
    "request.args",
    "request.form",
    "request.values",
    "args",
    "form",
    "values",
    "data",
}
# ``url_for``'s own keywords: a view that spreads request arguments into it must not break.
URL_FOR_KEYWORDS = ("endpoint", "values", "_external", "_scheme", "_anchor", "_method")

HOSTILE = (
    str(2**31),
    str(2**63),
    "99999999999999999999",
    "-1",
    str(-(2**31) - 1),
    "²",
    "١٢٣",
    "\x00",
    "bob\x00",
    "x" * 10_240,
    "9" * 10_240,
    "' OR 1=1--",
    '"><script>alert(1)</script>',
    "1e309",
    "nan",
    "",
    "x" * 300 + ".myshopify.com",
)
# Values that take a view past its first check, kept while another field is fuzzed (a
# sync status needs a time; a markup's value is only bounded as a fixed amount).
PLAUSIBLE = {
    "since": datetime(2026, 1, 1, tzinfo=UTC).isoformat(),
    "kind": "fixed",
    "markup_kind": "fixed",
}
BOB_MARKER = "BOB-SECRET"
TRACEBACK_SIGNS = ("Traceback (most recent call last)", 'File "/')
CALLERS = ("nobody", "partner", "retail admin")
PROJECT = pathlib.Path(powerpact.__file__).parent.parent


# -- what the views read ---------------------------------------------------------------


def literal_reads(tree: ast.AST, receivers: set[str]) -> set[str]:
    """The string keys read from ``receivers``: ``.get("k")``, ``.getlist("k")``,
    ``["k"]`` and ``"k" in``."""
    names = set()
    for node in ast.walk(tree):
        receiver = key = None
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in ("get", "getlist", "pop")
            and node.args
        ):
            receiver, key = node.func.value, node.args[0]
        elif isinstance(node, ast.Subscript):
            receiver, key = node.value, node.slice
        elif isinstance(node, ast.Compare) and isinstance(node.ops[0], ast.In | ast.NotIn):
            receiver, key = node.comparators[0], node.left
        if (
            receiver is not None
            and isinstance(key, ast.Constant)
            and isinstance(key.value, str)
            and ast.unparse(receiver) in receivers
        ):
            names.add(key.value)
    return names


@functools.cache
def module_tree(path: pathlib.Path) -> ast.Module:
    return ast.parse(path.read_text(), str(path))


def app_modules() -> list[pathlib.Path]:
    root = pathlib.Path(powerpact.__file__).parent
    return [
        path
        for path in sorted(root.rglob("*.py"))
        if not set(path.relative_to(root).parts) & set(NOT_IN_THE_APP)
    ]


@functools.cache
def request_inputs() -> frozenset[str]:
    """Every field name PowerPact reads from a request, anywhere in the app."""
    names: set[str] = set(URL_FOR_KEYWORDS)
    for path in app_modules():
        names |= literal_reads(module_tree(path), REQUEST_MAPPINGS)
    return frozenset(names)


def is_app_function(target: Any) -> bool:
    module = getattr(target, "__module__", None) or ""
    return (
        inspect.isfunction(target)
        and module.startswith("powerpact")
        and not set(module.split(".")) & set(NOT_IN_THE_APP)
    )


def local_imports(tree: ast.AST) -> dict[str, Any]:
    """What a function imports inside its body, by the names it binds."""
    bound: dict[str, Any] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("powerpact"):
            module = importlib.import_module(node.module)
            for alias in node.names:
                if not hasattr(module, alias.name):  # a submodule not imported yet
                    importlib.import_module(f"{node.module}.{alias.name}")
                bound[alias.asname or alias.name] = getattr(module, alias.name)
    return bound


def resolve(expression: ast.expr, namespace: dict[str, Any]) -> Any:
    if isinstance(expression, ast.Name):
        return namespace.get(expression.id)
    if isinstance(expression, ast.Attribute):
        owner = resolve(expression.value, namespace)
        try:  # a module or a class; not ``request`` or ``g``, bound to no request here
            if inspect.ismodule(owner) or inspect.isclass(owner):
                return getattr(owner, expression.attr, None)
        except RuntimeError:
            return None
    return None


def inputs_read_by(function: Any, depth: int = 3, seen: set[Any] | None = None) -> set[str]:
    """The fields ``function`` reads from a request (or from the mapping it was handed),
    and those read by the PowerPact functions it calls, ``depth`` calls deep."""
    function = inspect.unwrap(function)
    function = getattr(function, "__func__", function)
    seen = set() if seen is None else seen
    if not is_app_function(function) or function.__code__ in seen:
        return set()
    seen.add(function.__code__)
    tree = ast.parse(textwrap.dedent(inspect.getsource(function)))
    names = literal_reads(tree, REQUEST_MAPPINGS)
    if depth:
        namespace = {**function.__globals__, **local_imports(tree)}
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                target = resolve(node.func, namespace)
                names |= inputs_read_by(getattr(target, "__func__", target), depth - 1, seen)
    return names


# -- the routes, known when the tests are collected --------------------------------------


@functools.cache
def routes_of_a_fresh_app() -> list[tuple[str, str, str]]:
    """(rule, endpoint, method) of an app built as the test app is (its database unused)."""
    app = create_app({"TESTING": True}, settings=settings_for("sqlite://"))
    return sorted(
        (rule.rule, rule.endpoint, method)
        for rule in app.url_map.iter_rules()
        if rule.endpoint not in SKIPPED
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"})
    )


def route_cases() -> list[Any]:
    return [
        pytest.param(rule, endpoint, method, caller, id=f"{method} {rule} as {caller}")
        for rule, endpoint, method in routes_of_a_fresh_app()
        for caller in CALLERS
    ]


# -- the world: Alice's rows and Bob's secrets ----------------------------------------------


@dataclass
class World:
    path_ids: dict[str, str]
    bob_ids: list[str]
    bob_shop: str


@pytest.fixture
def world(personas, db_session) -> World:
    alice, bob = personas.alice, personas.bob
    alice_order = OrderSyncFactory(partner=alice, failed=True, bubbly_order_name="#ALICE-1")
    OrderSyncLineFactory(order_sync=alice_order, title="Alice House Blend")
    alice_job = ImportJobFactory(partner=alice)
    ImportJobItemFactory(job=alice_job, title="Alice Espresso")
    alice_map = ProductMapFactory(partner=alice)
    bob_order = OrderSyncFactory(
        partner=bob,
        failed=True,
        bubbly_order_name=f"#{BOB_MARKER}-1",
        customer_email=f"{BOB_MARKER.lower()}@bob.example",
        ship_to_city=f"{BOB_MARKER}-CITY",
        shipping_address={"name": f"{BOB_MARKER} Customer", "city": f"{BOB_MARKER}-CITY"},
        error_message=f"{BOB_MARKER} failure",
    )
    OrderSyncLineFactory(order_sync=bob_order, title=f"{BOB_MARKER} BLEND")
    bob_sent = OrderSyncFactory(partner=bob, synced=True, bubbly_order_name=f"#{BOB_MARKER}-2")
    PartnerCreditFactory(order_sync=bob_sent, note=f"{BOB_MARKER} credit")
    StatementPaymentFactory(partner=bob, reference=f"{BOB_MARKER}-PAYMENT")
    bob_job = ImportJobFactory(partner=bob)
    ImportJobItemFactory(job=bob_job, title=f"{BOB_MARKER} PRODUCT")
    bob_map = ProductMapFactory(
        partner=bob, partner_sku=f"{BOB_MARKER}-SKU", product_title=f"{BOB_MARKER} PRODUCT"
    )
    PartnerBatchFactory(partner=bob)
    SyncRunFactory(partner_shop_domain=bob.shop_domain, errors=[{"message": f"{BOB_MARKER} sync"}])
    db_session.commit()  # into the test's transaction: a failed call rolls back only itself
    return World(
        path_ids={
            "partner_id": str(alice.id),
            "order_id": str(alice_order.id),
            "job_id": str(alice_job.id),
            "product_map_id": str(alice_map.id),
            "shop": alice.shop_domain,
            "period": f"{utcnow():%Y-%m}",
        },
        bob_ids=[str(bob.id), str(bob_order.id), str(bob_job.id), str(bob_map.id)],
        bob_shop=bob.shop_domain,
    )


@pytest.fixture
def shopify_answers() -> Iterator[None]:
    """Shopify, as far as the pages need it: a catalog page with both neighbours; any other
    operation answers a GraphQL error (the pages must show it, not fail)."""
    product = {
        "id": "gid://shopify/Product/1",
        "title": "Fuzz Roast",
        "vendor": "Fuzz",
        "productType": "Coffee",
        "status": "ACTIVE",
        "featuredImage": None,
        "variants": {
            "nodes": [
                {
                    "id": "gid://shopify/ProductVariant/1",
                    "title": "250g",
                    "sku": "FUZZ-1",
                    "price": "12.00",
                    "compareAtPrice": "20.00",
                    "inventoryQuantity": 5,
                }
            ]
        },
    }
    catalog = {
        "products": {
            "nodes": [product],
            "pageInfo": {
                "hasNextPage": True,
                "hasPreviousPage": True,
                "startCursor": "c1",
                "endCursor": "c2",
            },
        },
        "productsCount": {"count": 1},
    }

    def answer(request: Any) -> tuple[int, dict[str, str], str]:
        operation = json.loads(request.body).get("operationName")
        if operation == "CatalogProducts":
            return 200, {}, json.dumps({"data": catalog})
        return 200, {}, json.dumps({"errors": [{"message": f"{operation} is not served here"}]})

    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.add_callback(responses.POST, GRAPHQL_URL, callback=answer)
        yield


# -- the calls ----------------------------------------------------------------------------


@dataclass
class Caller:
    name: str
    token: str | None = None
    sees_every_partner: bool = False
    extra_values: tuple[str, ...] = ()

    def headers(self, turn: int) -> dict[str, str]:
        headers = {"HX-Request": "true"} if turn % 2 == 0 else {}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        return headers

    def query(self) -> dict[str, str]:
        """The page's own ``id_token`` (``/`` reads it there): a caller's credentials are
        fuzzed by calling as nobody."""
        return {"id_token": self.token} if self.token else {}


def caller_named(name: str, personas: Any, session_token: Any, world: World) -> Caller:
    if name == "partner":
        return Caller(
            name,
            session_token(personas.alice),
            extra_values=(*world.bob_ids, world.bob_shop),
        )
    if name == "retail admin":
        return Caller(name, session_token(personas.retail), sees_every_partner=True)
    return Caller(name)


def path_for(rule: Rule, values: dict[str, str]) -> str:
    path = rule.rule
    for name in rule.arguments:
        path = re.sub(rf"<(?:[^:<>]+:)?{name}>", quote(values[name], safe=""), path)
    return path


def at(exc: BaseException) -> str:
    """Where in PowerPact (its code or its templates) ``exc`` was raised."""
    frames = traceback.extract_tb(exc.__traceback__)
    ours = [
        f for f in frames if f.filename.startswith(str(PROJECT)) and "/tests/" not in f.filename
    ]
    frame = (ours or frames)[-1]
    where = pathlib.Path(frame.filename)
    return f" ({where.relative_to(PROJECT) if ours else where}:{frame.lineno})"


@dataclass
class Fuzz:
    client: FlaskClient
    rule: Rule
    method: str
    caller: Caller
    world: World
    problems: list[str] = field(default_factory=list)
    statuses: set[int] = field(default_factory=set)
    calls: int = 0

    def valid_path(self) -> dict[str, str]:
        return {name: self.world.path_ids.get(name, "1") for name in self.rule.arguments}

    def send(self, path: str, fields: dict[str, str], what: str) -> None:
        query = {**fields, **self.caller.query()}
        form = fields if self.method != "GET" else None
        where = f"{self.method} {self.rule.rule} as {self.caller.name}, {what}"
        self.calls += 1
        try:
            response = self.client.open(
                path,
                method=self.method,
                query_string=query,
                data=form,
                headers=self.caller.headers(self.calls),
            )
        except Exception as exc:  # the test client re-raises what would be a 500
            db.session.rollback()
            self.problems.append(f"{where}: raised {type(exc).__name__}: {str(exc)[:200]}{at(exc)}")
            return
        self.statuses.add(response.status_code)
        body = response.get_data(as_text=True)
        if response.status_code >= 500:
            self.problems.append(f"{where}: answered {response.status_code}")
        if any(sign in body for sign in TRACEBACK_SIGNS):
            self.problems.append(f"{where}: shows a traceback")
        shown = body + " ".join(f"{k}: {v}" for k, v in response.headers.items())
        if not self.caller.sees_every_partner and BOB_MARKER in shown:
            self.problems.append(f"{where}: shows Bob's rows")

    def run(self, every_input: frozenset[str], own: set[str]) -> None:
        values = (*HOSTILE, *self.caller.extra_values)
        for value in values:
            self.send(
                path_for(self.rule, self.valid_path()),
                dict.fromkeys(every_input, value),
                f"every input {value[:20]!r}",
            )
        for name in self.rule.arguments:
            for value in values:
                path = path_for(self.rule, {**self.valid_path(), name: value})
                self.send(path, {}, f"path {name}={value[:20]!r}")
        for name in sorted(own - set(self.caller.query())):
            for value in values:
                fields = {**PLAUSIBLE, name: value}
                self.send(path_for(self.rule, self.valid_path()), fields, f"{name}={value[:20]!r}")


@pytest.mark.parametrize(("rule_text", "endpoint", "method", "caller_name"), route_cases())
def test_no_route_fails_or_leaks_on_hostile_input(
    app: Flask,
    client: FlaskClient,
    personas,
    session_token,
    world: World,
    shopify_answers,
    rule_text: str,
    endpoint: str,
    method: str,
    caller_name: str,
):
    rule = next(
        r for r in app.url_map.iter_rules() if (r.rule, r.endpoint) == (rule_text, endpoint)
    )
    caller = caller_named(caller_name, personas, session_token, world)
    fuzz = Fuzz(client, rule, method, caller, world)
    fuzz.run(request_inputs(), inputs_read_by(app.view_functions[endpoint]))
    assert not fuzz.problems, "\n".join(fuzz.problems)
    assert fuzz.calls >= len(HOSTILE)
    if (caller_name, rule_text.split("/")[1]) in (
        ("retail admin", "admin"),
        ("partner", "partner"),
    ):
        assert not fuzz.statuses & {401, 403}, "the pages' own shop was refused: fuzzed nothing"


def test_the_fuzz_walks_every_rule_of_the_app(app: Flask):
    """The rules collected from a fresh app are the test app's: nothing is left unfuzzed."""
    walked = {(rule, endpoint) for rule, endpoint, _ in routes_of_a_fresh_app()}
    served = {
        (rule.rule, rule.endpoint)
        for rule in app.url_map.iter_rules()
        if rule.endpoint not in SKIPPED
    }
    assert walked == served
    assert len(walked) >= 25, "the url_map lost routes: is the app fully registered?"


def test_the_fuzz_finds_the_fields_the_views_read(app: Flask):
    """The names are read from the code, through the functions a view hands the request to."""
    assert {"q", "page", "partner", "since", "order_id", "markup_value", "shop"} <= (
        request_inputs()
    )
    views = app.view_functions
    assert {"q", "page", "status", "sort"} <= inputs_read_by(views["orders.partner_orders"])
    assert {"q", "kind", "value", "min_margin_percent"} <= inputs_read_by(views["catalog.catalog"])
    assert {"cadence", "markup_value", "cutoff_timezone"} <= inputs_read_by(
        views["partners.settings"]
    )
    assert {"order_id", "page"} <= inputs_read_by(views["orders.bulk_retry"])


def test_the_leak_check_sees_bobs_rows_where_they_are_shown(
    app, client, personas, session_token, world, shopify_answers
):
    """The retail admin does see Bob's orders: called as one who must not, it is reported."""
    rule = next(r for r in app.url_map.iter_rules() if r.endpoint == "orders.desk")
    admin = Caller("the retail admin", session_token(personas.retail))
    fuzz = Fuzz(client, rule, "GET", admin, world)
    fuzz.send("/admin/orders", {}, "no input")
    assert fuzz.problems == ["GET /admin/orders as the retail admin, no input: shows Bob's rows"]
