"""``surveyapp check``: is the database consistent with itself and with the evidence store?"""

from __future__ import annotations

import json
from datetime import timedelta

import click
from flask.cli import with_appcontext
from sqlalchemy.exc import SQLAlchemyError

from surveyapp.services.consistency import DEFAULT_GRACE, check_consistency, remove_leftovers
from surveyapp.storage import evidence_store


@click.command("check")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of lines.")
@click.option("--grace", type=click.IntRange(min=0), metavar="MINUTES",
              default=int(DEFAULT_GRACE.total_seconds() // 60), show_default=True,
              help="Files no row refers to count as uploads in flight until this old.")
@click.option("--repair", is_flag=True,
              help="Delete the orphan and temporary files older than the grace period "
                   "(nothing else), then check again.")
@with_appcontext
def command(as_json: bool, grace: int, repair: bool) -> None:
    """Check rows, evidence files and the audit log; exit 1 if anything is wrong.

    \b
    One line per problem: the object, what is wrong, what to do. Looks for rows naming
    missing rows (every foreign key), instrument texts that no longer match their sha256,
    evidence files missing or changed, files no row refers to, temporary files of
    unfinished uploads, and breaks in the audit log's hash chain.
    """
    store = evidence_store()
    grace_period = timedelta(minutes=grace)
    try:
        report = check_consistency(store, grace_period)
        if repair:
            for path in remove_leftovers(store, report, grace_period):
                click.echo(f"removed {path}", err=True)
            report = check_consistency(store, grace_period)
    except SQLAlchemyError as error:
        raise click.ClickException(
            f"Could not read the database ({getattr(error, 'orig', None) or error!s}). "
            "Check SURVEYAPP_DATABASE_URL, and run surveyapp init if the database is not at "
            "the latest migration.") from error
    if as_json:
        click.echo(json.dumps(report.as_json(), indent=2, ensure_ascii=False))
    else:
        for problem in report.problems:
            click.echo(problem.line())
        rows = sum(count for name, count in report.checked.items() if name.startswith("rows"))
        click.echo(f"{len(report.problems)} problem(s); checked {rows} rows, "
                   f"{report.checked['stored files']} stored files, "
                   f"{report.checked['audit events']} audit events; "
                   f"{len(report.in_flight)} file(s) of uploads in flight", err=True)
    if report.problems:
        raise SystemExit(1)
