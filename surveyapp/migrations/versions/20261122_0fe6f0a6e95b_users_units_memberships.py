"""Users, organisational units, and the roles users hold on units.

Revision ID: 0fe6f0a6e95b
Revises:
Create Date: 2026-11-22 05:28:55

Enums are stored as text with a named CHECK constraint (ck_<table>_<column>) so that
the schema is the same on SQLite and PostgreSQL. The values are written out here, not
imported, so that this migration keeps meaning what it meant when it was written.
"""

import sqlalchemy as sa
from alembic import op

revision = "0fe6f0a6e95b"
down_revision = None
branch_labels = None
depends_on = None

UNIT_KINDS = ("country", "cluster", "un_system", "organisation", "mission")
ROLES = ("admin", "coordinator", "focal_point", "validator", "viewer")


def text_enum(values: tuple[str, ...], name: str) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=32)


def upgrade() -> None:
    op.create_table(
        "units",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", text_enum(UNIT_KINDS, "kind"), nullable=False),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_units")),
        sa.UniqueConstraint("code", name=op.f("uq_units_code")),
        sa.ForeignKeyConstraint(["parent_id"], ["units.id"], name=op.f("fk_units_parent_id_units")),
    )
    op.create_index(op.f("ix_units_parent_id"), "units", ["parent_id"])

    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("display_name", sa.String(length=120), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("preferred_language", sa.String(length=8), nullable=False),
        sa.Column("session_token", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("email", name=op.f("uq_users_email")),
        sa.UniqueConstraint("session_token", name=op.f("uq_users_session_token")),
    )

    op.create_table(
        "memberships",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("role", text_enum(ROLES, "role"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_memberships")),
        # Also the index for "memberships of a user": user_id leads.
        sa.UniqueConstraint(
            "user_id", "unit_id", "role", name=op.f("uq_memberships_user_id_unit_id_role")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_memberships_user_id_users"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["units.id"], name=op.f("fk_memberships_unit_id_units"), ondelete="CASCADE"
        ),
    )
    op.create_index(op.f("ix_memberships_unit_id"), "memberships", ["unit_id"])


def downgrade() -> None:
    op.drop_table("memberships")
    op.drop_table("users")
    op.drop_table("units")
