"""The migrations build exactly the schema the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable

from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Flask
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect

from surveyapp import MIGRATIONS_DIR
from surveyapp.extensions import db

MODEL_TABLES = {"users", "units", "memberships"}


def test_one_head_revision() -> None:
    """Two migrations written in parallel on the same parent must be merged before release."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    assert len(ScriptDirectory.from_config(config).get_heads()) == 1


def test_upgrade_matches_the_models_and_downgrade_undoes_it(
    make_app: Callable[..., Flask], empty_database_url: str
) -> None:
    """Like ``surveyapp db check``: after upgrade, autogenerate finds nothing to change."""
    app = make_app(empty_database_url)
    with app.app_context():
        upgrade()
        with db.engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            assert compare_metadata(context, db.metadata) == []
        downgrade(revision="base")
        assert set(inspect(db.engine).get_table_names()) == {"alembic_version"}
        upgrade()
        assert set(inspect(db.engine).get_table_names()) >= MODEL_TABLES


def test_constraints_have_readable_names(
    make_app: Callable[..., Flask], empty_database_url: str
) -> None:
    app = make_app(empty_database_url)
    with app.app_context():
        upgrade()
        schema = inspect(db.engine)
        memberships = {
            "unique": {c["name"] for c in schema.get_unique_constraints("memberships")},
            "foreign": {c["name"] for c in schema.get_foreign_keys("memberships")},
            "check": {c["name"] for c in schema.get_check_constraints("memberships")},
        }
        assert schema.get_pk_constraint("memberships")["name"] == "pk_memberships"
    assert memberships == {
        "unique": {"uq_memberships_user_id_unit_id_role"},
        "foreign": {"fk_memberships_user_id_users", "fk_memberships_unit_id_units"},
        "check": {"ck_memberships_role"},
    }
