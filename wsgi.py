"""The WSGI entry point: ``gunicorn wsgi:app`` and ``flask --app wsgi ...``.

Settings that cannot start (``ConfigError``) end the process with their lines on
stderr, one for each problem, and no traceback to read them from.
"""

from powerpact import create_app
from powerpact.config import ConfigError

try:
    app = create_app()
except ConfigError as exc:
    raise SystemExit(str(exc)) from None
