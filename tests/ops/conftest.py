"""Fixtures for the operations tests: new databases on demand, and a populated instance."""

from __future__ import annotations

import io
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, select

from scoring import AnswersInvalid, score
from surveyapp.extensions import db
from surveyapp.models import (
    Answer,
    Cycle,
    CycleState,
    Decision,
    InstrumentVersion,
    Response,
    ResponseState,
    Unit,
    UnitKind,
    User,
)
from surveyapp.services.answers import RawAnswer, layout_for, save_answer
from surveyapp.services.audit import Actor
from surveyapp.services.evidence import add_file, new_version
from surveyapp.services.instrument_versions import loaded_instrument
from surveyapp.services.reporting import cycle_responses
from surveyapp.services.reviews import decide
from surveyapp.services.users import find_user_by_email
from surveyapp.storage import file_sha256
from tests.conftest import PostgresServer
from tests.web.evidence_world import PDF, TEXT, World, build_world

NewDatabase = Callable[..., str]


@pytest.fixture
def new_database(backend: str, tmp_path: Path, request: pytest.FixtureRequest
                 ) -> Iterator[NewDatabase]:
    """``new_database(kind=backend)``: the URL of a new database with no tables."""
    created: list[tuple[PostgresServer, str]] = []

    def make(kind: str = backend) -> str:
        name = f"ops_{uuid.uuid4().hex[:12]}"
        if kind == "sqlite":
            return f"sqlite:///{tmp_path / (name + '.sqlite')}"
        server: PostgresServer = request.getfixturevalue("postgres_server")
        created.append((server, name))
        return server.create_database(name)

    yield make
    for server, name in created:
        server.drop_database(name)


@pytest.fixture
def world(make_unit: Callable[..., Unit], make_user: Callable[..., User]) -> World:
    """The evidence tests' people and units (tests/web/evidence_world.py)."""
    return build_world(make_unit, make_user)


def populate(app: Flask) -> None:
    """``init`` and ``demo``, then answers, evidence (two versions), a review decision,
    and a unit whose parent was created after it: every kind of row, audited."""
    runner = app.test_cli_runner()
    for command in ("init", "demo"):
        result = runner.invoke(args=[command])
        assert result.exit_code == 0, result.output
    with app.app_context():
        cycle = db.session.scalars(select(Cycle).join(InstrumentVersion)
                                   .where(InstrumentVersion.key == "jiu-rbm")).one()
        response = db.session.scalars(select(Response).where(Response.cycle_id == cycle.id)
                                      ).one()
        assert response.respondent is not None
        actor = Actor.of(response.respondent)
        stages = [slot for slot in layout_for(response).slots
                  if slot.question.type == "stage"][:5]
        for number, slot in enumerate(stages):
            save_answer(response, slot.item_id, slot.framework_node,
                        RawAnswer(value=str(1 + number % 4)), actor)
        first = db.session.scalars(select(Answer).where(
            Answer.response_id == response.id, Answer.item_id == stages[0].item_id)).one()
        evidence = add_file(cycle, first, io.BytesIO(TEXT), "minutes.txt", "Minutes", None,
                            actor)
        evidence = new_version(evidence, io.BytesIO(PDF), "minutes.pdf", actor)
        response.state = ResponseState.submitted
        cycle.state = CycleState.submitted
        db.session.flush()
        validator = find_user_by_email("validator@example.org")
        assert validator is not None
        decide(response, stages[0].item_id, "", Decision.accept, "Seen in the minutes.", 2,
               {evidence.id: True}, validator)
        later = Unit(code="ZZ", name="A region made later", kind=UnitKind.country)
        db.session.add(later)
        db.session.flush()
        early = db.session.scalars(select(Unit).where(Unit.code == "CAR")).one()
        early.parent_id = later.id
        db.session.commit()


def row_counts(app: Flask) -> dict[str, int]:
    """Rows in every table of the metadata."""
    with app.app_context():
        return {table.name: db.session.scalar(select(func.count()).select_from(table)) or 0
                for table in db.metadata.sorted_tables}


def cycle_scores(app: Flask) -> dict[int, str]:
    """Each cycle scored from its stored answers, as the JSON the scoring engine writes."""
    with app.app_context():
        scores = {}
        for cycle in db.session.scalars(select(Cycle).order_by(Cycle.id)):
            loaded = loaded_instrument(cycle.instrument_version)
            try:
                scores[cycle.id] = score(loaded.instrument, cycle_responses(cycle, loaded),
                                         sha256=loaded.sha256).to_json()
            except AnswersInvalid as invalid:  # a cycle without answers yet (CPAS demo)
                scores[cycle.id] = "\n".join(problem.format("cycle") for problem in
                                             invalid.problems)
        return scores


def store_checksums(app: Flask) -> dict[str, str]:
    root = Path(app.config["UPLOAD_DIR"])
    return {str(path.relative_to(root)): file_sha256(path)
            for path in sorted(root.rglob("*")) if path.is_file()}
