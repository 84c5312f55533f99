"""The product's own ``flask --app wsgi ...`` commands, beyond Flask-Migrate's ``db``.

The proving tools' commands (``sandbox``, ``demo``, ``bench``, ``reliability``) are not
registered here: they are ``flask.commands`` entry points in ``pyproject.toml``, which
Flask loads for the command line only, so a web or worker process never imports them.
"""

from __future__ import annotations

import click
from flask import Flask

from powerpact.security import reencrypt_tokens


@click.command("rotate-token-keys")
def rotate_token_keys_command() -> None:
    """Re-encrypt every stored token with the first key of TOKEN_ENCRYPTION_KEYS."""
    click.echo(f"re-encrypted the tokens of {reencrypt_tokens()} shops")


def register_cli(app: Flask) -> None:
    app.cli.add_command(rotate_token_keys_command)
