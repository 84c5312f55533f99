"""The retail store's order settings as an admin edits them: the risk hold, authorized payments."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from powerpact.models import RetailStore

MAX_RISK_HOLD_MINUTES = 60
MAX_FIELD_LENGTH = 16


@dataclass
class StoreSettingsForm:
    values: dict[str, Any]
    errors: dict[str, str] = field(default_factory=dict)


def current_values(store: RetailStore) -> dict[str, Any]:
    return {
        "risk_hold_minutes": str(store.risk_hold_seconds // 60),
        "accept_authorized_payments": store.accept_authorized_payments,
    }


def parse(form: dict[str, str]) -> StoreSettingsForm:
    """Read the submitted form, keeping what was typed; each problem is named by its field."""
    typed = (form.get("risk_hold_minutes") or "").strip()[:MAX_FIELD_LENGTH]
    values: dict[str, Any] = {
        "risk_hold_minutes": typed,
        "accept_authorized_payments": form.get("accept_authorized_payments") == "on",
    }
    errors: dict[str, str] = {}
    if not typed.isascii() or not typed.isdigit() or int(typed) > MAX_RISK_HOLD_MINUTES:
        errors["risk_hold_minutes"] = (
            f"Give a whole number of minutes from 0 (no hold) to {MAX_RISK_HOLD_MINUTES}."
        )
    return StoreSettingsForm(values, errors)


def apply(store: RetailStore, values: dict[str, Any]) -> list[str]:
    """Store the values; return the names of those that changed. The caller commits."""
    changed = []
    seconds = int(values["risk_hold_minutes"]) * 60
    if seconds != store.risk_hold_seconds:
        store.risk_hold_seconds = seconds
        changed.append("fraud hold")
    if values["accept_authorized_payments"] != store.accept_authorized_payments:
        store.accept_authorized_payments = values["accept_authorized_payments"]
        changed.append("authorized payments")
    return changed
