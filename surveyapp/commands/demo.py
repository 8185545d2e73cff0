"""``surveyapp demo``: demonstration units and one account per role."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from surveyapp.extensions import db
from surveyapp.services.demo import seed_demo, seed_demo_cycles


@click.command("demo")
@with_appcontext
def command() -> None:
    """Create the demo units and accounts (safe to repeat) and print their logins."""
    logins = seed_demo()
    cycles = seed_demo_cycles()
    db.session.commit()
    rows = [("email", "password", "role", "unit")] + [
        (login.email, login.password, login.role.value, login.unit_code) for login in logins
    ]
    widths = [max(len(row[column]) for row in rows) for column in range(4)]
    click.echo("Demo logins (published passwords: never use demo data in production):")
    for row in rows:
        cells = (cell.ljust(width) for cell, width in zip(row, widths, strict=True))
        click.echo(("  " + "  ".join(cells)).rstrip())
    for cycle in cycles.created:
        click.echo(f"Demo cycle opened: {cycle.title} (/cycles/{cycle.id})")
    if cycles.invitation_paths:
        click.echo("Partner invitation links of the CCPM demo cycle (shown only now):")
        for path in cycles.invitation_paths:
            click.echo(f"  {path}")
