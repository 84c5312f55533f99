"""``flask --app wsgi sandbox``: serve the sandbox on its own port."""

from __future__ import annotations

import click
from flask import current_app
from werkzeug.serving import run_simple

from powerpact.sandbox.app import create_sandbox_app
from powerpact.sandbox.core import SandboxConfig
from powerpact.sandbox.fixtures import load_named


def config_from_app(host: str, port: int) -> SandboxConfig:
    """The sandbox plays Shopify for this app: same API key and secret, same app URL."""
    settings = current_app.config["POWERPACT"]
    return SandboxConfig(
        api_key=settings.shopify_api_key,
        api_secret=settings.shopify_api_secret,
        app_url=settings.app_url,
        base_url=f"http://{host}:{port}",
    )


@click.command("sandbox")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8765, show_default=True, type=int)
@click.option("--fixture", default="demo", show_default=True, type=click.Choice(["demo", "empty"]))
@click.option(
    "--approve/--auto-approve", "ask", default=False, help="Show an approval page at install."
)
def sandbox_command(host: str, port: int, fixture: str, ask: bool) -> None:
    """Serve the Shopify sandbox (Admin API, OAuth, webhooks, control API)."""
    config = config_from_app(host, port)
    config.auto_approve = not ask
    app = create_sandbox_app(config)
    load_named(app.extensions["sandbox"], fixture)
    click.echo(f"Shopify sandbox on http://{host}:{port} with the {fixture!r} fixture")
    run_simple(host, port, app, threaded=True, use_reloader=False)
