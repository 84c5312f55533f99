"""A statement as CSV: one row per order sent, credit and payment, oldest first in each.

``amount`` is signed as it moves the balance: an order adds its total, a credit and a
payment take theirs away. So the ``amount`` of the orders and credits adds up to the
statement's balance, and the whole column to what stays open. Times are the retail
store's (the statement's zone), written with their UTC offset.
"""

from __future__ import annotations

import io
from decimal import Decimal

from powerpact.money import round_money
from powerpact.spreadsheets import csv_writer
from powerpact.statements.ledger import Statement

HEADER = (
    "entry",
    "date",
    "retail_order",
    "partner_order",
    "detail",
    "lines",
    "discounts",
    "shipping",
    "tax",
    "amount",
    "currency",
)


def statement_csv(statement: Statement) -> str:
    zone, currency = statement.zone, statement.currency

    def money(amount: Decimal) -> Decimal:
        return round_money(amount, currency)

    out = io.StringIO()
    writer = csv_writer(out)
    writer.writerow(HEADER)
    for order in statement.orders:
        writer.writerow(
            (
                "order",
                order.sent_at.astimezone(zone).isoformat(timespec="minutes"),
                order.retail_order or "",
                order.partner_order or "",
                order.status.value,
                money(order.subtotal),
                money(order.discount),
                money(order.shipping),
                money(order.tax),
                money(order.total),
                currency,
            )
        )
    for credit in statement.credits:
        detail = credit.kind.value + (f": {credit.note}" if credit.note else "")
        writer.writerow(
            (
                "credit",
                credit.occurred_at.astimezone(zone).isoformat(timespec="minutes"),
                credit.retail_order or "",
                credit.partner_order or "",
                detail,
                money(credit.lines),
                "",
                money(credit.shipping),
                money(credit.tax),
                -money(credit.total),
                currency,
            )
        )
    for payment in statement.payments:
        writer.writerow(
            (
                "payment",
                payment.paid_on.isoformat(),
                "",
                "",
                payment.reference,
                "",
                "",
                "",
                "",
                -money(payment.amount),
                currency,
            )
        )
    return out.getvalue()


def file_name(statement: Statement) -> str:
    handle = statement.partner.domain.removesuffix(".myshopify.com")
    return f"powerpact-statement-{handle}-{statement.period.key}.csv"
