"""Answering: page forms and autosave through one service, what is missing, submission,
returned items, carried-over answers, partners' invitation links, and the refusals."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from surveyapp.extensions import db
from surveyapp.models import (
    Answer,
    AuditEvent,
    CycleState,
    Decision,
    Notification,
    ParticipantRole,
    Response,
    ResponseState,
    Unit,
)
from surveyapp.models.base import now_utc
from surveyapp.services.answers import RawAnswer, missing_items, save_answer, submit_response
from surveyapp.services.audit import Actor
from surveyapp.services.carry_forward import carry_forward
from surveyapp.services.cycles import CycleDraft, add_participant, change_state, create_cycle
from surveyapp.services.evidence import add_link, answer_for_item
from surveyapp.services.invitations import create_invitations
from surveyapp.services.reviews import decide
from tests.web.cycles_world import (
    MINI,
    MINI_FRAMEWORK,
    World,
    get_cycle,
    make_cycle,
    response_id,
    user,
)

PAGE_A = "/cycles/{id}/respond/self/page/1"
PAGE_B = "/cycles/{id}/respond/self/page/2"
AUTOSAVE = "/cycles/{id}/respond/self/autosave"


def stored(app: Flask, cycle_id: int, item_id: str, node: str = "") -> Answer | None:
    with app.app_context():
        answer = db.session.scalar(
            select(Answer).join(Response).where(
                Response.cycle_id == cycle_id, Answer.item_id == item_id,
                Answer.framework_node == node))
        if answer is not None:
            db.session.expunge(answer)
        return answer


def fill_self(app: Flask, cycle_id: int, world: World, **overrides: RawAnswer) -> None:
    """Complete the focal point's self-assessment (and the rubric) through the service."""
    answers = {
        "a_stage": RawAnswer(value="2"), "a_choice": RawAnswer(value="1"),
        "a_yes": RawAnswer(value="yes"), "b_number": RawAnswer(value="7"),
        **overrides,
    }
    with app.app_context():
        actor = Actor.of(user(world.focal_point.email))
        response = db.session.get_one(Response, response_id(app, cycle_id, world.focal_point,
                                                            "self"))
        for item_id, raw in answers.items():
            save_answer(response, item_id, "", raw, actor)
        stage = answer_for_item(response, "a_stage", "", actor)
        add_link(get_cycle(cycle_id), stage, "https://example.org/plan.pdf", "The plan",
                 date(2025, 6, 1), actor)
        rubric = db.session.get_one(Response, response_id(app, cycle_id, world.focal_point,
                                                          "rubric"))
        for node in ("OP1", "OP2"):
            save_answer(rubric, "red", node, RawAnswer(
                criteria={"relevance": "2", "extent": "1"}, justification="Seen in reports."),
                actor)
        db.session.commit()


# --------------------------------------------------------------------------- the page


def test_the_page_shows_each_kind_of_question(
    client: FlaskClient, world: World, mini: int, login: Callable[..., Any]
) -> None:
    login(world.focal_point)
    page = client.get(PAGE_A.format(id=mini)).get_data(as_text=True)
    assert "Page 1 of 2" in page
    assert "What area A covers." in page  # the node's description
    for stage, descriptor in (("Starting", "Nothing is in place yet."),
                              ("Mature", "Everything is in place and used.")):
        assert stage in page and descriptor in page
    assert page.index(">Agree</label>") < page.index("Or, when you cannot answer:") < page.index(
        ">Don&#39;t know</label>")
    assert 'data-relevant=\'{"left": {"ref": "a_choice"}, "op": "=", "right": {"value": 2.0}}\'' \
        in page
    assert 'id="q-a_follow" data-slot="a_follow"' in page  # hidden until a_choice = 2
    assert 'name="a_yes~na"' in page and 'name="a_yes~justification"' in page
    assert 'name="a_choice~na"' not in page  # "not applicable" only where allowed
    assert "No evidence attached yet." in page  # the evidence section of a_stage
    second = client.get(PAGE_B.format(id=mini)).get_data(as_text=True)
    assert 'name="b_number~comment"' in second and 'inputmode="numeric"' in second
    assert 'type="date"' in second and 'maxlength="20"' in second


def test_saving_a_page_keeps_what_is_valid_and_explains_the_rest(
    app: Flask, client: FlaskClient, world: World, mini: int, login: Callable[..., Any]
) -> None:
    login(world.focal_point)
    response = client.post(PAGE_B.format(id=mini), data={
        "action": "next", "b_number": "lots", "b_number~comment": "Counted at the meeting",
        "b_date": "2025-02-03", "b_text": "Fine",
    })
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Some answers could not be saved. The rest of this page was saved." in page
    assert "Enter a whole number from 0 to 100, in figures (e.g. 12)." in page
    assert 'value="lots"' in page  # what was typed is shown again, not lost
    number = stored(app, mini, "b_number")
    assert number is not None and number.value is None
    assert number.comment == "Counted at the meeting"
    date_answer = stored(app, mini, "b_date")
    assert date_answer is not None and date_answer.value == "2025-02-03"
    again = client.post(PAGE_B.format(id=mini), data={"action": "next", "b_number": "12"})
    assert again.status_code == 302
    assert again.headers["Location"].endswith(f"/cycles/{mini}/respond/self/review")
    with app.app_context():
        actions = db.session.scalars(select(AuditEvent.action).where(
            AuditEvent.cycle_id == mini, AuditEvent.entity_type == "answer")).all()
    assert actions.count("answer.saved") == 4  # number+comment, date, text, then the number


@pytest.mark.parametrize(
    ("action", "target"),
    [("previous", "/page/1"), ("page-2", "/page/2"), ("review", "/review"), ("save", "/page/2")],
)
def test_the_page_buttons_lead_where_they_say(
    client: FlaskClient, world: World, mini: int, login: Callable[..., Any], action: str,
    target: str,
) -> None:
    login(world.focal_point)
    response = client.post(PAGE_B.format(id=mini), data={"action": action})
    assert response.headers["Location"].endswith(f"/cycles/{mini}/respond/self{target}")


# --------------------------------------------------------------------------- autosave


def test_autosave_saves_what_it_can_and_reports_the_rest(
    app: Flask, client: FlaskClient, world: World, mini: int, login: Callable[..., Any]
) -> None:
    login(world.focal_point)
    reply = client.post(AUTOSAVE.format(id=mini), json={"slots": {
        "a_choice": {"value": "2"},
        "a_follow": {"value": "Because it works"},
        "a_yes": {"value": "", "not_applicable": True},
        "b_number": {"value": "-3", "comment": "Estimated"},
    }})
    assert reply.status_code == 200
    body = reply.get_json()
    assert body["saved"] == ["a_choice", "a_follow", "a_yes", "b_number"]
    assert body["errors"] == {"b_number": {"value": "Enter a whole number from 0 to 100."}}
    assert body["problems"] == {"a_yes": "Explain why this question does not apply.",
                                "b_number": "Answer this question."}
    assert body["relevance"]["a_follow"] is True
    assert body["progress"] == {"answered": 2, "required": 5}
    refused = client.post(AUTOSAVE.format(id=mini), json={"slots": {
        "a_choice": {"not_applicable": True}}})
    assert refused.get_json()["errors"] == {
        "a_choice": {"not_applicable": "This question cannot be answered “not applicable”."}}
    follow = stored(app, mini, "a_follow")
    assert follow is not None and follow.value == "Because it works"


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ([1, 2], 'expected {"slots": {...}}'),
        ({"slots": {"nope": {"value": "1"}}}, "nope: no such question in this questionnaire"),
        ({"slots": {"a_choice": {"value": 2}}}, "a_choice.value: expected text"),
        ({"slots": {"a_yes": {"not_applicable": "yes"}}},
         "a_yes.not_applicable: expected true or false"),
    ],
)
def test_autosave_refuses_a_request_it_cannot_read(
    client: FlaskClient, world: World, mini: int, login: Callable[..., Any], payload: Any,
    message: str,
) -> None:
    login(world.focal_point)
    reply = client.post(AUTOSAVE.format(id=mini), json=payload)
    assert reply.status_code == 400
    assert message in reply.get_json()["error"]


@pytest.mark.app_config(WTF_CSRF_ENABLED=True)
def test_autosave_needs_the_page_csrf_token(
    client: FlaskClient, world: World, mini: int, login: Callable[..., Any]
) -> None:
    login(world.focal_point)
    page = client.get(PAGE_A.format(id=mini)).get_data(as_text=True)
    token = page.split('<meta name="csrf-token" content="', 1)[1].split('"', 1)[0]
    payload = {"slots": {"a_choice": {"value": "1"}}}
    assert client.post(AUTOSAVE.format(id=mini), json=payload).status_code == 400
    saved = client.post(AUTOSAVE.format(id=mini), json=payload, headers={"X-CSRFToken": token})
    assert saved.status_code == 200


# --------------------------------------------------------------------------- missing, submit


def test_the_review_page_lists_what_is_missing_with_links(
    client: FlaskClient, world: World, mini: int, login: Callable[..., Any], app: Flask
) -> None:
    with app.app_context():
        response = db.session.get_one(Response, response_id(app, mini, world.focal_point,
                                                            "self"))
        save_answer(response, "a_stage", "", RawAnswer(value="3"),
                    Actor.of(user(world.focal_point.email)))
        save_answer(response, "a_yes", "", RawAnswer(not_applicable=True),
                    Actor.of(user(world.focal_point.email)))
        db.session.commit()
        problems = {status.slot.key: status.problem for status in missing_items(response)}
    assert problems == {
        "a_stage": "Attach at least one piece of evidence.",
        "a_choice": "Answer this question.",
        "a_yes": "Explain why this question does not apply.",
        "b_number": "Answer this question.",
    }
    login(world.focal_point)
    page = client.get(f"/cycles/{mini}/respond/self/review").get_data(as_text=True)
    assert "Still needed before you can submit (4)" in page
    assert f'href="/cycles/{mini}/respond/self/page/2#q-b_number"' in page
    refused = client.post(f"/cycles/{mini}/respond/self/submit")
    assert refused.status_code == 422
    assert "4 questions still need an answer" in refused.get_data(as_text=True)


def test_submission_locks_the_answers_and_clears_those_the_skip_logic_rules_out(
    app: Flask, client: FlaskClient, world: World, mini: int, login: Callable[..., Any]
) -> None:
    fill_self(app, mini, world, a_choice=RawAnswer(value="2"),
              a_follow=RawAnswer(value="Agreed at the retreat"))
    fill_self(app, mini, world)  # a_choice back to 1: a_follow no longer applies
    login(world.focal_point)
    assert client.post(f"/cycles/{mini}/respond/self/submit").status_code == 302
    follow = stored(app, mini, "a_follow")
    assert follow is not None and follow.value is None
    with app.app_context():
        response = db.session.get_one(Response, response_id(app, mini, world.focal_point,
                                                            "self"))
        assert response.state is ResponseState.submitted
    locked = client.post(AUTOSAVE.format(id=mini), json={"slots": {"b_number": {"value": "9"}}})
    assert locked.status_code == 409
    assert "submitted and are locked" in locked.get_json()["error"]
    paged = client.post(PAGE_B.format(id=mini), data={"action": "next", "b_number": "9"})
    assert paged.status_code == 302
    number = stored(app, mini, "b_number")
    assert number is not None and number.value == 7
    page = client.get(PAGE_B.format(id=mini)).get_data(as_text=True)
    assert "submitted and are locked" in page and 'disabled' in page


def test_returned_items_alone_reopen_and_resubmission_tells_the_validators(
    app: Flask, client: FlaskClient, world: World, mini: int, login: Callable[..., Any]
) -> None:
    fill_self(app, mini, world)
    with app.app_context():
        for questionnaire in ("self", "rubric"):
            submit_response(db.session.get_one(Response, response_id(
                app, mini, world.focal_point, questionnaire)),
                Actor.of(user(world.focal_point.email)))
        assert get_cycle(mini).state is CycleState.submitted
        response = db.session.get_one(Response, response_id(app, mini, world.focal_point,
                                                            "self"))
        decide(response, "b_number", "", Decision.request_changes, "Count the members again.",
               None, {}, user(world.validator.email))
        db.session.commit()
    login(world.focal_point)
    resume = client.get(f"/cycles/{mini}/respond/self/")
    assert resume.headers["Location"].endswith("/respond/self/page/2#q-b_number")
    page = client.get(PAGE_B.format(id=mini)).get_data(as_text=True)
    assert "only those can be edited" in page
    reply = client.post(AUTOSAVE.format(id=mini), json={"slots": {
        "b_number": {"value": "8"}, "b_text": {"value": "Other"}}})
    assert reply.status_code == 200
    assert reply.get_json()["saved"] == ["b_number"]
    assert reply.get_json()["errors"] == {
        "b_text": {"value": "This question can no longer change."}}
    assert client.post(f"/cycles/{mini}/respond/self/submit").status_code == 302
    with app.app_context():
        kinds = db.session.scalars(select(Notification.kind).where(
            Notification.user_id == world.validator.id)).all()
        assert "resubmitted" in kinds
        assert get_cycle(mini).state is CycleState.in_review


def test_carried_over_answers_are_marked_until_confirmed_or_changed(
    app: Flask, client: FlaskClient, world: World, mini: int, login: Callable[..., Any]
) -> None:
    fill_self(app, mini, world)
    with app.app_context():
        actor = Actor.of(user(world.coordinator.email))
        for questionnaire in ("self", "rubric"):
            submit_response(db.session.get_one(Response, response_id(
                app, mini, world.focal_point, questionnaire)),
                Actor.of(user(world.focal_point.email)))
        previous = get_cycle(mini)
        for step in (CycleState.in_review, CycleState.validated, CycleState.closed):
            change_state(previous, step, actor)
        cycle = create_cycle(CycleDraft(
            db.session.get_one(Unit, world.cluster.id), previous.instrument_version,
            "Next year", date(2026, 1, 1), date(2026, 12, 31), previous_cycle=previous), actor)
        add_participant(cycle, user(world.focal_point.email), ParticipantRole.focal_point,
                        actor)
        result = carry_forward(cycle, previous, actor)
        change_state(cycle, CycleState.open, actor)
        db.session.commit()
        new_id = cycle.id
    assert result.answers >= 4
    login(world.focal_point)
    page = client.get(PAGE_A.format(id=new_id)).get_data(as_text=True)
    assert "This answer comes from the previous cycle: <strong>Stage 2: Growing</strong>" in page
    assert "Confirm every carried-over answer on this page" in page
    confirmed = client.post(PAGE_A.format(id=new_id), data={
        "action": "confirm-a_stage", "a_stage": "2", "a_choice": "1", "a_yes": "yes"})
    assert confirmed.headers["Location"].endswith("/page/1#q-a_stage")
    stage = stored(app, new_id, "a_stage")
    assert stage is not None and not stage.carried_over
    choice = stored(app, new_id, "a_choice")
    assert choice is not None and choice.carried_over  # unchanged and not confirmed
    client.post(AUTOSAVE.format(id=new_id), json={"slots": {"a_choice": {"value": "2"}}})
    changed = stored(app, new_id, "a_choice")
    assert changed is not None and not changed.carried_over and changed.value == 2


# --------------------------------------------------------------------------- invitations


def partner_link(app: Flask, cycle_id: int, world: World, **changes: Any) -> str:
    with app.app_context():
        [(invitation, token)] = create_invitations(
            get_cycle(cycle_id), "partners", count=1, language="en",
            expires_on=date.today() + timedelta(days=10),
            actor=Actor.of(user(world.coordinator.email)))
        for name, value in changes.items():
            setattr(invitation, name, value)
        db.session.commit()
    return f"/i/{token}/"


def test_a_partner_answers_through_a_link_once(
    app: Flask, client: FlaskClient, world: World, mini: int
) -> None:
    link = partner_link(app, mini, world)
    landing = client.get(link)
    assert landing.status_code == 200
    assert "Your organisation type?" in landing.get_data(as_text=True)
    started = client.post(link, data={"organization_type": "2", "language": "en"})
    assert started.headers["Location"].endswith(f"{link}page/1")
    page = client.get(f"{link}page/1").get_data(as_text=True)
    assert re.search(r'<input checked[^>]* name="org" type="radio" value="2">', page)
    refused = client.post(f"{link}submit")
    assert refused.status_code == 422  # p_choice is required
    saved = client.post(f"{link}autosave", json={"slots": {"p_choice": {"value": "2"}}})
    assert saved.get_json()["progress"] == {"answered": 2, "required": 2}
    submitted = client.post(f"{link}submit")
    assert submitted.headers["Location"].endswith("/i/thanks?lang=en")
    again = client.get(link)
    assert again.status_code == 409
    assert client.post(f"{link}submit").status_code == 409
    with app.app_context():
        response = db.session.scalar(select(Response).where(
            Response.invitation_id.is_not(None), Response.cycle_id == mini))
        assert response is not None and response.state is ResponseState.submitted
        assert response.organization_type == "2" and response.respondent_id is None
        actors = db.session.scalars(select(AuditEvent.actor_label).where(
            AuditEvent.action == "response.submitted")).all()
        assert actors == [f"invitation {response.invitation_id}"]


@pytest.mark.parametrize(
    ("changes", "status"),
    [
        ({"expires_at": now_utc() - timedelta(days=1)}, 410),
        ({"revoked_at": now_utc()}, 410),
        ({"used_at": now_utc()}, 409),
    ],
)
def test_unusable_links_get_a_page_saying_why(
    app: Flask, client: FlaskClient, world: World, mini: int, changes: dict[str, Any],
    status: int,
) -> None:
    link = partner_link(app, mini, world, **changes)
    for path in (link, f"{link}page/1", f"{link}review"):
        assert client.get(path).status_code == status
    assert client.get("/i/not-a-real-token-at-all-000000/").status_code == 404


# --------------------------------------------------------------------------- refusals


@pytest.mark.parametrize(
    ("who", "method", "path", "status"),
    [
        # wrong role: people of the unit who do not answer this cycle
        ("coordinator", "GET", "/cycles/{id}/respond/self/page/1", 404),
        ("validator", "POST", "/cycles/{id}/respond/self/autosave", 404),
        ("viewer", "GET", "/cycles/{id}/respond/self/review", 404),
        ("second_focal_point", "POST", "/cycles/{id}/respond/self/submit", 404),
        # wrong unit
        ("other_focal_point", "GET", "/cycles/{id}/respond/self/", 404),
        ("stranger", "POST", "/cycles/{id}/respond/self/page/1", 404),
        # no such questionnaire for focal points (answered through links)
        ("focal_point", "GET", "/cycles/{id}/respond/partners/page/1", 404),
    ],
)
def test_respond_routes_refuse_people_who_do_not_answer(
    client: FlaskClient, world: World, mini: int, login: Callable[..., Any], who: str,
    method: str, path: str, status: int,
) -> None:
    login(getattr(world, who))
    response = client.open(path.format(id=mini), method=method, json={"slots": {}}
                           if path.endswith("autosave") else None)
    assert response.status_code == status


@pytest.mark.parametrize("state", [CycleState.draft, CycleState.closed])
def test_nothing_is_saved_outside_the_answering_state(
    app: Flask, client: FlaskClient, world: World, login: Callable[..., Any],
    state: CycleState,
) -> None:
    cycle_id = make_cycle(app, MINI, world.cluster, world.coordinator,
                          focal_points=[world.focal_point], framework=MINI_FRAMEWORK,
                          state=state)
    login(world.focal_point)
    page = client.get(PAGE_A.format(id=cycle_id))
    assert page.status_code == 200
    reason = ("has not been opened for answers yet" if state is CycleState.draft
              else "Answering is closed for this cycle.")
    assert reason in page.get_data(as_text=True)
    reply = client.post(AUTOSAVE.format(id=cycle_id), json={"slots": {"a_choice": {"value": "1"}}})
    assert reply.status_code == 409 and reason in reply.get_json()["error"]
    assert client.post(f"/cycles/{cycle_id}/respond/self/submit").status_code == 422
    client.post(PAGE_A.format(id=cycle_id), data={"action": "save", "a_choice": "1"})
    assert stored(app, cycle_id, "a_choice") is None
