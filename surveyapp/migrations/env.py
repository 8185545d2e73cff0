"""Alembic environment: bring the app's database in line with ``db.metadata``.

Runs inside the app context Flask-Migrate provides (``surveyapp init``, ``surveyapp db
...``), so the database is the app's own. Logging is left alone: a migration must not
reconfigure the logging of the app that runs it.
"""

from __future__ import annotations

from typing import Any

from alembic import context
from flask import current_app

migrate_config = current_app.extensions["migrate"]
db = migrate_config.db


def skip_empty_revision(_context: Any, _revision: Any, directives: list[Any]) -> None:
    """Write no revision file when autogenerate finds nothing to change."""
    autogenerating = getattr(context.config.cmd_opts, "autogenerate", False)
    if autogenerating and directives[0].upgrade_ops.is_empty():
        directives[:] = []


def configure_options() -> dict[str, Any]:
    return {
        "target_metadata": db.metadata,
        "process_revision_directives": skip_empty_revision,
        **migrate_config.configure_args,
    }


def run_offline() -> None:
    """Print the SQL instead of running it (``surveyapp db upgrade --sql``)."""
    url = db.engine.url.render_as_string(hide_password=False)
    context.configure(url=url, literal_binds=True, **configure_options())
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    with db.engine.connect() as connection:
        context.configure(connection=connection, **configure_options())
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
