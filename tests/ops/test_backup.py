"""``surveyapp backup`` and ``surveyapp restore``, on SQLite and PostgreSQL and across them.

BAK01 a backup restored into a new, empty database gives the same rows in every table of
      the metadata (tables added later included), byte-identical scores for every cycle,
      the same evidence files, an intact audit chain and no problem for ``surveyapp check``;
      new rows get new ids afterwards.
BAK02 the same across databases: SQLite to PostgreSQL and PostgreSQL to SQLite.
BAK03 the manifest records the app version, the revision, every table's row count and
      checksum, and every file's checksum.
BAK04 restore refuses a database that holds rows unless --force, which replaces them.
BAK05 restore verifies every checksum first: a changed row file, a changed evidence file,
      a member added to the archive or an unknown revision are refused, and nothing is
      written (no table, no file).
BAK06 a row that cannot be written undoes the whole restore: no table and no file stay.
BAK07 backup refuses while a file a row refers to is missing, and leaves no archive.
"""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
from collections.abc import Callable
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from flask import Flask
from sqlalchemy import inspect

from surveyapp import MIGRATIONS_DIR
from surveyapp.extensions import db
from surveyapp.services.users import create_user
from tests.ops.conftest import NewDatabase, cycle_scores, populate, row_counts, store_checksums

#: The newest migration: what a backup of an up-to-date database records.
HEAD_REVISION = ScriptDirectory(str(MIGRATIONS_DIR)).get_current_head()


@pytest.fixture
def source(make_app: Callable[..., Flask], new_database: NewDatabase) -> Flask:
    app = make_app(new_database())
    populate(app)
    return app


def back_up(app: Flask, out: Path) -> Path:
    result = app.test_cli_runner().invoke(args=["backup", str(out)])
    assert result.exit_code == 0, result.output
    return out


def restore(app: Flask, archive: Path, *options: str) -> tuple[int, str]:
    result = app.test_cli_runner().invoke(args=["restore", str(archive), *options])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result.exit_code, result.output


def table_names(app: Flask) -> list[str]:
    with app.app_context():
        return inspect(db.engine).get_table_names()


def assert_same_instance(original: Flask, restored: Flask) -> None:
    counts = row_counts(restored)
    assert counts == row_counts(original)
    assert all(counts[name] for name in ("answers", "evidence", "item_reviews", "audit_event",
                                         "evidence_reviews", "evidence_links"))
    scores = cycle_scores(restored)
    assert scores == cycle_scores(original)
    assert any('"self_stage": 1' in text and '"validated_stage": 2' in text
               for text in scores.values()), "the JIU cycle scores its answers and review"
    checksums = store_checksums(restored)
    assert checksums == store_checksums(original)
    assert len(checksums) == 2
    runner = restored.test_cli_runner()
    check = runner.invoke(args=["check"])
    assert (check.exit_code, check.stdout) == (0, ""), check.output
    assert "audit log intact" in runner.invoke(args=["audit", "verify"]).output
    with restored.app_context():  # ids continue after the restored ones
        create_user("after.restore@example.org", "After the restore", "a long password here")
        db.session.commit()


def test_restore_gives_the_same_instance(source: Flask, make_app: Callable[..., Flask],
                                         new_database: NewDatabase, tmp_path: Path) -> None:
    """BAK01."""
    archive = back_up(source, tmp_path / "backup.tar.gz")
    target = make_app(new_database())
    status, output = restore(target, archive)
    assert status == 0, output
    assert f"restored {sum(row_counts(source).values())} rows" in output
    assert_same_instance(source, target)


@pytest.mark.postgres_only  # needs both databases; the source runs on each in turn below
@pytest.mark.parametrize("source_kind", ["sqlite", "postgresql"])
def test_restore_into_the_other_database(
    make_app: Callable[..., Flask], new_database: NewDatabase, tmp_path: Path,
    source_kind: str,
) -> None:
    """BAK02."""
    original = make_app(new_database(source_kind))
    populate(original)
    archive = back_up(original, tmp_path / "backup.tar.gz")
    target = make_app(new_database("postgresql" if source_kind == "sqlite" else "sqlite"))
    status, output = restore(target, archive)
    assert status == 0, output
    assert_same_instance(original, target)


def test_manifest_lists_every_table_and_file(source: Flask, tmp_path: Path) -> None:
    """BAK03."""
    archive = back_up(source, tmp_path / "backup.tar.gz")
    with tarfile.open(archive) as opened:
        manifest = json.loads(opened.extractfile("manifest.json").read())  # type: ignore[union-attr]
        members = {name: opened.extractfile(name).read()  # type: ignore[union-attr]
                   for name in opened.getnames() if name != "manifest.json"}
    assert manifest["app_version"] == "0.1.0"
    assert manifest["alembic_revision"] == HEAD_REVISION
    counts = row_counts(source)
    assert {entry["name"]: entry["rows"] for entry in manifest["tables"]} == counts
    for entry in manifest["tables"]:
        assert hashlib.sha256(members[entry["path"]]).hexdigest() == entry["sha256"]
    order = [entry["name"] for entry in manifest["tables"]]
    assert order.index("cycles") < order.index("responses") < order.index("answers")
    assert sorted(entry["path"] for entry in manifest["files"]) == sorted(
        f"evidence/{path}" for path in store_checksums(source))
    for entry in manifest["files"]:
        assert hashlib.sha256(members[entry["path"]]).hexdigest() == entry["sha256"]


def test_restore_refuses_a_database_with_rows_unless_forced(
    source: Flask, make_app: Callable[..., Flask], new_database: NewDatabase, tmp_path: Path
) -> None:
    """BAK04."""
    archive = back_up(source, tmp_path / "backup.tar.gz")
    target = make_app(new_database())
    target.test_cli_runner().invoke(args=["init"])  # registers the bundled instruments
    status, output = restore(target, archive)
    assert status == 1
    assert ("the database is not empty (instrument_versions: 3): restore into a new, empty "
            "database (do not run surveyapp init on it first), or add --force") in output
    assert row_counts(target)["users"] == 0
    status, output = restore(target, archive, "--force")
    assert status == 0, output
    assert_same_instance(source, target)


def rewrite(archive: Path, out: Path, change: Callable[[str, bytes], bytes | None],
            extra: dict[str, bytes] | None = None) -> Path:
    """A copy of the archive with members changed (None drops one) or added."""
    with tarfile.open(archive) as original, tarfile.open(out, "w:gz") as copy:
        for member in original.getmembers():
            data = change(member.name, original.extractfile(member).read())  # type: ignore[union-attr]
            if data is not None:
                member.size = len(data)
                copy.addfile(member, io.BytesIO(data))
        for name, data in (extra or {}).items():
            member = tarfile.TarInfo(name)
            member.size = len(data)
            copy.addfile(member, io.BytesIO(data))
    return out


def changed_email(name: str, data: bytes) -> bytes:
    return data.replace(b"admin@example.org", b"intruder@example.org") \
        if name == "database/users.jsonl" else data


def changed_file(name: str, data: bytes) -> bytes:
    return data + b"tampered" if name.startswith("evidence/") else data


def same_revision_unknown(name: str, data: bytes) -> bytes:
    if name != "manifest.json":
        return data
    return data.replace(f'"{HEAD_REVISION}"'.encode(), b'"ffffffffffff"')


@pytest.mark.parametrize(("change", "extra", "message"), [
    (changed_email, None, "database/users.jsonl: its sha256 differs from the manifest's"),
    (changed_file, None, "its sha256 differs from the manifest's"),
    (lambda _name, data: data, {"evidence/../../escape.sh": b"#!/bin/sh\n"}, "cannot be read"),
    (lambda _name, data: data, {"database/extra.jsonl": b"{}\n"},
     "database/extra.jsonl: not listed in the manifest"),
    (same_revision_unknown, None, "the backup's database revision ffffffffffff is unknown"),
], ids=["row-file", "evidence-file", "path-traversal", "added-member", "unknown-revision"])
def test_restore_verifies_everything_before_writing(
    source: Flask, make_app: Callable[..., Flask], new_database: NewDatabase, tmp_path: Path,
    change: Callable[[str, bytes], bytes | None], extra: dict[str, bytes] | None, message: str,
) -> None:
    """BAK05."""
    archive = rewrite(back_up(source, tmp_path / "backup.tar.gz"), tmp_path / "bad.tar.gz",
                      change, extra)
    target = make_app(new_database())
    status, output = restore(target, archive)
    assert status == 1
    assert message in output
    assert table_names(target) == []
    assert store_checksums(target) == {}


def test_a_row_that_cannot_be_written_undoes_everything(
    source: Flask, make_app: Callable[..., Flask], new_database: NewDatabase, tmp_path: Path
) -> None:
    """BAK06: a consistent archive (checksums recomputed) with two users of one e-mail."""
    archive = back_up(source, tmp_path / "backup.tar.gz")

    def duplicate_user(name: str, data: bytes) -> bytes:
        if name == "database/users.jsonl":
            return data.replace(b"coordinator@example.org", b"admin@example.org")
        if name == "manifest.json":
            return _resealed(archive, data, "database/users.jsonl", duplicate_user)
        return data

    broken = rewrite(archive, tmp_path / "broken.tar.gz", duplicate_user)
    target = make_app(new_database())
    status, output = restore(target, broken)
    assert status == 1
    assert "database/users.jsonl: the rows could not be written" in output
    assert table_names(target) == []
    assert store_checksums(target) == {}


def _resealed(archive: Path, manifest: bytes, path: str,
              change: Callable[[str, bytes], bytes]) -> bytes:
    """The manifest with the checksum of the changed member ``path`` recomputed."""
    with tarfile.open(archive) as opened:
        data = change(path, opened.extractfile(path).read())  # type: ignore[union-attr]
    content = json.loads(manifest)
    for entry in content["tables"]:
        if entry["path"] == path:
            entry["sha256"] = hashlib.sha256(data).hexdigest()
    return json.dumps(content).encode()


def test_backup_refuses_a_missing_file(source: Flask, tmp_path: Path) -> None:
    """BAK07."""
    root = Path(source.config["UPLOAD_DIR"])
    first = next(path for path in sorted(root.rglob("*")) if path.is_file())
    first.unlink()
    out = tmp_path / "backup.tar.gz"
    result = source.test_cli_runner().invoke(args=["backup", str(out)])
    assert result.exit_code == 1
    assert (f"evidence file {first.relative_to(root)} is missing from UPLOAD_DIR"
            in result.output)
    assert "run surveyapp check" in result.output
    assert list(tmp_path.glob("backup.tar.gz*")) == [] and not out.exists()
