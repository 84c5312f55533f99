"""notifications: an outbox of emails made once per (event, recipient), each shop's choices,
and each shop's contact email from Shopify

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-06 10:20:00.000000

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from powerpact.db_types import UTCDateTime


# revision identifiers, used by Alembic.
revision = '0027'
down_revision = '0026'
branch_labels = None
depends_on = None

JSON_DOCUMENT = sa.JSON().with_variant(postgresql.JSONB(), 'postgresql')


def upgrade():
    for table in ('retail_stores', 'partner_stores'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('contact_email', sa.String(length=320), nullable=True))
    op.create_table(
        'notification_outbox',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('event_key', sa.String(length=255), nullable=False),
        sa.Column('recipient', sa.String(length=320), nullable=False),
        sa.Column('kind', sa.Enum('order_failed', 'statement', 'admin_digest', name='notificationkind', native_enum=False, length=32), nullable=False),
        sa.Column('shop_domain', sa.String(length=255), nullable=False),
        sa.Column('payload', JSON_DOCUMENT, nullable=False),
        sa.Column('status', sa.Enum('pending', 'sent', 'failed', 'withdrawn', name='outboxstatus', native_enum=False, length=32), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('last_error', sa.Text(), nullable=True),
        sa.Column('message_id', sa.String(length=255), nullable=True),
        sa.Column('created_at', UTCDateTime(), nullable=False),
        sa.Column('last_attempt_at', UTCDateTime(), nullable=True),
        sa.Column('sent_at', UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('event_key', 'recipient', name='uq_notification_outbox_event_recipient'),
    )
    op.create_index('ix_notification_outbox_status_created', 'notification_outbox', ['status', 'created_at'])
    op.create_index('ix_notification_outbox_shop_kind_created', 'notification_outbox', ['shop_domain', 'kind', 'created_at'])
    op.create_table(
        'notification_settings',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('shop_domain', sa.String(length=255), nullable=False),
        sa.Column('email', sa.String(length=1000), nullable=True),
        sa.Column('muted', JSON_DOCUMENT, nullable=False),
        sa.Column('created_at', UTCDateTime(), nullable=False),
        sa.Column('updated_at', UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('shop_domain'),
    )


def downgrade():
    op.drop_table('notification_settings')
    op.drop_index('ix_notification_outbox_shop_kind_created', table_name='notification_outbox')
    op.drop_index('ix_notification_outbox_status_created', table_name='notification_outbox')
    op.drop_table('notification_outbox')
    for table in ('partner_stores', 'retail_stores'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column('contact_email')
