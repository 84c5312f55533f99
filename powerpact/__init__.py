"""PowerPact: one Shopify app on a retail store and its partner stores."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from powerpact import headers, limits
from powerpact.config import PROJECT_ROOT, Settings
from powerpact.db_types import EXTENSION_KEY, build_cipher
from powerpact.extensions import db, install_session_hooks, migrate
from powerpact.inputs import install_input_rules
from powerpact.logs import configure_logging
from powerpact.sessions import CookieSessionInterface
from powerpact.shopify.delivery_store import STORE_KEY, store_for


def create_app(
    overrides: Mapping[str, Any] | None = None, *, settings: Settings | None = None
) -> Flask:
    """The web app: settings from the environment (or ``settings``), pages, webhooks, CLI."""
    app = create_worker_app(overrides, settings=settings)
    limits.init_app(app)
    headers.init_app(app)
    trust_proxies(app)
    app.session_interface = CookieSessionInterface()
    migrate.init_app(app, db, directory=str(PROJECT_ROOT / "migrations"))
    app.extensions[STORE_KEY] = store_for(app.config["SQLALCHEMY_DATABASE_URI"])
    install_input_rules(app)
    register_blueprints(app)

    from powerpact.cli import register_cli

    register_cli(app)
    return app


def create_worker_app(
    overrides: Mapping[str, Any] | None = None, *, settings: Settings | None = None
) -> Flask:
    """The lean app a Huey worker runs tasks in: settings, logging, database, token cipher.

    No blueprints, templates or commands: a worker serves no page, and building them
    would only slow its start and grow its memory.
    """
    settings = settings or Settings.from_env()
    app = Flask(
        __name__,
        instance_path=str(settings.instance_dir),
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder=str(PROJECT_ROOT / "static"),
    )
    app.config.from_mapping(settings.flask_config())
    app.config.update(overrides or {})
    settings = app.config["POWERPACT"]

    configure_logging(app)
    db.init_app(app)
    install_session_hooks()
    app.extensions[EXTENSION_KEY] = build_cipher(settings.token_encryption_keys)
    import powerpact.tasks  # noqa: F401  (registers every task and webhook handler)

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
    from powerpact import auth, devlogin, health, home, templating
    from powerpact.admin import orders_views
    from powerpact.admin import views as admin_views
    from powerpact.catalog import views as catalog_views
    from powerpact.inventory import views as inventory_views
    from powerpact.orders import partner_views
    from powerpact.shopify import install_views, webhooks
    from powerpact.shopify.admin_urls import is_sandbox

    for blueprint in (
        health.bp,
        home.bp,
        webhooks.bp,
        install_views.bp,
        admin_views.bp,
        orders_views.bp,
        catalog_views.bp,
        inventory_views.bp,
        partner_views.bp,
    ):
        app.register_blueprint(blueprint)
    settings = app.config["POWERPACT"]
    if not settings.is_production and is_sandbox(settings.shopify_admin_origin):
        app.register_blueprint(devlogin.bp)
    app.context_processor(auth.app_bridge_context)
    templating.init_app(app)
