"""the retail order's whole shipping and tax on each order sync

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-22 22:30:00.000000

"""
from alembic import op
import sqlalchemy as sa
import powerpact.db_types


# revision identifiers, used by Alembic.
revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('order_syncs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('order_shipping', powerpact.db_types.Money(precision=18, scale=4), nullable=True))
        batch_op.add_column(sa.Column('order_tax', powerpact.db_types.Money(precision=18, scale=4), nullable=True))


def downgrade():
    with op.batch_alter_table('order_syncs', schema=None) as batch_op:
        batch_op.drop_column('order_tax')
        batch_op.drop_column('order_shipping')
