"""the risk hold: the retail store's hold window, each order sync's hold and release

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06 01:40:00.000000

"""
from alembic import op
import sqlalchemy as sa
import powerpact.db_types


# revision identifiers, used by Alembic.
revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('retail_stores', schema=None) as batch_op:
        batch_op.add_column(sa.Column('risk_hold_seconds', sa.Integer(), server_default='120', nullable=False))
    with op.batch_alter_table('order_syncs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('risk_hold_until', powerpact.db_types.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('risk_released_at', powerpact.db_types.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('risk_released_by', sa.String(length=255), nullable=True))


def downgrade():
    with op.batch_alter_table('order_syncs', schema=None) as batch_op:
        batch_op.drop_column('risk_released_by')
        batch_op.drop_column('risk_released_at')
        batch_op.drop_column('risk_hold_until')
    with op.batch_alter_table('retail_stores', schema=None) as batch_op:
        batch_op.drop_column('risk_hold_seconds')
