"""Logging: JSON lines in production, readable lines locally.

Every line carries a ``request_id`` (the request's, or the task's id inside a
worker) and passes through a filter that masks the app's secrets and anything
shaped like a Shopify access token, so neither can reach a log by accident.

Every request ends with one line (``log_request``): method, path (never the query
string, where Shopify's ``id_token`` travels), status, duration and the shop when
it is known. In a worker, Huey's own lines go through the same one handler
(``adopt_huey_logger``).
"""

from __future__ import annotations

import contextvars
import json
import logging
import os
import re
import sys
import time
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from flask import Flask, Response, g, has_request_context, request

if TYPE_CHECKING:
    from powerpact.config import Settings

TOKEN_PATTERN = re.compile(r"\b(shp(?:at|ca|pa|ss|ua|rt)_[A-Za-z0-9]{8,}|sbx_[A-Za-z0-9_-]{8,})")
REDACTED = "[redacted]"
SAFE_REQUEST_ID = re.compile(r"[\w.-]{1,64}")
UNPRINTABLE = re.compile(r"[^\x20-\x7e]")
MAX_LOGGED_PATH = 200
request_log = logging.getLogger("powerpact.requests")

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
    """Log through one redacting handler, give every request an id and log it once done."""
    install_log_handler(app.config["POWERPACT"])

    @app.before_request
    def assign_request_id() -> None:
        g.request_started = time.perf_counter()
        g.pop("log_shop", None)  # a test's requests share one app context, so one ``g``
        incoming = request.headers.get("X-Request-ID", "")
        g.request_id = incoming if SAFE_REQUEST_ID.fullmatch(incoming) else new_request_id()

    @app.after_request
    def echo_request_id(response: Response) -> Response:
        response.headers["X-Request-ID"] = getattr(g, "request_id", "")
        log_request(response)
        return response


def note_shop(shop_domain: str) -> None:
    """Name the shop a request is for in its log line (once the shop is verified)."""
    g.log_shop = shop_domain


def request_shop() -> str:
    domain = g.get("log_shop")
    return printable(str(domain), 255) if domain else "-"


def printable(text: str, limit: int = MAX_LOGGED_PATH) -> str:
    """``text`` on one line: anything but printable ASCII escaped, cut at ``limit``."""
    cleaned = UNPRINTABLE.sub(lambda m: m.group().encode("unicode_escape").decode(), text)
    return cleaned if len(cleaned) <= limit else cleaned[:limit] + "..."


def log_request(response: Response) -> None:
    """The request's one line: method, path without the query, status, duration, shop.

    A request's path is the caller's text: it is escaped so that it cannot forge a
    line of its own. 5xx answers log at WARNING (the error itself is logged where it
    happened), the rest at INFO.
    """
    started = getattr(g, "request_started", None)
    duration = (time.perf_counter() - started) * 1000 if started is not None else 0.0
    request_log.log(
        logging.WARNING if response.status_code >= 500 else logging.INFO,
        "request method=%s path=%s status=%s duration_ms=%.1f shop=%s",
        request.method,
        printable(request.path),
        response.status_code,
        duration,
        request_shop(),
    )


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


def adopt_huey_logger() -> None:
    """Let Huey's lines out once, through PowerPact's handler.

    ``huey_consumer`` gives the ``huey`` logger a stream handler of its own just before
    it creates the consumer, and the records also propagate to the root, where
    PowerPact's handler is: every line came out twice, once unredacted and never as
    JSON. Once PowerPact's handler is installed, Huey's stream handler is removed (a
    log file asked for with ``--logfile`` stays); the level Huey set (``-v``, ``-q``)
    stays too.
    """
    if not any(getattr(h, "_powerpact", False) for h in logging.getLogger().handlers):
        return
    huey_logger = logging.getLogger("huey")
    for handler in list(huey_logger.handlers):
        if type(handler) is logging.StreamHandler:
            huey_logger.removeHandler(handler)
