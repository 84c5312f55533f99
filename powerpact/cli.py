"""The product's own ``flask --app wsgi ...`` commands, beyond Flask-Migrate's ``db``.

The proving tools' commands (``sandbox``, ``demo``, ``bench``, ``reliability``) are not
registered here: they are ``flask.commands`` entry points in ``pyproject.toml``, which
Flask loads for the command line only, so a web or worker process never imports them.
"""

from __future__ import annotations

import click
from flask import Flask

from powerpact.inventory.buffer import MAX_BUFFER
from powerpact.inventory.service import set_partner_buffer
from powerpact.inventory.tasks import buffer_resync_task
from powerpact.security import reencrypt_tokens


@click.command("rotate-token-keys")
def rotate_token_keys_command() -> None:
    """Re-encrypt every stored token with the first key of TOKEN_ENCRYPTION_KEYS."""
    click.echo(f"re-encrypted the tokens of {reencrypt_tokens()} shops")


@click.command("stock-buffer")
@click.argument("partner")
@click.argument("units", type=click.IntRange(0, MAX_BUFFER))
def stock_buffer_command(partner: str, units: int) -> None:
    """Hold UNITS of each of PARTNER's imported variants back from the retail store (the
    partner's safety buffer, as its settings page sets it), and resync its levels."""
    try:
        changed = set_partner_buffer(partner, units, "the stock-buffer command")
    except LookupError as exc:
        raise click.ClickException(str(exc)) from None
    if changed:
        buffer_resync_task(partner)
    click.echo(f"{partner}: safety buffer {units}{'' if changed else ' (unchanged)'}")


def register_cli(app: Flask) -> None:
    app.cli.add_command(rotate_token_keys_command)
    app.cli.add_command(stock_buffer_command)
