"""Every multi-row change is one transaction: a failure at its last write leaves nothing.

TRX01 The audit event is the last row each action writes (``services.audit.record`` runs
      after the change is flushed), or the notifications after it. Making a late insert
      fail, as a full disk or a lost connection would, must undo the rest of the action:
      an autosave of two answers (the second audit event fails), an upload (its answer,
      evidence row and link; the audit event fails), a cycle's change of state (the cycle
      and its audit event; the validators' notification fails). The uploaded file itself
      may stay, as a file without a row, which ``surveyapp check`` counts as in flight and
      later removes (tests/ops/test_check.py).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event

from surveyapp.extensions import db
from surveyapp.models import AuditEvent, Cycle, CycleState, Notification
from tests.ops.conftest import row_counts
from tests.web.evidence_world import PDF, CycleIds, World, make_cycle, upload


class DiskFull(RuntimeError):
    pass


@pytest.fixture
def ids(app: Flask, world: World) -> CycleIds:
    return make_cycle(app, world)


FailInsert = Callable[..., None]


@pytest.fixture
def fail_insert() -> Iterator[FailInsert]:
    """``fail_insert(model, after=0)``: the insert of the model's row number after + 1 fails."""
    listeners: list[tuple[type[Any], Callable[..., None]]] = []

    def arrange(model: type[Any], after: int = 0) -> None:
        written = [0]

        def refuse(*_args: Any) -> None:
            written[0] += 1
            if written[0] > after:
                raise DiskFull(f"could not write to {model.__tablename__}")

        event.listen(model, "before_insert", refuse)
        listeners.append((model, refuse))

    yield arrange
    for model, listener in listeners:
        event.remove(model, "before_insert", listener)


def test_autosave_of_several_answers_is_all_or_nothing(
    app: Flask, world: World, ids: CycleIds, client: FlaskClient,
    login: Callable[..., object], fail_insert: FailInsert,
) -> None:
    """TRX01: the first answer and its audit event are written, the second audit fails."""
    login(world.focal_point)
    fail_insert(AuditEvent, after=1)
    before = row_counts(app)
    with pytest.raises(DiskFull):
        client.post(f"/cycles/{ids.cycle}/respond/self_assessment/autosave", json={"slots": {
            "1.1.rationale": {"value": "first"}, "1.2.rationale": {"value": "second"}}})
    assert row_counts(app) == before


def test_upload_is_all_or_nothing(
    app: Flask, world: World, ids: CycleIds, client: FlaskClient,
    login: Callable[..., object], fail_insert: FailInsert,
) -> None:
    """TRX01: the answer made for the evidence, the evidence and its link all go."""
    login(world.focal_point)
    fail_insert(AuditEvent)
    before = row_counts(app)
    with pytest.raises(DiskFull):
        upload(client, ids.cycle, ids.response, "report.pdf", PDF)
    assert row_counts(app) == before


def test_change_of_state_is_all_or_nothing(
    app: Flask, world: World, ids: CycleIds, client: FlaskClient,
    login: Callable[..., object], fail_insert: FailInsert,
) -> None:
    """TRX01: the cycle and its audit event are written, then a notification fails."""
    login(world.coordinator)
    fail_insert(Notification)
    before = row_counts(app)
    with pytest.raises(DiskFull):
        client.post(f"/cycles/{ids.cycle}/state", data={"target": "submitted"})
    assert row_counts(app) == before
    with app.app_context():
        assert db.session.get_one(Cycle, ids.cycle).state is CycleState.open
