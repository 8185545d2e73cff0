"""The audit log is a hash chain that `surveyapp audit verify` checks (audit issue).

AUD01: an intact chain verifies (exit 0) and says how many events it checked.
AUD02: altering any field of an event directly in the database is caught, naming that event.
AUD03: deleting an event is caught at the event that followed it.
AUD04: concurrent writers never fork the chain (unique prev_hash, retry on conflict).
"""

from __future__ import annotations

import threading

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy import select, text

from surveyapp.extensions import db
from surveyapp.models import AuditEvent
from surveyapp.services.audit import SYSTEM, Actor, record, verify_chain


def _record_events(app: Flask, count: int) -> list[int]:
    with app.app_context():
        ids = [record(SYSTEM, "answer.saved", "answer", n, before={"value": n},
                      after={"value": n + 1}, cycle_id=7).id for n in range(count)]
        db.session.commit()
        return ids


def test_intact_chain_verifies(app: Flask, runner: FlaskCliRunner) -> None:
    """AUD01."""
    _record_events(app, 3)
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 0, result.output
    assert "3 event(s) verified" in result.output


def test_empty_log_verifies(runner: FlaskCliRunner) -> None:
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 0 and "0 event(s)" in result.output


@pytest.mark.parametrize("column, sql_value", [
    ("after", "'{\"value\": 999}'"),
    ("actor_label", "'someone else'"),
    ("action", "'answer.deleted'"),
])
def test_altered_event_is_named(
    app: Flask, runner: FlaskCliRunner, column: str, sql_value: str
) -> None:
    """AUD02: an UPDATE made behind the application's back."""
    ids = _record_events(app, 4)
    with app.app_context():
        db.session.execute(text(f"UPDATE audit_event SET {column} = {sql_value} WHERE id = :id"),
                           {"id": ids[1]})
        db.session.commit()
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1
    assert f"audit event {ids[1]}: its content does not match its hash" in result.output


def test_deleted_event_is_caught_at_its_successor(app: Flask, runner: FlaskCliRunner) -> None:
    """AUD03."""
    ids = _record_events(app, 4)
    with app.app_context():
        db.session.execute(text("DELETE FROM audit_event WHERE id = :id"), {"id": ids[2]})
        db.session.commit()
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1
    assert f"audit event {ids[3]}: its link to the previous event does not match" in result.output


def test_actor_and_values_are_stored(app: Flask, make_user) -> None:  # type: ignore[no-untyped-def]
    user = make_user(email="fp@example.org")
    with app.app_context():
        record(Actor.of(user), "cycle.opened", "cycle", 3, before={"state": "draft"},
               after={"state": "open"}, unit_id=2, cycle_id=3)
        db.session.commit()
        event = db.session.scalars(select(AuditEvent)).one()
        assert (event.actor_id, event.actor_label) == (user.id, "fp@example.org")
        assert (event.before, event.after) == ({"state": "draft"}, {"state": "open"})


@pytest.mark.postgres_only  # SQLite serialises writers itself; the race needs real concurrency
def test_concurrent_writers_keep_one_chain(app: Flask) -> None:
    """AUD04: 4 threads x 10 events, each in its own transaction, on PostgreSQL."""
    errors: list[BaseException] = []

    def write(worker: int) -> None:
        try:
            with app.app_context():
                for n in range(10):
                    record(SYSTEM, "answer.saved", "answer", f"{worker}-{n}")
                    db.session.commit()
        except BaseException as error:  # reported below
            errors.append(error)

    threads = [threading.Thread(target=write, args=(worker,)) for worker in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with app.app_context():
        checked, broken = verify_chain()
    assert (checked, broken) == (40, None)
