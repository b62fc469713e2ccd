"""The routing keys the webhook queue may be bound to (`gateway.webhook_bindings`):
the queue follows the endpoints' patterns instead of taking every event (`#`).

Revision ID: 0004_webhook_bindings
"""
from alembic import op
import sqlalchemy as sa

revision = "0004_webhook_bindings"
down_revision = "0003_webhook_scope"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "webhook_bindings",
        sa.Column("routing_key", sa.String(100), primary_key=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False,
                  server_default=sa.func.now()),
    )


def downgrade():
    op.drop_table("webhook_bindings")
