"""Action plans (action plans issue): drafting, editing by hand, stock-takes, access.

PLAN01 once a CCPM cycle is validated, drafting gives exactly one action per weak or
       unsatisfactory sub-function (reference/instruments.md section 1.6;
       seeds/004_bc0651d6516aab8c.txt:45), audited; drafting again adds nothing.
PLAN02 before the results are final there is no plan to draft (409, and the service says
       why).
PLAN03 an action's fields are checked: title, linked nodes, quarters, a dropped action's
       reason, the responsible person's role on the unit; changes are audited field by field.
PLAN04 merging keeps the first action with every linked node, text and stock-take.
PLAN05 the responsible person (or a coordinator) records progress; others may not; closed
       and future quarters are refused; a document goes to the evidence store.
PLAN06 JIU: components below the coordinator's target get an action quoting the next stage.
PLAN07 the cycle's report shows the stored plan instead of the drafts.
PLAN08 every route checks role, unit and state.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from collections.abc import Callable

import openpyxl
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from reports.quarters import Quarter
from surveyapp.extensions import db
from surveyapp.models import (
    Action,
    ActionSource,
    ActionStatus,
    Answer,
    AuditEvent,
    CycleState,
    Evidence,
    ProgressEntry,
    Response,
    ResponseState,
    Role,
    User,
)
from surveyapp.services import ServiceError
from surveyapp.services.audit import Actor
from surveyapp.services.cycles import change_state
from surveyapp.services.plans import (
    ActionDraft,
    Stocktake,
    close_quarter,
    draft_actions,
    edit_action,
    final_scores,
    record_progress,
)
from tests.web.cycles_world import World, get_cycle, make_cycle, response_id, user
from tests.web.plans_world import DRAFTED, final_ccpm_cycle

TODAY = dt.date.today()
CURRENT = Quarter.of(TODAY)


def _final(app: Flask, world: World) -> int:
    return final_ccpm_cycle(app, world.cluster, world.coordinator, world.focal_point)


def _drafted(app: Flask, world: World) -> int:
    cycle_id = _final(app, world)
    with app.app_context():
        cycle = get_cycle(cycle_id)
        draft_actions(cycle, final_scores(cycle), Actor.of(user(world.coordinator.email)))
        db.session.commit()
    return cycle_id


def _actions(cycle_id: int) -> list[Action]:
    return list(db.session.scalars(select(Action).where(Action.cycle_id == cycle_id)
                                   .order_by(Action.position)))


# --------------------------------------------------------------------------- PLAN01, 02


def test_drafting_gives_one_action_per_weak_or_unsatisfactory_sub_function(
    app: Flask, client: FlaskClient, login: Callable[..., object], world: World
) -> None:
    """PLAN01."""
    cycle_id = _final(app, world)
    login(world.coordinator)
    page = client.post(f"/cycles/{cycle_id}/plan/draft", follow_redirects=True)
    assert "4 action(s) drafted from the results." in page.get_data(as_text=True)
    with app.app_context():
        actions = _actions(cycle_id)
        assert [action.nodes for action in actions] == [[node] for node in DRAFTED]
        assert [action.rating for action in actions] == ["weak", "unsatisfactory",
                                                         "unsatisfactory", "weak"]
        assert actions[0].basis == "Weak, 25.00 %"
        assert {action.source for action in actions} == {ActionSource.rating}
        assert {action.status for action in actions} == {ActionStatus.planned}
        drafted = db.session.scalars(select(AuditEvent).where(
            AuditEvent.action == "action.drafted", AuditEvent.cycle_id == cycle_id)).all()
        assert len(drafted) == 4
    client.post(f"/cycles/{cycle_id}/plan/draft")
    with app.app_context():
        assert len(_actions(cycle_id)) == 4
    plan = client.get(f"/cycles/{cycle_id}/plan").get_data(as_text=True)
    assert "Weak, 25.00 %" in plan and "Unsatisfactory, 50.00 %" in plan


def test_no_plan_before_the_results_are_final(
    app: Flask, client: FlaskClient, login: Callable[..., object], world: World
) -> None:
    """PLAN02."""
    cycle_id = final_ccpm_cycle(app, world.cluster, world.coordinator, world.focal_point,
                                state=CycleState.in_review)
    login(world.coordinator)
    assert client.post(f"/cycles/{cycle_id}/plan/draft").status_code == 409
    assert "starts once the results are final" in client.get(
        f"/cycles/{cycle_id}/plan").get_data(as_text=True)
    with app.app_context(), pytest.raises(ServiceError, match="Validate it first"):
        final_scores(get_cycle(cycle_id))


# --------------------------------------------------------------------------- PLAN03, 04


@pytest.mark.parametrize(("change", "message"), [
    ({"title": "  "}, "Give the action a title"),
    ({"nodes": ("9.9",)}, "9.9 is not part of this cycle"),
    ({"due_quarter": "Q3 2026"}, "Due quarter: write the quarter like 2026-Q3"),
    ({"start_quarter": "2026-Q3", "due_quarter": "2026-Q1"}, "due (2026-Q1) before it starts"),
    ({"status": ActionStatus.dropped}, "Say why the action is dropped"),
])
def test_action_fields_are_checked(app: Flask, world: World, change: dict[str, object],
                                   message: str) -> None:
    """PLAN03."""
    cycle_id = _drafted(app, world)
    with app.app_context():
        action = _actions(cycle_id)[0]
        draft = ActionDraft(**{"title": "Hold monthly meetings", "nodes": ("1.1",), **change})
        with pytest.raises(ServiceError, match=re.escape(message)):
            edit_action(action, get_cycle(cycle_id), draft, Actor.of(user(world.coordinator.email)))


def test_the_responsible_person_needs_a_role_on_the_unit(app: Flask, world: World) -> None:
    """PLAN03: the WASH focal point cannot be responsible for a Health action."""
    cycle_id = _drafted(app, world)
    with app.app_context():
        action = _actions(cycle_id)[0]
        draft = ActionDraft(title="x", responsible_user=user(world.other_focal_point.email))
        with pytest.raises(ServiceError, match="holds no focal point or coordinator role"):
            edit_action(action, get_cycle(cycle_id), draft, Actor.of(user(world.coordinator.email)))


def test_editing_through_the_form_is_audited_field_by_field(
    app: Flask, client: FlaskClient, login: Callable[..., object], world: World
) -> None:
    """PLAN03."""
    cycle_id = _drafted(app, world)
    with app.app_context():
        action_id = _actions(cycle_id)[0].id
        person_id = user(world.focal_point.email).id
    login(world.coordinator)
    form = {"title": "Hold the coordination meeting every month", "nodes": ["1.1", "1.2"],
            "responsible_organisation": "WHO", "responsible_user": str(person_id),
            "support_required": "A meeting room", "support_from": "OCHA",
            "start_quarter": str(CURRENT), "due_quarter": str(CURRENT.next),
            "status": "in_progress", "completion_indicator": "12 meetings held"}
    response = client.post(f"/cycles/{cycle_id}/plan/{action_id}/edit", data=form)
    assert response.status_code == 302
    bad = client.post(f"/cycles/{cycle_id}/plan/{action_id}/edit",
                      data={**form, "due_quarter": "soon"})
    assert bad.status_code == 422 and "write the quarter like 2026-Q3" in bad.get_data(
        as_text=True)
    with app.app_context():
        action = db.session.get_one(Action, action_id)
        assert (action.nodes, action.responsible_user_id, action.status) == (
            ["1.1", "1.2"], person_id, ActionStatus.in_progress)
        event = db.session.scalars(select(AuditEvent).where(
            AuditEvent.action == "action.edited")).one()
        assert event.before["status"] == "planned" and event.after["status"] == "in_progress"
        assert "basis" not in event.after  # unchanged fields are not repeated


def test_merging_keeps_the_first_action_with_everything(
    app: Flask, client: FlaskClient, login: Callable[..., object], world: World
) -> None:
    """PLAN04."""
    cycle_id = _drafted(app, world)
    with app.app_context():
        first, second = (action.id for action in _actions(cycle_id)[:2])
        record_progress(db.session.get_one(Action, second), get_cycle(cycle_id),
                        Stocktake(str(CURRENT), 30, "Started"),
                        Actor.of(user(world.coordinator.email)), TODAY)
        db.session.commit()
    login(world.coordinator)
    response = client.post(f"/cycles/{cycle_id}/plan/merge", data={"actions": [first, second]})
    assert response.status_code == 302 and response.location.endswith(f"/{first}/edit")
    with app.app_context():
        actions = _actions(cycle_id)
        assert [action.nodes for action in actions] == [["1.1", "1.2"], ["2.3"], ["5"]]
        assert "Unsatisfactory, 50.00 %" in actions[0].basis
        assert [entry.note for entry in actions[0].progress] == ["Started"]
    assert client.post(f"/cycles/{cycle_id}/plan/merge", data={"actions": [first]},
                       follow_redirects=True).get_data(as_text=True).count(
        "Choose two or more actions") == 1


# --------------------------------------------------------------------------- PLAN05


def _make_responsible(app: Flask, cycle_id: int, world: World) -> int:
    with app.app_context():
        action = _actions(cycle_id)[0]
        edit_action(action, get_cycle(cycle_id), ActionDraft(
            title=action.title, nodes=tuple(action.nodes),
            responsible_user=user(world.focal_point.email),
            due_quarter=str(CURRENT)), Actor.of(user(world.coordinator.email)))
        db.session.commit()
        return action.id


def test_the_responsible_person_records_progress_with_a_document(
    app: Flask, client: FlaskClient, login: Callable[..., object], world: World
) -> None:
    """PLAN05."""
    cycle_id = _drafted(app, world)
    action_id = _make_responsible(app, cycle_id, world)
    login(world.focal_point)
    page = client.get(f"/cycles/{cycle_id}/plan")
    assert "Record progress" in page.get_data(as_text=True)
    response = client.post(f"/cycles/{cycle_id}/plan/{action_id}/progress", data={
        "quarter": str(CURRENT), "percent": "60", "status": "in_progress",
        "note": "Six meetings held", "link": "https://example.org/minutes",
        "document": (io.BytesIO(b"Minutes of the meeting\n"), "minutes.txt"),
    }, content_type="multipart/form-data")
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    with app.app_context():
        entry = db.session.scalars(select(ProgressEntry)).one()
        assert (entry.percent, entry.quarter, entry.link) == (60, str(CURRENT),
                                                              "https://example.org/minutes")
        evidence = db.session.get_one(Evidence, entry.evidence_id)
        assert evidence.original_name == "minutes.txt" and evidence.cycle_id == cycle_id
        assert db.session.get_one(Action, action_id).status is ActionStatus.in_progress
    history = client.get(f"/cycles/{cycle_id}/plan/{action_id}/progress").get_data(as_text=True)
    assert "Six meetings held" in history and "minutes.txt" in history
    wrong = client.post(f"/cycles/{cycle_id}/plan/{action_id}/progress",
                        data={"quarter": str(CURRENT), "percent": "140"})
    assert wrong.status_code == 422 and "from 0 to 100" in wrong.get_data(as_text=True)


def test_others_may_not_record_progress(
    app: Flask, client: FlaskClient, login: Callable[..., object], world: World
) -> None:
    """PLAN05: the second focal point of the cluster is not responsible for this action."""
    cycle_id = _drafted(app, world)
    action_id = _make_responsible(app, cycle_id, world)
    login(world.second_focal_point)
    response = client.post(f"/cycles/{cycle_id}/plan/{action_id}/progress",
                           data={"quarter": str(CURRENT), "percent": "10"})
    assert response.status_code == 403


def test_closed_and_future_quarters_take_no_progress(app: Flask, world: World) -> None:
    """PLAN05."""
    cycle_id = _drafted(app, world)
    with app.app_context():
        cycle = get_cycle(cycle_id)
        actor = Actor.of(user(world.coordinator.email))
        action = _actions(cycle_id)[0]
        with pytest.raises(ServiceError, match="has not started yet"):
            record_progress(action, cycle, Stocktake(str(CURRENT.next), 10), actor, TODAY)
        close_quarter(cycle.unit, str(CURRENT.previous), actor, TODAY)
        with pytest.raises(ServiceError, match="is closed"):
            record_progress(action, cycle, Stocktake(str(CURRENT.previous), 10), actor, TODAY)
        with pytest.raises(ServiceError, match="already closed"):
            close_quarter(cycle.unit, str(CURRENT.previous), actor, TODAY)
        with pytest.raises(ServiceError, match="cannot drop"):
            record_progress(action, cycle, Stocktake(str(CURRENT), 10,
                                                     status=ActionStatus.dropped), actor, TODAY)


# --------------------------------------------------------------------------- PLAN06


COMPONENTS = ["1.1", "1.2", "1.3", "2.1", "2.2", "2.3", "2.4", "2.5", "3.1", "3.2", "3.3",
              "3.4", "4.1", "4.2", "4.3", "5.1", "5.2"]


def test_components_below_their_target_get_the_next_stage_as_action(
    app: Flask, client: FlaskClient, login: Callable[..., object], world: World
) -> None:
    """PLAN06: stage 1 + (n mod 5); target 3 overall and 5 for 1.3 (self-assessed 3)."""
    cycle_id = make_cycle(app, "jiu-rbm", world.cluster, world.coordinator,
                          focal_points=[world.focal_point])
    answered = response_id(app, cycle_id, world.focal_point, "self_assessment")
    with app.app_context():
        response = db.session.get_one(Response, answered)
        response.answers.extend(Answer(item_id=cid, value=1 + n % 5)
                                for n, cid in enumerate(COMPONENTS))
        response.state = ResponseState.submitted
        for step in (CycleState.submitted, CycleState.in_review, CycleState.validated):
            change_state(get_cycle(cycle_id), step, Actor.of(user(world.coordinator.email)))
        db.session.commit()
    login(world.coordinator)
    assert client.post(f"/cycles/{cycle_id}/plan/targets", data={"node": "", "stage": "3"}
                       ).status_code == 302
    client.post(f"/cycles/{cycle_id}/plan/targets", data={"node": "1.3", "stage": "5"})
    client.post(f"/cycles/{cycle_id}/plan/draft")
    with app.app_context():
        actions = _actions(cycle_id)
        below = [cid for n, cid in enumerate(COMPONENTS) if 1 + n % 5 < 3] + ["1.3"]
        assert sorted(node for action in actions for node in action.nodes) == sorted(below)
        first = next(action for action in actions if action.nodes == ["1.1"])
        assert first.title.startswith("Move 1.1") and "stage 1 to stage 2" in first.title
        assert first.basis == "stage 1 (self-assessed); target 3"
    assert client.post(f"/cycles/{cycle_id}/plan/targets", data={"node": "1.1",
                                                                   "stage": "9"}
                       ).status_code == 400


# --------------------------------------------------------------------------- PLAN07


def test_the_cycle_report_shows_the_stored_plan(
    app: Flask, client: FlaskClient, login: Callable[..., object], world: World
) -> None:
    """PLAN07: the Action plan sheet reads the stored actions and their status."""
    cycle_id = _drafted(app, world)
    _make_responsible(app, cycle_id, world)
    login(world.coordinator)
    workbook = openpyxl.load_workbook(io.BytesIO(client.get(
        f"/cycles/{cycle_id}/report.xlsx").data), read_only=True)
    rows = list(workbook["Action plan"].iter_rows(min_row=2, values_only=True))
    assert [row[1] for row in rows] == DRAFTED
    assert rows[0][5] == str(CURRENT) and rows[0][6] == "planned"


# --------------------------------------------------------------------------- PLAN08


def test_routes_check_role_unit_and_state(
    app: Flask, client: FlaskClient, login: Callable[..., object], world: World,
    make_user: Callable[..., User],
) -> None:
    """PLAN08: a viewer reads but does not edit; another unit's people do not know the plan."""
    cycle_id = _drafted(app, world)
    with app.app_context():
        action_id = _actions(cycle_id)[0].id
    login(world.viewer)
    assert client.get(f"/cycles/{cycle_id}/plan").status_code == 200
    for path in ("plan/draft", f"plan/{action_id}/delete", "plan/merge"):
        assert client.post(f"/cycles/{cycle_id}/{path}").status_code == 403, path
    assert client.get(f"/cycles/{cycle_id}/plan/{action_id}/edit").status_code == 403
    client.post("/auth/logout")
    login(world.other_focal_point)
    assert client.get(f"/cycles/{cycle_id}/plan").status_code == 404
    assert client.get(f"/cycles/{cycle_id}/plan/{action_id}/progress").status_code == 404
    client.post("/auth/logout")
    login(world.coordinator)
    other = final_ccpm_cycle(app, world.other_cluster, world.coordinator,
                             make_user(role=Role.focal_point, unit=world.other_cluster))
    assert client.get(f"/cycles/{other}/plan/{action_id}/edit").status_code == 404
    assert client.post(f"/cycles/{cycle_id}/plan/{action_id}/delete").status_code == 302
    with app.app_context():
        assert len(_actions(cycle_id)) == 3
        assert db.session.scalars(select(AuditEvent).where(
            AuditEvent.action == "action.deleted")).one().before["nodes"] == ["1.1"]


# --------------------------------------------------------------------------- PLAN09


def test_the_next_cycle_shows_the_actions_that_targeted_each_page(
    app: Flask, client: FlaskClient, login: Callable[..., object], world: World
) -> None:
    """PLAN09: the 2026 cycle's page of sub-function 1.1 shows the 2025 plan's action on 1.1
    (done) and not the one on 1.2; a page with no earlier action shows none."""
    from surveyapp.services.answers import layout_for

    earlier = _drafted(app, world)
    with app.app_context():
        cycle = get_cycle(earlier)
        actor = Actor.of(user(world.coordinator.email))
        first, second = _actions(earlier)[:2]
        record_progress(first, cycle, Stocktake(str(CURRENT), 100, status=ActionStatus.done),
                        actor, TODAY)
        record_progress(second, cycle, Stocktake(str(CURRENT), 30,
                                                 status=ActionStatus.in_progress), actor, TODAY)
        db.session.commit()
        first_title, second_title = first.title, second.title
    later = make_cycle(app, "ccpm", world.cluster, world.coordinator,
                       focal_points=[world.focal_point])
    answered = response_id(app, later, world.focal_point, "coordinator")
    with app.app_context():
        cycle = get_cycle(later)
        cycle.period_start, cycle.period_end = dt.date(2026, 1, 1), dt.date(2026, 12, 31)
        db.session.commit()
        layout = layout_for(db.session.get_one(Response, answered))
        page_11, page_12, page_21 = (layout.page_of(item) for item in ("q111", "q121", "q211"))
    login(world.focal_point)
    html = client.get(f"/cycles/{later}/respond/coordinator/page/{page_11}").get_data(
        as_text=True)
    assert "Actions agreed after earlier cycles" in html
    assert first_title in html and "done, 100 % at the last stock-take" in html
    assert second_title not in html
    html = client.get(f"/cycles/{later}/respond/coordinator/page/{page_12}").get_data(
        as_text=True)
    assert second_title in html and "not done: in progress, 30 %" in html
    html = client.get(f"/cycles/{later}/respond/coordinator/page/{page_21}").get_data(
        as_text=True)
    assert "Actions agreed after earlier cycles" not in html
    client.post("/language", data={"language": "ar"})  # the questionnaire pages have Arabic
    html = client.get(f"/cycles/{later}/respond/coordinator/page/{page_12}").get_data(
        as_text=True)
    assert 'dir="rtl"' in html and "الإجراءات المتفق عليها بعد الدورات السابقة" in html
    assert "غير مُنجَز: قيد التنفيذ" in html


@pytest.mark.app_config(WTF_CSRF_ENABLED=True)
def test_plan_forms_carry_their_csrf_token(
    app: Flask, client: FlaskClient, login: Callable[..., object], world: World
) -> None:
    """PLAN08: a POST without the token is refused; the plan page's own form works."""
    from tests.conftest import csrf_token_in

    cycle_id = _final(app, world)
    login(world.coordinator)
    assert client.post(f"/cycles/{cycle_id}/plan/draft").status_code == 400
    token = csrf_token_in(client.get(f"/cycles/{cycle_id}/plan"))
    assert token is not None
    assert client.post(f"/cycles/{cycle_id}/plan/draft",
                       data={"csrf_token": token}).status_code == 302
    with app.app_context():
        assert len(_actions(cycle_id)) == 4


def test_the_plan_page_and_its_drafts_read_in_french(
    app: Flask, client: FlaskClient, login: Callable[..., object], world: World
) -> None:
    """docs/i18n.md: a coordinator reading in French drafts and reads the plan in French; the
    drafts quote the instrument's French band words (instruments/library/ccpm.yaml)."""
    cycle_id = _final(app, world)
    login(world.coordinator)
    client.post("/language", data={"language": "fr"})
    page = client.post(f"/cycles/{cycle_id}/plan/draft", follow_redirects=True).get_data(
        as_text=True)
    assert '<html lang="fr"' in page
    assert "4 action(s) préparée(s) à partir des résultats." in page
    assert "Plan d'action de" in page and "Fusionner les actions cochées" in page
    assert "Prévue" in page and "Action plan of" not in page
    with app.app_context():
        assert _actions(cycle_id)[0].basis == "Faible, 25,00 %"
    refused = client.post(f"/cycles/{cycle_id}/plan/new", data={"title": "", "status": "planned"})
    assert "Indiquez ce qui sera fait." in refused.get_data(as_text=True)
