"""The read models' generation is bumped at commit (a deferred constraint trigger,
once per transaction) instead of at each insert: visits no longer wait for each
other from their insert to their commit (`checklist.read_models`).

Revision ID: 0006_generation_at_commit
Revises: 0005_read_models_generation
"""
from alembic import op

from checklist import read_models

revision = "0006_generation_at_commit"
down_revision = "0005_read_models_generation"
branch_labels = None
depends_on = None


def upgrade():
    read_models.install(op.get_bind())


def downgrade():
    for table in ("submissions", "submission_gaps", "org_units"):
        for event in ("insert", "update", "delete"):
            op.execute(f"drop trigger if exists {table}_generation_{event} on {table}")
    op.execute("drop function if exists checklist_bump_generation()")
    # As 0005 left them: every trigger function bumps first, org_units by statement.
    for statement in read_models.FUNCTIONS:
        if "checklist_bump_generation" in statement:
            continue
        if read_models.BUMP not in statement and "returns trigger" in statement:
            statement = statement.replace("begin\n", "begin\n" + read_models.BUMP, 1)
        op.execute(statement)
    for event in ("insert", "update", "delete"):
        op.execute(f"create trigger org_units_read_models_{event} after {event} on org_units "
                   "for each statement execute function checklist_places_changed()")
