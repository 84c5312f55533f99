"""order sync lines: units refunded or edited away after sending (removed before the
partner shipped them, returned after)

Revision ID: 0024
Revises: 0020
Create Date: 2026-12-06 09:30:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0024'
down_revision = '0020'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('order_sync_lines') as batch:
        batch.add_column(sa.Column('removed_quantity', sa.Integer(), server_default='0', nullable=False))
        batch.add_column(sa.Column('returned_quantity', sa.Integer(), server_default='0', nullable=False))


def downgrade():
    with op.batch_alter_table('order_sync_lines') as batch:
        batch.drop_column('returned_quantity')
        batch.drop_column('removed_quantity')
