"""A coachee's and a coach's day: actions verified by a follow-up visit, and the
conversation on an action.

Revision ID: 0003
Revises: 0002
"""
from alembic import op
import sqlalchemy as sa

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade():
    op.add_column("actions", sa.Column("verified_by_submission_id", sa.Uuid, nullable=True))
    op.create_table(
        "action_comments",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("action_id", sa.Uuid, sa.ForeignKey("actions.id"), nullable=False),
        sa.Column("plan_id", sa.Uuid, sa.ForeignKey("plans.id"), nullable=False),
        sa.Column("author_id", sa.String(64), nullable=False),
        sa.Column("author_role", sa.String(16), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("created_at", TS, nullable=False),
    )
    op.create_index("ix_action_comments_action_created", "action_comments",
                    ["action_id", "created_at"])
    # My actions: by owner, open ones by due date.
    op.create_index("ix_actions_owner_due", "actions", ["owner_id", "due_date"])


def downgrade():
    op.drop_index("ix_actions_owner_due", "actions")
    op.drop_index("ix_action_comments_action_created", "action_comments")
    op.drop_table("action_comments")
    op.drop_column("actions", "verified_by_submission_id")
