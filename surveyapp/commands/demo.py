"""``surveyapp demo``: demonstration units, one account per role, and demo cycles."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

from surveyapp.extensions import db
from surveyapp.services.demo import seed_demo, seed_demo_cycles, seed_demo_plans


@click.command("demo")
@with_appcontext
def command() -> None:
    """Create the demo units, accounts and cycles (safe to repeat); print logins and links."""
    logins = seed_demo()
    cycles = seed_demo_cycles(current_app.config["SECRET_KEY"])
    validated = seed_demo_plans()
    db.session.commit()
    rows = [("email", "password", "role", "unit")] + [
        (login.email, login.password, login.role.value, login.unit_code) for login in logins
    ]
    widths = [max(len(row[column]) for row in rows) for column in range(4)]
    click.echo("Demo logins (published passwords: never use demo data in production):")
    for row in rows:
        cells = (cell.ljust(width) for cell, width in zip(row, widths, strict=True))
        click.echo(("  " + "  ".join(cells)).rstrip())
    click.echo("Demo cycles:")
    for cycle in [*cycles.cycles, *validated]:
        click.echo(f"  /cycles/{cycle.id}  {cycle.state.label.lower():<9}  {cycle.title}")
    click.echo("Action plans: /cycles/<id>/plan of the validated cycles; dashboard: /dashboard/CAR")
    click.echo("Partner links of the CCPM demo cycle (open one in a private window):")
    for path in cycles.invitation_paths:
        click.echo(f"  {path}")
