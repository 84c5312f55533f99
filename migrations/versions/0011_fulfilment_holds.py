"""tracking that waits for a held, scheduled or incomplete retail fulfillment order

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-05 12:00:00.000000

"""
from alembic import op
import sqlalchemy as sa
import powerpact.db_types
from sqlalchemy.dialects import postgresql


# revision identifiers, used by Alembic.
revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None

JSON_DOCUMENT = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')


def upgrade():
    op.create_table(
        'waiting_tracking',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('order_sync_id', sa.Integer(), nullable=False),
        sa.Column('partner_fulfillment_id', sa.String(length=255), nullable=False),
        sa.Column('quantities', JSON_DOCUMENT, nullable=False),
        sa.Column('tracking', JSON_DOCUMENT, nullable=False),
        sa.Column('fulfillment_order_ids', JSON_DOCUMENT, nullable=False),
        sa.Column('reason', sa.Text(), nullable=False),
        sa.Column('created_at', powerpact.db_types.UTCDateTime(), nullable=False),
        sa.Column('checked_at', powerpact.db_types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['order_sync_id'], ['order_syncs.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('order_sync_id', 'partner_fulfillment_id'),
    )
    with op.batch_alter_table('waiting_tracking', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_waiting_tracking_order_sync_id'), ['order_sync_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_waiting_tracking_checked_at'), ['checked_at'], unique=False)


def downgrade():
    with op.batch_alter_table('waiting_tracking', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_waiting_tracking_checked_at'))
        batch_op.drop_index(batch_op.f('ix_waiting_tracking_order_sync_id'))
    op.drop_table('waiting_tracking')
