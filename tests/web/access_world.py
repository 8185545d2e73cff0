"""The world the access-control matrix runs in: one cycle in each workflow state.

Built once per test on ``cycles_world``: the country CAR with the clusters CAR-HEALTH (the
cycles' unit) and CAR-WASH, the UN system with UNDP, the mission MINUSCA, and a person for
each :data:`~tests.web.access_rules.PRINCIPALS` entry. Each cycle (instrument ``MINI``) has
two focal points and a validator assigned; the routes name the first focal point's
response (the respondent's). It has a results framework, an answered stage item with
a PDF attached, two partner links (one already opened by the partner, one spare to revoke)
and a notice for the focal point. It is opened through the services, filled, and then set
to its state, so every route has real ids to work on.
"""

from __future__ import annotations

import io
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

from flask import Flask, session
from flask.testing import FlaskClient
from flask_login import login_user
from sqlalchemy import select

from surveyapp.extensions import db
from surveyapp.models import CycleState, Response, ResponseState, Role, Unit, User
from surveyapp.models.base import now_utc
from surveyapp.services.answers import RawAnswer, save_answer
from surveyapp.services.audit import Actor
from surveyapp.services.evidence import add_file
from surveyapp.services.invitations import (
    TOKEN_BYTES,
    create_invitations,
    response_for_invitation,
)
from surveyapp.services.notifications import notify
from tests.web.access_rules import PRINCIPALS, Principal
from tests.web.cycles_world import MINI, MINI_FRAMEWORK, build_world, get_cycle, make_cycle, user
from tests.web.evidence_world import PDF, TEXT

#: The response state that goes with each cycle state.
RESPONSE_STATE = {
    CycleState.draft: ResponseState.draft,
    CycleState.open: ResponseState.draft,
    CycleState.submitted: ResponseState.submitted,
    CycleState.in_review: ResponseState.submitted,
    CycleState.validated: ResponseState.validated,
    CycleState.closed: ResponseState.validated,
}


@dataclass(frozen=True)
class Target:
    """The ids of one cycle's things, to put in the routes' addresses."""

    state: CycleState
    cycle_id: int
    response_id: int
    answer_id: int
    evidence_id: int
    partner_token: str
    spare_invitation_id: int
    notification_id: int


@dataclass(frozen=True)
class AccessWorld:
    #: The account of each signed-in principal, by principal key.
    accounts: dict[str, int]
    targets: tuple[Target, ...]
    #: A well-formed token that no invitation has: what a guess at a link looks like.
    unknown_token: str


def build_access_world(app: Flask, make_unit: Callable[..., Unit],
                       make_user: Callable[..., User]) -> AccessWorld:
    base = build_world(make_unit, make_user)
    accounts = {
        "admin, own unit": make_user("admin@example.org", role=Role.admin, unit=base.country),
        "admin, other unit": make_user("admin@undp.example.org", role=Role.admin,
                                       unit=base.organisation),
        "coordinator, own unit": base.coordinator,
        "coordinator, other unit": base.stranger,
        "focal point, own unit, assigned, the respondent": base.focal_point,
        "focal point, own unit, assigned, another respondent": base.second_focal_point,
        "focal point, own unit, not assigned": make_user(
            "fp3@example.org", role=Role.focal_point, unit=base.cluster),
        "focal point, other unit": base.other_focal_point,
        "validator, own unit, assigned": base.validator,
        "validator, own unit, not assigned": make_user(
            "val2@example.org", role=Role.validator, unit=base.cluster),
        "validator, other unit": make_user("val@undp.example.org", role=Role.validator,
                                           unit=base.organisation),
        "viewer, own unit": base.viewer,
        "viewer, other unit": make_user("viewer@minusca.example.org", role=Role.viewer,
                                        unit=base.mission),
    }
    assert set(accounts) == {p.key for p in PRINCIPALS if p.signed_in}
    targets = []
    for state in CycleState:
        cycle_id = make_cycle(app, MINI, base.cluster, base.coordinator,
                              focal_points=[base.focal_point, base.second_focal_point],
                              validators=[base.validator],
                              framework=MINI_FRAMEWORK, state=CycleState.open)
        targets.append(_fill(app, cycle_id, state, base.focal_point, base.coordinator))
    return AccessWorld(accounts={key: person.id for key, person in accounts.items()},
                       targets=tuple(targets),
                       unknown_token=secrets.token_urlsafe(TOKEN_BYTES))


def _fill(app: Flask, cycle_id: int, state: CycleState, focal_point: User,
          coordinator: User) -> Target:
    """Answer, attach, invite and notify in the open cycle, then set it to ``state``."""
    with app.app_context():
        cycle = get_cycle(cycle_id)
        respondent = user(focal_point.email)
        actor = Actor.of(respondent)
        response = db.session.scalars(select(Response).where(
            Response.cycle_id == cycle_id, Response.respondent_id == respondent.id,
            Response.questionnaire == "self")).one()
        answer = save_answer(response, "a_stage", "", RawAnswer(value="2"), actor).answer
        assert answer is not None
        evidence = add_file(cycle, answer, io.BytesIO(PDF), "report.pdf", "Annual report",
                            date(2025, 6, 30), actor)
        (partner, token), (spare, _spare_token) = create_invitations(
            cycle, "partners", count=2, language="en",
            expires_on=date.today() + timedelta(days=30), actor=Actor.of(user(coordinator.email)))
        response_for_invitation(partner, organization_type="1")
        notice, = notify([respondent], "returned", "An item came back to you.",
                         f"/cycles/{cycle_id}", cycle)
        cycle.state = state
        response.state = RESPONSE_STATE[state]
        if response.state is not ResponseState.draft:
            response.submitted_at = now_utc()
        db.session.commit()
        return Target(state, cycle_id, response.id, answer.id, evidence.id, token, spare.id,
                      notice.id)


def sign_in(app: Flask, client: FlaskClient, user_id: int) -> None:
    """Put a fresh sign-in of the user in the client's session, as the sign-in form would.

    Faster than the form (no password hash to check) and still the real session: the
    user's current session token, with Flask-Login's "strong" protection identifier.
    """
    with app.app_context():
        account = db.session.get_one(User, user_id)
        with app.test_request_context(environ_base=client.environ_base):
            login_user(account)
            signed = dict(session)
    with client.session_transaction() as stored:
        stored.clear()
        stored.update(signed)


# --- Filling in the routes ----------------------------------------------------------------

#: How each URL argument is filled: from the cycle of the state under test, or a constant.
#: A route with an argument missing here fails the matrix, naming the argument.
ARGUMENT_VALUES: dict[str, Callable[[Target, Principal, AccessWorld], object]] = {
    "cycle_id": lambda target, _who, _world: target.cycle_id,
    "response_id": lambda target, _who, _world: target.response_id,
    "evidence_id": lambda target, _who, _world: target.evidence_id,
    "invitation_id": lambda target, _who, _world: target.spare_invitation_id,
    "notification_id": lambda target, _who, _world: target.notification_id,
    # The partner holds the cycle's link; everyone else tries a guess at one.
    "token": lambda target, who, world: target.partner_token if who.partner
    else world.unknown_token,
    "questionnaire": lambda _target, _who, _world: "self",
    "item_id": lambda _target, _who, _world: "a_stage",
    "number": lambda _target, _who, _world: 1,
    "extension": lambda _target, _who, _world: "xlsx",
    "filename": lambda _target, _who, _world: "favicon.svg",
}


def _evidence_target(target: Target) -> dict[str, object]:
    """A form naming an unanswered item of the respondent's response."""
    return {"response_id": target.response_id, "item_id": "a_choice", "framework_node": "",
            "description": "Minutes", "document_date": "2025-06-30"}


#: Query (GET) or form (POST) data that a route needs to reach its access checks.
REQUEST_DATA: dict[str, Callable[[Target], dict[str, object]]] = {
    "evidence.item": lambda target: {"response": target.response_id, "item": "a_stage"},
    "evidence.upload": lambda target: {
        **_evidence_target(target), "file": (io.BytesIO(TEXT), "minutes.txt")},
    "evidence.link": lambda target: {
        **_evidence_target(target), "url": "https://example.org/minutes"},
    "evidence.attach_existing": lambda target: {
        **_evidence_target(target), "evidence_id": target.evidence_id},
    "evidence.detach_from": lambda target: {"answer_id": target.answer_id},
    "evidence.confirm_carried": lambda target: {"answer_id": target.answer_id},
    "evidence.version": lambda target: {"file": (io.BytesIO(TEXT), "minutes.txt")},
}
#: Arguments that name something of one cycle: their routes run once per cycle state.
CYCLE_ARGUMENTS = frozenset({"cycle_id", "response_id", "evidence_id", "invitation_id",
                             "notification_id", "token"})
