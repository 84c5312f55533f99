"""``flask --app wsgi ...`` commands beyond Flask-Migrate's ``db``."""

from __future__ import annotations

from flask import Flask


def register_cli(app: Flask) -> None:
    try:
        from powerpact.sandbox.cli import sandbox_command
    except ImportError:  # the sandbox package is optional in a trimmed deployment
        return
    app.cli.add_command(sandbox_command, "sandbox")
