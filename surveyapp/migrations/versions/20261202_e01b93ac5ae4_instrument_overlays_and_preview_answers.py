"""Instruments in the web: unit overlays, preview test answers, who uploaded a version.

Revision ID: e01b93ac5ae4
Revises: dccda29abefa
Create Date: 2026-12-02 15:24:23

``instrument_overlays`` holds every version of each unit's overlay text; a cycle keeps the
overlay it was opened with in ``cycles.overlay_id``, as it keeps its instrument version.
``preview_answers`` is scratch data typed while previewing: deleting a draft version or an
overlay deletes its test answers with it.
"""

import sqlalchemy as sa
from alembic import op

revision = "e01b93ac5ae4"
down_revision = "dccda29abefa"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "instrument_overlays",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("instrument_version_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=40), nullable=False),
        sa.Column("version", sa.String(length=40), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"],
            name=op.f("fk_instrument_overlays_created_by_id_users"),
        ),
        sa.ForeignKeyConstraint(
            ["instrument_version_id"], ["instrument_versions.id"],
            name=op.f("fk_instrument_overlays_instrument_version_id_instrument_versions"),
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["units.id"], name=op.f("fk_instrument_overlays_unit_id_units"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_instrument_overlays")),
        sa.UniqueConstraint(
            "unit_id", "key", "version", name=op.f("uq_instrument_overlays_unit_id_key_version"),
        ),
    )
    with op.batch_alter_table("instrument_overlays", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_instrument_overlays_instrument_version_id"),
            ["instrument_version_id"], unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_instrument_overlays_unit_id"), ["unit_id"], unique=False,
        )

    op.create_table(
        "preview_answers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("instrument_version_id", sa.Integer(), nullable=False),
        sa.Column("overlay_id", sa.Integer(), nullable=True),
        sa.Column("subject", sa.String(length=40), nullable=False),
        sa.Column("questionnaire", sa.String(length=64), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("answers", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["instrument_version_id"], ["instrument_versions.id"],
            name=op.f("fk_preview_answers_instrument_version_id_instrument_versions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["overlay_id"], ["instrument_overlays.id"],
            name=op.f("fk_preview_answers_overlay_id_instrument_overlays"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_preview_answers_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_preview_answers")),
        sa.UniqueConstraint(
            "user_id", "subject", "questionnaire", "language",
            name=op.f("uq_preview_answers_user_id_subject_questionnaire_language"),
        ),
    )
    with op.batch_alter_table("preview_answers", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_preview_answers_instrument_version_id"),
            ["instrument_version_id"], unique=False,
        )

    with op.batch_alter_table("cycles", schema=None) as batch_op:
        batch_op.add_column(sa.Column("overlay_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_cycles_overlay_id_instrument_overlays"),
            "instrument_overlays", ["overlay_id"], ["id"],
        )

    with op.batch_alter_table("instrument_versions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("created_by_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_instrument_versions_created_by_id_users"),
            "users", ["created_by_id"], ["id"],
        )


def downgrade() -> None:
    with op.batch_alter_table("instrument_versions", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_instrument_versions_created_by_id_users"), type_="foreignkey")
        batch_op.drop_column("created_by_id")

    with op.batch_alter_table("cycles", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_cycles_overlay_id_instrument_overlays"), type_="foreignkey")
        batch_op.drop_column("overlay_id")

    with op.batch_alter_table("preview_answers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_preview_answers_instrument_version_id"))
    op.drop_table("preview_answers")

    with op.batch_alter_table("instrument_overlays", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_instrument_overlays_unit_id"))
        batch_op.drop_index(batch_op.f("ix_instrument_overlays_instrument_version_id"))
    op.drop_table("instrument_overlays")
