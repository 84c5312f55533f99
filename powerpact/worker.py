"""The lean app a Huey worker runs tasks in, which the web app is built on."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask

from powerpact.config import PROJECT_ROOT, Settings
from powerpact.db_types import EXTENSION_KEY, build_cipher
from powerpact.extensions import db, install_session_hooks
from powerpact.logs import configure_logging


def create_worker_app(
    overrides: Mapping[str, Any] | None = None, *, settings: Settings | None = None
) -> Flask:
    """The lean app a Huey worker runs tasks in: settings, logging, database, token cipher.

    No blueprints, templates or commands: a worker serves no page, and building them
    would only slow its start and grow its memory. The worker's tasks and handlers are
    what ``powerpact.tasks`` imports (the consumer's entry point), not this app's concern.
    """
    settings = settings or Settings.from_env()
    app = Flask(
        "powerpact",  # the package: Flask finds the app's root path by its import name
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
    return app
