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
from tests.web.access_rules import PRINCIPALS
from tests.web.cycles_world import MINI, MINI_FRAMEWORK, build_world, get_cycle, make_cycle, user
from tests.web.evidence_world import PDF

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
