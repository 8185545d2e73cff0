"""``surveyapp responses import``: a Kobo/ODK export of partner submissions into a cycle.

The command-line twin of the cycle's "Import submissions" page, for large files or
scripted imports on the server: the same checks, the same report, all or nothing, and
audited as the coordinator named with ``--as``.
"""

from __future__ import annotations

from pathlib import Path
from typing import NoReturn

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import select

from surveyapp.commands.interop import responses
from surveyapp.extensions import db
from surveyapp.models import Cycle, User
from surveyapp.services import ServiceError
from surveyapp.services.access import cycle_access
from surveyapp.services.audit import Actor
from surveyapp.services.submission_import import (
    ImportRefused,
    import_submissions,
    preview,
    report_of,
)


def _fail(lines: list[str]) -> NoReturn:
    db.session.rollback()
    for line in lines:
        click.echo(line, err=True)
    raise SystemExit(1)


@responses.command("import")
@click.argument("file", metavar="FILE")
@click.option("--cycle", "cycle_id", type=int, required=True, help="The cycle's number.")
@click.option("--questionnaire", "-q", required=True, metavar="NAME",
              help="The partner questionnaire the submissions answer.")
@click.option("--as", "email", required=True, metavar="EMAIL",
              help="The coordinator of the cycle's unit who imports (audited as them).")
@click.option("--dry-run", is_flag=True, help="Check and report, import nothing.")
@with_appcontext
def import_command(file: str, cycle_id: int, questionnaire: str, email: str,
                   dry_run: bool) -> None:
    """Import a KoboToolbox or ODK Central export (FILE) into a cycle.

    \b
    Each submission becomes a submitted partner response. All or nothing: when any
    submission is refused (a problem in a cell, a required answer missing, a
    submission already imported), every problem is printed as FILE:ROW:COLUMN:
    message, nothing is imported and the exit status is 1.
    """
    user = db.session.scalar(select(User).where(User.email == email.strip().lower()))
    cycle = db.session.get(Cycle, cycle_id)
    if user is None or cycle is None or not cycle_access(user, cycle).may_manage:
        _fail([f"{email} is not a coordinator of cycle {cycle_id}'s unit (or there is no "
               "such cycle): only they import submissions"])
    try:
        data = Path(file).read_bytes()
    except OSError as error:
        _fail([f"{file}: cannot read the file: {error.strerror}"])
    try:
        batch = preview(cycle, questionnaire, data, Path(file).name, user,
                        max_bytes=int(current_app.config["IMPORT_MAX_BYTES"]))
    except ServiceError as refused:
        _fail([f"{file}: {refused}"])
    report = report_of(batch)
    if not report.acceptable:
        _fail([*report.problem_lines(),
               f"{len(report.refused)} submission(s) refused: nothing imported"
               if report.refused else "nothing imported"])
    if dry_run:
        db.session.rollback()
        click.echo(f"{file}: {len(report.taken)} submission(s) can be imported into cycle "
                   f"{cycle_id} ({questionnaire}); nothing imported (--dry-run)")
        return
    try:
        done = import_submissions(batch, Actor.of(user))
    except ImportRefused as refused:
        _fail([*refused.report.problem_lines(), f"{refused}"])
    except ServiceError as refused:
        _fail([f"{file}: {refused}"])
    db.session.commit()
    click.echo(f"{file}: imported {len(done.taken)} submission(s) into cycle {cycle_id} "
               f"({questionnaire}) as submitted partner responses")


#: ``responses`` is the group of surveyapp/commands/interop.py; the command joins it there.
commands = (responses,)
