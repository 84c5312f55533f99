"""partner line shares: what each retail line put into a consolidated partner order line

Revision ID: 0016
Revises: 0014
Create Date: 2026-12-06 12:00:00.000000

"""
from alembic import op
import sqlalchemy as sa
import powerpact.db_types


# revision identifiers, used by Alembic.
revision = '0016'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'partner_line_shares',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('partner_shop_domain', sa.String(length=255), nullable=False),
        sa.Column('partner_order_id', sa.String(length=255), nullable=False),
        sa.Column('partner_variant_id', sa.String(length=255), nullable=False),
        sa.Column('unit_price', powerpact.db_types.Money(), nullable=False),
        sa.Column('order_sync_id', sa.Integer(), nullable=False),
        sa.Column('bubbly_line_item_id', sa.String(length=255), nullable=False),
        sa.Column('quantity', sa.Integer(), nullable=False),
        sa.Column('fulfilled_quantity', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['order_sync_id'], ['order_syncs.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(
            ['partner_shop_domain'],
            ['partner_stores.shop_domain'],
            ondelete='CASCADE',
            onupdate='CASCADE',
        ),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('partner_order_id', 'order_sync_id', 'bubbly_line_item_id', 'unit_price'),
    )
    with op.batch_alter_table('partner_line_shares', schema=None) as batch_op:
        batch_op.create_index(
            'ix_partner_line_shares_partner_order',
            ['partner_shop_domain', 'partner_order_id'],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f('ix_partner_line_shares_order_sync_id'), ['order_sync_id'], unique=False
        )


def downgrade():
    with op.batch_alter_table('partner_line_shares', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_partner_line_shares_order_sync_id'))
        batch_op.drop_index('ix_partner_line_shares_partner_order')
    op.drop_table('partner_line_shares')
