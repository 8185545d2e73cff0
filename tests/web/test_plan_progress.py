"""Quarters, the quarterly progress report, and CPAS recommendations (action plans issue).

PROG01 a coordinator closes a quarter of a unit once; it keeps every action's state.
PROG02 the quarterly report (PDF read with pdftotext, workbook with openpyxl) counts done,
       on track, delayed and overdue actions, and says what changed since the last closing;
       typed text stays text in the workbook.
PROG03 only the unit's coordinators close quarters; viewers read the reports; others 404.
REC01  the working group's recommendations are sent to leadership when the plan is drafted;
       a viewer of the mission approves one (it becomes an action) or rejects one, always
       with a reason; focal points cannot decide; a decided one cannot be decided again.
"""

from __future__ import annotations

import datetime as dt
import io
import shutil
import subprocess
from collections.abc import Callable

import openpyxl
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from reports.progress import standing
from reports.quarters import Quarter
from surveyapp.extensions import db
from surveyapp.models import (
    Action,
    ActionSource,
    ActionStatus,
    Answer,
    AuditEvent,
    CycleState,
    Notification,
    QuarterClosing,
    Recommendation,
    RecommendationStatus,
    Response,
    ResponseState,
    User,
)
from surveyapp.services.audit import Actor
from surveyapp.services.cycles import change_state
from surveyapp.services.plans import (
    ActionDraft,
    Stocktake,
    draft_actions,
    edit_action,
    final_scores,
    record_progress,
)
from tests.web.cycles_world import World, get_cycle, make_cycle, response_id, user
from tests.web.plans_world import final_ccpm_cycle

TODAY = dt.date.today()
CURRENT = Quarter.of(TODAY)
LAST = CURRENT.previous


def test_standing_of_an_action_at_the_end_of_a_quarter() -> None:
    """Overdue beats delayed and on track; done and dropped stay what they are."""
    ended = Quarter(2026, 3)
    assert standing("in_progress", "2026-Q3", ended) == "overdue"
    assert standing("delayed", "2026-Q4", ended) == "delayed"
    assert standing("delayed", "2026-Q2", ended) == "overdue"
    assert standing("planned", None, ended) == "on_track"
    assert standing("done", "2026-Q1", ended) == "done"
    assert standing("dropped", "2026-Q1", ended) == "dropped"


def _plan_with_progress(app: Flask, world: World) -> int:
    """Four drafted actions: 1.1 done, 1.2 delayed, 2.3 in progress and overdue (due last
    quarter), 5 planned; last quarter closed after a stock-take of 1.1 at 50 %."""
    cycle_id = final_ccpm_cycle(app, world.cluster, world.coordinator, world.focal_point)
    with app.app_context():
        cycle = get_cycle(cycle_id)
        actor = Actor.of(user(world.coordinator.email))
        draft_actions(cycle, final_scores(cycle), actor)
        actions = list(db.session.scalars(select(Action).where(Action.cycle_id == cycle_id)
                                          .order_by(Action.position)))
        dues = [CURRENT, CURRENT.next, LAST, None]
        names = ['=HYPERLINK("http://example.org","x")', "Map the partners", "Joint analysis",
                 "Monitoring framework"]
        for action, due, name in zip(actions, dues, names, strict=True):
            edit_action(action, cycle, ActionDraft(title=name, nodes=tuple(action.nodes),
                                                   responsible_organisation="WHO",
                                                   due_quarter=str(due) if due else None),
                        actor)
        record_progress(actions[0], cycle, Stocktake(str(LAST), 50, "Half done"), actor, TODAY)
        db.session.commit()
    return cycle_id


def _close(client: FlaskClient, code: str, quarter: Quarter) -> None:
    response = client.post(f"/units/{code}/progress/close", data={"quarter": str(quarter)},
                           follow_redirects=True)
    assert f"{quarter} is closed" in response.get_data(as_text=True)


def test_quarterly_report_counts_and_changes(
    app: Flask, client: FlaskClient, login: Callable[..., object], world: World,
    require_tool: Callable[[bool, str], None],
) -> None:
    """PROG01, PROG02."""
    require_tool(shutil.which("pdftotext") is not None, "pdftotext (poppler-utils) is missing")
    cycle_id = _plan_with_progress(app, world)
    login(world.coordinator)
    _close(client, "CAR-HEALTH", LAST)
    with app.app_context():
        closing = db.session.scalars(select(QuarterClosing)).one()
        assert sorted(state["percent"] for state in closing.snapshot.values()
                      if state["percent"] is not None) == [50]
        actor = Actor.of(user(world.coordinator.email))
        cycle = get_cycle(cycle_id)
        first, second, third, _fourth = db.session.scalars(
            select(Action).where(Action.cycle_id == cycle_id).order_by(Action.position))
        record_progress(first, cycle, Stocktake(str(CURRENT), 100, "All done",
                                                status=ActionStatus.done), actor, TODAY)
        record_progress(second, cycle, Stocktake(str(CURRENT), 10, "Waiting for funds",
                                                 status=ActionStatus.delayed), actor, TODAY)
        record_progress(third, cycle, Stocktake(str(CURRENT), 40,
                                                status=ActionStatus.in_progress), actor, TODAY)
        db.session.commit()

    pdf = client.get(f"/units/CAR-HEALTH/progress/{CURRENT}.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    text = subprocess.run(["pdftotext", "-layout", "-", "-"], input=pdf.data,
                          capture_output=True, check=True).stdout.decode()
    flat = " ".join(text.split())
    assert f"Quarterly progress report, {CURRENT}" in flat
    for words in ("Done 1", "On track 1", "Delayed 1", "Overdue 1", "Dropped 0",
                  "All actions 4", "QUARTER NOT CLOSED"):
        assert words in flat, words
    assert f"Changed since {LAST} was closed" in flat
    assert "status planned → done; progress 50 % → 100 %" in flat
    assert "status planned → delayed" in flat and "Waiting for funds" in flat

    workbook = openpyxl.load_workbook(io.BytesIO(client.get(
        f"/units/CAR-HEALTH/progress/{CURRENT}.xlsx").data))
    assert workbook.sheetnames == ["Summary", "Actions", "Stock-takes"]
    summary = dict(workbook["Summary"].iter_rows(min_row=2, values_only=True))
    assert summary == {"Done": 1, "On track": 1, "Delayed": 1, "Overdue": 1, "Dropped": 0,
                       "All actions": 4}
    rows = list(workbook["Actions"].iter_rows(min_row=2))
    injected = rows[0][0]
    assert injected.value.startswith("=HYPERLINK") and injected.data_type == "s"
    assert [row[6].value for row in rows] == ["Done", "Delayed", "Overdue", "On track"]
    assert rows[0][8].value == "status planned → done; progress 50 % → 100 %"
    french = openpyxl.load_workbook(io.BytesIO(client.get(
        f"/units/CAR-HEALTH/progress/{CURRENT}.xlsx?lang=fr").data))
    assert french.sheetnames == ["Synthèse", "Actions", "Points d'étape"]
    assert dict(french["Synthèse"].iter_rows(min_row=2, values_only=True))["Réalisée"] == 1
    assert client.get(f"/units/CAR-HEALTH/progress/{CURRENT}.pdf?lang=xx").status_code == 400

    _close(client, "CAR-HEALTH", CURRENT)
    with app.app_context():  # a closed quarter keeps its report as it was at closing
        record_progress(db.session.scalars(select(Action).where(
            Action.title == "Monitoring framework")).one(), get_cycle(cycle_id),
            Stocktake(str(LAST.previous), 90),
            Actor.of(user(world.coordinator.email)), TODAY)
        db.session.commit()
    closed = openpyxl.load_workbook(io.BytesIO(client.get(
        f"/units/CAR-HEALTH/progress/{CURRENT}.xlsx").data))
    assert [row[5].value for row in closed["Actions"].iter_rows(min_row=2)] == [100, 10, 40,
                                                                                None]


def test_who_closes_and_reads_quarters(
    app: Flask, client: FlaskClient, login: Callable[..., object], world: World
) -> None:
    """PROG03."""
    _plan_with_progress(app, world)
    login(world.viewer)
    assert client.get("/units/CAR-HEALTH/progress").status_code == 200
    assert client.get(f"/units/CAR-HEALTH/progress/{CURRENT}.xlsx").status_code == 200
    assert client.post("/units/CAR-HEALTH/progress/close",
                       data={"quarter": str(CURRENT)}).status_code == 403
    assert client.get(f"/units/CAR-HEALTH/progress/{CURRENT.next}.pdf").status_code == 404
    client.post("/auth/logout")
    login(world.other_focal_point)
    assert client.get("/units/CAR-HEALTH/progress").status_code == 404
    client.post("/auth/logout")
    login(world.focal_point)
    assert client.get("/units/CAR-HEALTH/progress").status_code == 403
    with app.app_context():
        assert db.session.scalars(select(QuarterClosing)).all() == []


# --------------------------------------------------------------------------- REC01

OUTPUTS = (("impact", "I1", None), ("outcome", "O1", "I1"), ("output", "OP1", "O1"),
           ("output", "OP2", "O1"))


def _cpas_cycle(app: Flask, world: World) -> int:
    """A validated CPAS cycle: OP1 recommended to adapt by 2026-09-30, OP2 to continue."""
    cycle_id = make_cycle(app, "cpas-red", world.mission, world.mission_coordinator,
                          focal_points=[world.working_group], framework=OUTPUTS,
                          state=CycleState.draft)
    with app.app_context():
        change_state(get_cycle(cycle_id), CycleState.open,
                     Actor.of(user(world.mission_coordinator.email)))
        db.session.commit()
    answered = response_id(app, cycle_id, world.working_group, "red")
    with app.app_context():
        response = db.session.get_one(Response, answered)
        for node, kind in (("OP1", 3), ("OP2", 1)):
            response.answers.append(Answer(item_id="red", framework_node=node, value={
                "relevance": 3, "extent": 2, "duration": 2}, justification="Seen in reports"))
            response.answers.append(Answer(item_id="recommendation", framework_node=node,
                                           value=kind))
            response.answers.append(Answer(item_id="recommendation.text", framework_node=node,
                                           value=f"Text for {node}"))
        response.answers.append(Answer(item_id="recommendation.owner", framework_node="OP1",
                                       value="Civil Affairs"))
        response.answers.append(Answer(item_id="recommendation.timeline",
                                       framework_node="OP1", value="2026-09-30"))
        response.state = ResponseState.submitted
        for step in (CycleState.submitted, CycleState.in_review, CycleState.validated):
            change_state(get_cycle(cycle_id), step,
                         Actor.of(user(world.mission_coordinator.email)))
        db.session.commit()
    return cycle_id


@pytest.fixture
def mission_viewer(app: Flask, world: World, make_user: Callable[..., User]) -> User:
    from surveyapp.models import Role

    return make_user("leader@example.org", role=Role.viewer, unit=world.mission)


def test_recommendations_go_to_leadership_and_approved_ones_become_actions(
    app: Flask, client: FlaskClient, login: Callable[..., object], world: World,
    mission_viewer: User,
) -> None:
    """REC01."""
    cycle_id = _cpas_cycle(app, world)
    login(world.mission_coordinator)
    drafted = client.post(f"/cycles/{cycle_id}/plan/draft", follow_redirects=True)
    assert "2 recommendation(s) sent to leadership" in drafted.get_data(as_text=True)
    with app.app_context():
        found = {r.node: r for r in db.session.scalars(select(Recommendation))}
        assert (found["OP1"].kind.value, found["OP1"].owner, found["OP1"].timeline) == (
            "adapt", "Civil Affairs", "2026-Q3")
        assert found["OP2"].kind.value == "continue"
        assert db.session.scalars(select(Action)).all() == []
        told = db.session.scalars(select(Notification).where(
            Notification.kind == "recommendation")).all()
        assert {notice.user_id for notice in told} >= {mission_viewer.id}
        op1, op2 = found["OP1"].id, found["OP2"].id
    client.post("/auth/logout")

    login(world.working_group)
    assert client.post(f"/cycles/{cycle_id}/recommendations/{op1}/decision",
                       data={"decision": "approve", "reason": "x"}).status_code == 403
    client.post("/auth/logout")

    login(mission_viewer)
    page = client.get(f"/cycles/{cycle_id}/recommendations").get_data(as_text=True)
    assert "Record the decision" in page and "Text for OP1" in page
    no_reason = client.post(f"/cycles/{cycle_id}/recommendations/{op2}/decision",
                            data={"decision": "reject", "reason": ""})
    assert no_reason.status_code == 422
    assert client.post(f"/cycles/{cycle_id}/recommendations/{op1}/decision", data={
        "decision": "approve", "reason": "Agreed at the senior management meeting"}
    ).status_code == 302
    assert client.post(f"/cycles/{cycle_id}/recommendations/{op2}/decision", data={
        "decision": "reject", "reason": "The output needs changes"}).status_code == 302
    again = client.post(f"/cycles/{cycle_id}/recommendations/{op1}/decision",
                        data={"decision": "reject", "reason": "Changed my mind"})
    assert again.status_code == 422 and "already approved" in again.get_data(as_text=True)
    with app.app_context():
        action = db.session.scalars(select(Action)).one()
        assert (action.source, action.nodes, action.responsible_organisation,
                action.due_quarter, action.recommendation_id) == (
            ActionSource.recommendation, ["OP1"], "Civil Affairs", "2026-Q3", op1)
        assert action.title == "Adapt: Text for OP1"
        assert db.session.get_one(Recommendation, op2).status is RecommendationStatus.rejected
        decided = db.session.scalars(select(AuditEvent).where(
            AuditEvent.entity_type == "recommendation",
            AuditEvent.action.in_(("recommendation.approved", "recommendation.rejected"))
        ).order_by(AuditEvent.id)).all()
        assert [event.after["reason"] for event in decided] == [
            "Agreed at the senior management meeting", "The output needs changes"]
