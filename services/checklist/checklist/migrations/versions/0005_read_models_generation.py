"""The read models' generation: a one-row counter bumped by the triggers that keep
them (and by any change of `org_units`), which the dashboards' answer cache keys on.

Revision ID: 0005_read_models_generation
Revises: 0004_read_models
"""
from alembic import op
import sqlalchemy as sa

from checklist import read_models

revision = "0005_read_models_generation"
down_revision = "0004_read_models"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "read_models_generation",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("value", sa.BigInteger, nullable=False),
        sa.CheckConstraint("id = 1", name="ck_read_models_generation_one_row"),
    )
    op.execute("create sequence read_models_generation_seq")
    op.execute("insert into read_models_generation (id, value) "
               "values (1, nextval('read_models_generation_seq'))")
    read_models.install(op.get_bind())


def downgrade():
    for event in ("insert", "update", "delete", "truncate"):
        op.execute(f"drop trigger if exists org_units_read_models_{event} on org_units")
    op.execute("drop function if exists checklist_places_changed()")
    # The visit triggers' functions without the bump.
    for statement in read_models.FUNCTIONS:
        if "checklist_places_changed" not in statement:
            op.execute(statement.replace(read_models.BUMP, ""))
    op.drop_table("read_models_generation")
    op.execute("drop sequence read_models_generation_seq")
