"""``surveyapp audit verify``: check that no audit event was altered or deleted."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from surveyapp.services.audit import verify_chain


@click.group("audit")
def command() -> None:
    """Inspect the tamper-evident audit log."""


@command.command("verify")
@with_appcontext
def verify() -> None:
    """Exit 0 when the hash chain is intact; exit 1 naming the first bad event."""
    checked, broken = verify_chain()
    if broken is not None:
        click.echo(f"audit event {broken.event_id}: {broken.reason} "
                   f"(checked {checked} event(s))", err=True)
        raise SystemExit(1)
    click.echo(f"audit log intact: {checked} event(s) verified")
