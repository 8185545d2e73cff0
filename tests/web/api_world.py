"""Helpers of the API tests: tokens, problem details, and cycles answered and submitted."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Flask
from sqlalchemy import select

from surveyapp.extensions import db
from surveyapp.models import Answer, AuditEvent, CycleState, Response, ResponseState, User
from surveyapp.services.answers import RawAnswer, save_answer, submit_response
from surveyapp.services.api_tokens import create_token
from surveyapp.services.audit import Actor
from surveyapp.services.cycles import change_state
from surveyapp.services.evidence import add_link, answer_for_item
from tests.web.cycles_world import World, get_cycle, make_cycle, response_id, user

API = "/api/v1"
PROBLEM = "application/problem+json"
COMPONENTS = ["1.1", "1.2", "1.3", "2.1", "2.2", "2.3", "2.4", "2.5", "3.1", "3.2", "3.3",
              "3.4", "4.1", "4.2", "4.3", "5.1", "5.2"]


def make_token(app: Flask, person: User, *, name: str = "script",
               expires_on: date | None = None) -> str:
    """A token of ``person``, made through the service; returns its secret."""
    with app.app_context():
        owner = db.session.get_one(User, person.id)
        _token, secret = create_token(owner, name, expires_on, today=date.today())
        db.session.commit()
        return secret


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


class Tokens:
    """Bearer headers for the people of the world, made on first use."""

    def __init__(self, app: Flask, world: World) -> None:
        self.app = app
        self.world = world
        self.made: dict[str, dict[str, str]] = {}

    def __getattr__(self, name: str) -> dict[str, str]:
        if name not in self.made:
            self.made[name] = bearer(make_token(self.app, getattr(self.world, name)))
        return self.made[name]


def problem(reply: Any, status: int) -> dict[str, Any]:
    """The reply's problem details, after checking its status and shape (RFC 9457)."""
    assert reply.status_code == status, reply.get_data(as_text=True)
    assert reply.mimetype == PROBLEM
    body = reply.get_json(force=True)
    assert body["type"] == "about:blank" and body["status"] == status
    assert body["title"] and body["detail"]
    return body


def response_of(app: Flask, cycle_id: int, person: User, questionnaire: str = "self") -> int:
    return response_id(app, cycle_id, person, questionnaire)


def submit_mini(app: Flask, cycle_id: int, world: World) -> None:
    """Answer and submit the focal point's two MINI responses through the services."""
    with app.app_context():
        actor = Actor.of(user(world.focal_point.email))
        response = db.session.get_one(Response, response_of(app, cycle_id, world.focal_point))
        for item_id, value in (("a_stage", "2"), ("a_choice", "1"), ("a_yes", "yes"),
                               ("b_number", "7")):
            save_answer(response, item_id, "", RawAnswer(value=value), actor)
        stage = answer_for_item(response, "a_stage", "", actor)
        add_link(get_cycle(cycle_id), stage, "https://example.org/plan.pdf", "The plan",
                 date(2025, 6, 1), actor)
        rubric = db.session.get_one(
            Response, response_of(app, cycle_id, world.focal_point, "rubric"))
        for node in ("OP1", "OP2"):
            save_answer(rubric, "red", node, RawAnswer(
                criteria={"relevance": "2", "extent": "1"}, justification="Seen."), actor)
        submit_response(response, actor)
        submit_response(rubric, actor)
        db.session.commit()


def submitted_jiu_cycle(app: Flask, world: World) -> int:
    """A JIU cycle whose focal point submitted stage 1 + (n % 5) for the n-th component."""
    cycle_id = make_cycle(app, "jiu-rbm", world.cluster, world.coordinator,
                          focal_points=[world.focal_point], validators=[world.validator])
    with app.app_context():
        response = db.session.get_one(
            Response, response_of(app, cycle_id, world.focal_point, "self_assessment"))
        response.answers.extend(Answer(item_id=cid, value=1 + n % 5)
                                for n, cid in enumerate(COMPONENTS))
        response.state = ResponseState.submitted
        change_state(get_cycle(cycle_id), CycleState.submitted,
                     Actor.of(user(world.coordinator.email)))
        db.session.commit()
    return cycle_id


def events(app: Flask, action: str) -> list[AuditEvent]:
    with app.app_context():
        found = list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)))
        for event in found:
            db.session.expunge(event)
        return found
