"""Cycles: instrument versions, opening a cycle, its people, framework and states, the list
with completion, and the routes refusing the wrong role, the wrong unit and the wrong state."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from instruments import LoadedInstrument
from surveyapp.extensions import db
from surveyapp.models import (
    AuditEvent,
    Cycle,
    CycleParticipant,
    CycleState,
    InstrumentStatus,
    InstrumentVersion,
    Notification,
    ParticipantRole,
    Response,
    ResponseState,
    Unit,
    User,
)
from surveyapp.services import ServiceError, instrument_versions
from surveyapp.services.answers import RawAnswer, save_answer, submit_response
from surveyapp.services.audit import Actor
from surveyapp.services.cycles import (
    CycleDraft,
    NodeDraft,
    add_framework_node,
    add_participant,
    change_state,
    create_cycle,
    remove_framework_node,
    visible_cycles,
)
from surveyapp.services.instrument_versions import (
    ensure_bundled_versions,
    loaded_instrument,
    text_sha256,
)
from tests.web.cycles_world import (
    MINI,
    MINI_FRAMEWORK,
    World,
    get_cycle,
    make_cycle,
    response_id,
    user,
    version_for,
)


def audit_actions(app: Flask, cycle_id: int) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(select(AuditEvent.action).where(
            AuditEvent.cycle_id == cycle_id).order_by(AuditEvent.id)))


# --------------------------------------------------------------------------- versions


def test_bundled_instruments_are_registered_once_with_their_exact_text(app: Flask) -> None:
    with app.app_context():
        first = ensure_bundled_versions()
        again = ensure_bundled_versions()
        assert [v.id for v in again] == [v.id for v in first]
        assert {v.key for v in first} == {"ccpm", "cpas-red", "jiu-rbm"}
        for version in first:
            assert version.status is InstrumentStatus.published
            assert version.sha256 == text_sha256(version.text)
            assert loaded_instrument(version).instrument.key == version.key
        count = db.session.scalar(select(func.count(InstrumentVersion.id)))
        assert count == 3


def test_a_changed_file_under_a_published_version_is_refused(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    with app.app_context():
        ensure_bundled_versions()
        read = instrument_versions.load_instrument_file

        def edited(path: Path) -> LoadedInstrument:
            loaded = read(path)
            return replace(loaded, text=loaded.text + "\n# edited\n")

        monkeypatch.setattr(instrument_versions, "load_instrument_file", edited)
        with pytest.raises(ServiceError, match="raise `version:` in the file"):
            ensure_bundled_versions()


def test_a_cycle_reads_its_stored_text_not_the_file(app: Flask, world: World) -> None:
    """DESIGN.md "Architecture": the cycle keeps the exact instrument text and its sha256."""
    cycle_id = make_cycle(app, MINI, world.cluster, world.coordinator, state=CycleState.draft)
    with app.app_context():
        cycle = get_cycle(cycle_id)
        assert cycle.instrument_version.sha256 == text_sha256(MINI)
        assert loaded_instrument(cycle.instrument_version).instrument.key == "mini"


# --------------------------------------------------------------------------- creating


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"title": "  "}, "Give the cycle a title"),
        ({"period_end": date(2024, 1, 1)}, "The period ends before it starts"),
        ({"due_on": date(2026, 5, 1), "review_due_on": date(2026, 4, 1)},
         "The review cannot be due before the answers are."),
    ],
)
def test_a_cycle_draft_is_checked(
    app: Flask, world: World, changes: dict[str, Any], message: str
) -> None:
    with app.app_context():
        fields: dict[str, Any] = {
            "unit": db.session.get_one(Unit, world.cluster.id), "version": version_for("ccpm"),
            "title": "CCPM 2026", "period_start": date(2025, 1, 1),
            "period_end": date(2025, 12, 31), **changes,
        }
        with pytest.raises(ServiceError, match=message):
            create_cycle(CycleDraft(**fields), Actor.of(user(world.coordinator.email)))


def test_an_unpublished_version_cannot_open_a_cycle(app: Flask, world: World) -> None:
    with app.app_context():
        version = version_for(MINI)
        version.status = InstrumentStatus.retired
        draft = CycleDraft(db.session.get_one(Unit, world.cluster.id), version, "Retired",
                           date(2025, 1, 1), date(2025, 12, 31))
        with pytest.raises(ServiceError, match="Only a published instrument version"):
            create_cycle(draft, Actor.of(user(world.coordinator.email)))


def test_people_need_the_unit_role_and_nobody_validates_their_own_answers(
    app: Flask, world: World
) -> None:
    cycle_id = make_cycle(app, MINI, world.cluster, world.coordinator, state=CycleState.draft)
    with app.app_context():
        cycle, actor = get_cycle(cycle_id), Actor.of(user(world.coordinator.email))
        with pytest.raises(ServiceError, match="is not a focal point of CAR-HEALTH"):
            add_participant(cycle, user(world.other_focal_point.email),
                            ParticipantRole.focal_point, actor)
        with pytest.raises(ServiceError, match="is not a validator of CAR-HEALTH"):
            add_participant(cycle, user(world.focal_point.email), ParticipantRole.validator,
                            actor)
        add_participant(cycle, user(world.focal_point.email), ParticipantRole.focal_point, actor)
        with pytest.raises(ServiceError, match="already on this cycle in that role"):
            add_participant(cycle, user(world.focal_point.email), ParticipantRole.focal_point,
                            actor)
        # A focal point gets a response to each questionnaire focal points answer.
        questionnaires = db.session.scalars(select(Response.questionnaire).where(
            Response.cycle_id == cycle_id).order_by(Response.questionnaire))
        assert list(questionnaires) == ["rubric", "self"]
        db.session.commit()
    assert audit_actions(app, cycle_id)[-3:] == [
        "cycle.participant_added", "response.created", "response.created"]


def test_results_framework_nodes_must_fit_the_instrument_levels(
    app: Flask, world: World
) -> None:
    cycle_id = make_cycle(app, MINI, world.mission, world.mission_coordinator,
                          state=CycleState.draft)
    with app.app_context():
        cycle, actor = get_cycle(cycle_id), Actor.of(user(world.mission_coordinator.email))
        add_framework_node(cycle, NodeDraft("outcome", "O1", "Safer streets"), actor)
        add_framework_node(cycle, NodeDraft("output", "OP1", "Patrols", "O1", "Police"), actor)
        for draft, message in (
            (NodeDraft("output", "OP2", "Orphan"), "Choose the outcome this output"),
            (NodeDraft("outcome", "O2", "Nested", "O1"), "at the top of the framework"),
            (NodeDraft("output", "OP1", "Again", "O1"), "already used"),
            (NodeDraft("impact", "I1", "Unknown level"), "Choose a level: outcome, output"),
            (NodeDraft("output", "bad code", "Spaces", "O1"), "Codes use letters"),
        ):
            with pytest.raises(ServiceError, match=message):
                add_framework_node(cycle, draft, actor)
        with pytest.raises(ServiceError, match="Remove what is under O1 first"):
            remove_framework_node(cycle, "O1", actor)
        remove_framework_node(cycle, "OP1", actor)
        assert [node.code for node in cycle.framework_nodes] == ["O1"]


# --------------------------------------------------------------------------- states


def test_the_workflow_moves_only_along_its_transitions(app: Flask, world: World) -> None:
    cycle_id = make_cycle(app, "ccpm", world.cluster, world.coordinator,
                          focal_points=[world.focal_point], validators=[world.validator],
                          state=CycleState.draft)
    with app.app_context():
        cycle, actor = get_cycle(cycle_id), Actor.of(user(world.coordinator.email))
        for wrong in (CycleState.submitted, CycleState.validated, CycleState.closed):
            with pytest.raises(ServiceError, match="A cycle that is draft cannot become"):
                change_state(cycle, wrong, actor)
        for step in (CycleState.open, CycleState.submitted, CycleState.in_review,
                     CycleState.validated):
            change_state(cycle, step, actor)
        with pytest.raises(ServiceError, match="Give the reason"):
            change_state(cycle, CycleState.in_review, actor)
        change_state(cycle, CycleState.in_review, actor, reason="A validator misread 1.2")
        assert cycle.reopen_reason == "A validator misread 1.2"
        change_state(cycle, CycleState.validated, actor)
        change_state(cycle, CycleState.closed, actor)
        with pytest.raises(ServiceError, match="closed cannot become open"):
            change_state(cycle, CycleState.open, actor)
        db.session.commit()
    assert audit_actions(app, cycle_id)[-7:] == [
        "cycle.opened", "cycle.answering_closed", "cycle.review_started", "cycle.validated",
        "cycle.reopened", "cycle.validated", "cycle.closed"]


def test_opening_needs_a_focal_point_and_a_framework_and_tells_the_focal_points(
    app: Flask, world: World
) -> None:
    cycle_id = make_cycle(app, MINI, world.mission, world.mission_coordinator,
                          state=CycleState.draft)
    with app.app_context():
        cycle, actor = get_cycle(cycle_id), Actor.of(user(world.mission_coordinator.email))
        with pytest.raises(ServiceError, match="Assign at least one focal point"):
            change_state(cycle, CycleState.open, actor)
        add_participant(cycle, user(world.working_group.email), ParticipantRole.focal_point,
                        actor)
        with pytest.raises(ServiceError, match="it has no outcome yet"):
            change_state(cycle, CycleState.open, actor)
        add_framework_node(cycle, NodeDraft("outcome", "O1", "Outcome"), actor)
        add_framework_node(cycle, NodeDraft("output", "OP1", "Output", "O1"), actor)
        change_state(cycle, CycleState.open, actor)
        notices = db.session.scalars(select(Notification).where(
            Notification.cycle_id == cycle_id)).all()
        assert [(n.user_id, n.kind, n.url) for n in notices] == [
            (world.working_group.id, "opened", f"/cycles/{cycle_id}")]


PARTNERS_ONLY = """\
key: partners-only
version: "1"
title: Partner survey only
questionnaires:
  - id: partners
    role: partner
    title: Partners
    items:
      - {id: p1, type: yes_no, text: Does it work?}
"""


def test_a_cycle_answered_only_through_links_opens_without_focal_points(
    app: Flask, world: World
) -> None:
    cycle_id = make_cycle(app, PARTNERS_ONLY, world.cluster, world.coordinator)
    with app.app_context():
        assert get_cycle(cycle_id).state is CycleState.open


def test_the_last_focal_point_to_submit_closes_answering(app: Flask, world: World) -> None:
    cycle_id = make_cycle(app, "ccpm", world.cluster, world.coordinator,
                          focal_points=[world.focal_point, world.second_focal_point],
                          validators=[world.validator])
    with app.app_context():
        for person in (world.focal_point, world.second_focal_point):
            response = db.session.get_one(
                Response, response_id(app, cycle_id, person, "coordinator"))
            actor = Actor.of(user(person.email))
            submit_response(response, actor)  # nothing in the coordinator form is required
            expected = CycleState.open if person is world.focal_point else CycleState.submitted
            assert get_cycle(cycle_id).state is expected
        db.session.commit()
        notices = db.session.scalars(select(Notification.kind).where(
            Notification.user_id == world.validator.id)).all()
        assert notices == ["submitted"]
    assert audit_actions(app, cycle_id)[-2:] == ["response.submitted", "cycle.answering_closed"]


# --------------------------------------------------------------------------- listing


def test_coordinators_see_their_units_below_and_people_their_assigned_cycles(
    app: Flask, world: World
) -> None:
    health = make_cycle(app, "ccpm", world.cluster, world.coordinator,
                        focal_points=[world.focal_point])
    wash = make_cycle(app, "ccpm", world.other_cluster, world.coordinator,
                      focal_points=[world.other_focal_point])
    mission = make_cycle(app, MINI, world.mission, world.mission_coordinator,
                         state=CycleState.draft)
    with app.app_context():
        def seen(person: User) -> set[int]:
            return {cycle.id for cycle in visible_cycles(user(person.email))}

        assert seen(world.coordinator) == {health, wash}
        assert seen(world.viewer) == {health, wash}
        assert seen(world.focal_point) == {health}
        assert seen(world.mission_coordinator) == {mission}
        assert seen(world.stranger) == set()


def test_the_list_shows_state_due_date_completion_and_partner_answers(
    app: Flask, client: FlaskClient, world: World, login: Callable[..., Any]
) -> None:
    cycle_id = make_cycle(app, MINI, world.cluster, world.coordinator,
                          focal_points=[world.focal_point], framework=MINI_FRAMEWORK[:2])
    with app.app_context():
        response = db.session.get_one(Response, response_id(app, cycle_id, world.focal_point,
                                                            "self"))
        actor = Actor.of(user(world.focal_point.email))
        save_answer(response, "a_choice", "", RawAnswer(value="1"), actor)
        save_answer(response, "b_number", "", RawAnswer(value="12"), actor)
        db.session.commit()
    login(world.coordinator)
    page = client.get("/cycles/").get_data(as_text=True)
    assert "Test cycle mini" in page
    assert '<span class="state state-open">Open</span>' in page
    # Required and applicable: a_stage, a_choice, a_yes, b_number (a_follow is skipped),
    # and the rubric of the one output.
    assert "40% (2 of 5 required answers)" in page


# --------------------------------------------------------------------------- pages


def test_a_coordinator_opens_a_cycle_with_people_from_the_form(
    app: Flask, client: FlaskClient, world: World, login: Callable[..., Any]
) -> None:
    with app.app_context():
        version = version_for("jiu-rbm")
        db.session.commit()
        version_id = version.id
    login(world.coordinator)
    form = client.get("/cycles/new").get_data(as_text=True)
    assert "(focal point of CAR-HEALTH)" in form
    assert "(validator of CAR)" in form
    response = client.post("/cycles/new", data={
        "unit": world.cluster.id, "instrument": version_id, "title": "Health RBM 2026",
        "period_start": "2025-01-01", "period_end": "2025-12-31", "due_on": "2026-03-31",
        "focal_point_ids": [world.focal_point.id], "validator_ids": [world.validator.id],
        "previous_cycle": 0,
    })
    assert response.status_code == 302
    with app.app_context():
        cycle = db.session.scalar(select(Cycle).where(Cycle.title == "Health RBM 2026"))
        assert cycle is not None and cycle.state is CycleState.draft
        assert {(p.user_id, p.role) for p in cycle.participants} == {
            (world.focal_point.id, ParticipantRole.focal_point),
            (world.validator.id, ParticipantRole.validator)}
        cycle_id = cycle.id
    opened = client.post(f"/cycles/{cycle_id}/state", data={"target": "open"})
    assert opened.status_code == 302
    page = client.get(f"/cycles/{cycle_id}").get_data(as_text=True)
    assert "The cycle is now open." in page
    assert "0% (0 of 51 required answers)" in page
    assert "<td>Draft" in page  # the focal point has not submitted


def test_a_refused_new_cycle_says_why_and_keeps_the_form(
    app: Flask, client: FlaskClient, world: World, login: Callable[..., Any]
) -> None:
    with app.app_context():
        version_id = version_for("ccpm").id
        db.session.commit()
    login(world.coordinator)
    response = client.post("/cycles/new", data={
        "unit": world.cluster.id, "instrument": version_id, "title": "Reversed",
        "period_start": "2025-12-31", "period_end": "2025-01-01", "previous_cycle": 0,
        "focal_point_ids": [world.other_focal_point.id],
    })
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "The period ends before it starts" in page
    assert 'value="Reversed"' in page


def test_people_page_adds_and_removes(
    app: Flask, client: FlaskClient, world: World, login: Callable[..., Any]
) -> None:
    cycle_id = make_cycle(app, "ccpm", world.cluster, world.coordinator, state=CycleState.draft)
    login(world.coordinator)
    added = client.post(f"/cycles/{cycle_id}/people",
                        data={"role": "focal_point", "focal_point-user": world.focal_point.id})
    assert added.status_code == 302
    refused = client.post(f"/cycles/{cycle_id}/people",
                          data={"role": "validator", "validator-user": world.focal_point.id})
    assert refused.status_code == 422  # not a validator of the unit: not even offered
    with app.app_context():
        participant = db.session.scalar(select(CycleParticipant.id).where(
            CycleParticipant.cycle_id == cycle_id))
    removed = client.post(f"/cycles/{cycle_id}/people/remove",
                          data={"participant": participant})
    assert removed.status_code == 302
    with app.app_context():
        assert get_cycle(cycle_id).participants == []


def test_framework_page_adds_nodes_in_draft(
    app: Flask, client: FlaskClient, world: World, login: Callable[..., Any]
) -> None:
    cycle_id = make_cycle(app, "cpas-red", world.mission, world.mission_coordinator,
                          state=CycleState.draft)
    login(world.mission_coordinator)
    for data in ({"level": "impact", "code": "I1", "title": "Safer west", "parent": ""},
                 {"level": "outcome", "code": "O1", "title": "Disputes settled",
                  "parent": "I1"},
                 {"level": "output", "code": "OP1", "title": "Training", "parent": "O1",
                  "section": "Civil Affairs"}):
        assert client.post(f"/cycles/{cycle_id}/framework", data=data).status_code == 302
    wrong = client.post(f"/cycles/{cycle_id}/framework",
                        data={"level": "output", "code": "OP2", "title": "x", "parent": "I1"})
    assert wrong.status_code == 422
    assert "Choose the outcome this output contributes to" in wrong.get_data(as_text=True)
    page = client.get(f"/cycles/{cycle_id}/framework").get_data(as_text=True)
    assert "Civil Affairs" in page


# --------------------------------------------------------------------------- refusals


@pytest.mark.parametrize(
    ("who", "method", "path", "data", "state", "status"),
    [
        # wrong role
        ("focal_point", "GET", "/cycles/new", None, CycleState.draft, 403),
        ("focal_point", "GET", "/cycles/{id}/people", None, CycleState.draft, 403),
        ("focal_point", "POST", "/cycles/{id}/state", {"target": "open"}, CycleState.draft, 403),
        ("working_group", "POST", "/cycles/{id}/framework", {"level": "impact"},
         CycleState.draft, 403),
        ("viewer", "POST", "/cycles/{id}/people/remove", {"participant": "1"},
         CycleState.draft, 403),
        # wrong unit: the cycle does not exist for them
        ("stranger", "GET", "/cycles/{id}", None, CycleState.open, 404),
        ("other_focal_point", "GET", "/cycles/{id}", None, CycleState.open, 404),
        ("stranger", "POST", "/cycles/{id}/state", {"target": "submitted"}, CycleState.open,
         404),
        ("stranger", "GET", "/cycles/{id}/framework", None, CycleState.open, 404),
        # wrong state: a transition the cycle's state does not have
        ("coordinator", "POST", "/cycles/{id}/state", {"target": "validated"},
         CycleState.submitted, 400),
        ("coordinator", "POST", "/cycles/{id}/state", {"target": "open"}, CycleState.closed,
         400),
    ],
)
def test_cycle_routes_refuse(
    app: Flask, client: FlaskClient, world: World, login: Callable[..., Any], who: str,
    method: str, path: str, data: dict[str, str] | None, state: CycleState, status: int,
) -> None:
    if "framework" in path:
        cycle_id = make_cycle(app, "cpas-red", world.mission, world.mission_coordinator,
                              focal_points=[world.working_group], state=state,
                              framework=[("impact", "I1", None), ("outcome", "O1", "I1"),
                                         ("output", "OP1", "O1")])
    else:
        cycle_id = make_cycle(app, "ccpm", world.cluster, world.coordinator,
                              focal_points=[world.focal_point], state=state)
    person = {"coordinator": world.coordinator}.get(who) or getattr(world, who)
    login(person)
    response = client.open(path.format(id=cycle_id), method=method, data=data)
    assert response.status_code == status, response.get_data(as_text=True)[-1500:]


def test_people_cannot_change_once_the_state_forbids_it(
    app: Flask, client: FlaskClient, world: World, login: Callable[..., Any]
) -> None:
    cycle_id = make_cycle(app, "ccpm", world.cluster, world.coordinator,
                          focal_points=[world.focal_point], state=CycleState.submitted)
    login(world.coordinator)
    response = client.post(f"/cycles/{cycle_id}/people",
                           data={"role": "focal_point",
                                 "focal_point-user": world.second_focal_point.id})
    assert response.status_code == 422
    with app.app_context():
        assert len(get_cycle(cycle_id).participants) == 1
        assert db.session.scalar(select(func.count(Response.id)).where(
            Response.cycle_id == cycle_id, Response.state == ResponseState.draft)) == 1


@pytest.mark.app_config(WTF_CSRF_ENABLED=True)
def test_state_changes_need_the_page_csrf_token(
    app: Flask, client: FlaskClient, world: World, login: Callable[..., Any]
) -> None:
    cycle_id = make_cycle(app, "ccpm", world.cluster, world.coordinator,
                          focal_points=[world.focal_point], state=CycleState.draft)
    login(world.coordinator)
    page = client.get(f"/cycles/{cycle_id}").get_data(as_text=True)
    assert page.count('id="csrf_token"') <= 1  # repeated forms carry the token without an id
    token = page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    forged = client.post(f"/cycles/{cycle_id}/state", data={"target": "open"})
    assert forged.status_code == 400
    opened = client.post(f"/cycles/{cycle_id}/state",
                         data={"target": "open", "csrf_token": token})
    assert opened.status_code == 302
    with app.app_context():
        assert get_cycle(cycle_id).state is CycleState.open
