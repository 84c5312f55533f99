"""the digest of each imported partner product, on its product maps

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05 12:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('product_maps', schema=None) as batch_op:
        batch_op.add_column(sa.Column('import_digest', sa.String(length=64), nullable=True))


def downgrade():
    with op.batch_alter_table('product_maps', schema=None) as batch_op:
        batch_op.drop_column('import_digest')
