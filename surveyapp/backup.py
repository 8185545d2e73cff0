"""Backups of a whole instance, and their restore into an empty one.

A backup is one ``.tar.gz`` archive:

- ``database/<table>.jsonl``: every row of every table, one JSON object per line, in
  primary key order. This is a logical dump, the same on SQLite and PostgreSQL, so that a
  backup restores into either database (SQLite to PostgreSQL when an instance grows, and
  back for a test copy); neither ``pg_dump``'s output nor a SQLite file could do that, nor
  could they be checked row by row before anything is written. Tables are found by
  reflecting the database, so tables added by later migrations are included without a
  change here, and are listed in dependency order (parents before children).
- ``evidence/ab/cd/<sha256>``: every evidence file a row refers to.
- ``manifest.json``: the app version, the Alembic revision of the database, the row count
  and sha256 of each table's file, and the sha256 and size of every evidence file.

The rows are one consistent snapshot: on SQLite the online backup API copies the database
first and the copy is read; on PostgreSQL every table is read in one REPEATABLE READ
transaction. Files are copied after the snapshot: an upload writes its file before its row
(``surveyapp.storage``), so every file a row of the snapshot names exists.

Restore checks every checksum and row count before it writes anything, refuses a database
that holds rows (unless ``force``), creates the schema at the backup's revision, writes the
files and then all rows in one transaction, and upgrades to the latest revision. If any step
fails, the files it added are removed and the rows rolled back.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import sqlite3
import tarfile
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from decimal import Decimal
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from alembic.script import ScriptDirectory
from flask import current_app
from flask_migrate import upgrade
from sqlalchemy import (
    Connection,
    Date,
    DateTime,
    Engine,
    Integer,
    LargeBinary,
    MetaData,
    Numeric,
    Table,
    Time,
    bindparam,
    create_engine,
    func,
    select,
    text,
)
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.sql.type_api import TypeEngine

from surveyapp.models import Evidence
from surveyapp.storage import EvidenceStore, file_sha256

FORMAT = "surveyapp-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
DATABASE_DIR = "database"
EVIDENCE_DIR = "evidence"
#: Alembic's own table: its one row becomes the manifest's revision.
ALEMBIC_TABLE = "alembic_version"
BATCH = 1000


class BackupProblem(RuntimeError):
    """The backup cannot be made or restored; ``problems`` say what and what to do."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass
class Manifest:
    app_version: str
    alembic_revision: str
    source_database: str
    created_at: str
    #: In dependency order: {"name", "rows", "path", "sha256"}.
    tables: list[dict[str, Any]] = field(default_factory=list)
    #: {"path", "sha256", "size"}
    files: list[dict[str, Any]] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {"format": FORMAT, "format_version": FORMAT_VERSION, **self.__dict__}

    @classmethod
    def from_json(cls, data: Any) -> Manifest:
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise BackupProblem([f"{MANIFEST} is not a surveyapp backup manifest"])
        if data.get("format_version") != FORMAT_VERSION:
            raise BackupProblem([f"{MANIFEST}: backup format {data.get('format_version')!r} "
                                 f"is not {FORMAT_VERSION}; restore it with the surveyapp "
                                 f"version that made it ({data.get('app_version')})"])
        fields = ("app_version", "alembic_revision", "source_database", "created_at",
                  "tables", "files")
        return cls(**{name: data[name] for name in fields})


def app_version() -> str:
    try:
        return version("surveyapp")
    except PackageNotFoundError:  # a source tree that was never installed
        return "unknown"


# --- Values to and from JSON ----------------------------------------------------------------


def _to_json(value: Any) -> Any:
    """A column value as JSON; times in UTC (SQLite keeps UTC wall times without a zone)."""
    if isinstance(value, datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=UTC)
        return moment.astimezone(UTC).isoformat()
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, bytes | memoryview):
        return base64.b64encode(bytes(value)).decode("ascii")
    return value


def _from_json(value: Any, column_type: TypeEngine[Any]) -> Any:
    """The inverse of :func:`_to_json`, read by the restored column's type."""
    if value is None:
        return None
    if isinstance(column_type, DateTime):
        return datetime.fromisoformat(value)
    if isinstance(column_type, Date):
        return date.fromisoformat(value)
    if isinstance(column_type, Time):
        return time.fromisoformat(value)
    if isinstance(column_type, LargeBinary):
        return base64.b64decode(value)
    if isinstance(column_type, Numeric) and column_type.asdecimal and isinstance(value, str):
        return Decimal(value)
    return value


def _sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# --- Making a backup --------------------------------------------------------------------------


def _tables(connection: Connection) -> list[Table]:
    """Every table of the database but Alembic's, parents before children."""
    metadata = MetaData()
    metadata.reflect(bind=connection)
    return [table for table in metadata.sorted_tables if table.name != ALEMBIC_TABLE]


def _revision(connection: Connection) -> str | None:
    metadata = MetaData()
    metadata.reflect(bind=connection, only=lambda name, _meta: name == ALEMBIC_TABLE)
    if ALEMBIC_TABLE not in metadata.tables:
        return None
    return connection.execute(select(metadata.tables[ALEMBIC_TABLE].c.version_num)).scalar()


@contextmanager
def _snapshot(engine: Engine) -> Iterator[Connection]:
    """A connection that sees one consistent state of the whole database."""
    if engine.dialect.name == "sqlite":
        with tempfile.TemporaryDirectory(prefix="surveyapp-backup-") as folder:
            copy = Path(folder) / "snapshot.sqlite"
            source = engine.raw_connection()
            try:
                target = sqlite3.connect(copy)
                source.driver_connection.backup(target)  # type: ignore[union-attr]
                target.close()
            finally:
                source.close()
            snapshot_engine = create_engine(f"sqlite:///{copy}")
            try:
                with snapshot_engine.connect() as connection:
                    yield connection
            finally:
                snapshot_engine.dispose()
        return
    with engine.connect().execution_options(
        isolation_level="REPEATABLE READ", postgresql_readonly=True
    ) as connection, connection.begin():
        yield connection


def _table_lines(connection: Connection, table: Table) -> Iterator[dict[str, Any]]:
    order = list(table.primary_key.columns) or list(table.columns)
    result = connection.execution_options(yield_per=BATCH).execute(
        select(table).order_by(*order))
    for row in result.mappings():
        yield {name: _to_json(value) for name, value in row.items()}


def _add_bytes(archive: tarfile.TarFile, name: str, data: bytes) -> None:
    member = tarfile.TarInfo(name)
    member.size = len(data)
    member.mtime = int(datetime.now(UTC).timestamp())
    archive.addfile(member, io.BytesIO(data))


def write_backup(engine: Engine, store: EvidenceStore, out: Path) -> Manifest:
    """Write the backup archive ``out`` (atomically: a failed backup leaves no file).

    :raises BackupProblem: the database has no migration revision, or a file a row refers
        to is missing or damaged (``surveyapp check`` lists every such problem).
    """
    out.parent.mkdir(parents=True, exist_ok=True)
    handle, partial_name = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}.",
                                            suffix=".partial")
    partial = Path(partial_name)
    try:
        with os.fdopen(handle, "wb") as raw, tarfile.open(fileobj=raw, mode="w:gz") as archive:
            manifest = _write_members(engine, store, archive)
            _add_bytes(archive, MANIFEST, json.dumps(manifest.as_json(), indent=2,
                                                     ensure_ascii=False).encode("utf-8"))
        with partial.open("rb") as written:
            os.fsync(written.fileno())
        os.replace(partial, out)
    finally:
        partial.unlink(missing_ok=True)
    return manifest


def _write_members(engine: Engine, store: EvidenceStore, archive: tarfile.TarFile) -> Manifest:
    with _snapshot(engine) as connection:
        revision = _revision(connection)
        if revision is None:
            raise BackupProblem(["the database has no migration revision (no alembic_version "
                                 "table): run surveyapp init on it first"])
        manifest = Manifest(app_version=app_version(), alembic_revision=revision,
                            source_database=engine.dialect.name,
                            created_at=datetime.now(UTC).isoformat(timespec="seconds"))
        referenced: set[str] = set()
        for table in _tables(connection):
            lines = []
            for row in _table_lines(connection, table):
                lines.append(json.dumps(row, ensure_ascii=False, sort_keys=True))
                if table.name == Evidence.__tablename__ and row.get("sha256"):
                    referenced.add(row["sha256"])
            data = "".join(line + "\n" for line in lines).encode("utf-8")
            path = f"{DATABASE_DIR}/{table.name}.jsonl"
            _add_bytes(archive, path, data)
            manifest.tables.append({"name": table.name, "rows": len(lines), "path": path,
                                    "sha256": _sha256_bytes(data)})
    problems = []
    for sha256 in sorted(referenced):
        source = store.path_of(sha256)
        relative = source.relative_to(store.root)
        if not source.is_file():
            problems.append(f"evidence file {relative} is missing from UPLOAD_DIR")
            continue
        if file_sha256(source) != sha256:
            problems.append(f"evidence file {relative} has changed since it was stored")
            continue
        path = f"{EVIDENCE_DIR}/{relative}"
        archive.add(source, arcname=path, recursive=False)
        manifest.files.append({"path": path, "sha256": sha256, "size": source.stat().st_size})
    if problems:
        raise BackupProblem([*problems, "run surveyapp check, which says what to do, then "
                                        "back up again"])
    return manifest


# --- Restoring ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Restored:
    manifest: Manifest
    rows: dict[str, int]
    files_added: int


def read_archive(archive_path: Path, folder: Path) -> Manifest:
    """Unpack into ``folder`` and verify every checksum and row count; write nothing else.

    :raises BackupProblem: listing every member that is missing, unexpected or damaged.
    """
    try:
        with tarfile.open(archive_path, "r:gz") as archive:
            members = {member.name: member for member in archive.getmembers()}
            if MANIFEST not in members:
                raise BackupProblem([f"{archive_path}: no {MANIFEST}: not a surveyapp backup"])
            archive.extractall(folder, filter="data")
    except (tarfile.TarError, OSError, EOFError) as error:
        raise BackupProblem([f"{archive_path}: cannot be read as a .tar.gz archive ({error})"]
                            ) from error
    try:
        manifest = Manifest.from_json(json.loads((folder / MANIFEST).read_text("utf-8")))
    except (ValueError, KeyError, TypeError) as error:
        raise BackupProblem([f"{archive_path}: {MANIFEST} cannot be read ({error})"]
                            ) from error
    problems = []
    expected = {MANIFEST}
    for entry in manifest.tables:
        expected.add(entry["path"])
        path = folder / entry["path"]
        if not path.is_file():
            problems.append(f"{entry['path']}: missing from the archive")
            continue
        if file_sha256(path) != entry["sha256"]:
            problems.append(f"{entry['path']}: its sha256 differs from the manifest's")
            continue
        with path.open("rb") as lines:
            count = sum(1 for _line in lines)
        if count != entry["rows"]:
            problems.append(f"{entry['path']}: {count} rows, the manifest says {entry['rows']}")
    for entry in manifest.files:
        expected.add(entry["path"])
        path = folder / entry["path"]
        if not path.is_file():
            problems.append(f"{entry['path']}: missing from the archive")
        elif file_sha256(path) != entry["sha256"] or Path(entry["path"]).name != entry["sha256"]:
            problems.append(f"{entry['path']}: its sha256 differs from the manifest's")
    problems += [f"{name}: not listed in the manifest" for name, member in members.items()
                 if member.isfile() and name not in expected]
    if problems:
        raise BackupProblem([f"{archive_path}: {problem}" for problem in problems]
                            + ["nothing was restored: use an intact copy of the backup"])
    return manifest


def _known_revision(revision: str) -> str:
    """Check the revision is one of this version's migrations; return the latest one."""
    config = current_app.extensions["migrate"].migrate.get_config()
    script = ScriptDirectory.from_config(config)
    try:
        found = script.get_revision(revision)
    except Exception:  # alembic raises several kinds for unknown or ambiguous ids
        found = None
    if found is None:
        raise BackupProblem([f"the backup's database revision {revision} is unknown to this "
                             f"surveyapp ({app_version()}): restore it with the version that "
                             "made it, or a newer one"])
    head = script.get_current_head()
    assert head is not None
    return head


def _rows_held(connection: Connection) -> dict[str, int]:
    held = {}
    for table in _tables(connection):
        count = connection.execute(select(func.count()).select_from(table)).scalar() or 0
        if count:
            held[table.name] = count
    return held


def restore_backup(archive_path: Path, engine: Engine, store: EvidenceStore, *,
                   force: bool = False) -> Restored:
    """Restore ``archive_path`` into the app's database and evidence store, all or nothing.

    :raises BackupProblem: a damaged archive, an unknown revision, a database that holds
        rows (without ``force``) or is at another revision, or a row that cannot be written.
    """
    with tempfile.TemporaryDirectory(prefix="surveyapp-restore-") as folder_name:
        folder = Path(folder_name)
        manifest = read_archive(archive_path, folder)
        head = _known_revision(manifest.alembic_revision)
        with engine.connect() as connection:
            had_tables = bool(_tables(connection))
            held = _rows_held(connection)
            current = _revision(connection)
        if held and not force:
            listed = ", ".join(f"{name}: {count}" for name, count in sorted(held.items()))
            raise BackupProblem([f"the database is not empty ({listed}): restore into a new, "
                                 "empty database (do not run surveyapp init on it first), or "
                                 "add --force to replace everything in it"])
        if had_tables and current != manifest.alembic_revision:
            raise BackupProblem([f"the database is at revision {current}, the backup at "
                                 f"{manifest.alembic_revision}: restore into a new, empty "
                                 "database"])
        if not had_tables:
            upgrade(revision=manifest.alembic_revision)
        added: list[Path] = []
        try:
            for entry in manifest.files:
                if not store.has(entry["sha256"]):
                    _put_file(store, folder / entry["path"], entry)
                    added.append(store.path_of(entry["sha256"]))
            with engine.begin() as connection:
                rows = _load_rows(connection, manifest, folder, replace=bool(held))
        except BaseException:
            for path in added:
                path.unlink(missing_ok=True)
            if not had_tables:
                _drop_everything(engine)
            raise
    if manifest.alembic_revision != head:
        upgrade()
    return Restored(manifest, rows, len(added))


def _put_file(store: EvidenceStore, source: Path, entry: dict[str, Any]) -> None:
    """Into the store the way uploads go (temporary file, fsync, rename)."""
    with source.open("rb") as stream:
        stored, _ = store.put(stream, max_bytes=max(1, entry["size"]), check=lambda _path: None)
    if stored.sha256 != entry["sha256"]:  # read_archive checked it: the disk changed under us
        raise BackupProblem([f"{entry['path']} changed while it was restored"])


def _drop_everything(engine: Engine) -> None:
    """Back to a database with no tables, as it was before a failed restore."""
    metadata = MetaData()
    with engine.begin() as connection:
        metadata.reflect(bind=connection)
        metadata.drop_all(bind=connection)


def _deferred_columns(tables: list[Table]) -> dict[str, list[str]]:
    """Per table, the foreign key columns whose rows may not be written yet when it is:
    references to the table itself (a unit's parent) or to a table that comes later."""
    seen: set[str] = set()
    deferred: dict[str, list[str]] = {}
    for table in tables:
        seen.add(table.name)
        deferred[table.name] = sorted({key.parent.name for key in table.foreign_keys
                                       if key.column.table is table
                                       or key.column.table.name not in seen})
    return deferred


def _read_rows(path: Path, table: Table) -> Iterator[dict[str, Any]]:
    types = {column.name: column.type for column in table.columns}
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            row = json.loads(line)
            unknown = set(row) - set(types)
            if unknown:
                raise BackupProblem([f"{path.name}: column {sorted(unknown)[0]} is not in "
                                     f"table {table.name} at this revision"])
            yield {name: _from_json(value, types[name]) for name, value in row.items()}


def _batches(rows: Iterable[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    batch: list[dict[str, Any]] = []
    for row in rows:
        batch.append(row)
        if len(batch) == BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def _load_rows(connection: Connection, manifest: Manifest, folder: Path, *, replace: bool
               ) -> dict[str, int]:
    tables = {table.name: table for table in _tables(connection)}
    missing = [entry["name"] for entry in manifest.tables if entry["name"] not in tables]
    if missing:
        raise BackupProblem([f"table {missing[0]} of the backup does not exist at revision "
                             f"{manifest.alembic_revision}"])
    if replace:
        for table in reversed(list(tables.values())):
            connection.execute(table.delete())
    order = [tables[entry["name"]] for entry in manifest.tables]
    deferred = _deferred_columns(order)
    later: list[tuple[Table, dict[str, Any]]] = []
    counts = {}
    for entry, table in zip(manifest.tables, order, strict=True):
        counts[table.name] = 0
        for batch in _batches(_read_rows(folder / entry["path"], table)):
            for row in batch:
                values = {name: row[name] for name in deferred[table.name]
                          if row.get(name) is not None}
                if values:
                    later.append((table, {**_key_of(table, row), **values}))
                    row.update(dict.fromkeys(values))
            with _explained(entry["path"]):
                connection.execute(table.insert(), batch)
            counts[table.name] += len(batch)
    with _explained("the references between rows"):
        _write_deferred(connection, later)
    if connection.dialect.name == "postgresql":
        _advance_sequences(connection, order)
    return counts


@contextmanager
def _explained(what: str) -> Iterator[None]:
    """A row the database refuses becomes a problem naming the archive's member."""
    try:
        yield
    except SQLAlchemyError as error:
        reason = str(getattr(error, "orig", None) or error).strip().splitlines()[0]
        raise BackupProblem([f"{what}: the rows could not be written ({reason}); nothing was "
                             "restored"]) from error


def _write_deferred(connection: Connection, later: list[tuple[Table, dict[str, Any]]]) -> None:
    """Fill in the deferred references, now that every row they name exists."""
    groups: dict[tuple[str, tuple[str, ...]], tuple[Table, list[dict[str, Any]]]] = {}
    for table, values in later:
        key = _key_of(table, values)
        changed = tuple(sorted(set(values) - set(key)))
        parameters = {**{f"key_{name}": value for name, value in key.items()},
                      **{f"new_{name}": values[name] for name in changed}}
        groups.setdefault((table.name, changed), (table, []))[1].append(parameters)
    for (_name, changed), (table, parameters) in groups.items():
        statement = table.update().where(
            *(column == bindparam(f"key_{column.name}") for column in table.primary_key.columns)
        ).values({name: bindparam(f"new_{name}") for name in changed})
        connection.execute(statement, parameters)


def _key_of(table: Table, row: dict[str, Any]) -> dict[str, Any]:
    return {column.name: row[column.name] for column in table.primary_key.columns}


def _advance_sequences(connection: Connection, tables: list[Table]) -> None:
    """Restored rows keep their ids; new rows must get ids after them."""
    for table in tables:
        for column in table.primary_key.columns:
            if not isinstance(column.type, Integer):
                continue
            sequence = connection.execute(text("SELECT pg_get_serial_sequence(:t, :c)"),
                                          {"t": table.name, "c": column.name}).scalar()
            if sequence:
                connection.execute(text(
                    f'SELECT setval(:s, COALESCE((SELECT MAX("{column.name}") '
                    f'FROM "{table.name}"), 0) + 1, false)'), {"s": sequence})
