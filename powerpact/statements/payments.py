"""Recording what the retail store paid a partner against a statement.

The admin fills in the date, the amount and a reference, and is asked to confirm in
App Bridge's modal, which says what the payment leaves open. The confirmed payment is
recorded with the form's one-time key (``StatementPayment.confirmation_key``), so a
repeated submit records nothing twice, and checked again against what is open while the
partner's row is locked, so two admins at once cannot pay one statement twice over.

- the amount is a positive number of the currency's minor units, at most what is open;
- the date is a real day, not after today in the retail store's time zone;
- the reference is optional, at most 255 characters.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation

from sqlalchemy import select

from powerpact.db_types import utcnow
from powerpact.extensions import db, insert_or_ignore
from powerpact.models import PartnerStore, StatementPayment
from powerpact.money import quantum, round_money
from powerpact.statements.ledger import Figures, RetailTerms, StatementStatus, statement_figures
from powerpact.statements.periods import Period, today_in

AMOUNT = re.compile(r"[0-9]{1,12}(\.[0-9]{1,4})?")
REFERENCE_LENGTH = 255
KEY = re.compile(r"[0-9a-f]{32}")


@dataclass(frozen=True)
class Proposed:
    """A payment as the admin asked for it, checked."""

    paid_on: date
    amount: Decimal
    reference: str


@dataclass
class PaymentForm:
    """The form's values as typed, what is wrong with them, and the payment if nothing is."""

    paid_on: str = ""
    amount: str = ""
    reference: str = ""
    errors: dict[str, str] = field(default_factory=dict)
    proposed: Proposed | None = None
    key: str = field(default_factory=lambda: secrets.token_hex(16))

    @classmethod
    def blank(cls, figures: Figures, currency: str, today: date) -> PaymentForm:
        """The form as a statement offers it: today's date and what stays open."""
        open_amount = round_money(figures.outstanding, currency)
        return cls(paid_on=today.isoformat(), amount=str(open_amount) if open_amount > 0 else "")


def read_payment_form(
    form: Mapping[str, str], figures: Figures, currency: str, today: date
) -> PaymentForm:
    result = PaymentForm(
        paid_on=form.get("paid_on", "").strip()[:40],
        amount=form.get("amount", "").strip()[:40],
        reference=form.get("reference", "").strip(),
    )
    key = form.get("confirmation", "")
    if KEY.fullmatch(key):
        result.key = key
    paid_on = parse_day(result.paid_on)
    if paid_on is None:
        result.errors["paid_on"] = "Enter the day it was paid, as YYYY-MM-DD."
    elif paid_on > today:
        result.errors["paid_on"] = "The day it was paid cannot be after today."
    amount = parse_amount(result.amount, currency)
    if amount is None:
        result.errors["amount"] = f"Enter an amount in {currency}, such as 120.50."
    elif amount <= 0:
        result.errors["amount"] = "Enter an amount above zero."
    elif figures.outstanding <= 0:
        result.errors["amount"] = "Nothing is open on this statement."
    elif amount > figures.outstanding:
        result.errors["amount"] = (
            f"Only {round_money(figures.outstanding, currency)} {currency} is open on this"
            " statement."
        )
    if len(result.reference) > REFERENCE_LENGTH:
        result.errors["reference"] = f"Keep the reference to {REFERENCE_LENGTH} characters."
        result.reference = result.reference[:REFERENCE_LENGTH]
    if not result.errors and paid_on is not None and amount is not None:
        result.proposed = Proposed(paid_on, amount, result.reference)
    return result


def parse_day(text: str) -> date | None:
    if not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", text):
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def parse_amount(text: str, currency: str) -> Decimal | None:
    """``text`` as an amount in whole minor units of ``currency`` (``"12.5"`` is 12.50 USD,
    ``"12.345"`` none), or None."""
    cleaned = text.replace(",", "")
    if not AMOUNT.fullmatch(cleaned):
        return None
    try:
        amount = Decimal(cleaned)
    except InvalidOperation:
        return None
    step = quantum(currency)
    return amount.quantize(step) if amount % step == 0 else None


def after_payment(figures: Figures, amount: Decimal) -> Figures:
    """The statement's figures once ``amount`` more is paid."""
    return Figures(
        figures.orders, figures.sent, figures.credits, figures.credited, figures.paid + amount
    )


def check_payment(
    partner_domain: str, period: Period, terms: RetailTerms, form: Mapping[str, str]
) -> tuple[PaymentForm, Figures | None]:
    """The form checked against the statement as it is now, and the statement's figures
    once the payment is made (None if the form has errors): what the modal says."""
    figures = statement_figures(partner_domain, period, terms)
    checked = read_payment_form(form, figures, terms.currency, today_in(terms.zone))
    if checked.proposed is None:
        return checked, None
    return checked, after_payment(figures, checked.proposed.amount)


@dataclass(frozen=True)
class Recorded:
    recorded: bool  # False: this form's payment was recorded before (a repeated submit)
    figures: Figures

    @property
    def status(self) -> StatementStatus:
        return self.figures.status


def record_payment(
    partner_domain: str,
    period: Period,
    terms: RetailTerms,
    form: Mapping[str, str],
    recorded_by: str,
) -> tuple[PaymentForm, Recorded | None]:
    """Check the confirmed form again, with the partner's row locked, and record it once.

    Returns the form (with its errors, if any) and what was recorded (None if refused).
    The caller commits.
    """
    db.session.scalar(
        select(PartnerStore.id).where(PartnerStore.shop_domain == partner_domain).with_for_update()
    )
    if not KEY.fullmatch(form.get("confirmation", "")):
        refused = PaymentForm(
            paid_on=form.get("paid_on", "")[:40],
            amount=form.get("amount", "")[:40],
            reference=form.get("reference", "")[:REFERENCE_LENGTH],
        )
        refused.errors["amount"] = "The payment was not confirmed: record it again."
        return refused, None
    already = db.session.scalar(
        select(StatementPayment.id).where(StatementPayment.confirmation_key == form["confirmation"])
    )
    figures = statement_figures(partner_domain, period, terms)
    if already is not None:
        return PaymentForm(), Recorded(False, figures)
    checked = read_payment_form(form, figures, terms.currency, today_in(terms.zone))
    if checked.proposed is None:
        return checked, None
    payment = checked.proposed
    inserted = insert_or_ignore(
        StatementPayment,
        {
            "partner_shop_domain": partner_domain,
            "period_start": period.start,
            "period_end": period.end,
            "paid_on": payment.paid_on,
            "amount": payment.amount,
            "currency": terms.currency,
            "reference": payment.reference,
            "recorded_by": recorded_by[:255],
            "recorded_at": utcnow(),
            "confirmation_key": checked.key,
        },
        ["confirmation_key"],
    )
    if inserted is None:
        return PaymentForm(), Recorded(False, figures)
    return PaymentForm(), Recorded(True, after_payment(figures, payment.amount))
