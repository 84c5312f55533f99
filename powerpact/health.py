"""Liveness and readiness probes (Render's health check uses /healthz)."""

from __future__ import annotations

from flask import Blueprint, jsonify
from sqlalchemy import text

from powerpact.extensions import db
from powerpact.queue import queue_is_reachable

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():  # type: ignore[no-untyped-def]
    return jsonify(status="ok")


def database_is_reachable() -> tuple[bool, str]:
    try:
        db.session.execute(text("SELECT 1"))
    except Exception as exc:  # any driver failure means "not ready"
        db.session.rollback()
        return False, f"{type(exc).__name__}: {exc}".splitlines()[0]
    return True, db.engine.dialect.name


@bp.get("/readyz")
def readyz():  # type: ignore[no-untyped-def]
    checks = {"database": database_is_reachable(), "queue": queue_is_reachable()}
    failing = [name for name, (ok, _) in checks.items() if not ok]
    body = {
        "status": "ok" if not failing else "unavailable",
        "failing": failing,
        "checks": {name: {"ok": ok, "detail": detail} for name, (ok, detail) in checks.items()},
    }
    return jsonify(body), (503 if failing else 200)
