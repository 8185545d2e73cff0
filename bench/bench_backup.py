"""Backup and restore of a generated instance: time and archive size, against plain copies.

Data (seeded generator): the demo instance (``bench/live.py``, SQLite) plus RESPONSES
submitted partner responses of the demo CCPM cycle with one answer to each of the partner
questionnaire's scored items (code 0-4, a comment on every fifth), and FILES evidence files
of FILE_BYTES random (incompressible) bytes each, inserted directly (the benchmark measures
the backup, not the app's writes).
Baselines, run side by side on the same data:
- backup vs copying the same data without looking at it: SQLite's online backup API into a
  file, then ``tar czf`` of that file and UPLOAD_DIR. The ratio is what the logical dump,
  the checksums and the manifest add.
- restore vs the same baseline (the cheapest way to bring the copy back is to unpack it).
No target: the figures are for docs/reliability.md (how long a nightly backup and a
restore drill take per 100,000 answers).
"""

from __future__ import annotations

import io
import random
import sqlite3
import tarfile
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from bench.live import Instance

RESPONSES = 2000
FILES = 40
FILE_BYTES = 256 * 1024
CCPM_CYCLE = 1
SEED = 7


def _generate(instance: Instance) -> int:
    """Insert the generated responses, answers and files; the number of answers."""
    from sqlalchemy import insert

    from surveyapp.extensions import db
    from surveyapp.models import Answer, Cycle, Evidence, EvidenceKind, Response, ResponseState
    from surveyapp.services.instrument_versions import loaded_instrument
    from surveyapp.storage import evidence_store

    chance = random.Random(SEED)
    app = instance.app()
    with app.app_context():
        cycle = db.session.get_one(Cycle, CCPM_CYCLE)
        partner = next(q for q in loaded_instrument(cycle.instrument_version).instrument
                       .questionnaires if q.id == "partner")
        items = [item.id for item in partner.items if item.type == "single_choice"]
        responses = db.session.execute(insert(Response).returning(Response.id), [
            {"cycle_id": CCPM_CYCLE, "questionnaire": "partner", "language": "en",
             "state": ResponseState.submitted, "organization_type": "1", "version": 1}
            for _ in range(RESPONSES)]).scalars().all()
        answers = [{"response_id": response_id, "item_id": item, "framework_node": "",
                    "value": chance.randint(0, 4),
                    "comment": f"comment {n}" if n % 5 == 0 else None, "version": 1}
                   for response_id in responses for n, item in enumerate(items)]
        db.session.execute(insert(Answer), answers)
        store = evidence_store()
        for number in range(FILES):
            data = chance.randbytes(FILE_BYTES)
            stored, _ = store.put(io.BytesIO(data), max_bytes=FILE_BYTES,
                                  check=lambda _path: None)
            db.session.add(Evidence(
                cycle_id=CCPM_CYCLE, kind=EvidenceKind.file, sha256=stored.sha256,
                size=stored.size, media_type="application/octet-stream",
                original_name=f"document-{number}.bin", description="generated"))
        db.session.commit()
        db.engine.dispose()
    return len(answers)


def _timed(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def run() -> list[dict[str, object]]:
    from surveyapp.backup import restore_backup, write_backup
    from surveyapp.extensions import db
    from surveyapp.storage import evidence_store

    with tempfile.TemporaryDirectory() as folder_name:
        folder = Path(folder_name)
        source = Instance(folder / "source")
        source.prepare()
        answers = _generate(source)
        archive = folder / "backup.tar.gz"
        app = source.app()
        with app.app_context():
            backup_seconds = _timed(lambda: write_backup(db.engine, evidence_store(), archive))
            db.engine.dispose()

        def plain_copy() -> None:
            copy = folder / "copy.sqlite"
            with sqlite3.connect(source.folder / "surveyapp.sqlite") as original, \
                    sqlite3.connect(copy) as target:
                original.backup(target)
            with tarfile.open(folder / "copy.tar.gz", "w:gz") as packed:
                packed.add(copy, arcname="surveyapp.sqlite")
                packed.add(source.folder / "uploads", arcname="uploads")

        copy_seconds = _timed(plain_copy)
        target = Instance(folder / "target")
        target.folder.mkdir()
        (target.folder / "config.py").write_text((source.folder / "config.py").read_text())
        restored = target.app()
        with restored.app_context():
            restore_seconds = _timed(lambda: restore_backup(archive, db.engine,
                                                            evidence_store()))
            db.engine.dispose()
        def unpack() -> None:
            with tarfile.open(folder / "copy.tar.gz") as packed:
                packed.extractall(folder / "unpacked", filter="data")

        unpack_seconds = _timed(unpack)
        size_mb = archive.stat().st_size / 1e6
        copy_mb = (folder / "copy.tar.gz").stat().st_size / 1e6
    what = f"{answers:,} answers + {FILES} files of {FILE_BYTES // 1024} KB"
    return [
        {"name": f"backup, SQLite, {what}", "value": round(backup_seconds, 2), "unit": "s",
         "baseline": "sqlite3 backup API + tar czf", "baseline_value": round(copy_seconds, 2),
         "ratio": round(backup_seconds / copy_seconds, 2), "target": "none", "met": None},
        {"name": f"backup archive size, {what}", "value": round(size_mb, 1), "unit": "MB",
         "baseline": "the plain copy's .tar.gz", "baseline_value": round(copy_mb, 1),
         "ratio": round(size_mb / copy_mb, 2), "target": "none", "met": None},
        {"name": f"restore into a new SQLite database, {what}",
         "value": round(restore_seconds, 2), "unit": "s",
         "baseline": "unpacking the plain copy", "baseline_value": round(unpack_seconds, 2),
         "ratio": round(restore_seconds / unpack_seconds, 2), "target": "none", "met": None},
    ]
