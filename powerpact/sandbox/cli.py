"""``flask --app wsgi sandbox``: serve the sandbox on its own port."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import click
from flask import current_app, has_app_context
from flask.cli import NoAppException, ScriptInfo
from werkzeug.serving import run_simple

if TYPE_CHECKING:
    from wsgiref.types import WSGIApplication

from powerpact.config import Settings
from powerpact.sandbox.app import create_sandbox_app
from powerpact.sandbox.config import SandboxConfig
from powerpact.sandbox.fixtures import load_named


def powerpact_settings() -> Settings | None:
    """The PowerPact app's settings: the active app's, or the one ``flask --app`` names.

    ``sandbox`` is a ``flask.commands`` entry point, so Flask does not push the app's
    context for it; it loads the app itself when run from the ``flask`` command line.
    """
    if has_app_context():
        return current_app.config.get("POWERPACT")
    context = click.get_current_context(silent=True)
    info = context.find_object(ScriptInfo) if context else None
    if info is None:
        return None
    try:
        return info.load_app().config.get("POWERPACT")
    except NoAppException:
        return None


def app_settings() -> dict[str, str]:
    """The running PowerPact app's key, secret, URL and scopes, when there is one."""
    settings = powerpact_settings()
    if settings is None:
        return {}
    return {
        "SHOPIFY_API_KEY": settings.shopify_api_key,
        "SHOPIFY_API_SECRET": settings.shopify_api_secret,
        "APP_URL": settings.app_url,
        "SHOPIFY_SCOPES": settings.shopify_scopes,
    }


def config_from_environment(host: str, port: int) -> SandboxConfig:
    """The sandbox plays Shopify for this app: same API key and secret, same app URL.

    The app's own settings win (they already read the environment and hold the
    generated development secret); the environment comes next, then defaults.
    """
    found = {**{k: v for k, v in os.environ.items() if k.startswith(("SHOPIFY_", "APP_"))}}
    found.update({k: v for k, v in app_settings().items() if v})
    config = SandboxConfig(base_url=f"http://{host}:{port}")
    config.api_key = found.get("SHOPIFY_API_KEY") or config.api_key
    config.api_secret = found.get("SHOPIFY_API_SECRET") or config.api_secret
    config.app_url = (found.get("APP_URL") or config.app_url).rstrip("/")
    if found.get("SHOPIFY_SCOPES"):
        config.scopes = tuple(s.strip() for s in found["SHOPIFY_SCOPES"].split(",") if s.strip())
    return config


@click.command("sandbox")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8765, show_default=True, type=int)
@click.option("--fixture", default="demo", show_default=True, type=click.Choice(["demo", "empty"]))
@click.option(
    "--approve/--auto-approve", "ask", default=False, help="Show an approval page at install."
)
@click.option(
    "--webhook-time-scale",
    default=1.0,
    show_default=True,
    type=click.FloatRange(min=0, min_open=True, max=1),
    help="Compress Shopify's 4-hour webhook retry schedule (0.001: 14 s).",
)
@click.option(
    "--search-lag",
    default=SandboxConfig.search_lag_seconds,
    show_default=True,
    type=float,
    help="Seconds an order change takes to reach the orders search (0: none).",
)
def sandbox_command(
    host: str, port: int, fixture: str, ask: bool, webhook_time_scale: float, search_lag: float
) -> None:
    """Serve the Shopify sandbox (Admin API, OAuth, webhooks, control API)."""
    config = config_from_environment(host, port)
    config.auto_approve = not ask
    config.webhook_time_scale = webhook_time_scale
    config.search_lag_seconds = search_lag
    app = create_sandbox_app(config)
    load_named(app.extensions["sandbox"], fixture)
    click.echo(f"Shopify sandbox on http://{host}:{port} with the {fixture!r} fixture")
    click.echo(f"  Admin API: http://{host}:{port}/shops/<shop>/admin/api/{config.api_version}/")
    click.echo(f"  control:   http://{host}:{port}/_sandbox/")
    click.echo(f"  orders search lags {search_lag:g} s behind order changes")
    serve(app, host, port)


def serve(app: WSGIApplication, host: str, port: int) -> None:
    run_simple(host, port, app, threaded=True, use_reloader=False)
