"""The server killed (SIGKILL) during 100 concurrent answer saves and uploads, then restarted.

FLT01 20 focal points, each signed in with their own browser session (CSRF tokens
      included), send 5 writes each, one after the other, all at once: autosaves of a
      free-text answer with a unique value, and uploads of a unique PDF. Once half of them
      have been answered, master and workers get SIGKILL. After a restart the app serves
      and saves again, ``surveyapp check`` reports no problem, every acknowledged write
      (autosave 200 with the slot saved; upload 302 and "is attached") is in the database
      with its file, and no refused upload left a row. The only leftovers a crash may leave
      are files without a row (the file is stored before its row is committed), and
      ``check --repair`` removes them once they are older than the grace period.
FLT02 evidence goes to a temporary file inside the store, is fsynced, then renamed into
      place with the directory fsynced (tests/web/test_storage.py covers the rest).
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import select

from bench.live import (
    NO_ANSWER,
    Client,
    Instance,
    evidence_upload_path,
    jiu_questionnaire,
    respond_path,
    serve,
    unique_pdf,
    upload_fields,
)
from surveyapp.extensions import db
from surveyapp.models import Answer, Evidence
from surveyapp.storage import EvidenceStore
from tests.ops.conftest import NewDatabase

CLIENTS = 20
WRITES_EACH = 5
KILL_AFTER = CLIENTS * WRITES_EACH // 2


@dataclass
class Write:
    client: int
    number: int
    upload: bool
    target: str  # the slot key of an autosave, the item id of an upload
    value: str
    status: int = -1
    acknowledged: bool = False
    refused: bool = False

    @property
    def pdf(self) -> bytes:
        return unique_pdf(self.value)


def _send(client: Client, write: Write, response_id: int) -> None:
    if write.upload:
        answer = client.post_file(evidence_upload_path(),
                                  upload_fields(response_id, write.target, write.value),
                                  f"evidence-{write.client}-{write.number}.pdf", write.pdf,
                                  "application/pdf")
        write.acknowledged = answer.status in (302, 303)
        if write.acknowledged and answer.location:
            after = client.get(answer.location.removeprefix(client.base))
            write.refused = after.status == 200 and "is attached" not in after.body
    else:
        answer = client.post_json(respond_path("autosave"),
                                  {"slots": {write.target: {"value": write.value}}})
        write.acknowledged = (answer.status == 200
                              and write.target in json.loads(answer.body)["saved"])
    write.status = answer.status


@pytest.mark.slow
def test_sigkill_during_writes_loses_nothing_acknowledged(
    new_database: NewDatabase, tmp_path: Path
) -> None:
    """FLT01."""
    instance = Instance(tmp_path / "instance", new_database())
    emails = instance.prepare(focal_points=CLIENTS - 1)
    questionnaire = jiu_questionnaire(instance)
    plans = [[Write(c, n, upload=n % 2 == 1,
                    target=(questionnaire.stage_items[n] if n % 2 else
                            questionnaire.text_slots[n]),
                    value=f"client {c} write {n} {os.urandom(6).hex()}")
              for n in range(WRITES_EACH)] for c in range(CLIENTS)]
    answered = threading.Semaphore(0)
    with serve(instance) as server:
        clients = [Client(server.base).login(email) for email in emails]
        for client in clients:
            assert client.get(respond_path("page/1")).status == 200
        start = threading.Barrier(CLIENTS + 1)

        def work(index: int) -> None:
            start.wait()
            for write in plans[index]:
                _send(clients[index], write, questionnaire.responses[emails[index]])
                answered.release()

        threads = [threading.Thread(target=work, args=(index,)) for index in range(CLIENTS)]
        for thread in threads:
            thread.start()
        start.wait()
        for _ in range(KILL_AFTER):
            assert answered.acquire(timeout=120), "the writes did not get answers"
        server.kill()
        for thread in threads:
            thread.join(timeout=120)
    writes = [write for plan in plans for write in plan]
    statuses = sorted({write.status for write in writes})
    assert not [s for s in statuses if s >= 500], f"server errors before the kill: {statuses}"
    acknowledged = [write for write in writes if write.acknowledged and not write.refused]
    unanswered = [write for write in writes if write.status == NO_ANSWER]
    assert KILL_AFTER <= len(acknowledged) < len(writes), "the kill came mid-way"
    assert unanswered, "some writes were cut off by the kill"

    with serve(instance) as server:  # the restarted app answers and saves
        client = Client(server.base).login(emails[0])
        again = client.post_json(respond_path("autosave"), {"slots": {
            questionnaire.text_slots[WRITES_EACH]: {"value": "after the restart"}}})
        assert again.status == 200, again.body

    check = instance.surveyapp("check", check=False)
    assert (check.returncode, check.stdout) == (0, ""), check.stdout + check.stderr
    _assert_acknowledged_writes_present(instance, writes, questionnaire.responses, emails)
    leftovers = json.loads(instance.surveyapp("check", "--json", "--grace", "0",
                                              check=False).stdout)["problems"]
    assert {problem["kind"] for problem in leftovers} <= {"orphan_file", "temporary_file"}
    store = EvidenceStore(Path(instance.folder / "uploads"))
    for problem in leftovers:  # older than any grace period, as after a night
        moment = time.time() - 2 * 3600
        os.utime(store.root / problem["path"], (moment, moment))
    assert instance.surveyapp("check", "--repair", check=False).returncode == 0
    print(f"\nSIGKILL after {KILL_AFTER} of {len(writes)} writes answered: "
          f"{len(acknowledged)} acknowledged, all present; {len(unanswered)} without an answer; "
          f"{len(leftovers)} file(s) without a row left by the crash, removed by --repair")


def _assert_acknowledged_writes_present(instance: Instance, writes: list[Write],
                                        responses: dict[str, int], emails: list[str]) -> None:
    app = instance.app()
    with app.app_context():
        for write in writes:
            response_id = responses[emails[write.client]]
            if write.upload:
                rows = list(db.session.scalars(select(Evidence).where(
                    Evidence.description == write.value)))
                if write.acknowledged and not write.refused:
                    assert len(rows) == 1, f"acknowledged upload lost: {write}"
                    assert rows[0].sha256 == hashlib.sha256(write.pdf).hexdigest()
                elif write.refused:
                    assert rows == [], f"a refused upload left a row: {write}"
            elif write.acknowledged:
                stored = db.session.scalar(select(Answer.value).where(
                    Answer.response_id == response_id, Answer.item_id == write.target))
                assert stored == write.value, f"acknowledged autosave lost: {write}"
        db.engine.dispose()
