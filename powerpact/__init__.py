"""PowerPact: one Shopify app on a retail store and its partner stores."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask, redirect, url_for

from powerpact.config import PROJECT_ROOT, Settings
from powerpact.db_types import EXTENSION_KEY, build_cipher
from powerpact.extensions import db, migrate
from powerpact.logs import configure_logging


def create_app(
    overrides: Mapping[str, Any] | None = None, *, settings: Settings | None = None
) -> Flask:
    """Build the app from the environment's settings (or the ``settings`` given)."""
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
    migrate.init_app(app, db, directory=str(PROJECT_ROOT / "migrations"))
    app.extensions[EXTENSION_KEY] = build_cipher(settings.token_encryption_keys)

    import powerpact.tasks  # noqa: F401  (registers tasks and webhook handlers)
    from powerpact import health
    from powerpact.admin import views as admin_views
    from powerpact.shopify import webhooks

    app.register_blueprint(health.bp)
    app.register_blueprint(webhooks.bp)
    app.register_blueprint(admin_views.bp)

    @app.get("/")
    def index():  # type: ignore[no-untyped-def]
        return redirect(url_for("admin.home"))

    from powerpact.cli import register_cli

    register_cli(app)
    return app
