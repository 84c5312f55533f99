"""Liveness and readiness probes (Render's health check uses /healthz)."""

from __future__ import annotations

import logging

from flask import Blueprint, Response, jsonify
from sqlalchemy import text

from powerpact.extensions import db
from powerpact.queue import queue_is_reachable

log = logging.getLogger(__name__)
bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> Response:
    return jsonify(status="ok")


def database_is_reachable() -> tuple[bool, str]:
    try:
        db.session.execute(text("SELECT 1"))
    except Exception as exc:  # any driver failure means "not ready"
        db.session.rollback()
        return False, f"{type(exc).__name__}: {exc}".splitlines()[0]
    return True, db.engine.dialect.name


@bp.get("/readyz")
def readyz() -> tuple[Response, int]:
    """200 when the database and the queue answer, 503 when one does not.

    Anyone may ask, so the answer names no backend and no error (a driver's message
    can carry host names and ports): which check failed, and why, goes to the log.
    """
    checks = {"database": database_is_reachable(), "queue": queue_is_reachable()}
    failing = {name: detail for name, (ok, detail) in checks.items() if not ok}
    for name, detail in failing.items():
        log.warning("not ready: the %s does not answer: %s", name, detail)
    if failing:
        return jsonify(status="unavailable"), 503
    return jsonify(status="ok"), 200
