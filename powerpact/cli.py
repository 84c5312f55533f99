"""``flask --app wsgi ...`` commands beyond Flask-Migrate's ``db``."""

from __future__ import annotations

import click
from flask import Flask


@click.command("rotate-token-keys")
def rotate_token_keys_command() -> None:
    """Re-encrypt every stored token with the first key of TOKEN_ENCRYPTION_KEYS."""
    from powerpact.security import reencrypt_tokens

    click.echo(f"re-encrypted the tokens of {reencrypt_tokens()} shops")


def register_cli(app: Flask) -> None:
    from powerpact.bench import bench_group
    from powerpact.demo import demo_command
    from powerpact.reliability import reliability_command

    app.cli.add_command(rotate_token_keys_command)
    app.cli.add_command(demo_command)
    app.cli.add_command(bench_group)
    app.cli.add_command(reliability_command)
    try:
        from powerpact.sandbox.cli import sandbox_command
    except ImportError:  # the sandbox package is optional in a trimmed deployment
        return
    app.cli.add_command(sandbox_command, "sandbox")
