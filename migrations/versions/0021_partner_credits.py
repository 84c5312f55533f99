"""partner credits: what a partner owes back for a sent order (cancellation, refund, edit)

Revision ID: 0021
Revises: 0019
Create Date: 2026-12-06 07:45:00.000000

"""
from alembic import op
import sqlalchemy as sa

from powerpact.db_types import Money, UTCDateTime


# revision identifiers, used by Alembic.
revision = '0021'
down_revision = '0019'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'partner_credits',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('order_sync_id', sa.Integer(), nullable=False),
        sa.Column('partner_shop_domain', sa.String(length=255), nullable=False),
        sa.Column('kind', sa.Enum('cancellation', 'refund', 'edit', name='creditkind', native_enum=False, length=32), nullable=False),
        sa.Column('source_key', sa.String(length=255), nullable=False),
        sa.Column('occurred_at', UTCDateTime(), nullable=False),
        sa.Column('recorded_at', UTCDateTime(), nullable=False),
        sa.Column('currency', sa.String(length=3), nullable=False),
        sa.Column('lines', Money(), nullable=False),
        sa.Column('shipping', Money(), nullable=False),
        sa.Column('tax', Money(), nullable=False),
        sa.Column('total', Money(), nullable=False),
        sa.Column('applied_at_partner', sa.Boolean(), nullable=False),
        sa.Column('note', sa.String(length=500), nullable=True),
        sa.ForeignKeyConstraint(['order_sync_id'], ['order_syncs.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['partner_shop_domain'], ['partner_stores.shop_domain'], onupdate='CASCADE', ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('source_key'),
    )
    op.create_index('ix_partner_credits_partner_occurred', 'partner_credits', ['partner_shop_domain', 'occurred_at'], unique=False)


def downgrade():
    op.drop_index('ix_partner_credits_partner_occurred', table_name='partner_credits')
    op.drop_table('partner_credits')
