"""Submission imports: Kobo/ODK exports imported into a cycle, and each response's origin.

Revision ID: 52399ee95760
Revises: e01b93ac5ae4
Create Date: 2026-12-02 15:20:05

``submission_imports`` keeps an uploaded export between its preview and its import.
``responses.external_id`` is the submission's own id (Kobo ``_uuid``, ODK ``instanceID``),
unique per cycle, so the same submission cannot be imported twice.
"""

import sqlalchemy as sa
from alembic import op

revision = "52399ee95760"
down_revision = "e01b93ac5ae4"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "submission_imports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("cycle_id", sa.Integer(), nullable=False),
        sa.Column("questionnaire", sa.String(length=64), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("imported", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("report", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"],
            name=op.f("fk_submission_imports_created_by_id_users"),
        ),
        sa.ForeignKeyConstraint(
            ["cycle_id"], ["cycles.id"],
            name=op.f("fk_submission_imports_cycle_id_cycles"), ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_submission_imports")),
    )
    with op.batch_alter_table("submission_imports", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_submission_imports_cycle_id"), ["cycle_id"], unique=False
        )

    with op.batch_alter_table("responses", schema=None) as batch_op:
        batch_op.add_column(sa.Column("submission_import_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("external_id", sa.String(length=200), nullable=True))
        batch_op.create_unique_constraint(
            batch_op.f("uq_responses_cycle_id_external_id"), ["cycle_id", "external_id"]
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_responses_submission_import_id_submission_imports"),
            "submission_imports", ["submission_import_id"], ["id"], ondelete="SET NULL",
        )


def downgrade() -> None:
    with op.batch_alter_table("responses", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_responses_submission_import_id_submission_imports"),
            type_="foreignkey",
        )
        batch_op.drop_constraint(
            batch_op.f("uq_responses_cycle_id_external_id"), type_="unique"
        )
        batch_op.drop_column("external_id")
        batch_op.drop_column("submission_import_id")

    with op.batch_alter_table("submission_imports", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_submission_imports_cycle_id"))

    op.drop_table("submission_imports")
