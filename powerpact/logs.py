"""Logging: JSON lines in production, readable lines locally.

Every line carries a ``request_id`` (the request's, or the task's id inside a
worker) and passes through a filter that masks the app's secrets and anything
shaped like a Shopify access token, so neither can reach a log by accident.
"""

from __future__ import annotations

import contextvars
import json
import logging
import os
import re
import sys
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from flask import Flask, Response, g, has_request_context, request

if TYPE_CHECKING:
    from powerpact.config import Settings

TOKEN_PATTERN = re.compile(r"\b(shp(?:at|ca|pa|ss|ua|rt)_[A-Za-z0-9]{8,}|sbx_[A-Za-z0-9_-]{8,})")
REDACTED = "[redacted]"
SAFE_REQUEST_ID = re.compile(r"[\w.-]{1,64}")

current_job_id: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "powerpact_job_id", default=None
)


def new_request_id() -> str:
    """16 random hex characters: as unique as ``uuid4().hex[:16]``, without building a UUID."""
    return os.urandom(8).hex()


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if has_request_context():
            record.request_id = getattr(g, "request_id", "-")
        else:
            record.request_id = current_job_id.get() or "-"
        return True


class SecretFilter(logging.Filter):
    """Masks configured secrets and token-shaped strings in the rendered message."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self.secrets = [s for s in secrets if s and len(s) >= 8]

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = TOKEN_PATTERN.sub(REDACTED, message)
        for secret in self.secrets:
            cleaned = cleaned.replace(secret, REDACTED)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "request_id": getattr(record, "request_id", "-"),
            "message": record.getMessage(),
        }
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str)


READABLE_FORMAT = "%(asctime)s %(levelname)-7s [%(request_id)s] %(name)s: %(message)s"


def configure_logging(app: Flask) -> None:
    """Log through one redacting handler and give every request an id."""
    install_log_handler(app.config["POWERPACT"])

    @app.before_request
    def assign_request_id() -> None:
        incoming = request.headers.get("X-Request-ID", "")
        g.request_id = incoming if SAFE_REQUEST_ID.fullmatch(incoming) else new_request_id()

    @app.after_request
    def echo_request_id(response: Response) -> Response:
        response.headers["X-Request-ID"] = getattr(g, "request_id", "")
        return response


def install_log_handler(settings: Settings) -> None:
    """Install one handler on the root logger (idempotent across app factories)."""
    root = logging.getLogger()
    for handler in [h for h in root.handlers if getattr(h, "_powerpact", False)]:
        root.removeHandler(handler)
    handler = logging.StreamHandler(sys.stderr)
    handler._powerpact = True  # type: ignore[attr-defined]  # marks the handler as ours
    handler.setFormatter(
        JsonFormatter() if settings.is_production else logging.Formatter(READABLE_FORMAT)
    )
    handler.addFilter(RequestIdFilter())
    handler.addFilter(
        SecretFilter(
            [settings.secret_key, settings.shopify_api_secret, *settings.token_encryption_keys]
        )
    )
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
