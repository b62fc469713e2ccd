"""Accounts: contacts, cohort, facility, coaching assignments, preferences, token
version; refresh tokens; sign-in failure counters.

Revision ID: 0002_accounts
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB, UUID

revision = "0002_accounts"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("accounts", sa.Column("phone", sa.String(32), nullable=True))
    op.add_column("accounts", sa.Column("email", sa.String(254), nullable=True))
    op.add_column("accounts", sa.Column("cohort", sa.String(64), nullable=True))
    op.add_column("accounts", sa.Column("facility_id", sa.String(64), nullable=True))
    op.add_column("accounts", sa.Column("coaching", JSONB, nullable=False,
                                        server_default=sa.text("'[]'::jsonb")))
    op.add_column("accounts", sa.Column("preferences", JSONB, nullable=False,
                                        server_default=sa.text("'{}'::jsonb")))
    op.add_column("accounts", sa.Column("token_version", sa.Integer, nullable=False,
                                        server_default="0"))
    op.add_column("accounts", sa.Column("created_at", sa.DateTime(timezone=True),
                                        nullable=False, server_default=sa.func.now()))
    op.add_column("accounts", sa.Column("updated_at", sa.DateTime(timezone=True),
                                        nullable=False, server_default=sa.func.now()))
    op.create_index("ix_accounts_cohort", "accounts", ["cohort"])
    op.create_table(
        "refresh_tokens",
        sa.Column("id", UUID(as_uuid=True), primary_key=True),
        sa.Column("account_id", sa.String(64),
                  sa.ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False),
        sa.Column("family_id", UUID(as_uuid=True), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("replaced_by", UUID(as_uuid=True), nullable=True),
    )
    op.create_index("ix_refresh_tokens_account_id", "refresh_tokens", ["account_id"])
    op.create_index("ix_refresh_tokens_family_id", "refresh_tokens", ["family_id"])
    op.create_table(
        "sign_in_failures",
        sa.Column("key", sa.String(200), primary_key=True),
        sa.Column("failures", sa.Integer, nullable=False),
        sa.Column("last_failure_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
    )


def downgrade():
    op.drop_table("sign_in_failures")
    op.drop_table("refresh_tokens")
    op.drop_index("ix_accounts_cohort", "accounts")
    for column in ("updated_at", "created_at", "token_version", "preferences", "coaching",
                   "facility_id", "cohort", "email", "phone"):
        op.drop_column("accounts", column)
