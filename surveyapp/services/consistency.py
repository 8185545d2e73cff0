"""Is the database consistent with itself and with the evidence store? (``surveyapp check``)

What can go wrong, and what each check looks for:

- a row naming a row that does not exist (every foreign key of every table in the metadata,
  so tables added later are checked too): rows copied in by hand, a restore from a partial
  dump, a database whose foreign keys were once switched off;
- a cycle whose stored instrument text no longer has the sha256 it was pinned to, so its
  scores could no longer be reproduced;
- evidence whose file is missing, or whose file's content no longer has the sha256 it is
  stored under, or the size recorded;
- files in the store that no row refers to (orphans), temporary files of uploads that
  never finished, and files the store did not make;
- a break in the audit log's hash chain (``services.audit.verify_chain``).

An upload stores its file before its row is committed (``surveyapp.storage``), so a crash
or a refused commit leaves at worst a file without a row, never a row without its file. A
file without a row is therefore only a leftover once it is older than the grace period:
younger ones may belong to an upload whose row is being written right now, and are counted
as in flight instead (the same reasoning as ``git gc --prune``). ``remove_leftovers``
deletes old orphans and temporary files; nothing else is ever repaired automatically.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import asdict, dataclass, field
from datetime import timedelta
from pathlib import Path

from sqlalchemy import and_, func, select

from surveyapp.extensions import db
from surveyapp.models import Cycle, Evidence, EvidenceKind, InstrumentVersion
from surveyapp.services.audit import verify_chain
from surveyapp.storage import EvidenceStore, file_sha256

#: Unreferenced files younger than this may belong to an upload still being saved.
DEFAULT_GRACE = timedelta(hours=1)
#: Where damaged or missing data comes back from.
FROM_BACKUP = "from the latest backup (docs/deploy.md, Backups)"


@dataclass(frozen=True)
class Problem:
    """One inconsistency: its kind, the object it concerns, what is wrong and what to do."""

    kind: str
    subject: str
    message: str
    action: str
    #: For problems with a file: its path relative to UPLOAD_DIR.
    path: str | None = None

    def line(self) -> str:
        return f"{self.subject}: {self.message}. {self.action}."


@dataclass
class ConsistencyReport:
    problems: list[Problem] = field(default_factory=list)
    #: What was looked at: rows per table, stored files, temporary files, audit events.
    checked: dict[str, int] = field(default_factory=dict)
    #: Unreferenced or temporary files younger than the grace period (relative paths).
    in_flight: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, object]:
        return {"problems": [asdict(problem) for problem in self.problems],
                "checked": self.checked, "in_flight": self.in_flight}


def check_consistency(store: EvidenceStore, grace: timedelta = DEFAULT_GRACE
                      ) -> ConsistencyReport:
    """Run every check; read-only."""
    report = ConsistencyReport()
    _check_references(report)
    _check_instrument_texts(report)
    referenced = _check_evidence_files(report, store)
    _check_store(report, store, referenced, grace)
    _check_audit_chain(report)
    return report


def remove_leftovers(store: EvidenceStore, report: ConsistencyReport,
                     grace: timedelta = DEFAULT_GRACE) -> list[str]:
    """Delete the orphan and temporary files of ``report`` that are still old; their paths.

    The age is read again just before deleting: an upload of the same content in the
    meantime makes the file recent (``EvidenceStore._move_into_place``) and keeps it.
    """
    removed = []
    for problem in report.problems:
        if problem.kind not in ("orphan_file", "temporary_file") or problem.path is None:
            continue
        path = store.root / problem.path
        age = _age(path)
        if age is not None and age > grace.total_seconds():
            path.unlink(missing_ok=True)
            removed.append(problem.path)
    return removed


# --- The database ------------------------------------------------------------------------


def _row_name(table_name: str, key: tuple[object, ...]) -> str:
    return f"{table_name} {'/'.join(str(part) for part in key)}"


def _check_references(report: ConsistencyReport) -> None:
    """Every foreign key value names an existing row, in every table of the metadata."""
    for table in db.metadata.sorted_tables:
        report.checked[f"rows in {table.name}"] = db.session.scalar(
            select(func.count()).select_from(table)) or 0
        key_columns = list(table.primary_key.columns)
        for constraint in table.foreign_key_constraints:
            parent = constraint.referred_table.alias("parent")
            pairs = [(element.parent, parent.c[element.column.name])
                     for element in constraint.elements]
            orphans = db.session.execute(
                select(*key_columns, *(child for child, _ in pairs))
                .select_from(table.outerjoin(parent, and_(*(c == p for c, p in pairs))))
                .where(*(child.is_not(None) for child, _ in pairs), pairs[0][1].is_(None))
                .order_by(*key_columns))
            for row in orphans:
                key = tuple(row[: len(key_columns)])
                values = ", ".join(f"{child.name} {value}" for (child, _), value
                                   in zip(pairs, row[len(key_columns):], strict=True))
                report.problems.append(Problem(
                    "missing_row", _row_name(table.name, key),
                    f"its {values} names no row of {constraint.referred_table.name}",
                    f"Restore the missing {constraint.referred_table.name} row {FROM_BACKUP}, "
                    f"or delete {_row_name(table.name, key)} if it is not needed"))


def _check_instrument_texts(report: ConsistencyReport) -> None:
    """Each stored instrument text still has its sha256, which scores are pinned to."""
    versions = db.session.execute(select(
        InstrumentVersion.id, InstrumentVersion.key, InstrumentVersion.version,
        InstrumentVersion.sha256, InstrumentVersion.text)).all()
    for version_id, key, version, sha256, text in versions:
        if hashlib.sha256(text.encode("utf-8")).hexdigest() == sha256:
            continue
        message = (f"the stored text of instrument {key} {version} (instrument_versions "
                   f"{version_id}) no longer matches its sha256 {sha256[:12]}…, so scores "
                   "cannot be reproduced")
        action = (f"Restore the text of instrument_versions {version_id} {FROM_BACKUP}, or "
                  f"put back the published file of {key} {version} byte for byte")
        cycles = db.session.execute(select(Cycle.id, Cycle.title).where(
            Cycle.instrument_version_id == version_id).order_by(Cycle.id)).all()
        for cycle_id, title in cycles:
            report.problems.append(Problem("instrument_text", f"cycle {cycle_id} “{title}”",
                                           message, action))
        if not cycles:
            report.problems.append(Problem("instrument_text",
                                           f"instrument_versions {version_id}", message, action))


# --- The evidence store ------------------------------------------------------------------


def _age(path: Path) -> float | None:
    """Seconds since the file was last written, or None once it is gone."""
    try:
        return time.time() - path.stat().st_mtime
    except FileNotFoundError:
        return None


def _check_evidence_files(report: ConsistencyReport, store: EvidenceStore) -> set[str]:
    """Each file row's file exists, with its sha256 and size; the sha256s rows refer to."""
    rows = db.session.execute(
        select(Evidence.id, Evidence.cycle_id, Evidence.sha256, Evidence.size,
               Evidence.original_name)
        .where(Evidence.kind == EvidenceKind.file).order_by(Evidence.id)).all()
    referenced: set[str] = set()
    #: Each stored file is hashed once, however many rows share it.
    content_sha256: dict[str, str] = {}
    for evidence_id, cycle_id, sha256, size, name in rows:
        subject = f"evidence {evidence_id} (“{name}”, cycle {cycle_id})"
        try:
            path = store.path_of(sha256 or "")
        except ValueError:
            report.problems.append(Problem(
                "missing_file", subject, f"it is a file but names no stored file ({sha256!r})",
                "Ask the uploader to upload the document again, then delete this row"))
            continue
        referenced.add(sha256)
        relative = str(path.relative_to(store.root))
        if not path.is_file():
            report.problems.append(Problem(
                "missing_file", subject, f"its file {relative} is missing from the store",
                f"Restore the file {FROM_BACKUP}, or ask the uploader to upload it again",
                relative))
            continue
        if sha256 not in content_sha256:
            content_sha256[sha256] = file_sha256(path)
        if content_sha256[sha256] != sha256:
            report.problems.append(Problem(
                "damaged_file", subject,
                f"its file {relative} has changed: its content's sha256 is now "
                f"{content_sha256[sha256][:12]}…", f"Restore the file {FROM_BACKUP}",
                relative))
        elif size is not None and path.stat().st_size != size:
            report.problems.append(Problem(
                "damaged_file", subject,
                f"its row records {size} bytes but its file {relative} has "
                f"{path.stat().st_size}", "Correct the size in the row: the file itself "
                "matches its sha256", relative))
    report.checked["evidence files"] = len(rows)
    return referenced


def _check_store(report: ConsistencyReport, store: EvidenceStore, referenced: set[str],
                 grace: timedelta) -> None:
    """Files no row refers to, temporary files left by uploads, and foreign files."""
    stored = 0
    for path in store.stored_files():
        stored += 1
        relative = str(path.relative_to(store.root))
        address = store.address_of(path)
        if address is None:
            report.problems.append(Problem(
                "unknown_file", f"file {relative}", "the evidence store did not make it (its "
                "name is not its place's sha256)", "Move it out of UPLOAD_DIR", relative))
        elif address not in referenced:
            _leftover(report, path, relative, grace, Problem(
                "orphan_file", f"file {relative}", "no evidence row refers to it",
                "Delete it (surveyapp check --repair), or restore the row that named it from "
                "a backup", relative))
    temporary = 0
    if store.incoming_dir().is_dir():
        for path in sorted(store.incoming_dir().iterdir()):
            temporary += 1
            relative = str(path.relative_to(store.root))
            _leftover(report, path, relative, grace, Problem(
                "temporary_file", f"file {relative}", "an upload that never finished left it",
                "Delete it (surveyapp check --repair)", relative))
    report.checked["stored files"] = stored
    report.checked["temporary files"] = temporary


def _leftover(report: ConsistencyReport, path: Path, relative: str, grace: timedelta,
              problem: Problem) -> None:
    age = _age(path)
    if age is None:
        return  # removed while we looked: an upload finished or failed
    if age <= grace.total_seconds():
        report.in_flight.append(relative)
    else:
        report.problems.append(problem)


# --- The audit log -----------------------------------------------------------------------


def _check_audit_chain(report: ConsistencyReport) -> None:
    checked, broken = verify_chain()
    report.checked["audit events"] = checked
    if broken is not None:
        report.problems.append(Problem(
            "audit_chain", f"audit event {broken.event_id}", broken.reason,
            "The audit log cannot be repaired: keep this database as it is, compare it with "
            "the latest backup (surveyapp restore into a new database) and find out who "
            "changed it"))
