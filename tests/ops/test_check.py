"""``surveyapp check``: every kind of inconsistency is made here, then seen reported.

CHK01 a consistent instance (uploads, answers, audit events) has no problem: exit 0.
CHK02 each kind of problem is reported on its own line naming the object and what to do,
      with exit 1: a row naming a missing row (answers and evidence of a deleted cycle), an
      instrument text changed after its cycles were pinned to its sha256, a missing evidence
      file, a file whose content changed, a size that differs, a file no row refers to, a
      temporary file of an unfinished upload, a file the store did not make, a broken audit
      chain.
CHK03 files no row refers to are uploads in flight while younger than the grace period.
CHK04 ``--repair`` deletes old orphan and temporary files, and nothing else.
CHK05 ``--json`` gives the same problems as objects.
"""

from __future__ import annotations

import io
import json
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import Connection, select, update

from surveyapp.extensions import db
from surveyapp.models import AuditEvent, Cycle, Evidence, InstrumentVersion
from surveyapp.storage import EvidenceStore
from tests.web.evidence_world import PDF, TEXT, CycleIds, World, make_cycle, upload

HOUR = 3600


@pytest.fixture
def ids(app: Flask, world: World, client: FlaskClient, login: Callable[..., object]) -> CycleIds:
    """A cycle with two uploaded files (each attached to an answer) and their audit events."""
    found = make_cycle(app, world)
    login(world.focal_point)
    for name, data, item in (("report.pdf", PDF, "1.1"), ("minutes.txt", TEXT, "1.2")):
        assert upload(client, found.cycle, found.response, name, data, item_id=item
                      ).status_code == 200
    return found


def store_of(app: Flask) -> EvidenceStore:
    return EvidenceStore(Path(app.config["UPLOAD_DIR"]))


def evidence_file(app: Flask, name: str) -> tuple[int, Path]:
    with app.app_context():
        row = db.session.scalars(select(Evidence).where(Evidence.original_name == name)).one()
        assert row.sha256 is not None
        return row.id, store_of(app).path_of(row.sha256)


def age(path: Path, seconds: float) -> None:
    """Make the file look written ``seconds`` ago."""
    moment = time.time() - seconds
    os.utime(path, (moment, moment))


def check(runner: FlaskCliRunner, *options: str) -> tuple[int, list[str]]:
    result = runner.invoke(args=["check", *options])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result.exit_code, result.stdout.splitlines()


@contextmanager
def foreign_keys_off(app: Flask) -> Iterator[Connection]:
    """A connection on which deletes leave the rows that refer to the deleted ones."""
    with app.app_context(), db.engine.connect() as connection:
        if connection.dialect.name == "sqlite":
            connection.exec_driver_sql("PRAGMA foreign_keys = OFF")
        else:  # foreign keys and their cascades are triggers, skipped in replica mode
            connection.exec_driver_sql("SET session_replication_role = replica")
        yield connection
        connection.commit()


def test_consistent_instance_has_no_problem(app: Flask, ids: CycleIds,
                                            runner: FlaskCliRunner) -> None:
    """CHK01."""
    status, lines = check(runner)
    assert (status, lines) == (0, [])
    report = json.loads(runner.invoke(args=["check", "--json"]).stdout)
    assert report["problems"] == []
    assert report["checked"]["evidence files"] == 2
    assert report["checked"]["stored files"] == 2
    assert report["checked"]["rows in answers"] == 2
    assert report["checked"]["audit events"] >= 2


def test_rows_of_a_deleted_cycle_are_reported(app: Flask, ids: CycleIds,
                                              runner: FlaskCliRunner) -> None:
    """CHK02: answers and evidence pointing to a cycle that is gone."""
    with foreign_keys_off(app) as connection:
        connection.execute(Cycle.__table__.delete().where(Cycle.id == ids.cycle))
    status, lines = check(runner)
    assert status == 1
    missing = "names no row of cycles. Restore the missing cycles row from the latest backup"
    assert f"responses {ids.response}: its cycle_id {ids.cycle} {missing}" in "\n".join(lines)
    evidence = [line for line in lines if line.startswith("evidence ")]
    assert len(evidence) == 2
    assert all(f"its cycle_id {ids.cycle} names no row of cycles" in line for line in evidence)
    assert any(line.startswith("cycle_participants ") for line in lines)


def test_changed_instrument_text_is_reported_for_its_cycles(
    app: Flask, ids: CycleIds, runner: FlaskCliRunner
) -> None:
    """CHK02: the cycle's pinned instrument no longer has its sha256."""
    with app.app_context():
        version_id = db.session.get_one(Cycle, ids.cycle).instrument_version_id
        db.session.execute(update(InstrumentVersion).where(InstrumentVersion.id == version_id)
                           .values(text=InstrumentVersion.text + "\n# edited by hand\n"))
        db.session.commit()
    status, lines = check(runner)
    assert status == 1
    assert [line for line in lines if line.startswith(f"cycle {ids.cycle} ")] == [
        f"cycle {ids.cycle} “UNDP RBM 2026”: the stored text of instrument jiu-rbm "
        f"{_version(app, version_id)} (instrument_versions {version_id}) no longer matches "
        f"its sha256 {_sha256(app, version_id)[:12]}…, so scores cannot be reproduced. "
        f"Restore the text of instrument_versions {version_id} from the latest backup "
        "(docs/deploy.md, Backups), or put back the published file of jiu-rbm "
        f"{_version(app, version_id)} byte for byte."]


def _version(app: Flask, version_id: int) -> str:
    with app.app_context():
        return db.session.get_one(InstrumentVersion, version_id).version


def _sha256(app: Flask, version_id: int) -> str:
    with app.app_context():
        return db.session.get_one(InstrumentVersion, version_id).sha256


def test_missing_file_is_reported(app: Flask, ids: CycleIds, runner: FlaskCliRunner) -> None:
    """CHK02."""
    evidence_id, path = evidence_file(app, "report.pdf")
    path.unlink()
    status, lines = check(runner)
    relative = path.relative_to(store_of(app).root)
    assert (status, lines) == (1, [
        f"evidence {evidence_id} (“report.pdf”, cycle {ids.cycle}): its file {relative} is "
        "missing from the store. Restore the file from the latest backup (docs/deploy.md, "
        "Backups), or ask the uploader to upload it again."])


def test_changed_file_is_reported(app: Flask, ids: CycleIds, runner: FlaskCliRunner) -> None:
    """CHK02: the content no longer has the sha256 it is stored under."""
    evidence_id, path = evidence_file(app, "minutes.txt")
    path.write_bytes(TEXT.replace(b"12 March", b"13 March"))
    status, lines = check(runner)
    assert status == 1
    assert len(lines) == 1
    assert lines[0].startswith(f"evidence {evidence_id} (“minutes.txt”, cycle {ids.cycle}): "
                               f"its file {path.relative_to(store_of(app).root)} has changed")


def test_size_that_differs_is_reported(app: Flask, ids: CycleIds,
                                       runner: FlaskCliRunner) -> None:
    """CHK02."""
    evidence_id, _path = evidence_file(app, "report.pdf")
    with app.app_context():
        db.session.execute(update(Evidence).where(Evidence.id == evidence_id).values(size=1))
        db.session.commit()
    status, lines = check(runner)
    assert status == 1
    assert lines == [line for line in lines if line.startswith(f"evidence {evidence_id} ")]
    assert "its row records 1 bytes but its file" in lines[0]


def test_orphan_temporary_and_foreign_files_are_reported(
    app: Flask, ids: CycleIds, runner: FlaskCliRunner
) -> None:
    """CHK02."""
    store = store_of(app)
    stored, _ = store.put(io.BytesIO(b"uploaded, but its row was never committed"),
                          max_bytes=1000, check=lambda _path: None)
    orphan = store.path_of(stored.sha256)
    temporary = store.incoming_dir() / "upload-abc123"
    temporary.write_bytes(b"half an upload")
    foreign = store.root / "notes.txt"
    foreign.write_text("copied here by hand")
    for path in (orphan, temporary):
        age(path, 2 * HOUR)
    status, lines = check(runner)
    assert status == 1
    assert sorted(lines) == sorted([
        f"file {orphan.relative_to(store.root)}: no evidence row refers to it. Delete it "
        "(surveyapp check --repair), or restore the row that named it from a backup.",
        "file incoming/upload-abc123: an upload that never finished left it. Delete it "
        "(surveyapp check --repair).",
        "file notes.txt: the evidence store did not make it (its name is not its place's "
        "sha256). Move it out of UPLOAD_DIR."])


def test_young_unreferenced_files_are_uploads_in_flight(
    app: Flask, ids: CycleIds, runner: FlaskCliRunner
) -> None:
    """CHK03."""
    store = store_of(app)
    stored, _ = store.put(io.BytesIO(b"being saved right now"), max_bytes=1000,
                          check=lambda _path: None)
    (store.incoming_dir() / "upload-now").write_bytes(b"arriving")
    status, lines = check(runner)
    assert (status, lines) == (0, [])
    report = json.loads(runner.invoke(args=["check", "--json"]).stdout)
    assert sorted(report["in_flight"]) == sorted([
        str(store.path_of(stored.sha256).relative_to(store.root)), "incoming/upload-now"])
    status, lines = check(runner, "--grace", "0")
    assert status == 1
    assert len(lines) == 2


def test_repair_removes_old_leftovers_only(app: Flask, ids: CycleIds,
                                           runner: FlaskCliRunner) -> None:
    """CHK04: old orphans and temporary files go; young ones, missing files and rows stay."""
    store = store_of(app)
    old, _ = store.put(io.BytesIO(b"old orphan"), max_bytes=1000, check=lambda _path: None)
    young, _ = store.put(io.BytesIO(b"young orphan"), max_bytes=1000, check=lambda _path: None)
    age(store.path_of(old.sha256), 2 * HOUR)
    temporary = store.incoming_dir() / "upload-old"
    temporary.write_bytes(b"half")
    age(temporary, 2 * HOUR)
    evidence_id, missing = evidence_file(app, "report.pdf")
    missing.unlink()
    result = runner.invoke(args=["check", "--repair"])
    assert result.exit_code == 1
    assert sorted(result.stderr.splitlines()[:2]) == sorted([
        f"removed {store.path_of(old.sha256).relative_to(store.root)}",
        "removed incoming/upload-old"])
    assert [line.split(":")[0] for line in result.stdout.splitlines()] == [
        f"evidence {evidence_id} (“report.pdf”, cycle {ids.cycle})"]
    assert not store.has(old.sha256) and not temporary.exists()
    assert store.has(young.sha256)
    assert evidence_file(app, "minutes.txt")[1].is_file()


def test_broken_audit_chain_is_reported(app: Flask, ids: CycleIds,
                                        runner: FlaskCliRunner) -> None:
    """CHK02: reuses the audit log's own verification."""
    with app.app_context():
        first = db.session.scalars(select(AuditEvent).order_by(AuditEvent.id)).first()
        assert first is not None
        first_id = first.id
        db.session.execute(update(AuditEvent).where(AuditEvent.id == first_id)
                           .values(actor_label="someone else"))
        db.session.commit()
    status, lines = check(runner)
    assert status == 1
    assert lines == [f"audit event {first_id}: its content does not match its hash: the event "
                     "was altered. The audit log cannot be repaired: keep this database as it "
                     "is, compare it with the latest backup (surveyapp restore into a new "
                     "database) and find out who changed it."]


def test_json_lists_every_problem_with_its_kind(app: Flask, ids: CycleIds,
                                                runner: FlaskCliRunner) -> None:
    """CHK05."""
    evidence_id, path = evidence_file(app, "report.pdf")
    path.unlink()
    (store_of(app).root / "stray.bin").write_bytes(b"?")
    result = runner.invoke(args=["check", "--json"])
    assert result.exit_code == 1
    problems = json.loads(result.stdout)["problems"]
    assert [(p["kind"], p["subject"]) for p in problems] == [
        ("missing_file", f"evidence {evidence_id} (“report.pdf”, cycle {ids.cycle})"),
        ("unknown_file", "file stray.bin")]
    assert problems[0]["path"] == str(path.relative_to(store_of(app).root))
    assert all(problem["action"] for problem in problems)
