"""order_syncs.retail_shipping_applied: the retail order's shipping when its refunds and
edits were last applied to a sent OrderSync

Revision ID: 0031
Revises: 0030
Create Date: 2026-12-06 13:30:00.000000

A capture that finds the retail order charging less shipping than this (or, before any
refund was applied, than ``order_shipping``) schedules ``apply_after_send``: a refund of
shipping alone changes no line count, so a lost ``refunds/create`` for one was missed.
Null for every existing row: ``order_shipping`` stands in until the next apply.
"""
from alembic import op
import sqlalchemy as sa

from powerpact.db_types import Money


# revision identifiers, used by Alembic.
revision = '0031'
down_revision = '0030'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('order_syncs', sa.Column('retail_shipping_applied', Money(), nullable=True))


def downgrade():
    op.drop_column('order_syncs', 'retail_shipping_applied')
