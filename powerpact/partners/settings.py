"""A partner's settings as an admin edits them: validated, applied, and recorded."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import time
from typing import Any

from powerpact.catalog.pricing import InvalidRule, MarkupRule, saved_rule
from powerpact.extensions import db
from powerpact.inventory.buffer import InvalidBuffer, parse_units
from powerpact.models import Cadence, PartnerSettingsChange, PartnerStore, ShipTo
from powerpact.orders.cadence import InvalidCutoff, zone


@dataclass
class SettingsForm:
    """``values`` are the settings read from the form; ``typed`` is the form as it was typed,
    shown again when the save is refused so nothing has to be typed twice."""

    values: dict[str, Any]
    errors: dict[str, str] = field(default_factory=dict)
    typed: dict[str, Any] = field(default_factory=dict)


#: The cutoff fields each cadence uses; the page shows only these.
CUTOFF_FIELDS = {
    Cadence.IMMEDIATE.value: (),
    Cadence.DAILY.value: ("cutoff_time", "cutoff_timezone"),
    Cadence.WEEKLY.value: ("cutoff_weekday", "cutoff_time", "cutoff_timezone"),
}


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
        "safety_buffer": partner.safety_buffer,
        "low_stock_threshold": partner.low_stock_threshold,
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
    then only the current choice, or all locations, can be kept). A cutoff field the chosen
    cadence does not use is hidden on the page, so a bad value there is left out (the saved
    one stays) rather than refusing the save over a field nobody can see.
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
    cutoff, cutoff_errors = parse_cutoff(form)
    used = CUTOFF_FIELDS.get(values.get("cadence", ""), CUTOFF_FIELDS[Cadence.WEEKLY.value])
    values.update(cutoff)
    errors.update({name: error for name, error in cutoff_errors.items() if name in used})
    try:
        values["ship_to"] = ShipTo(form.get("ship_to", "")).value
    except ValueError:
        errors["ship_to"] = "Choose the customer or the fulfilment centre."
    typed_markup = {
        "kind": form.get("markup_kind", "percentage"),
        "value": form.get("markup_value", ""),
        "rounding": form.get("markup_rounding", "none"),
        "keep_compare_at": form.get("markup_keep_compare_at") == "on",
        "min_margin_percent": form.get("markup_min_margin", "").strip() or "0",
    }
    try:
        values["markup"] = MarkupRule.from_dict(typed_markup).to_dict()
    except InvalidRule as exc:
        errors.update(markup_errors(typed_markup, exc))
    values["auto_import_on_install"] = form.get("auto_import_on_install") == "on"
    for name, what in (("safety_buffer", "the buffer"), ("low_stock_threshold", "the threshold")):
        if name not in form:  # a form without the field keeps the saved value
            continue
        try:
            values[name] = parse_units(form.get(name), what, blank=0)
        except InvalidBuffer as exc:
            errors[name] = str(exc)
    if values.get("cadence") in ("daily", "weekly") and values.get("ship_to") == "customer":
        errors["ship_to"] = (
            "Daily and weekly orders combine several customers' orders, so they ship to the "
            "fulfilment centre."
        )
    typed = {
        **{name: form.get(name, "") for name in TYPED_FIELDS},
        **{name: form[name] for name in STOCK_FIELDS if name in form},
        "markup": typed_markup,
        "auto_import_on_install": values["auto_import_on_install"],
    }
    return SettingsForm(values, errors, typed)


TYPED_FIELDS = (
    "cadence",
    "cutoff_weekday",
    "cutoff_time",
    "cutoff_timezone",
    "ship_to",
    "stock_location",
)
STOCK_FIELDS = ("safety_buffer", "low_stock_threshold")


def parse_cutoff(form: dict[str, str]) -> tuple[dict[str, Any], dict[str, str]]:
    """The cutoff day, time and time zone that could be read, and what is wrong with the rest."""
    values: dict[str, Any] = {}
    errors: dict[str, str] = {}
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
    return values, errors


def markup_errors(typed: dict[str, Any], refused: InvalidRule) -> dict[str, str]:
    """Each markup problem under its own field: the markup, the minimum margin, or both."""
    errors: dict[str, str] = {}
    if not str(typed["value"]).strip():
        errors["markup"] = "Enter a markup: a percentage like 30 or an amount like 2.50."
    else:
        try:
            MarkupRule.from_dict({"kind": typed["kind"], "value": typed["value"]})
        except InvalidRule as exc:
            errors["markup"] = str(exc)
    try:
        MarkupRule.from_dict({"min_margin_percent": typed["min_margin_percent"]})
    except InvalidRule as exc:
        errors["markup_min_margin"] = str(exc)
    return errors or {"markup": str(refused)}


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
    partner.safety_buffer = values["safety_buffer"]
    partner.low_stock_threshold = values["low_stock_threshold"]
    db.session.add(
        PartnerSettingsChange(
            partner_shop_domain=partner.shop_domain, changed_by=changed_by, changes=changes
        )
    )
    db.session.commit()
    return changes
