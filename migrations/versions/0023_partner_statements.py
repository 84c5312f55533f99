"""partner statements: when each partner order was sent, and payments against statements

Revision ID: 0023
Revises: 0025
Create Date: 2026-12-08 12:00:00.000000

``order_syncs.sent_at`` is backfilled for the orders already sent (those with a partner
order): the time of their first ``sent`` timeline event, which ``mark_sent`` has written
with every send, daily batch and weekly append; without one, the row's ``updated_at``.

"""
from alembic import op
import sqlalchemy as sa

from powerpact.db_types import Money, UTCDateTime


# revision identifiers, used by Alembic.
revision = '0023'
down_revision = '0025'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('order_syncs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sent_at', UTCDateTime(), nullable=True))
    op.execute(
        """
        UPDATE order_syncs SET sent_at = COALESCE(
            (SELECT MIN(e.created_at) FROM order_sync_events e
             WHERE e.order_sync_id = order_syncs.id AND e.kind = 'sent'),
            updated_at)
        WHERE partner_order_id IS NOT NULL
        """
    )
    op.create_index(
        'ix_order_syncs_partner_sent',
        'order_syncs',
        ['partner_shop_domain', 'sent_at'],
        unique=False,
    )
    op.create_table(
        'statement_payments',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('partner_shop_domain', sa.String(length=255), nullable=False),
        sa.Column('period_start', sa.Date(), nullable=False),
        sa.Column('period_end', sa.Date(), nullable=False),
        sa.Column('paid_on', sa.Date(), nullable=False),
        sa.Column('amount', Money(), nullable=False),
        sa.Column('currency', sa.String(length=3), nullable=False),
        sa.Column('reference', sa.String(length=255), nullable=False),
        sa.Column('recorded_by', sa.String(length=255), nullable=False),
        sa.Column('recorded_at', UTCDateTime(), nullable=False),
        sa.Column('confirmation_key', sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(['partner_shop_domain'], ['partner_stores.shop_domain'], onupdate='CASCADE', ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('confirmation_key'),
    )
    op.create_index(
        'ix_statement_payments_partner_period',
        'statement_payments',
        ['partner_shop_domain', 'period_start', 'period_end'],
        unique=False,
    )


def downgrade():
    op.drop_index('ix_statement_payments_partner_period', table_name='statement_payments')
    op.drop_table('statement_payments')
    op.drop_index('ix_order_syncs_partner_sent', table_name='order_syncs')
    with op.batch_alter_table('order_syncs', schema=None) as batch_op:
        batch_op.drop_column('sent_at')
