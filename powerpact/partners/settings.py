"""A partner's settings as an admin edits them: validated, applied, and recorded."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import time
from typing import Any

from powerpact.catalog.pricing import InvalidRule, MarkupRule, saved_rule
from powerpact.extensions import db
from powerpact.models import Cadence, PartnerSettingsChange, PartnerStore, ShipTo
from powerpact.orders.cadence import InvalidCutoff, zone


@dataclass
class SettingsForm:
    values: dict[str, Any]
    errors: dict[str, str] = field(default_factory=dict)


def current_values(partner: PartnerStore) -> dict[str, Any]:
    return {
        "cadence": partner.cadence.value,
        "cutoff_weekday": partner.cutoff_weekday,
        "cutoff_time": partner.cutoff_time.strftime("%H:%M"),
        "cutoff_timezone": partner.cutoff_timezone,
        "ship_to": partner.ship_to.value,
        "markup": saved_rule(partner.default_markup_rule)[0].to_dict(),
        "auto_import_on_install": partner.auto_import_on_install,
        "stock_location": partner.location_id or "",
    }


def saved_problems(partner: PartnerStore) -> dict[str, str]:
    """What of the saved settings cannot be used, by field, to show next to it."""
    _, problem = saved_rule(partner.default_markup_rule)
    return {"markup": problem} if problem else {}


def parse(
    form: dict[str, str], locations: list[str] | None = None, current_location: str = ""
) -> SettingsForm:
    """Read the submitted form; every problem gets a message next to its field.

    ``locations`` are the partner's active location ids (None when they could not be read:
    then only the current choice, or all locations, can be kept).
    """
    errors: dict[str, str] = {}
    values: dict[str, Any] = {}
    stock_location = form.get("stock_location", "")
    kept = locations is None and stock_location == current_location
    if stock_location and not kept and stock_location not in (locations or []):
        errors["stock_location"] = "Choose all locations or one of the partner's active locations."
    values["stock_location"] = stock_location
    try:
        values["cadence"] = Cadence(form.get("cadence", "")).value
    except ValueError:
        errors["cadence"] = "Choose immediate, daily or weekly."
    try:
        weekday = int(form.get("cutoff_weekday", "0"))
        if not 0 <= weekday <= 6:
            raise ValueError
        values["cutoff_weekday"] = weekday
    except ValueError:
        errors["cutoff_weekday"] = "Choose a day of the week."
    try:
        values["cutoff_time"] = time.fromisoformat(form.get("cutoff_time", "")).strftime("%H:%M")
    except ValueError:
        errors["cutoff_time"] = "Give a time such as 17:00."
    try:
        zone(form.get("cutoff_timezone", ""))
        values["cutoff_timezone"] = form["cutoff_timezone"]
    except (InvalidCutoff, KeyError):
        errors["cutoff_timezone"] = "Give a time zone such as America/New_York."
    try:
        values["ship_to"] = ShipTo(form.get("ship_to", "")).value
    except ValueError:
        errors["ship_to"] = "Choose the customer or the fulfilment centre."
    try:
        values["markup"] = MarkupRule.from_dict(
            {
                "kind": form.get("markup_kind", "percentage"),
                "value": form.get("markup_value", "30"),
                "rounding": form.get("markup_rounding", "none"),
                "keep_compare_at": form.get("markup_keep_compare_at", "off"),
                "min_margin_percent": form.get("markup_min_margin", "0") or "0",
            }
        ).to_dict()
    except InvalidRule as exc:
        errors["markup"] = str(exc)
    values["auto_import_on_install"] = form.get("auto_import_on_install") == "on"
    if values.get("cadence") in ("daily", "weekly") and values.get("ship_to") == "customer":
        errors["ship_to"] = (
            "Daily and weekly orders combine several customers' orders, so they ship to the "
            "fulfilment centre."
        )
    return SettingsForm(values, errors)


def apply(partner: PartnerStore, values: dict[str, Any], changed_by: str) -> dict[str, Any]:
    """Save the settings and record what changed (nothing is recorded if nothing did)."""
    before = current_values(partner)
    changes = {k: {"from": before[k], "to": v} for k, v in values.items() if before.get(k) != v}
    if not changes:
        return {}
    partner.cadence = Cadence(values["cadence"])
    partner.cutoff_weekday = values["cutoff_weekday"]
    partner.cutoff_time = time.fromisoformat(values["cutoff_time"])
    partner.cutoff_timezone = values["cutoff_timezone"]
    partner.ship_to = ShipTo(values["ship_to"])
    partner.default_markup_rule = values["markup"]
    partner.auto_import_on_install = values["auto_import_on_install"]
    partner.location_id = values["stock_location"] or None
    db.session.add(
        PartnerSettingsChange(
            partner_shop_domain=partner.shop_domain, changed_by=changed_by, changes=changes
        )
    )
    db.session.commit()
    return changes
