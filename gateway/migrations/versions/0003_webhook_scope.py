"""Webhook endpoints get a geographic scope: deliveries are limited to the events
whose places lie in it (and in its owner's current scope).

Existing endpoints take the scope their creator's account has now (none if the
account is gone: such an endpoint receives nothing until a national admin
replaces it).

Revision ID: 0003_webhook_scope
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY

revision = "0003_webhook_scope"
down_revision = "0002_webhooks"
branch_labels = None
depends_on = "0002_accounts"


def upgrade():
    op.add_column("webhook_endpoints", sa.Column(
        "scope", ARRAY(sa.String(400)), nullable=False, server_default="{}"))
    op.execute("update webhook_endpoints e set scope = a.scope from accounts a "
               "where a.id = e.created_by")


def downgrade():
    op.drop_column("webhook_endpoints", "scope")
