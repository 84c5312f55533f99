"""order lines keep their retail side: unit price, discount and product title, for the margins

A line captured from now on stores the retail order's unit price (before discounts), the
retail discounts allocated to its remaining units and the product's title
(``orders/capture.py``), with ``retail_price_source`` 'order'. Lines captured before are
backfilled here, in this order:

1. 'webhook': from the order's stored ``orders/*`` webhooks (``webhook_deliveries``), the
   latest that holds the line. Its ``price`` is Shopify's original unit price in the shop's
   currency, the same figure the capture reads (``originalUnitPriceSet``), so the price is
   exact. The discount is the line's ``discount_allocations`` (``total_discount`` in a payload
   without them) for the quantity ordered, scaled down to the units the line kept and
   rounded down as the capture does: exact unless the order was edited to change a line's
   discounts after that webhook. Redacted or malformed payloads are skipped.
2. 'markup': estimated, for a line of an imported variant whose product map holds a markup
   rule: the rule applied to the line's partner price (the partner's price of the time), and
   the retail discount as the partner discount's fraction of the partner price. Exact only
   if the variant's rule has not changed since the order and its retail price was not edited
   by hand; the margins page says how many units are estimated.
3. 'unknown': anything else keeps no retail price; the margins show it as not known.

Revision ID: 0022
Revises: 0015
Create Date: 2026-12-07 09:00:00.000000

"""
import json
import logging
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import ROUND_DOWN, Decimal, InvalidOperation
from typing import Any

import sqlalchemy as sa
from alembic import op

from powerpact.catalog.pricing import retail_price, saved_rule
from powerpact.db_types import Money
from powerpact.money import quantum, round_money

# revision identifiers, used by Alembic.
revision = '0022'
down_revision = '0015'
branch_labels = None
depends_on = None

log = logging.getLogger("alembic.runtime.migration")
BATCH = 1000
EARLIEST = datetime.min.replace(tzinfo=UTC)  # a payload without its updated_at ranks first

lines = sa.table(
    'order_sync_lines',
    sa.column('id', sa.Integer),
    sa.column('order_sync_id', sa.Integer),
    sa.column('bubbly_line_item_id', sa.String),
    sa.column('bubbly_variant_id', sa.String),
    sa.column('quantity', sa.Integer),
    sa.column('partner_unit_price', Money()),
    sa.column('discount', Money()),
    sa.column('product_title', sa.String),
    sa.column('retail_unit_price', Money()),
    sa.column('retail_discount', Money()),
    sa.column('retail_price_source', sa.String),
)
order_syncs = sa.table(
    'order_syncs',
    sa.column('id', sa.Integer),
    sa.column('bubbly_order_id', sa.String),
    sa.column('currency', sa.String),
)
deliveries = sa.table(
    'webhook_deliveries',
    sa.column('id', sa.Integer),
    sa.column('topic', sa.String),
    sa.column('payload', sa.Text),
)
product_maps = sa.table(
    'product_maps',
    sa.column('bubbly_variant_id', sa.String),
    sa.column('markup_rule', sa.JSON),
)


def upgrade():
    with op.batch_alter_table('order_sync_lines', schema=None) as batch_op:
        batch_op.add_column(sa.Column('product_title', sa.String(length=512), nullable=True))
        batch_op.add_column(sa.Column('retail_unit_price', Money(), nullable=True))
        batch_op.add_column(sa.Column('retail_discount', Money(), nullable=True))
        batch_op.add_column(
            sa.Column(
                'retail_price_source',
                sa.Enum('order', 'webhook', 'markup', 'unknown', name='retailpricesource', native_enum=False, length=32),
                server_default='unknown',
                nullable=False,
            )
        )
    bind = op.get_bind()
    from_webhooks = backfill_from_webhooks(bind)
    from_markup = backfill_from_markup(bind)
    unknown = bind.scalar(
        sa.select(sa.func.count()).select_from(lines).where(lines.c.retail_unit_price.is_(None))
    )
    log.info(
        "order lines' retail prices: %d from stored webhooks, %d estimated from markup rules,"
        " %d not known",
        from_webhooks,
        from_markup,
        unknown,
    )


def downgrade():
    with op.batch_alter_table('order_sync_lines', schema=None) as batch_op:
        batch_op.drop_column('retail_price_source')
        batch_op.drop_column('retail_discount')
        batch_op.drop_column('retail_unit_price')
        batch_op.drop_column('product_title')


def _amount(value: Any) -> Decimal | None:
    """A payload's amount (a string, or a ``{"shop_money": {"amount": ...}}`` set); no float."""
    if isinstance(value, dict):
        value = (value.get('shop_money') or {}).get('amount')
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        return None
    try:
        amount = Decimal(value)
    except (InvalidOperation, ValueError):
        return None
    return amount if amount.is_finite() and amount >= 0 else None


def _moment(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


def payload_lines(payload: Any) -> Iterator[tuple[str, str, Decimal, int, Decimal, str | None]]:
    """(order gid, line gid, unit price, quantity ordered, its discount, product title) of each
    line item of an ``orders/*`` payload that states them."""
    if not isinstance(payload, dict) or not isinstance(payload.get('line_items'), list):
        return
    order_gid = payload.get('admin_graphql_api_id')
    if not isinstance(order_gid, str):
        return
    for item in payload['line_items']:
        if not isinstance(item, dict):
            continue
        line_gid = item.get('admin_graphql_api_id')
        price = _amount(item.get('price_set') or item.get('price'))
        ordered = item.get('quantity')
        if not isinstance(line_gid, str) or price is None:
            continue
        if isinstance(ordered, bool) or not isinstance(ordered, int) or ordered < 0:
            continue
        allocations = item.get('discount_allocations')
        if isinstance(allocations, list):
            amounts = [
                _amount(a.get('amount_set') or a.get('amount')) if isinstance(a, dict) else None
                for a in allocations
            ]
            if any(a is None for a in amounts):
                continue
            discount = sum((a for a in amounts if a is not None), Decimal(0))
        else:
            discount = _amount(item.get('total_discount') or '0')
            if discount is None:
                continue
        title = item.get('title')
        title = title[:512] if isinstance(title, str) and title.strip() and '\x00' not in title else None
        yield order_gid, line_gid, price, ordered, discount, title


def backfill_from_webhooks(bind: sa.engine.Connection) -> int:
    """Lines without a retail price, priced from their order's latest stored webhook."""
    wanted: dict[str, tuple[int, int, str]] = {}  # line gid -> (line id, quantity, currency)
    orders: set[str] = set()
    for line_id, line_gid, quantity, order_gid, currency in bind.execute(
        sa.select(
            lines.c.id,
            lines.c.bubbly_line_item_id,
            lines.c.quantity,
            order_syncs.c.bubbly_order_id,
            order_syncs.c.currency,
        )
        .join(order_syncs, order_syncs.c.id == lines.c.order_sync_id)
        .where(lines.c.retail_unit_price.is_(None))
    ):
        wanted[line_gid] = (line_id, quantity, currency)
        orders.add(order_gid)
    if not wanted:
        return 0
    found: dict[str, tuple[tuple[datetime, int], dict[str, Any]]] = {}
    rows = bind.execute(
        sa.select(deliveries.c.id, deliveries.c.payload)
        .where(deliveries.c.topic.like('orders/%'))
        .order_by(deliveries.c.id)
        .execution_options(yield_per=BATCH)  # streamed: stored bodies may be many
    )
    for delivery_id, text in rows:
        try:
            payload = json.loads(text)
        except ValueError:
            continue
        if not isinstance(payload, dict) or payload.get('admin_graphql_api_id') not in orders:
            continue
        rank = (_moment(payload.get('updated_at')) or EARLIEST, delivery_id)
        currency = payload.get('currency')
        for _order, line_gid, price, ordered, discount, title in payload_lines(payload):
            if line_gid not in wanted:
                continue
            line_id, quantity, line_currency = wanted[line_gid]
            if isinstance(currency, str) and currency != line_currency:
                continue
            if line_gid in found and found[line_gid][0] >= rank:
                continue
            if ordered and quantity != ordered:
                step = quantum(line_currency)
                discount = (discount * quantity / ordered).quantize(step, rounding=ROUND_DOWN)
            found[line_gid] = (
                rank,
                {
                    'b_id': line_id,
                    'b_price': price,
                    'b_discount': discount,
                    'b_title': title,
                    'b_source': 'webhook',
                },
            )
    _update(bind, [values for _rank, values in found.values()])
    return len(found)


def backfill_from_markup(bind: sa.engine.Connection) -> int:
    """Lines still without a retail price, estimated from their variant's markup rule."""
    updates = []
    for line_id, price, discount, currency, rule_data in bind.execute(
        sa.select(
            lines.c.id,
            lines.c.partner_unit_price,
            lines.c.discount,
            order_syncs.c.currency,
            product_maps.c.markup_rule,
        )
        .join(order_syncs, order_syncs.c.id == lines.c.order_sync_id)
        .join(product_maps, product_maps.c.bubbly_variant_id == lines.c.bubbly_variant_id)
        .where(lines.c.retail_unit_price.is_(None))
    ):
        if isinstance(rule_data, str):
            rule_data = json.loads(rule_data)
        if not isinstance(rule_data, dict) or price is None or price < 0:
            continue
        rule, problem = saved_rule(rule_data)
        if problem is not None:
            continue
        retail = retail_price(price, rule, currency).price
        retail_discount = round_money(discount * retail / price, currency) if price else Decimal(0)
        updates.append(
            {
                'b_id': line_id,
                'b_price': retail,
                'b_discount': retail_discount,
                'b_title': None,
                'b_source': 'markup',
            }
        )
    _update(bind, updates)
    return len(updates)


def _update(bind: sa.engine.Connection, updates: list[dict[str, Any]]) -> None:
    statement = (
        sa.update(lines)
        .where(lines.c.id == sa.bindparam('b_id'))
        .values(
            retail_unit_price=sa.bindparam('b_price', type_=Money()),
            retail_discount=sa.bindparam('b_discount', type_=Money()),
            product_title=sa.bindparam('b_title', type_=sa.String),
            retail_price_source=sa.bindparam('b_source', type_=sa.String),
        )
    )
    for start in range(0, len(updates), BATCH):
        bind.execute(statement, updates[start : start + BATCH])
