"""Plan life cycle: agreement, GROW notes, carried-over actions, alerts, history.

Revision ID: 0002
Revises: 0001
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade():
    for column in (
            sa.Column("visited_at", TS, nullable=True),
            sa.Column("coachees", JSONB, nullable=False, server_default="[]"),
            sa.Column("coach_agreed_by", sa.String(64), nullable=True),
            sa.Column("coach_agreed_at", TS, nullable=True),
            sa.Column("coachee_agreed_by", sa.String(64), nullable=True),
            sa.Column("coachee_agreed_at", TS, nullable=True),
            sa.Column("agreed_at", TS, nullable=True),
            sa.Column("completed_at", TS, nullable=True),
            sa.Column("grow_goal", sa.Text, nullable=False, server_default=""),
            sa.Column("grow_reality", sa.Text, nullable=False, server_default=""),
            sa.Column("grow_options", sa.Text, nullable=False, server_default=""),
            sa.Column("grow_will", sa.Text, nullable=False, server_default="")):
        op.add_column("plans", column)
    op.create_index("ix_plans_status", "plans", ["status"])
    for column in (
            sa.Column("origin_plan_id", sa.Uuid, sa.ForeignKey("plans.id"), nullable=True),
            sa.Column("source", sa.String(16), nullable=False, server_default="gap"),
            sa.Column("recurring", sa.Boolean, nullable=False, server_default=sa.false()),
            sa.Column("comment", sa.Text, nullable=False, server_default=""),
            sa.Column("drop_reason", sa.Text, nullable=False, server_default=""),
            sa.Column("late", sa.Boolean, nullable=False, server_default=sa.false()),
            sa.Column("alert_state", sa.String(16), nullable=False, server_default="none"),
            sa.Column("created_at", TS, nullable=False, server_default=sa.func.now()),
            sa.Column("started_at", TS, nullable=True),
            sa.Column("closed_at", TS, nullable=True)):
        op.add_column("actions", column)
    op.execute("update actions set origin_plan_id = plan_id")
    # Open actions by facility and item (carry-over) and by due date (alerts).
    op.create_index("ix_actions_status_due", "actions", ["status", "due_date"])
    op.create_index("ix_actions_item_code", "actions", ["item_code"])
    op.create_table(
        "plan_entries",
        sa.Column("plan_id", sa.Uuid, sa.ForeignKey("plans.id"), primary_key=True),
        sa.Column("action_id", sa.Uuid, sa.ForeignKey("actions.id"), primary_key=True,
                  index=True),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("carried_over", sa.Boolean, nullable=False, server_default=sa.false()),
    )
    op.execute("insert into plan_entries (plan_id, action_id, position, carried_over) "
               "select plan_id, id, position, false from actions")
    op.create_table(
        "plan_history",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("plan_id", sa.Uuid, sa.ForeignKey("plans.id"), nullable=False, index=True),
        sa.Column("action_id", sa.Uuid, nullable=True, index=True),
        sa.Column("actor_id", sa.String(64), nullable=False),
        sa.Column("change", sa.String(48), nullable=False),
        sa.Column("details", JSONB, nullable=False, server_default="{}"),
        sa.Column("at", TS, nullable=False, server_default=sa.func.now()),
    )


def downgrade():
    op.drop_table("plan_history")
    op.drop_table("plan_entries")
    op.drop_index("ix_actions_item_code", "actions")
    op.drop_index("ix_actions_status_due", "actions")
    for name in ("origin_plan_id", "source", "recurring", "comment", "drop_reason", "late",
                 "alert_state", "created_at", "started_at", "closed_at"):
        op.drop_column("actions", name)
    op.drop_index("ix_plans_status", "plans")
    for name in ("visited_at", "coachees", "coach_agreed_by", "coach_agreed_at",
                 "coachee_agreed_by", "coachee_agreed_at", "agreed_at", "completed_at",
                 "grow_goal", "grow_reality", "grow_options", "grow_will"):
        op.drop_column("plans", name)
