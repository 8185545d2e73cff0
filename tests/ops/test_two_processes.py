"""Two app processes (two gunicorn servers) on one PostgreSQL database: no lost update.

The same browser session sends requests to both processes at the same moment, as two tabs
behind a load balancer would.

TWO01 The same answer autosaved from both processes, round after round: every request is
      saved (200) or refused as a conflict (409), never a server error; at least one round
      conflicts; and the answer's history in the audit log is one line, each change made on
      top of the one before it (no change overwrote another it had not seen), ending in the
      stored value, with the row's version counting every change; ``surveyapp check`` finds
      no problem afterwards.
TWO02 Two answers in one autosave against one of them in another: the same, with no
      deadlock surfacing as an error.
TWO03 Both processes move the same cycle from open to submitted at once: exactly one
      change of state is made and audited, the cycle's version goes up once.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bench.live import Client, Instance, jiu_questionnaire, respond_path, serve
from surveyapp.extensions import db
from surveyapp.models import Answer, AuditEvent, Cycle, CycleState
from tests.ops.conftest import NewDatabase

pytestmark = [pytest.mark.slow,
              pytest.mark.postgres_only]  # several processes on one database: PostgreSQL's
ROUNDS = 20
ADMIN = "admin@example.org"


@pytest.fixture
def instance(new_database: NewDatabase, tmp_path: Path) -> Instance:
    instance = Instance(tmp_path / "instance", new_database())
    instance.prepare()
    return instance


def at_once(*sends: Callable[[], Any]) -> list[Any]:
    """Run the requests in threads released together; their results in order."""
    results: list[Any] = [None] * len(sends)
    start = threading.Barrier(len(sends))

    def run(index: int) -> None:
        start.wait()
        results[index] = sends[index]()

    threads = [threading.Thread(target=run, args=(index,)) for index in range(len(sends))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def autosave(client: Client, values: dict[str, str]) -> Callable[[], int]:
    return lambda: client.post_json(respond_path("autosave"), {
        "slots": {slot: {"value": value} for slot, value in values.items()}}).status


def assert_linear_history(instance: Instance, response_id: int, slot: str) -> int:
    """The answer's audited changes form one line ending in its value; their number."""
    app = instance.app()
    with app.app_context():
        answer = db.session.scalars(select(Answer).where(
            Answer.response_id == response_id, Answer.item_id == slot)).one()
        events = list(db.session.scalars(select(AuditEvent).where(
            AuditEvent.entity_type == "answer", AuditEvent.entity_id == str(answer.id),
            AuditEvent.action == "answer.saved").order_by(AuditEvent.id)))
        assert events[0].before is None
        for earlier, later in itertools.pairwise(events):
            assert later.before == earlier.after, "a change overwrote one it had not seen"
        assert events[-1].after["value"] == answer.value
        assert answer.version == len(events)
        db.engine.dispose()
    return len(events)


def test_same_answer_from_two_processes(instance: Instance) -> None:
    """TWO01."""
    questionnaire = jiu_questionnaire(instance)
    slot = questionnaire.text_slots[0]
    with serve(instance, workers=1, name="first") as first, \
            serve(instance, workers=1, name="second") as second:
        one = Client(first.base).login("focal.undp@example.org")
        other = one.on(second.base)
        statuses = [at_once(autosave(one, {slot: f"first {n}"}),
                            autosave(other, {slot: f"second {n}"})) for n in range(ROUNDS)]
    flat = [status for pair in statuses for status in pair]
    assert set(flat) <= {200, 409}, statuses
    assert 409 in flat, "the two processes never wrote at the same moment"
    saved = flat.count(200)
    response_id = questionnaire.responses["focal.undp@example.org"]
    assert assert_linear_history(instance, response_id, slot) == saved
    check = instance.surveyapp("check", check=False)
    assert (check.returncode, check.stdout) == (0, ""), check.stdout
    print(f"\n{ROUNDS} rounds of 2 simultaneous autosaves of one answer from 2 processes: "
          f"{saved} saved, {flat.count(409)} refused as conflicts, no lost update")


def test_overlapping_autosaves_from_two_processes(instance: Instance) -> None:
    """TWO02."""
    questionnaire = jiu_questionnaire(instance)
    both, shared = questionnaire.text_slots[2], questionnaire.text_slots[4]
    with serve(instance, workers=1, name="first") as first, \
            serve(instance, workers=1, name="second") as second:
        one = Client(first.base).login("focal.undp@example.org")
        other = one.on(second.base)
        statuses = [at_once(autosave(one, {both: f"first {n}", shared: f"first {n}"}),
                            autosave(other, {shared: f"second {n}"})) for n in range(ROUNDS)]
    flat = [status for pair in statuses for status in pair]
    assert set(flat) <= {200, 409}, statuses
    response_id = questionnaire.responses["focal.undp@example.org"]
    assert assert_linear_history(instance, response_id, shared) == flat.count(200)
    assert assert_linear_history(instance, response_id, both) == [
        pair[0] for pair in statuses].count(200)


def test_one_change_of_state_wins(instance: Instance) -> None:
    """TWO03: for each open demo cycle."""
    app = instance.app()
    with app.app_context():
        cycles = {cycle.id: cycle.version for cycle in db.session.scalars(
            select(Cycle).where(Cycle.state == CycleState.open))}
        db.engine.dispose()
    assert len(cycles) == 2
    with serve(instance, workers=1, name="first") as first, \
            serve(instance, workers=1, name="second") as second:
        one = Client(first.base).login(ADMIN)
        other = one.on(second.base)
        for cycle_id in cycles:
            statuses = at_once(
                lambda c=cycle_id: one.post_form(f"/cycles/{c}/state", {"target": "submitted"}
                                                 ).status,
                lambda c=cycle_id: other.post_form(f"/cycles/{c}/state", {"target": "submitted"}
                                                   ).status)
            assert all(status < 500 for status in statuses), statuses
    with app.app_context():
        for cycle_id, version in cycles.items():
            cycle = db.session.get_one(Cycle, cycle_id)
            assert cycle.state is CycleState.submitted
            assert cycle.version == version + 1
            changes = [event for event in db.session.scalars(select(AuditEvent).where(
                AuditEvent.entity_type == "cycle", AuditEvent.entity_id == str(cycle_id)))
                if (event.after or {}).get("state") == "submitted"]
            assert len(changes) == 1
        db.engine.dispose()
