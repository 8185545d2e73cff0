"""Validation item by item (validation issue): queue, decisions, the return loop, lock, reopen.

REV01 the queue lists the submitted items of the cycles the user validates, filtered by
      status, node and unit, in the same number of queries however many items there are.
REV02 the item page shows the answer, what supports it, the evidence and the previous
      cycle's value.
REV03 each decision needs a comment; accepting or rejecting a stage item needs the
      validated stage, which may differ from the self-assessed one; evidence is marked
      one piece at a time.
REV04 the return loop: a returned item goes back with its thread, the focal point changes
      only that item and resubmits, the validator sees what changed; any number of rounds.
REV05 validating needs every item accepted or rejected and locks the cycle; reopening needs
      a coordinator and a reason, both audited; results show self vs validated stages.
REV06 every route refuses the wrong role, the wrong unit and the wrong state.
REV07 two validators deciding one item: one wins, the other gets a clear conflict (409),
      also with real concurrent transactions on PostgreSQL.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from surveyapp.extensions import db
from surveyapp.models import (
    Answer,
    AuditEvent,
    Cycle,
    CycleParticipant,
    CycleState,
    Decision,
    Evidence,
    EvidenceKind,
    EvidenceLink,
    FrameworkNode,
    ItemReview,
    Notification,
    ParticipantRole,
    Response,
    ResponseState,
    Role,
    Unit,
    UnitKind,
    User,
)
from surveyapp.models.base import now_utc
from surveyapp.services.answers import RawAnswer, save_answer, submit_response
from surveyapp.services.audit import Actor
from surveyapp.services.instrument_versions import ensure_bundled_versions
from surveyapp.services.reviews import (
    ItemStatus,
    QueueFilter,
    ReviewConflict,
    decide,
    returned_items,
    stage_profile,
    validator_queue,
)

#: The 17 components of the JIU framework (reference/jiu_framework.md section 2).
COMPONENTS = ("1.1", "1.2", "1.3", "2.1", "2.2", "2.3", "2.4", "2.5", "3.1", "3.2", "3.3",
              "3.4", "4.1", "4.2", "4.3", "5.1", "5.2")


@dataclass(frozen=True)
class People:
    unit: Unit
    focal_point: User
    validator: User
    second_validator: User
    coordinator: User
    viewer: User
    #: A validator of another organisation: the wrong unit.
    stranger: User


@pytest.fixture
def people(make_unit: Callable[..., Unit], make_user: Callable[..., User]) -> People:
    system = make_unit("UN", kind=UnitKind.un_system)
    unit = make_unit("UNDP", kind=UnitKind.organisation, parent=system)
    other = make_unit("UNICEF", kind=UnitKind.organisation, parent=system)
    return People(
        unit=unit,
        focal_point=make_user("fp@example.org", name="Focal Point", role=Role.focal_point,
                              unit=unit),
        validator=make_user("val@example.org", name="Val Idator", role=Role.validator,
                            unit=unit),
        second_validator=make_user("val2@example.org", name="Second Validator",
                                   role=Role.validator, unit=unit),
        coordinator=make_user("coord@example.org", name="Coordinator", role=Role.coordinator,
                              unit=system),
        viewer=make_user("viewer@example.org", role=Role.viewer, unit=unit),
        stranger=make_user("stranger@example.org", role=Role.validator, unit=other),
    )


def make_cycle(app: Flask, people: People, *, components: tuple[str, ...] = COMPONENTS,
               stage: int = 3, state: CycleState = CycleState.submitted,
               previous_cycle_id: int | None = None, title: str = "UNDP RBM 2026",
               unit: Unit | None = None) -> tuple[int, int]:
    """A JIU cycle whose focal point submitted stage, rationale and evidence note for each
    component (the evidence note stands in for documents: instrument jiu-rbm, item 1.1
    ``evidence.alternative``), with a link as evidence on 1.1. Returns (cycle id, response id).
    """
    with app.app_context():
        version = next(v for v in ensure_bundled_versions() if v.key == "jiu-rbm")
        cycle = Cycle(unit_id=(unit or people.unit).id, instrument_version=version, title=title,
                      period_start=date(2026, 1, 1), period_end=date(2026, 12, 31),
                      state=state, previous_cycle_id=previous_cycle_id)
        cycle.participants += [
            CycleParticipant(user_id=people.focal_point.id, role=ParticipantRole.focal_point),
            CycleParticipant(user_id=people.validator.id, role=ParticipantRole.validator),
            CycleParticipant(user_id=people.second_validator.id,
                             role=ParticipantRole.validator),
        ]
        response = Response(cycle=cycle, questionnaire="self_assessment",
                            respondent_id=people.focal_point.id, state=ResponseState.submitted,
                            submitted_at=now_utc() - timedelta(hours=1))
        for component in components:
            response.answers += [
                Answer(item_id=component, value=stage),
                Answer(item_id=f"{component}.rationale", value=f"Why {component} is at {stage}"),
                Answer(item_id=f"{component}.evidence", value="Interviews with the RBM unit"),
            ]
        db.session.add(response)
        db.session.flush()
        strategy = Evidence(cycle_id=cycle.id, kind=EvidenceKind.link,
                            url="https://example.org/rbm-strategy",
                            description="RBM strategy 2026-2029")
        strategy.links.append(EvidenceLink(answer=response.answers[0]))
        db.session.add(strategy)
        db.session.commit()
        return cycle.id, response.id


@pytest.fixture
def cycle_ids(app: Flask, people: People) -> tuple[int, int]:
    return make_cycle(app, people)


def item_url(response_id: int, item_id: str) -> str:
    return f"/review/responses/{response_id}/items/{item_id}"


def decision_form(decision: str, comment: str = "Checked against the strategy document.",
                  **extra: Any) -> dict[str, Any]:
    return {"decision": decision, "comment": comment, **extra}


def accept_all(app: Flask, people: People, response_id: int, *, except_items: tuple[str, ...]
               = ()) -> None:
    """Accept every component not yet decided, at its self-assessed stage."""
    with app.app_context():
        response = db.session.get_one(Response, response_id)
        validator = db.session.get_one(User, people.validator.id)
        for component in COMPONENTS:
            if component not in except_items:
                decide(response, component, "", Decision.accept, "Supported.", 3, {}, validator)
        db.session.commit()


def notices(app: Flask, user: User) -> list[tuple[str, str]]:
    with app.app_context():
        return [(n.kind, n.message) for n in db.session.scalars(
            select(Notification).where(Notification.user_id == user.id)
            .order_by(Notification.id))]


def audit_actions(app: Flask) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


# --------------------------------------------------------------------------- REV01 queue


def test_queue_lists_submitted_items_of_assigned_cycles(
    app: Flask, client: FlaskClient, login: Callable[..., Any], people: People,
    cycle_ids: tuple[int, int],
) -> None:
    """REV01."""
    _, response_id = cycle_ids
    login(people.validator)
    page = client.get("/review/")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "17 items" in text
    assert f'href="{item_url(response_id, "1.1")}"' in text
    assert "Review queue" in text  # the layout links the queue for validators

    client.post("/auth/logout")
    login(people.stranger)
    assert "No item matches" in client.get("/review/").get_data(as_text=True)


def test_queue_filters_by_status_node_and_unit(
    app: Flask, people: People, make_unit: Callable[..., Unit], cycle_ids: tuple[int, int],
) -> None:
    """REV01."""
    _, response_id = cycle_ids
    accept_all(app, people, response_id, except_items=COMPONENTS[2:])
    second_unit = make_unit("UNFPA", kind=UnitKind.organisation)
    make_cycle(app, people, unit=second_unit, title="UNFPA RBM 2026", components=("1.1",))
    with app.app_context():
        validator = db.session.get_one(User, people.validator.id)
        everything = validator_queue(validator, QueueFilter())
        assert len(everything.rows) == 18
        assert everything.counts[ItemStatus.accepted] == 2
        open_items = validator_queue(validator, QueueFilter(status="open"))
        assert len(open_items.rows) == 16
        accepted = validator_queue(validator, QueueFilter(status="accepted"))
        assert [row.answer.item_id for row in accepted.rows] == ["1.1", "1.2"]
        node = validator_queue(validator, QueueFilter(node="1.1"))
        assert {row.cycle.title for row in node.rows} == {"UNDP RBM 2026", "UNFPA RBM 2026"}
        unit_only = validator_queue(validator, QueueFilter(unit_id=second_unit.id))
        assert [row.cycle.title for row in unit_only.rows] == ["UNFPA RBM 2026"]
        assert [unit.code for unit in everything.units] == ["UNDP", "UNFPA"]
        assert everything.nodes[0] == ("1.1", "1.1 Results-based management strategy")


def count_queries(app: Flask, action: Callable[[], object]) -> int:
    statements: list[str] = []

    def count(*_args: object) -> None:
        statements.append("query")

    with app.app_context():
        engine = db.engine
        event.listen(engine, "before_cursor_execute", count)
        try:
            action()
        finally:
            event.remove(engine, "before_cursor_execute", count)
    return len(statements)


def test_queue_query_count_does_not_grow_with_items(
    app: Flask, client: FlaskClient, login: Callable[..., Any], people: People,
    make_unit: Callable[..., Unit],
) -> None:
    """REV01: 2 items or 36 items (3 cycles), the queue page issues as many queries."""
    make_cycle(app, people, components=("1.1", "1.2"))
    login(people.validator)
    small = count_queries(app, lambda: client.get("/review/?status="))
    for code in ("UNFPA", "UNHCR"):
        make_cycle(app, people, unit=make_unit(code, kind=UnitKind.organisation), title=code)
    large = count_queries(app, lambda: client.get("/review/?status="))
    assert "36 items" in client.get("/review/?status=").get_data(as_text=True)
    assert small == large


# --------------------------------------------------------------------------- REV02 item page


def test_item_page_shows_answer_support_evidence_and_previous_value(
    app: Flask, client: FlaskClient, login: Callable[..., Any], people: People,
) -> None:
    """REV02."""
    previous_id, previous_response = make_cycle(app, people, stage=2, title="UNDP RBM 2024",
                                                state=CycleState.in_review)
    accept_all(app, people, previous_response)
    _, response_id = make_cycle(app, people, previous_cycle_id=previous_id)
    login(people.validator)
    page = client.get(item_url(response_id, "1.1"))
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Stage 3: Integrated strategy in the process to be developed" in text
    assert "Why 1.1 is at 3" in text  # the rationale, shown with the stage
    assert "Interviews with the RBM unit" in text  # the evidence note
    assert "https://example.org/rbm-strategy" in text and "RBM strategy 2026-2029" in text
    assert "In “UNDP RBM 2024”: answered 2; validated 3." in text
    assert 'checked id="validated_stage-2" name="validated_stage" type="radio" value="3"' in text


def test_pdf_and_images_are_previewed_in_the_page(
    app: Flask, client: FlaskClient, login: Callable[..., Any], people: People,
    cycle_ids: tuple[int, int],
) -> None:
    """REV02: PDF in a frame, images inline, both through the evidence preview route; other
    files only as downloads."""
    with app.app_context():
        answer = db.session.scalars(select(Answer).where(
            Answer.response_id == cycle_ids[1], Answer.item_id == "1.1")).one()
        ids = {}
        for name, media_type in (("strategy.pdf", "application/pdf"),
                                 ("chart.png", "image/png"),
                                 ("minutes.docx", "application/vnd.openxmlformats-"
                                                  "officedocument.wordprocessingml.document")):
            document = Evidence(cycle_id=cycle_ids[0], kind=EvidenceKind.file, sha256="0" * 64,
                                size=10, media_type=media_type, original_name=name)
            document.links.append(EvidenceLink(answer_id=answer.id))
            db.session.add(document)
            db.session.flush()
            ids[name] = document.id
        db.session.commit()
    login(people.validator)
    page = client.get(item_url(cycle_ids[1], "1.1")).get_data(as_text=True)
    assert (f'<iframe class="evidence-preview" src="/evidence/{ids["strategy.pdf"]}/preview" '
            'title="Preview of strategy.pdf">') in page
    assert (f'<img class="evidence-preview" src="/evidence/{ids["chart.png"]}/preview" '
            'alt="Preview of chart.png">') in page
    assert f'href="/evidence/{ids["minutes.docx"]}/download"' in page
    assert f'/evidence/{ids["minutes.docx"]}/preview' not in page


def test_supporting_items_are_not_reviewed_on_their_own(
    client: FlaskClient, login: Callable[..., Any], people: People, cycle_ids: tuple[int, int],
) -> None:
    """REV02: the rationale is part of its component's review, not a separate item."""
    login(people.validator)
    assert client.get(item_url(cycle_ids[1], "1.1.rationale")).status_code == 404


# --------------------------------------------------------------------------- REV03 decisions


def test_accept_with_a_lowered_validated_stage(
    app: Flask, client: FlaskClient, login: Callable[..., Any], people: People,
    cycle_ids: tuple[int, int],
) -> None:
    """REV03: the validated stage may differ; the cycle moves into review; audited."""
    cycle_id, response_id = cycle_ids
    login(people.validator)
    with app.app_context():
        evidence_id = db.session.scalar(select(Evidence.id))
    posted = client.post(f"{item_url(response_id, '1.1')}/decision", data=decision_form(
        "accept", "The strategy exists but was never endorsed: stage 2.", validated_stage="2",
        expected_round="1", **{f"evidence_{evidence_id}": "insufficient"}))
    assert posted.status_code == 302
    assert posted.headers["Location"].endswith(item_url(response_id, "1.2"))
    with app.app_context():
        review = db.session.scalars(select(ItemReview)).one()
        assert (review.decision, review.validated_value, review.round) == (Decision.accept, 2, 1)
        assert [(m.evidence_id, m.sufficient) for m in review.evidence_reviews] == [
            (evidence_id, False)]
        assert review.answer_snapshot["answers"]["1.1"]["value"] == 3
        assert db.session.get_one(Cycle, cycle_id).state is CycleState.in_review
        event_ = db.session.scalars(select(AuditEvent).where(
            AuditEvent.action == "review.decided")).one()
        assert event_.after["validated_value"] == 2
        assert event_.after["evidence"] == {str(evidence_id): "insufficient"}
        assert event_.actor_label == "val@example.org"
    assert "cycle.review_started" in audit_actions(app)
    text = client.get(item_url(response_id, "1.1")).get_data(as_text=True)
    assert "validated value 2" in text and "Accepted" in text


@pytest.mark.parametrize(("form", "message"), [
    (decision_form("accept", comment="  "), "Write a comment: every decision needs one."),
    ({"comment": "fine"}, "Choose a decision."),
    (decision_form("accept"), "Choose the validated stage"),
    (decision_form("reject", validated_stage="9"), "Not a valid choice"),
])
def test_decision_refusals_name_what_is_missing(
    app: Flask, client: FlaskClient, login: Callable[..., Any], people: People,
    cycle_ids: tuple[int, int], form: dict[str, str], message: str,
) -> None:
    """REV03: nothing is stored, the page says what to fix."""
    login(people.validator)
    posted = client.post(f"{item_url(cycle_ids[1], '1.1')}/decision",
                         data={**form, "expected_round": "1"})
    assert posted.status_code == 400
    assert message in posted.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalars(select(ItemReview)).all() == []


def make_cpas_cycle(app: Flask, people: People) -> tuple[int, int]:
    """A CPAS cycle with one output scored on relevance, extent and duration (RED)."""
    with app.app_context():
        version = next(v for v in ensure_bundled_versions() if v.key == "cpas-red")
        cycle = Cycle(unit_id=people.unit.id, instrument_version=version, title="RED 2026",
                      period_start=date(2026, 1, 1), period_end=date(2026, 6, 30),
                      state=CycleState.submitted)
        cycle.participants += [
            CycleParticipant(user_id=people.focal_point.id, role=ParticipantRole.focal_point),
            CycleParticipant(user_id=people.validator.id, role=ParticipantRole.validator),
        ]
        cycle.framework_nodes += [
            FrameworkNode(code="I1", level="impact", title="Safer west"),
            FrameworkNode(code="O1", level="outcome", title="Disputes settled", parent_code="I1"),
            FrameworkNode(code="OP1", level="output", title="Mediation training",
                          parent_code="O1"),
        ]
        response = Response(cycle=cycle, questionnaire="red",
                            respondent_id=people.focal_point.id, state=ResponseState.submitted,
                            submitted_at=now_utc() - timedelta(hours=1))
        response.answers += [
            Answer(item_id="red", framework_node="OP1",
                   value={"relevance": 3, "extent": 2, "duration": 4},
                   justification="Officials trained but few reached."),
            Answer(item_id="recommendation", framework_node="OP1", value=3),
            Answer(item_id="recommendation.text", framework_node="OP1",
                   value="Train the prefects themselves."),
            Answer(item_id="outcome.progress", framework_node="O1", value="Two disputes settled."),
        ]
        db.session.add(response)
        db.session.commit()
        return cycle.id, response.id


def test_rubric_items_take_a_validated_level_per_criterion(
    app: Flask, client: FlaskClient, login: Callable[..., Any], people: People,
) -> None:
    """REV03 for CPAS RED: each criterion gets its validated level; items asked per output
    are reviewed per output, their notes shown with them."""
    _, response_id = make_cpas_cycle(app, people)
    with app.app_context():
        rows = validator_queue(db.session.get_one(User, people.validator.id), QueueFilter()).rows
        assert [(row.answer.item_id, row.node_key) for row in rows] == [
            ("red", "OP1"), ("recommendation", "OP1"), ("outcome.progress", "O1")]
    login(people.validator)
    url = f"{item_url(response_id, 'red')}"
    page = client.get(f"{url}?node=OP1").get_data(as_text=True)
    assert "Relevance 3, Extent 2, Duration 4, total 9" in page
    assert "Train the prefects themselves." in page  # the recommendation's note, shown with it
    assert "Validated relevance" in page
    missing = client.post(f"{url}/decision?node=OP1", data=decision_form(
        "accept", validated_0="3", validated_1="2", expected_round="1"))
    assert missing.status_code == 400
    assert "Choose the validated level of Duration (1, 2, 3, 4)." in missing.get_data(
        as_text=True)
    accepted = client.post(f"{url}/decision?node=OP1", data=decision_form(
        "accept", "Duration is overstated: the forums stop in June.", validated_0="3",
        validated_1="2", validated_2="2", expected_round="1"))
    assert accepted.status_code == 302
    with app.app_context():
        review = db.session.scalars(select(ItemReview)).one()
        assert (review.framework_node, review.validated_value) == (
            "OP1", {"relevance": 3, "extent": 2, "duration": 2})


# --------------------------------------------------------------------------- REV04 return loop


def test_return_loop_with_thread_diff_and_resubmission(
    app: Flask, client: FlaskClient, login: Callable[..., Any], people: People,
    cycle_ids: tuple[int, int],
) -> None:
    """REV04: request changes -> focal point answers and edits only that item -> resubmits ->
    the validator sees the changes -> a second round returns another item."""
    cycle_id, response_id = cycle_ids
    validator_client = client
    login(people.validator)
    returned = validator_client.post(f"{item_url(response_id, '1.2')}/decision", data=decision_form(
        "request_changes", "Name the change management plan you rely on.", expected_round="1"))
    assert returned.status_code == 302
    with app.app_context():
        response = db.session.get_one(Response, response_id)
        assert response.state is ResponseState.returned
        assert returned_items(response) == {("1.2", "")}
    assert notices(app, people.focal_point)[-1][0] == "returned"
    item_page = validator_client.get(item_url(response_id, "1.2")).get_data(as_text=True)
    assert "with the focal point for changes" in item_page
    assert 'name="decision"' not in item_page

    focal_client = app.test_client()
    login(people.focal_point, client=focal_client)
    listing = focal_client.get(f"/review/responses/{response_id}/returned")
    assert "Name the change management plan you rely on." in listing.get_data(as_text=True)
    reply = focal_client.post(f"{item_url(response_id, '1.2')}/thread",
                              data={"body": "It is the 2025 change plan; I attach it now."})
    assert reply.status_code == 302
    assert notices(app, people.validator)[-1][0] == "message"

    with app.app_context():
        response = db.session.get_one(Response, response_id)
        actor = Actor.of(db.session.get_one(User, people.focal_point.id))
        with pytest.raises(Exception, match="Only the items the validator returned"):
            save_answer(response, "1.3", "", RawAnswer(value="5"), actor)
        save_answer(response, "1.2", "", RawAnswer(value="2"), actor)
        save_answer(response, "1.2.rationale", "", RawAnswer(value="Only a draft plan exists."),
                    actor)
        submit_response(response, actor)
        db.session.commit()
        assert returned_items(response) == set()
    assert notices(app, people.validator)[-1][0] == "resubmitted"

    page = validator_client.get(item_url(response_id, "1.2")).get_data(as_text=True)
    assert "Changed, awaiting decision" in page
    assert "Changed since the last decision" in page
    assert "<td>Answer</td><td>3</td><td>2</td>" in page
    assert "Only a draft plan exists." in page
    assert "It is the 2025 change plan; I attach it now." in page

    second = validator_client.post(f"{item_url(response_id, '1.3')}/decision", data=decision_form(
        "request_changes", "Which oversight reports?", expected_round="1"))
    assert second.status_code == 302
    with app.app_context():
        response = db.session.get_one(Response, response_id)
        # Round two returns 1.3 only: 1.2 came back and waits for the validator.
        assert returned_items(response) == {("1.3", "")}
        assert db.session.get_one(Cycle, cycle_id).state is CycleState.in_review
    accepted = validator_client.post(f"{item_url(response_id, '1.2')}/decision", data=decision_form(
        "accept", "The draft plan supports stage 2.", validated_stage="2", expected_round="2"))
    assert accepted.status_code == 302


def test_submission_is_handed_over_to_the_validators(
    app: Flask, people: People,
) -> None:
    """REV04: the last focal point submitting closes answering and tells the validators."""
    cycle_id, response_id = make_cycle(app, people, state=CycleState.open)
    with app.app_context():
        response = db.session.get_one(Response, response_id)
        response.state = ResponseState.draft
        db.session.flush()
        submit_response(response, Actor.of(db.session.get_one(User, people.focal_point.id)))
        db.session.commit()
        assert db.session.get_one(Cycle, cycle_id).state is CycleState.submitted
    for validator in (people.validator, people.second_validator):
        assert notices(app, validator) == [
            ("submitted", "“UNDP RBM 2026” has been submitted and is ready for review.")]


# --------------------------------------------------------------------------- REV05 lock, reopen


def test_validate_locks_and_reopen_needs_a_coordinator_and_a_reason(
    app: Flask, client: FlaskClient, login: Callable[..., Any], people: People,
    cycle_ids: tuple[int, int],
) -> None:
    """REV05."""
    cycle_id, response_id = cycle_ids
    login(people.validator)
    client.post(f"{item_url(response_id, '1.1')}/decision", data=decision_form(
        "accept", "Endorsement missing.", validated_stage="2", expected_round="1"))
    refused = client.post(f"/cycles/{cycle_id}/validate")
    assert refused.status_code == 400
    assert "16 item(s) still need a decision (16 awaiting decision)" in refused.get_data(
        as_text=True)

    accept_all(app, people, response_id, except_items=("1.1",))
    assert client.post(f"/cycles/{cycle_id}/validate").status_code == 302
    with app.app_context():
        cycle = db.session.get_one(Cycle, cycle_id)
        assert cycle.state is CycleState.validated
        assert db.session.get_one(Response, response_id).state is ResponseState.validated
    assert ("validated", "“UNDP RBM 2026” has been validated.") in notices(app, people.coordinator)
    assert notices(app, people.focal_point)[-1][0] == "validated"
    # Locked: no decision, no message.
    assert client.post(f"{item_url(response_id, '1.1')}/decision",
                       data=decision_form("reject", validated_stage="1")).status_code == 403

    results = client.get(f"/cycles/{cycle_id}/results").get_data(as_text=True)
    assert "<td>3</td>\n        <td>2</td>\n        <td>-1 (lower)</td>" in results

    client.post("/auth/logout")
    login(people.coordinator)
    no_reason = client.post(f"/cycles/{cycle_id}/reopen", data={"reason": " "})
    assert no_reason.status_code == 400
    assert "Give the reason for reopening." in no_reason.get_data(as_text=True)
    reopened = client.post(f"/cycles/{cycle_id}/reopen",
                           data={"reason": "The governing body endorsed the strategy."})
    assert reopened.status_code == 302
    with app.app_context():
        cycle = db.session.get_one(Cycle, cycle_id)
        assert cycle.state is CycleState.in_review
        assert cycle.reopen_reason == "The governing body endorsed the strategy."
        event_ = db.session.scalars(select(AuditEvent).where(
            AuditEvent.action == "cycle.reopened")).one()
        assert event_.actor_label == "coord@example.org"
        assert event_.after["reason"] == "The governing body endorsed the strategy."
        assert db.session.get_one(Response, response_id).state is ResponseState.submitted
    assert notices(app, people.validator)[-1][0] == "reopened"


def test_stage_profile_uses_the_scoring_engine(
    app: Flask, people: People, cycle_ids: tuple[int, int],
) -> None:
    """REV05: self and validated stages side by side, difference validated minus self."""
    cycle_id, response_id = cycle_ids
    with app.app_context():
        response = db.session.get_one(Response, response_id)
        validator = db.session.get_one(User, people.validator.id)
        decide(response, "2.1", "", Decision.reject, "No evidence of the policy.", 1, {},
               validator)
        decide(response, "2.2", "", Decision.request_changes, "Clarify.", None, {}, validator)
        db.session.commit()
        profile = stage_profile(db.session.get_one(Cycle, cycle_id))
        assert profile is not None and profile.problems == []
        rows = {row.node.id: row for row in profile.rows}
        assert len(rows) == 17
        assert (rows["2.1"].self_stage, rows["2.1"].validated_stage, rows["2.1"].difference) == (
            3, 1, -2)
        assert (rows["2.2"].validated_stage, rows["2.2"].difference) == (None, None)


# --------------------------------------------------------------------------- REV06 refusals


@pytest.fixture
def clients(app: Flask, login: Callable[..., Any], people: People) -> Callable[[str], FlaskClient]:
    """A signed-in client per person, made on first use."""
    made: dict[str, FlaskClient] = {}

    def client_for(who: str) -> FlaskClient:
        if who not in made:
            made[who] = app.test_client()
            if who != "anonymous":
                login(getattr(people, who), client=made[who])
        return made[who]

    return client_for


ROUTES = {
    "item": ("GET", "/review/responses/{response}/items/1.1"),
    "decision": ("POST", "/review/responses/{response}/items/1.1/decision"),
    "thread": ("POST", "/review/responses/{response}/items/1.1/thread"),
    "returned": ("GET", "/review/responses/{response}/returned"),
    "overview": ("GET", "/cycles/{cycle}/validation"),
    "validate": ("POST", "/cycles/{cycle}/validate"),
    "reopen": ("POST", "/cycles/{cycle}/reopen"),
    "results": ("GET", "/cycles/{cycle}/results"),
}
FORMS = {
    "decision": decision_form("accept", validated_stage="3"),
    "thread": {"body": "A question."},
    "reopen": {"reason": "A reason."},
}


@pytest.mark.parametrize(("route", "who", "status"), [
    ("item", "anonymous", 302), ("item", "stranger", 404), ("item", "viewer", 404),
    ("item", "focal_point", 200), ("item", "coordinator", 200), ("item", "validator", 200),
    ("decision", "focal_point", 403), ("decision", "coordinator", 403),
    ("decision", "stranger", 404), ("decision", "viewer", 404),
    ("thread", "coordinator", 403), ("thread", "stranger", 404), ("thread", "viewer", 404),
    ("returned", "stranger", 404), ("returned", "viewer", 404),
    ("overview", "focal_point", 403), ("overview", "viewer", 403), ("overview", "stranger", 404),
    ("overview", "coordinator", 200),
    ("validate", "focal_point", 403), ("validate", "coordinator", 403),
    ("validate", "stranger", 404),
    ("reopen", "validator", 403), ("reopen", "focal_point", 403), ("reopen", "stranger", 404),
    ("results", "stranger", 404), ("results", "viewer", 200),
])
def test_routes_refuse_the_wrong_role_and_unit(
    clients: Callable[[str], FlaskClient], cycle_ids: tuple[int, int], route: str, who: str,
    status: int,
) -> None:
    """REV06: wrong role 403, wrong unit 404 (the cycle is not theirs to know about)."""
    method, path = ROUTES[route]
    url = path.format(cycle=cycle_ids[0], response=cycle_ids[1])
    answer = clients(who).open(url, method=method, data=FORMS.get(route))
    assert answer.status_code == status


@pytest.mark.parametrize(("route", "state", "status", "message"), [
    ("decision", CycleState.validated, 403, "only while the cycle is under review"),
    ("thread", CycleState.validated, 403, "while the cycle is under review"),
    ("validate", CycleState.submitted, 400, "Only a cycle in review can be validated"),
    ("reopen", CycleState.in_review, 400, "Only a validated cycle can be reopened"),
])
def test_routes_refuse_the_wrong_state(
    app: Flask, clients: Callable[[str], FlaskClient], cycle_ids: tuple[int, int], route: str,
    state: CycleState, status: int, message: str,
) -> None:
    """REV06."""
    with app.app_context():
        db.session.get_one(Cycle, cycle_ids[0]).state = state
        db.session.commit()
    who = "coordinator" if route == "reopen" else "validator"
    method, path = ROUTES[route]
    answer = clients(who).open(path.format(cycle=cycle_ids[0], response=cycle_ids[1]),
                               method=method, data=FORMS.get(route))
    assert answer.status_code == status
    assert message in answer.get_data(as_text=True)


@pytest.mark.parametrize("route", ["item", "returned"])
def test_a_draft_is_its_respondents_alone(
    app: Flask, clients: Callable[[str], FlaskClient], people: People, route: str,
) -> None:
    """REV06: before submission the review pages of a response are 404 for its validators
    and coordinators, typing the address included, as the API's responses are
    (``may_read_answers``); its respondent still opens them. Found by the access matrix."""
    cycle_id, response_id = make_cycle(app, people, state=CycleState.open)
    with app.app_context():
        db.session.get_one(Response, response_id).state = ResponseState.draft
        db.session.commit()
    _method, path = ROUTES[route]
    url = path.format(cycle=cycle_id, response=response_id)
    for who in ("coordinator", "validator", "second_validator"):
        assert clients(who).get(url).status_code == 404, who
    assert clients("focal_point").get(url).status_code == 200
    with app.app_context():
        db.session.get_one(Response, response_id).state = ResponseState.submitted
        db.session.commit()
    assert clients("coordinator").get(url).status_code == 200


@pytest.mark.app_config(WTF_CSRF_ENABLED=True)
def test_decision_needs_the_csrf_token(
    clients: Callable[[str], FlaskClient], cycle_ids: tuple[int, int],
) -> None:
    answer = clients("validator").post(f"{item_url(cycle_ids[1], '1.1')}/decision",
                                       data=decision_form("accept", validated_stage="3"))
    assert answer.status_code == 400
    assert "Form expired" in answer.get_data(as_text=True)


# --------------------------------------------------------------------------- REV07 conflicts


def test_stale_page_gets_a_conflict_not_an_overwrite(
    app: Flask, clients: Callable[[str], FlaskClient], cycle_ids: tuple[int, int],
) -> None:
    """REV07: both validators opened round 1; the second to post sees who won (409)."""
    url = f"{item_url(cycle_ids[1], '1.1')}/decision"
    first = clients("validator").post(url, data=decision_form(
        "accept", validated_stage="3", expected_round="1"))
    assert first.status_code == 302
    second = clients("second_validator").post(url, data=decision_form(
        "reject", "Not supported.", validated_stage="1", expected_round="1"))
    assert second.status_code == 409
    text = second.get_data(as_text=True)
    assert "Val Idator recorded a decision on this item (Accept) while you were deciding" in text
    assert 'role="alert"' in text
    with app.app_context():
        assert [r.decision for r in db.session.scalars(select(ItemReview))] == [Decision.accept]


@pytest.fixture
def insert_barrier() -> Iterator[threading.Barrier]:
    """Hold every flush that inserts a decision until two of them are ready: both validators
    have read the item (no decision yet) before either writes."""
    barrier = threading.Barrier(2, timeout=20)

    def wait_for_the_other(session: Session, *_args: object) -> None:
        if any(isinstance(row, ItemReview) for row in session.new):
            barrier.wait()

    # First in line: before the audit log's append lock, which a writer takes at its first
    # flush (services/audit.py) and would otherwise hold while waiting here.
    event.listen(Session, "before_flush", wait_for_the_other, insert=True)
    yield barrier
    event.remove(Session, "before_flush", wait_for_the_other)


def decide_in_threads(app: Flask, people: People, response_id: int,
                      items: tuple[str, str]) -> list[BaseException | None]:
    outcomes: list[BaseException | None] = [None, None]

    def run(index: int, who: User, item_id: str) -> None:
        try:
            with app.app_context():
                response = db.session.get_one(Response, response_id)
                decide(response, item_id, "", Decision.accept, f"Decided by {who.email}", 3, {},
                       db.session.get_one(User, who.id), expected_round=1)
                db.session.commit()
        except BaseException as error:  # reported to the test
            outcomes[index] = error

    threads = [threading.Thread(target=run, args=(index, who, item_id)) for index, (who, item_id)
               in enumerate(zip((people.validator, people.second_validator), items, strict=True))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcomes


@pytest.mark.postgres_only  # real concurrent transactions; SQLite serialises its writers
def test_two_validators_deciding_one_item_at_once(
    app: Flask, people: People, cycle_ids: tuple[int, int],
    insert_barrier: threading.Barrier,
) -> None:
    """REV07: both read round 1 free, both insert; the unique constraint lets one win."""
    outcomes = decide_in_threads(app, people, cycle_ids[1], ("1.1", "1.1"))
    conflicts = [error for error in outcomes if isinstance(error, ReviewConflict)]
    assert len(conflicts) == 1, outcomes
    assert outcomes.count(None) == 1
    assert "recorded a decision on this item (Accept) while you were deciding" in str(
        conflicts[0])
    with app.app_context():
        assert len(db.session.scalars(select(ItemReview)).all()) == 1
        assert audit_actions(app).count("review.decided") == 1


@pytest.mark.postgres_only  # real concurrent transactions; SQLite serialises its writers
def test_first_decisions_on_two_items_at_once_both_count(
    app: Flask, people: People, cycle_ids: tuple[int, int],
    insert_barrier: threading.Barrier,
) -> None:
    """REV07: different items do not conflict; the cycle enters review exactly once."""
    outcomes = decide_in_threads(app, people, cycle_ids[1], ("1.1", "1.2"))
    assert outcomes == [None, None]
    with app.app_context():
        assert len(db.session.scalars(select(ItemReview)).all()) == 2
        assert db.session.get_one(Cycle, cycle_ids[0]).state is CycleState.in_review
    assert audit_actions(app).count("cycle.review_started") == 1
