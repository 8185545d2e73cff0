"""``surveyapp backup OUT`` and ``surveyapp restore IN``: a whole instance in one archive."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import with_appcontext

from surveyapp.backup import BackupProblem, restore_backup, write_backup
from surveyapp.extensions import db
from surveyapp.storage import evidence_store


def _fail(problem: BackupProblem) -> None:
    for line in problem.problems:
        click.echo(line, err=True)
    raise SystemExit(1)


@click.command("backup")
@click.argument("out", type=click.Path(dir_okay=False, path_type=Path))
@with_appcontext
def backup(out: Path) -> None:
    """Write the database, the evidence files and a manifest of checksums to OUT (.tar.gz).

    The rows are one consistent snapshot, taken while the app keeps running. The archive
    restores into SQLite or PostgreSQL (surveyapp restore).
    """
    try:
        manifest = write_backup(db.engine, evidence_store(), out)
    except BackupProblem as problem:
        _fail(problem)
    rows = sum(entry["rows"] for entry in manifest.tables)
    click.echo(f"{out}: {rows} rows in {len(manifest.tables)} tables, "
               f"{len(manifest.files)} evidence files, revision {manifest.alembic_revision}")


@click.command("restore")
@click.argument("archive", metavar="IN", type=click.Path(exists=True, dir_okay=False,
                                                          path_type=Path))
@click.option("--force", is_flag=True,
              help="Replace everything in a database that already holds rows.")
@with_appcontext
def restore(archive: Path, force: bool) -> None:
    """Restore a backup made by surveyapp backup into this instance's empty database.

    Every checksum is verified before anything is written; then the schema is created at the
    backup's revision, the files and rows are written (all or nothing), and the database is
    upgraded to the latest revision.
    """
    try:
        restored = restore_backup(archive, db.engine, evidence_store(), force=force)
    except BackupProblem as problem:
        _fail(problem)
    click.echo(f"restored {sum(restored.rows.values())} rows in {len(restored.rows)} tables "
               f"and {len(restored.manifest.files)} evidence files "
               f"({restored.files_added} added to the store) from {archive}, made "
               f"{restored.manifest.created_at} by surveyapp {restored.manifest.app_version}")


commands = (backup, restore)
