"""The JSON API: the web's permission rules (role, unit, workflow state) route by route,
token authentication (never the session cookie), the same answer rules as the web
questionnaire, audited changes, and errors as problem details.

API-1: every operation but the description needs a token; the session cookie is refused.
API-2: cycles: listed, filtered and paged as the user may see them; one cycle with the
       user's permissions; other units' cycles do not exist (404).
API-3: results in the JSON shape of ``surveyapp score --json``; only for those who may read
       results (403), once answers are submitted (409).
API-4: reports as the web's Reports page: PDF read back with pdftotext, workbook with openpyxl.
API-5: answers: read by the respondent, and by validators and coordinators once submitted;
       saved all or nothing with the questionnaire's rules; audited naming the token.
API-6: submission: refused while questions are missing (each named), then locked.
API-7: errors are application/problem+json, also for routing errors, 413 and 500.
"""

from __future__ import annotations

import io
import json
import shutil
import subprocess
from collections.abc import Callable
from datetime import date
from typing import Any

import openpyxl
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from surveyapp.api.operations import OPERATIONS
from surveyapp.extensions import db
from surveyapp.models import (
    Answer,
    CycleState,
    Decision,
    Response,
)
from surveyapp.services.audit import Actor
from surveyapp.services.evidence import add_link, answer_for_item
from surveyapp.services.reporting import score_cycle
from surveyapp.services.reviews import decide
from tests.conftest import csrf_token_in
from tests.web.api_world import (
    API,
    COMPONENTS,
    Tokens,
    events,
    problem,
    response_of,
    submit_mini,
    submitted_jiu_cycle,
)
from tests.web.cycles_world import (
    MINI,
    World,
    get_cycle,
    make_cycle,
    user,
)


@pytest.fixture
def tokens(app: Flask, world: World) -> Tokens:
    return Tokens(app, world)


# --------------------------------------------------------------------------- API-1 tokens


def _example_path(rule: str) -> str:
    return API + rule.replace("<int:cycle_id>", "1").replace("<int:response_id>", "1")


@pytest.mark.parametrize("declared", [op for op in OPERATIONS if not op.public],
                         ids=lambda op: f"{op.method} {op.rule}")
def test_every_operation_needs_a_token(client: FlaskClient, declared: Any) -> None:
    """API-1: no header, another scheme, an empty, malformed or unknown token."""
    path = _example_path(declared.rule)
    for headers in ({}, {"Authorization": "Basic dXNlcjpwYXNz"}, {"Authorization": "Bearer "},
                    {"Authorization": "Bearer not-a-token"},
                    {"Authorization": "Bearer sa_" + "x" * 43}):
        reply = client.open(path, method=declared.method, headers=headers, json={})
        body = problem(reply, 401)
        assert reply.headers["WWW-Authenticate"] == 'Bearer realm="surveyapp"'
        assert "token" in body["detail"]


@pytest.mark.app_config(WTF_CSRF_ENABLED=True)
def test_a_session_cookie_does_not_authenticate_api_calls(
    app: Flask, client: FlaskClient, login: Callable[..., Any], world: World, mini: int
) -> None:
    """API-1: signed in on the web, with the page's CSRF token even: still 401, nothing saved."""
    login(world.focal_point)
    csrf = csrf_token_in(client.get("/account/tokens"))
    assert csrf
    answers = f"{API}/responses/{response_of(app, mini, world.focal_point)}/answers"
    problem(client.get(f"{API}/cycles"), 401)
    problem(client.patch(answers, json={"answers": [{"item": "a_choice", "value": 1}]},
                         headers={"X-CSRFToken": csrf}), 401)
    with app.app_context():
        assert db.session.scalars(select(Answer)).all() == []


@pytest.mark.app_config(WTF_CSRF_ENABLED=True)
def test_token_calls_need_no_csrf_token(
    app: Flask, client: FlaskClient, world: World, mini: int, tokens: Tokens
) -> None:
    answers = f"{API}/responses/{response_of(app, mini, world.focal_point)}/answers"
    reply = client.patch(answers, json={"answers": [{"item": "a_choice", "value": 1}]},
                         headers=tokens.focal_point)
    assert reply.status_code == 200, reply.get_data(as_text=True)


def test_me_names_the_user_roles_and_token(
    client: FlaskClient, world: World, tokens: Tokens
) -> None:
    body = client.get(f"{API}/me", headers=tokens.coordinator).get_json()
    assert body["email"] == world.coordinator.email
    assert body["memberships"] == [{"role": "coordinator", "unit": {
        "code": "CAR", "name": "Unit CAR", "kind": "country"}}]
    assert body["token"]["name"] == "script" and body["token"]["prefix"].startswith("sa_")


# --------------------------------------------------------------------------- API-2 cycles


def test_cycles_are_listed_as_the_user_may_see_them(
    app: Flask, client: FlaskClient, world: World, mini: int, tokens: Tokens
) -> None:
    """API-2: unit roles reach the units below; assignments count; other units see nothing."""
    wash = make_cycle(app, "ccpm", world.other_cluster, world.coordinator,
                      state=CycleState.draft)
    mission = make_cycle(app, "cpas-red", world.mission, world.mission_coordinator,
                         state=CycleState.draft)

    def ids(headers: dict[str, str], query: str = "") -> list[int]:
        reply = client.get(f"{API}/cycles{query}", headers=headers)
        assert reply.status_code == 200 and reply.mimetype == "application/json"
        return [cycle["id"] for cycle in reply.get_json()["items"]]

    assert sorted(ids(tokens.coordinator)) == sorted([mini, wash])
    assert ids(tokens.viewer) == ids(tokens.coordinator)
    assert ids(tokens.focal_point) == [mini]
    assert ids(tokens.validator) == ids(tokens.coordinator)  # a validator of the country
    assert ids(tokens.other_focal_point) == [wash]
    assert ids(tokens.stranger) == []
    assert ids(tokens.mission_coordinator) == [mission]

    assert ids(tokens.coordinator, "?state=draft") == [wash]
    assert sorted(ids(tokens.coordinator, "?state=draft&state=open")) == sorted([mini, wash])
    assert ids(tokens.coordinator, "?unit=CAR-WASH") == [wash]
    assert ids(tokens.coordinator, "?instrument=mini") == [mini]
    assert ids(tokens.coordinator, "?instrument=cpas-red") == []

    first = client.get(f"{API}/cycles?per_page=1", headers=tokens.coordinator).get_json()
    second = client.get(f"{API}/cycles?per_page=1&page=2", headers=tokens.coordinator).get_json()
    assert (first["total"], first["pages"], first["page"], first["per_page"]) == (2, 2, 1, 1)
    assert len(first["items"]) == len(second["items"]) == 1
    assert first["items"][0]["id"] != second["items"][0]["id"]
    cycle = next(c for c in first["items"] + second["items"] if c["id"] == mini)
    assert cycle["state"] == "open" and cycle["unit"]["code"] == "CAR-HEALTH"
    assert cycle["instrument"]["key"] == "mini" and len(cycle["instrument"]["sha256"]) == 64
    assert cycle["report_kind"] is None


@pytest.mark.parametrize(("query", "parameter"), [
    ("?page=0", "page"), ("?page=x", "page"), ("?per_page=101", "per_page"),
    ("?state=finished", "state"), ("?unit=" + "x" * 65, "unit"),
])
def test_bad_list_parameters_are_named(
    client: FlaskClient, world: World, tokens: Tokens, query: str, parameter: str
) -> None:
    body = problem(client.get(f"{API}/cycles{query}", headers=tokens.coordinator), 400)
    assert [error["parameter"] for error in body["errors"]] == [parameter]


def test_one_cycle_with_the_users_permissions(
    client: FlaskClient, world: World, mini: int, tokens: Tokens
) -> None:
    """API-2: the same rules as the web's access service, state included."""
    focal = client.get(f"{API}/cycles/{mini}", headers=tokens.focal_point).get_json()
    assert focal["permissions"] == {
        "unit_roles": ["focal_point"], "assignments": ["focal_point"], "may_manage": False,
        "may_answer": True, "may_review": False, "may_see_results": True}
    assert [q["id"] for q in focal["questionnaires"]] == ["self", "rubric", "partners"]
    coordinator = client.get(f"{API}/cycles/{mini}", headers=tokens.coordinator).get_json()
    assert coordinator["permissions"]["may_manage"] is True
    validator = client.get(f"{API}/cycles/{mini}", headers=tokens.validator).get_json()
    assert validator["permissions"]["may_review"] is False  # not while the cycle is open
    unassigned = client.get(f"{API}/cycles/{mini}", headers=tokens.second_focal_point).get_json()
    assert unassigned["permissions"]["may_see_results"] is False
    for headers in (tokens.other_focal_point, tokens.stranger, tokens.mission_coordinator):
        assert "no such" in problem(client.get(f"{API}/cycles/{mini}", headers=headers),
                                    404)["detail"]
    problem(client.get(f"{API}/cycles/{mini + 1000}", headers=tokens.coordinator), 404)
    problem(client.get(f"{API}/cycles/99999999999999999999", headers=tokens.coordinator), 404)


# --------------------------------------------------------------------------- API-3 results


def test_results_are_the_scoring_json_once_submitted(
    app: Flask, client: FlaskClient, world: World, tokens: Tokens
) -> None:
    """API-3."""
    cycle_id = submitted_jiu_cycle(app, world)
    reply = client.get(f"{API}/cycles/{cycle_id}/results", headers=tokens.viewer)
    assert reply.status_code == 200, reply.get_data(as_text=True)
    body = reply.get_json()
    assert body["cycle_id"] == cycle_id and body["report_kind"] == "preliminary"
    with app.app_context():
        scores = score_cycle(get_cycle(cycle_id)).scores
        assert scores is not None
        expected = json.loads(scores.to_json())
    assert body["scores"] == expected  # the shape and numbers of `surveyapp score --json`
    stages = {r["node"]: r["self_stage"] for r in body["scores"]["results"]
              if r["method"] == "holistic_stage"}
    assert stages == {cid: 1 + n % 5 for n, cid in enumerate(COMPONENTS)}
    assert body["scores"]["configuration"]["self"]["assessed"] == len(COMPONENTS)


def test_results_follow_the_web_rules(
    app: Flask, client: FlaskClient, world: World, mini: int, tokens: Tokens
) -> None:
    """API-3: 409 while answering; 403 for a unit role without results; 404 elsewhere."""
    assert "before the answers are submitted" in problem(
        client.get(f"{API}/cycles/{mini}/results", headers=tokens.coordinator), 409)["detail"]
    problem(client.get(f"{API}/cycles/{mini}/results", headers=tokens.second_focal_point), 403)
    problem(client.get(f"{API}/cycles/{mini}/results", headers=tokens.other_focal_point), 404)
    submit_mini(app, mini, world)
    for headers in (tokens.coordinator, tokens.viewer, tokens.validator, tokens.focal_point):
        reply = client.get(f"{API}/cycles/{mini}/results", headers=headers)
        assert reply.status_code == 200
        assert reply.get_json()["scores"]["instrument"] == "mini"
    problem(client.get(f"{API}/cycles/{mini}/results", headers=tokens.second_focal_point), 403)


# --------------------------------------------------------------------------- API-4 reports


def test_reports_download_as_on_the_web(
    app: Flask, client: FlaskClient, world: World, tokens: Tokens, require_tool: Any
) -> None:
    """API-4."""
    require_tool(shutil.which("pdftotext") is not None, "pdftotext (poppler-utils) is missing")
    cycle_id = submitted_jiu_cycle(app, world)
    pdf = client.get(f"{API}/cycles/{cycle_id}/report.pdf?lang=en", headers=tokens.viewer)
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    assert "attachment" in pdf.headers["Content-Disposition"]
    assert f"jiu-rbm-cycle-{cycle_id}-preliminary-en.pdf" in pdf.headers["Content-Disposition"]
    text = subprocess.run(["pdftotext", "-layout", "-", "-"], input=pdf.data,
                          capture_output=True, check=True).stdout.decode()
    assert world.cluster.name in text and "Results-based management strategy" in text

    xlsx = client.get(f"{API}/cycles/{cycle_id}/report.xlsx?lang=en", headers=tokens.coordinator)
    assert xlsx.status_code == 200
    workbook = openpyxl.load_workbook(io.BytesIO(xlsx.data), read_only=True)
    rows = list(workbook["Answers"].iter_rows(values_only=True))
    stages = {row[2]: int(row[3]) for row in rows[1:] if row[1] == "self_assessment"}
    assert stages == {cid: 1 + n % 5 for n, cid in enumerate(COMPONENTS)}

    body = problem(client.get(f"{API}/cycles/{cycle_id}/report.pdf?lang=de",
                              headers=tokens.viewer), 400)
    assert body["errors"][0]["parameter"] == "lang"
    problem(client.get(f"{API}/cycles/{cycle_id}/report.pdf", headers=tokens.second_focal_point),
            403)
    problem(client.get(f"{API}/cycles/{cycle_id}/report.xlsx", headers=tokens.stranger), 404)


def test_no_report_while_answering(
    client: FlaskClient, world: World, mini: int, tokens: Tokens
) -> None:
    problem(client.get(f"{API}/cycles/{mini}/report.pdf", headers=tokens.coordinator), 409)


# --------------------------------------------------------------------------- API-5 answers


def test_who_reads_which_answers(
    app: Flask, client: FlaskClient, world: World, mini: int, tokens: Tokens
) -> None:
    """API-5: the respondent always; validators and coordinators once submitted; never
    viewers, unassigned focal points or other units."""
    own = response_of(app, mini, world.focal_point)

    def listed(headers: dict[str, str]) -> list[int]:
        reply = client.get(f"{API}/cycles/{mini}/responses", headers=headers)
        assert reply.status_code == 200
        return [entry["id"] for entry in reply.get_json()["items"]]

    assert own in listed(tokens.focal_point)
    for headers in (tokens.validator, tokens.coordinator, tokens.viewer,
                    tokens.second_focal_point):
        assert listed(headers) == []
        problem(client.get(f"{API}/responses/{own}", headers=headers), 404)
    problem(client.get(f"{API}/responses/{own}", headers=tokens.stranger), 404)
    problem(client.get(f"{API}/cycles/{mini}/responses", headers=tokens.stranger), 404)

    detail = client.get(f"{API}/responses/{own}", headers=tokens.focal_point).get_json()
    assert detail["state"] == "draft" and detail["editable"] is True
    assert detail["respondent"] == {"name": world.focal_point.display_name,
                                    "email": world.focal_point.email}
    by_key = {item["key"]: item for item in detail["items"]}
    assert by_key["a_follow"]["relevant"] is False  # skip logic: a_choice is not 2
    assert by_key["a_stage"]["problem"] == "Answer this question."
    assert detail["completion"]["answered"] == 0

    submit_mini(app, mini, world)
    for headers in (tokens.validator, tokens.coordinator):
        assert own in listed(headers)
        reply = client.get(f"{API}/responses/{own}", headers=headers).get_json()
        assert reply["editable"] is False and reply["locked_reason"]
        assert {i["key"]: i["answer"]["value"] for i in reply["items"] if i["answer"]}[
            "b_number"] == 7
    for headers in (tokens.viewer, tokens.second_focal_point):
        problem(client.get(f"{API}/responses/{own}", headers=headers), 404)


def test_answers_are_saved_with_the_questionnaire_rules_and_audited(
    app: Flask, client: FlaskClient, world: World, mini: int, tokens: Tokens
) -> None:
    """API-5: the same parsing as the web form; a part left out stays, null clears it."""
    own = response_of(app, mini, world.focal_point)
    url = f"{API}/responses/{own}/answers"
    reply = client.patch(url, headers=tokens.focal_point, json={"answers": [
        {"item": "b_number", "value": 12, "comment": "Counted at the last meeting"},
        {"item": "a_yes", "not_applicable": True, "justification": "No plan is needed."},
        {"item": "b_date", "value": "2025-03-31"},
    ]})
    assert reply.status_code == 200, reply.get_data(as_text=True)
    body = reply.get_json()
    assert body["saved"] == ["a_yes", "b_number", "b_date"]  # questionnaire order
    items = {item["key"]: item for item in body["response"]["items"]}
    assert items["b_number"]["answer"]["value"] == 12
    assert items["b_number"]["answer"]["comment"] == "Counted at the last meeting"
    assert items["a_yes"]["answer"]["not_applicable"] is True

    cleared = client.patch(url, headers=tokens.focal_point, json={"answers": [
        {"item": "b_number", "comment": None}, {"item": "b_date", "value": None}]}).get_json()
    items = {item["key"]: item for item in cleared["response"]["items"]}
    assert items["b_number"]["answer"]["value"] == 12  # not sent: kept
    assert items["b_number"]["answer"]["comment"] is None
    assert items["b_date"]["answer"]["value"] is None

    rubric = response_of(app, mini, world.focal_point, "rubric")
    reply = client.patch(f"{API}/responses/{rubric}/answers", headers=tokens.focal_point,
                         json={"answers": [{"item": "red", "framework_node": "OP1",
                                            "criteria": {"relevance": 2, "extent": "1"},
                                            "justification": "Seen in reports."}]})
    assert reply.get_json()["saved"] == ["red@OP1"]

    saved = events(app, "answer.saved")
    assert len(saved) == 6
    prefix = client.get(f"{API}/me", headers=tokens.focal_point).get_json()["token"]["prefix"]
    assert {event.actor_label for event in saved} == {
        f"{world.focal_point.email} (API token {prefix})"}
    assert {event.actor_id for event in saved} == {world.focal_point.id}


@pytest.mark.parametrize(("answers", "pointer", "message"), [
    ([{"item": "a_choice", "value": 3}], "/answers/0/value", "Choose one of the answers"),
    ([{"item": "a_stage", "value": "9"}], "/answers/0/value", "Choose one of the stages 1 to 3"),
    ([{"item": "b_number", "value": 101}], "/answers/0/value", "from 0 to 100"),
    ([{"item": "b_number", "value": 2.5}], "/answers/0/value", "no decimals"),
    ([{"item": "a_yes", "value": "maybe"}], "/answers/0/value", "Choose yes or no."),
    ([{"item": "b_date", "value": "31/03/2025"}], "/answers/0/value", "year-month-day"),
    ([{"item": "b_text", "value": "x" * 21}], "/answers/0/value", "at most 20 characters"),
    ([{"item": "a_choice", "not_applicable": True}], "/answers/0/not_applicable",
     "cannot be answered “not applicable”"),
    ([{"item": "a_choice", "value": 1}, {"item": "b_number", "value": "many"}],
     "/answers/1/value", "in figures"),
])
def test_a_refused_answer_saves_nothing(
    app: Flask, client: FlaskClient, world: World, mini: int, tokens: Tokens,
    answers: list[dict[str, Any]], pointer: str, message: str
) -> None:
    """API-5: all or nothing, each refused part named by JSON pointer."""
    own = response_of(app, mini, world.focal_point)
    body = problem(client.patch(f"{API}/responses/{own}/answers", headers=tokens.focal_point,
                                json={"answers": answers}), 422)
    assert [error["pointer"] for error in body["errors"]] == [pointer]
    assert message in body["errors"][0]["detail"]
    with app.app_context():
        assert db.session.scalars(select(Answer)).all() == []
    assert events(app, "answer.saved") == []


@pytest.mark.parametrize(("payload", "status", "pointer"), [
    ({"answers": [{"item": "nope", "value": "1"}]}, 422, "/answers/0/item"),
    ({"answers": [{"item": "red", "framework_node": "OP9"}]}, 422, "/answers/0/item"),
    ({"answers": [{"item": "a_choice"}, {"item": "a_choice"}]}, 422, "/answers/1/item"),
    ({"answers": [{"item": "a_choice", "value": True}]}, 422, "/answers/0/value/str"),
    ({"answers": [{"item": "a_choice", "colour": "red"}]}, 422, "/answers/0/colour"),
    ({"answers": []}, 422, "/answers"),
    ({}, 422, "/answers"),
])
def test_a_request_of_the_wrong_shape_is_explained(
    app: Flask, client: FlaskClient, world: World, mini: int, tokens: Tokens,
    payload: dict[str, Any], status: int, pointer: str
) -> None:
    own = response_of(app, mini, world.focal_point)
    body = problem(client.patch(f"{API}/responses/{own}/answers", headers=tokens.focal_point,
                                json=payload), status)
    assert pointer in [error["pointer"] for error in body["errors"]]


def test_a_body_that_is_not_json_is_refused(
    app: Flask, client: FlaskClient, world: World, mini: int, tokens: Tokens
) -> None:
    url = f"{API}/responses/{response_of(app, mini, world.focal_point)}/answers"
    problem(client.patch(url, headers=tokens.focal_point, data="answers=1"), 415)
    problem(client.patch(url, headers=tokens.focal_point, data="{nope",
                         content_type="application/json"), 400)


def test_only_the_respondent_writes_and_only_while_the_state_allows(
    app: Flask, client: FlaskClient, world: World, mini: int, tokens: Tokens
) -> None:
    """API-5: 403 for a reader who is not the respondent, 404 for others, 409 when locked."""
    own = response_of(app, mini, world.focal_point)
    payload = {"answers": [{"item": "a_choice", "value": 1}]}
    for headers in (tokens.coordinator, tokens.viewer, tokens.second_focal_point,
                    tokens.stranger):
        problem(client.patch(f"{API}/responses/{own}/answers", headers=headers, json=payload),
                404)
        problem(client.post(f"{API}/responses/{own}/submit", headers=headers), 404)
    submit_mini(app, mini, world)
    for headers in (tokens.validator, tokens.coordinator):  # they read it now, never write it
        problem(client.patch(f"{API}/responses/{own}/answers", headers=headers, json=payload),
                403)
        problem(client.post(f"{API}/responses/{own}/submit", headers=headers), 403)
    locked = problem(client.patch(f"{API}/responses/{own}/answers", headers=tokens.focal_point,
                                  json=payload), 409)
    assert "submitted and are locked" in locked["detail"]
    problem(client.post(f"{API}/responses/{own}/submit", headers=tokens.focal_point), 409)


def test_nothing_is_written_before_the_cycle_opens(
    app: Flask, client: FlaskClient, world: World, tokens: Tokens
) -> None:
    draft = make_cycle(app, MINI, world.cluster, world.coordinator,
                       focal_points=[world.focal_point], state=CycleState.draft)
    own = response_of(app, draft, world.focal_point)
    body = problem(client.patch(f"{API}/responses/{own}/answers", headers=tokens.focal_point,
                                json={"answers": [{"item": "a_choice", "value": 1}]}), 409)
    assert body["detail"] == "This cycle has not been opened for answers yet."


def test_a_returned_response_reopens_only_the_returned_items(
    app: Flask, client: FlaskClient, world: World, mini: int, tokens: Tokens
) -> None:
    submit_mini(app, mini, world)
    own = response_of(app, mini, world.focal_point)
    with app.app_context():
        decide(db.session.get_one(Response, own), "b_number", "", Decision.request_changes,
               "Count the members again.", None, {}, user(world.validator.email))
        db.session.commit()
    url = f"{API}/responses/{own}/answers"
    body = problem(client.patch(url, headers=tokens.focal_point, json={"answers": [
        {"item": "b_number", "value": 8}, {"item": "b_text", "value": "Other"}]}), 422)
    assert body["errors"] == [{"pointer": "/answers/1/value", "item": "b_text",
                               "detail": "This question can no longer change."}]
    reply = client.patch(url, headers=tokens.focal_point,
                         json={"answers": [{"item": "b_number", "value": 8}]})
    assert reply.get_json()["saved"] == ["b_number"]
    submitted = client.post(f"{API}/responses/{own}/submit", headers=tokens.focal_point)
    assert submitted.status_code == 200 and submitted.get_json()["state"] == "submitted"
    assert [event.before for event in events(app, "response.resubmitted")] == [
        {"state": "returned"}]


# --------------------------------------------------------------------------- API-6 submit


def test_submission_names_what_is_missing_then_locks(
    app: Flask, client: FlaskClient, world: World, mini: int, tokens: Tokens
) -> None:
    """API-6."""
    own = response_of(app, mini, world.focal_point)
    url = f"{API}/responses/{own}/submit"
    body = problem(client.post(url, headers=tokens.focal_point), 422)
    assert {error["item"]: error["detail"] for error in body["errors"]} == {
        "a_stage": "Answer this question.", "a_choice": "Answer this question.",
        "a_yes": "Answer this question.", "b_number": "Answer this question."}
    client.patch(f"{API}/responses/{own}/answers", headers=tokens.focal_point, json={
        "answers": [{"item": "a_stage", "value": 2}, {"item": "a_choice", "value": 1},
                    {"item": "a_yes", "value": "yes"}, {"item": "b_number", "value": 3}]})
    body = problem(client.post(url, headers=tokens.focal_point), 422)
    assert body["errors"] == [{"item": "a_stage",
                               "detail": "Attach at least one piece of evidence."}]
    with app.app_context():
        actor = Actor.of(user(world.focal_point.email))
        stage = answer_for_item(db.session.get_one(Response, own), "a_stage", "", actor)
        add_link(get_cycle(mini), stage, "https://example.org/p.pdf", "Plan", date(2025, 1, 1),
                 actor)
        db.session.commit()
    reply = client.post(url, headers=tokens.focal_point)
    assert reply.status_code == 200, reply.get_data(as_text=True)
    assert reply.get_json()["state"] == "submitted" and reply.get_json()["editable"] is False
    assert len(events(app, "response.submitted")) == 1
    problem(client.post(url, headers=tokens.focal_point), 409)
    with app.app_context():
        assert get_cycle(mini).state is CycleState.open  # the rubric is not submitted yet


# --------------------------------------------------------------------------- API-7 errors


def test_routing_errors_are_problem_details(client: FlaskClient, tokens: Tokens) -> None:
    """API-7."""
    problem(client.get(f"{API}/nothing-here"), 404)
    reply = client.delete(f"{API}/cycles", headers=tokens.coordinator)
    problem(reply, 405)
    assert "GET" in reply.headers["Allow"]
    problem(client.get(f"{API}/cycles/-1", headers=tokens.coordinator), 404)
    assert client.get("/nothing-here").mimetype == "text/html"  # the web keeps its pages


@pytest.mark.app_config(MAX_CONTENT_LENGTH=1024)
def test_a_too_large_body_is_a_problem(
    app: Flask, client: FlaskClient, world: World, mini: int, tokens: Tokens
) -> None:
    url = f"{API}/responses/{response_of(app, mini, world.focal_point)}/answers"
    body = problem(client.patch(url, headers=tokens.focal_point, json={"answers": [
        {"item": "b_text", "value": "x" * 2000}]}), 413)
    assert "limit" in body["detail"]


@pytest.mark.app_config(PROPAGATE_EXCEPTIONS=False)
def test_an_unexpected_error_is_a_problem_and_saves_nothing(
    app: Flask, client: FlaskClient, world: World, mini: int, tokens: Tokens,
    monkeypatch: pytest.MonkeyPatch
) -> None:
    import surveyapp.api.views as views

    def broken(*_args: Any, **_kwargs: Any) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(views, "_response_detail", broken)
    url = f"{API}/responses/{response_of(app, mini, world.focal_point)}/answers"
    headers = tokens.focal_point
    body = problem(client.patch(url, headers=headers,
                                json={"answers": [{"item": "a_choice", "value": 1}]}), 500)
    assert "boom" not in json.dumps(body)
    assert "nothing it was changing was saved" in body["detail"]


# --------------------------------------------------------------------------- the description


def test_the_description_lists_exactly_the_routes(app: Flask, client: FlaskClient) -> None:
    """The OpenAPI paths and methods are those of the URL map under /api/v1, and back."""
    reply = client.get(f"{API}/openapi.json")
    assert reply.status_code == 200 and reply.mimetype == "application/json"
    document = reply.get_json()
    assert document["openapi"].startswith("3.1")
    described = {(path, method.upper()) for path, item in document["paths"].items()
                 for method in item}
    routed = set()
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith(API + "/"):
            path = rule.rule.replace("<int:", "{").replace(">", "}")
            routed |= {(path, method) for method in rule.methods - {"HEAD", "OPTIONS"}}
    assert described == routed
    for path, item in document["paths"].items():
        for method, described_operation in item.items():
            responses = described_operation["responses"]
            assert "default" in responses, (method, path)
            if described_operation.get("security") != []:
                assert "401" in responses, (method, path)
