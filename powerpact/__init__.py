"""PowerPact: one Shopify app on a retail store and its partner stores."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from powerpact import headers, limits
from powerpact.config import PROJECT_ROOT, Settings
from powerpact.extensions import db, migrate
from powerpact.inputs import install_input_rules
from powerpact.sessions import CookieSessionInterface
from powerpact.shopify.admin_urls import is_sandbox
from powerpact.shopify.delivery_store import STORE_KEY, store_for
from powerpact.worker import create_worker_app

__all__ = ["create_app", "create_worker_app"]


def create_app(
    overrides: Mapping[str, Any] | None = None, *, settings: Settings | None = None
) -> Flask:
    """The web app: settings from the environment (or ``settings``), pages, webhooks, CLI."""
    app = create_worker_app(overrides, settings=settings)
    # The tasks and the catalog's install hook, as a worker has them from its entry point:
    # Huey's immediate mode runs tasks in this process.
    import powerpact.tasks  # noqa: F401

    limits.init_app(app)
    headers.init_app(app)
    trust_proxies(app)
    app.session_interface = CookieSessionInterface()
    migrate.init_app(app, db, directory=str(PROJECT_ROOT / "migrations"))
    app.extensions[STORE_KEY] = store_for(app.config["SQLALCHEMY_DATABASE_URI"])
    install_input_rules(app)
    register_blueprints(app)

    from powerpact.cli import register_cli  # commands are the web app's; a worker has none

    register_cli(app)
    return app


def trust_proxies(app: Flask) -> None:
    """Read the client's address and scheme from the ``PROXY_HOPS`` proxies in front.

    Only as many ``X-Forwarded-*`` entries as there are proxies are believed (the last
    ones, which those proxies appended); with none, every such header is ignored, since
    any client can write it. The install rate limit counts per client address.
    """
    hops = app.config["POWERPACT"].proxy_hops
    if hops:
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]  # Flask's way to wrap its WSGI app
            app.wsgi_app, x_for=hops, x_proto=hops
        )


def register_blueprints(app: Flask) -> None:
    # The views are imported here, not above: a worker imports this package and serves no page.
    from powerpact import devlogin, health, home, templating
    from powerpact.admin import views as admin_views
    from powerpact.catalog import views as catalog_views
    from powerpact.inventory import views as inventory_views
    from powerpact.margins import views as margins_views
    from powerpact.notifications import views as notifications_views
    from powerpact.orders import views as orders_views
    from powerpact.partners import views as partners_views
    from powerpact.shopify import install_views, webhooks
    from powerpact.statements import views as statements_views

    for blueprint in (
        health.bp,
        home.bp,
        webhooks.bp,
        install_views.bp,
        admin_views.bp,
        orders_views.bp,
        partners_views.bp,
        catalog_views.bp,
        inventory_views.bp,
        margins_views.bp,
        statements_views.bp,
        notifications_views.bp,
    ):
        app.register_blueprint(blueprint)
    settings = app.config["POWERPACT"]
    if not settings.is_production and is_sandbox(settings.shopify_admin_origin):
        app.register_blueprint(devlogin.bp)
    templating.init_app(app)
