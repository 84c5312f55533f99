"""stock: a safety buffer per partner and product, a low-stock threshold, stock history

Revision ID: 0026
Revises: 0023
Create Date: 2026-12-06 10:00:00.000000

``product_maps.retail_available`` is the retail level PowerPact last read or wrote; the
next sync fills it for the variants imported before.

"""
from alembic import op
import sqlalchemy as sa

from powerpact.db_types import UTCDateTime


# revision identifiers, used by Alembic.
revision = '0026'
down_revision = '0023'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('partner_stores', schema=None) as batch_op:
        batch_op.add_column(sa.Column('safety_buffer', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('low_stock_threshold', sa.Integer(), server_default='5', nullable=False))
    with op.batch_alter_table('product_maps', schema=None) as batch_op:
        batch_op.add_column(sa.Column('safety_buffer', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('retail_available', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('product_title', sa.String(length=512), nullable=True))
        batch_op.add_column(sa.Column('variant_title', sa.String(length=512), nullable=True))
        batch_op.create_index(
            'ix_product_maps_partner_retail_available',
            ['partner_shop_domain', 'retail_available'],
            unique=False,
        )
    op.create_table(
        'stock_changes',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('product_map_id', sa.Integer(), nullable=False),
        sa.Column('before', sa.Integer(), nullable=False),
        sa.Column('after', sa.Integer(), nullable=False),
        sa.Column('source', sa.Enum('hourly', 'webhook', 'sync_now', 'buffer_change', name='stocksource', native_enum=False, length=32), nullable=False),
        sa.Column('sync_run_id', sa.Integer(), nullable=True),
        sa.Column('at', UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['product_map_id'], ['product_maps.id'], name=op.f('fk_stock_changes_product_map_id_product_maps'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_stock_changes')),
    )
    with op.batch_alter_table('stock_changes', schema=None) as batch_op:
        batch_op.create_index('ix_stock_changes_map_at', ['product_map_id', 'at'], unique=False)
        batch_op.create_index(batch_op.f('ix_stock_changes_at'), ['at'], unique=False)


def downgrade():
    with op.batch_alter_table('stock_changes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_stock_changes_at'))
        batch_op.drop_index('ix_stock_changes_map_at')
    op.drop_table('stock_changes')
    with op.batch_alter_table('product_maps', schema=None) as batch_op:
        batch_op.drop_index('ix_product_maps_partner_retail_available')
        batch_op.drop_column('variant_title')
        batch_op.drop_column('product_title')
        batch_op.drop_column('retail_available')
        batch_op.drop_column('safety_buffer')
    with op.batch_alter_table('partner_stores', schema=None) as batch_op:
        batch_op.drop_column('low_stock_threshold')
        batch_op.drop_column('safety_buffer')
