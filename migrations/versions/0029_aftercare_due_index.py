"""aftercare sweep: a partial index on the timeline events that say a partner order's
cancellation or redaction fell due

Revision ID: 0029
Revises: 0028
Create Date: 2026-12-06 13:40:00.000000

The sweep (``orders.tasks.resume_lost_aftercare``, every ten minutes) enqueues again a
cancellation or a redaction whose task never reached the queue. It reads these events by
their time; they are a handful among every order's timeline, so the index holds only them.
The second kind is new with this revision: no row has it yet.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0029'
down_revision = '0028'
branch_labels = None
depends_on = None

AFTERCARE_DUE = "kind IN ('cancel_requested', 'partner_redaction_due')"


def upgrade():
    op.create_index(
        'ix_order_sync_events_aftercare_due', 'order_sync_events', ['created_at'], unique=False,
        postgresql_where=sa.text(AFTERCARE_DUE),
        sqlite_where=sa.text(AFTERCARE_DUE),
    )


def downgrade():
    op.drop_index('ix_order_sync_events_aftercare_due', table_name='order_sync_events')
