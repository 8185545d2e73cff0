"""``surveyapp init``: create the database or bring it up to date."""

from __future__ import annotations

import click
from flask.cli import with_appcontext
from flask_migrate import upgrade
from sqlalchemy.exc import SQLAlchemyError

from surveyapp.extensions import db
from surveyapp.services import ServiceError
from surveyapp.services.instrument_versions import ensure_bundled_versions


@click.command("init")
@with_appcontext
def command() -> None:
    """Create the database, or upgrade it to the latest migration."""
    where = db.engine.url.render_as_string(hide_password=True)
    try:
        upgrade()
    except SQLAlchemyError as error:
        raise click.ClickException(
            f"Could not create or upgrade the database at {where}: {error.orig or error}\n"
            "Check SURVEYAPP_DATABASE_URL and that the server is running. A database whose "
            "tables were made without migrations must be emptied first."
        ) from error
    try:
        versions = ensure_bundled_versions()
    except ServiceError as refused:
        raise click.ClickException(str(refused)) from refused
    db.session.commit()
    click.echo(f"Database ready: {where}")
    click.echo(f"Bundled instruments registered: {len(versions)}")
