"""after_send_due: a retail order whose refunds and edits are due to reach its sent
partner orders, kept until they have

Revision ID: 0030
Revises: 0029
Create Date: 2026-12-06 14:10:00.000000

Written with the capture that finds the changes due, deleted by ``apply_after_send`` once
every partner has an outcome; the aftercare sweep enqueues one left an hour. Starts empty:
changes found due before this revision were applied or were not, and no record says which.
"""
from alembic import op
import sqlalchemy as sa

from powerpact.db_types import UTCDateTime


# revision identifiers, used by Alembic.
revision = '0030'
down_revision = '0029'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'after_send_due',
        sa.Column('order_gid', sa.String(length=255), nullable=False),
        sa.Column('due_at', UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint('order_gid', name=op.f('pk_after_send_due')),
    )
    op.create_index(op.f('ix_after_send_due_due_at'), 'after_send_due', ['due_at'], unique=False)


def downgrade():
    op.drop_index(op.f('ix_after_send_due_due_at'), table_name='after_send_due')
    op.drop_table('after_send_due')
