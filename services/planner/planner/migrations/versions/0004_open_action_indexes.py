"""Indexes on open actions only: what a visit verifies or carries over, and what the
due-date sweep looks at, stay as cheap as the open work (not the facility's whole
history of closed actions).

Revision ID: 0004
Revises: 0003
"""
from alembic import op
import sqlalchemy as sa

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

OPEN = sa.text("status IN ('todo', 'in_progress', 'awaiting_review')")


def upgrade():
    # A visit: the open actions of the facility's plans, on its items.
    op.create_index("ix_actions_open_plan_item", "actions", ["plan_id", "item_code"],
                    postgresql_where=OPEN)
    # The due-date sweep: open actions by due date.
    op.create_index("ix_actions_open_due", "actions", ["due_date"], postgresql_where=OPEN)


def downgrade():
    op.drop_index("ix_actions_open_due", "actions")
    op.drop_index("ix_actions_open_plan_item", "actions")
