"""The demo fixture is realistic, the console's buttons work, and ``flask sandbox`` serves it."""

from decimal import Decimal
from urllib.parse import unquote_plus

import pytest
from click.testing import CliRunner
from flask import Flask

from powerpact.sandbox import cli
from powerpact.sandbox.console import in_stock, stock_rows
from powerpact.sandbox.fixtures import RETAIL, ROASTERS
from tests.sandbox.helpers import SHOP


def test_the_demo_has_a_retail_store_and_three_roasters(sandbox):
    retail = sandbox.shop(RETAIL)
    assert retail.name == "Bubbly" and retail.plan == "enterprise"
    partners = [sandbox.shop(r["domain"]) for r in ROASTERS]
    assert len({p.timezone for p in partners} | {retail.timezone}) >= 3
    for partner in partners:
        assert 20 <= len(partner.products) <= 50
        variants = list(partner.variants().values())
        assert all(v.sku and v.price > Decimal(0) for v in variants)
        assert len({v.sku for v in variants}) == len(variants)
        sold_out = [v for v in variants if partner.available(v.inventory_item_id) == 0]
        assert 0 < len(sold_out) < len(variants) / 4
        product = next(iter(partner.products.values()))
        assert product.options[0][0] == "Size" and product.image_url.endswith(".svg")
        assert "Notes of" in product.description_html


def test_the_console_sets_a_partners_stock_with_or_without_the_webhook(sandbox_app, sandbox):
    client = sandbox_app.test_client()
    retail, partner = sandbox.shop(RETAIL), sandbox.shop(SHOP)
    source = next(iter(partner.variants().values()))
    imported = f"PARTNER-north-star-roasters-{source.sku}"
    sandbox.add_product(
        retail,
        {"title": "Imported", "variants": [{"sku": imported, "price": "20.00", "stock": 4}]},
    )
    page = client.get("/_sandbox/").get_data(as_text=True)
    assert "Stock of imported products" in page and f'value="{source.sku}"' in page

    form = {"shop": SHOP, "sku": source.sku, "available": "7"}
    told = client.post("/_sandbox/console/stock", data=form).headers["Location"]
    assert partner.available(source.inventory_item_id) == 7
    assert "inventory_levels/update" in unquote_plus(told)
    quiet = client.post("/_sandbox/console/stock", data={**form, "available": "3", "quiet": "on"})
    assert partner.available(source.inventory_item_id) == 3
    assert "as if it was missed" in unquote_plus(quiet.headers["Location"])
    assert (
        "whole+number"
        in client.post("/_sandbox/console/stock", data={**form, "available": "many"}).headers[
            "Location"
        ]
    )
    row = next(r for r in stock_rows(sandbox, retail) if r.retail_sku == imported)
    assert (row.at_partner, row.at_retail) == (3, 4)


def test_the_console_places_orders_and_fulfils_them(sandbox_app, sandbox):
    client = sandbox_app.test_client()
    assert b"Shopify sandbox" in client.get("/_sandbox/").data
    refused = client.post("/_sandbox/console/mixed")
    assert "import+some+partner+products+first" in refused.headers["Location"]
    retail = sandbox.shop(RETAIL)
    partner = sandbox.shop(SHOP)
    source = next(v for v in partner.variants().values() if partner.available(v.inventory_item_id))
    sandbox.add_product(
        retail,
        {
            "title": "Imported",
            "variants": [
                {
                    "title": "Default Title",
                    "sku": f"PARTNER-north-star-roasters-{source.sku}",
                    "price": "20.00",
                    "stock": 10,
                }
            ],
        },
    )
    for action in ("mixed", "risky", "failing"):
        assert "Placed" in client.post(f"/_sandbox/console/{action}").headers["Location"]
    risky = next(o for o in retail.orders.values() if o.risk == "INVESTIGATE")
    client.post("/_sandbox/console/risk", data={"order": risky.id})
    assert risky.risk_recommendation == "ACCEPT"
    assert partner.available(source.inventory_item_id) == 0, "the failing order empties the source"
    client.post("/_sandbox/console/restock", data={"shop": SHOP})
    assert partner.available(source.inventory_item_id) == 50
    order = sandbox.new_order(partner, [sandbox.line(partner, source, 1)])
    shipped = client.post("/_sandbox/console/fulfil", data={"shop": SHOP, "order": order.id})
    assert order.fulfillment_status == "FULFILLED"
    tracking = order.fulfillments[-1].tracking
    assert tracking["url"].endswith("/" + tracking["number"]), "the link follows the number"
    assert tracking["number"] in unquote_plus(shipped.headers["Location"])
    assert "unknown+action" in client.post("/_sandbox/console/dance").headers["Location"]
    page = client.get("/_sandbox/").get_data(as_text=True)
    assert risky.name in page and order.name in page
    assert "Refund one with restock" in page
    mixed = next(o for o in retail.orders.values() if len(o.line_items) > 1)
    line = next(li for li in mixed.line_items if li.sku and li.sku.startswith("PARTNER-"))
    before = line.current
    refunded = client.post("/_sandbox/console/refund", data={"order": mixed.id})
    assert "Refunded+1" in refunded.headers["Location"]
    assert line.current == before - 1 and mixed.refunds[0].lines[0].restock_type == "CANCEL"
    assert mixed.financial_status == "PARTIALLY_REFUNDED"


@pytest.fixture
def served(monkeypatch):
    calls = {}

    def fake_serve(app, host, port):
        calls.update(app=app, host=host, port=port)

    monkeypatch.setattr(cli, "serve", fake_serve)
    return calls


def test_the_command_serves_the_demo_with_the_environments_app(served, monkeypatch):
    monkeypatch.setenv("SHOPIFY_API_KEY", "env-key")
    monkeypatch.setenv("SHOPIFY_API_SECRET", "env-secret-0123456789abcdef")
    monkeypatch.setenv("APP_URL", "https://app.example/")
    monkeypatch.setenv("SHOPIFY_SCOPES", "read_products, write_orders")
    result = CliRunner().invoke(cli.sandbox_command, ["--port", "9999", "--approve"])
    assert result.exit_code == 0, result.output
    assert "Shopify sandbox on http://127.0.0.1:9999 with the 'demo' fixture" in result.output
    sandbox = served["app"].extensions["sandbox"]
    config = sandbox.config
    assert (config.api_key, config.api_secret) == ("env-key", "env-secret-0123456789abcdef")
    assert config.app_url == "https://app.example"
    assert config.scopes == ("read_products", "write_orders")
    assert config.base_url == "http://127.0.0.1:9999" and not config.auto_approve
    assert RETAIL in sandbox.store.shops and served["port"] == 9999
    assert sandbox.search_lag_seconds == config.search_lag_seconds > 0  # on by default
    assert "orders search lags 3 s behind order changes" in result.output


def test_the_command_sets_the_search_lag(served):
    result = CliRunner().invoke(cli.sandbox_command, ["--fixture", "empty", "--search-lag", "0"])
    assert result.exit_code == 0, result.output
    app = served["app"]
    assert app.extensions["sandbox"].search_lag_seconds == 0
    assert app.test_client().get("/_sandbox/search-lag").get_json() == {"seconds": 0}


def test_the_running_apps_settings_win_over_defaults(served, monkeypatch):
    for name in ("SHOPIFY_API_KEY", "SHOPIFY_API_SECRET", "APP_URL", "SHOPIFY_SCOPES"):
        monkeypatch.delenv(name, raising=False)

    class Settings:
        shopify_api_key = "app-key"
        shopify_api_secret = "app-secret-0123456789abcdef"
        app_url = "http://127.0.0.1:5000"
        shopify_scopes = ""

    app = Flask("powerpact-test")
    app.config["POWERPACT"] = Settings()
    with app.app_context():
        result = CliRunner().invoke(cli.sandbox_command, ["--fixture", "empty"])
    assert result.exit_code == 0, result.output
    config = served["app"].extensions["sandbox"].config
    assert (config.api_key, config.api_secret) == ("app-key", "app-secret-0123456789abcdef")
    assert served["app"].extensions["sandbox"].store.shops == {}


def test_the_app_flask_names_gives_its_settings(served, monkeypatch):
    """Run as ``flask --app wsgi sandbox`` (an entry point: Flask pushes no app context)."""
    from flask.cli import ScriptInfo

    for name in ("SHOPIFY_API_KEY", "SHOPIFY_API_SECRET", "APP_URL", "SHOPIFY_SCOPES"):
        monkeypatch.delenv(name, raising=False)
    app = Flask("powerpact-test")
    app.config["POWERPACT"] = type(
        "Settings",
        (),
        {
            "shopify_api_key": "named-key",
            "shopify_api_secret": "named-secret-0123456789abcdef",
            "app_url": "http://127.0.0.1:5000",
            "shopify_scopes": "",
        },
    )()
    info = ScriptInfo(create_app=lambda: app)
    result = CliRunner().invoke(cli.sandbox_command, ["--fixture", "empty"], obj=info)
    assert result.exit_code == 0, result.output
    assert served["app"].extensions["sandbox"].config.api_key == "named-key"


def test_the_mixed_order_picks_what_the_partner_can_ship(sandbox):
    partner = sandbox.shop(SHOP)
    sold_out, stocked = list(partner.variants().values())[:2]
    sandbox.set_stock(partner, sold_out, 0, notify=False)
    sandbox.set_stock(partner, stocked, 9, notify=False)
    skus = [f"PARTNER-north-star-roasters-{v.sku}" for v in (sold_out, stocked)]
    assert in_stock(sandbox, skus, 2) == skus[1]
    sandbox.set_stock(partner, stocked, 1, notify=False)
    assert in_stock(sandbox, skus, 2) == skus[0], "nothing can ship: the first, as before"


def test_the_admin_order_page_shows_lines_totals_and_tracking(sandbox_app, sandbox):
    client = sandbox_app.test_client()
    partner = sandbox.shop(SHOP)
    source = next(v for v in partner.variants().values() if partner.available(v.inventory_item_id))
    order = sandbox.new_order(partner, [sandbox.line(partner, source, 1)])
    number = order.id.rsplit("/", 1)[-1]
    page = client.get(f"/shops/{SHOP}/admin/orders/{number}").get_data(as_text=True)
    assert f"Order {order.name}" in page and "Nothing shipped yet." in page
    client.post("/_sandbox/console/fulfil", data={"shop": SHOP, "order": order.id})
    page = client.get(f"/shops/{SHOP}/admin/orders/{number}").get_data(as_text=True)
    tracking = order.fulfillments[-1].tracking
    assert f'tracking <a href="{tracking["url"]}">{tracking["number"]}</a>' in page
    assert client.get(f"/shops/{SHOP}/admin/orders/999999999").status_code == 404
    assert client.get(f"/shops/nobody.myshopify.com/admin/orders/{number}").status_code == 404
