"""``surveyapp create-user``: add an account from the command line."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from surveyapp.extensions import db
from surveyapp.models import Role
from surveyapp.models.users import LANGUAGES
from surveyapp.services import ServiceError
from surveyapp.services.units import find_unit_by_code, grant_role
from surveyapp.services.users import create_user


@click.command("create-user")
@click.argument("email")
@click.option("--name", required=True, help="Display name, e.g. 'Amina Diallo'.")
@click.option(
    "--password",
    prompt=True,
    hide_input=True,
    confirmation_prompt=True,
    help="Asked for (hidden) when not given.",
)
@click.option("--role", type=click.Choice([role.value for role in Role]), help="Needs --unit.")
@click.option("--unit", "unit_code", metavar="CODE", help="Code of the unit the role is held on.")
@click.option("--language", type=click.Choice(LANGUAGES), default="en", show_default=True)
@with_appcontext
def command(
    email: str, name: str, password: str, role: str | None, unit_code: str | None, language: str
) -> None:
    """Create a user, optionally holding ROLE on the unit CODE."""
    if (role is None) != (unit_code is None):
        raise click.UsageError("--role and --unit go together: give both or neither.")
    try:
        user = create_user(email, name, password, preferred_language=language)
    except ServiceError as refused:
        raise click.ClickException(str(refused)) from refused
    if role and unit_code:
        unit = find_unit_by_code(unit_code)
        if unit is None:
            raise click.ClickException(
                f"No unit has the code '{unit_code}'; nothing was created. "
                "Check the code, or run 'surveyapp demo' to create the demo units."
            )
        grant_role(user, unit, Role(role))
    db.session.commit()
    held = f" as {role} of {unit_code}" if role else ""
    click.echo(f"Created user {user.email}{held}.")
