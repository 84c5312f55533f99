"""import jobs: whether products already imported keep their live prices; each item's count
of live prices it changed

Revision ID: 0019
Revises: 0014
Create Date: 2026-12-08 10:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0019'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('import_jobs', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('keep_live_prices', sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    with op.batch_alter_table('import_job_items', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('repriced_variants', sa.Integer(), server_default='0', nullable=False)
        )


def downgrade():
    with op.batch_alter_table('import_job_items', schema=None) as batch_op:
        batch_op.drop_column('repriced_variants')
    with op.batch_alter_table('import_jobs', schema=None) as batch_op:
        batch_op.drop_column('keep_live_prices')
