"""The coordinator's dashboard (action plans issue, "Dashboards").

DASH01 the heat map shows every unit's latest final ratings, in colours and in words, with
       a data table beside it.
DASH02 trends: a unit with two cycles shows how each sub-function moved.
DASH03 partners' own scores are not shown for groups smaller than the instrument's
       min_group_size (ccpm partner questionnaire: 3).
DASH04 weaknesses shared by two or more units; action plan progress and overdue actions.
DASH05 the page issues as many queries for 12 units as for 3.
DASH06 only coordinators, viewers and admins of the unit see it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from instruments.loader import load_instrument
from reports.quarters import Quarter
from surveyapp.extensions import db
from surveyapp.models import Action, Membership, Role, StoredResult, Unit, UnitKind, User
from surveyapp.services.audit import Actor
from surveyapp.services.plans import ActionDraft, draft_actions, edit_action, final_scores
from tests.web.cycles_world import World, get_cycle, user
from tests.web.plans_world import COORDINATOR, PARTNERS, final_ccpm_cycle
from tests.web.test_questionnaire import counted_queries

LAST = Quarter.of(dt.date.today()).previous


def _with_plan(app: Flask, cycle_id: int, coordinator: User, *, overdue: bool = False) -> None:
    with app.app_context():
        cycle = get_cycle(cycle_id)
        actor = Actor.of(user(coordinator.email))
        actions = draft_actions(cycle, final_scores(cycle), actor)
        if overdue:
            edit_action(actions[0], cycle, ActionDraft(title="Hold monthly meetings",
                                                       nodes=tuple(actions[0].nodes),
                                                       due_quarter=str(LAST)), actor)
        db.session.commit()


def test_heat_map_trends_suppression_and_plans(
    app: Flask, client: FlaskClient, login: Callable[..., object], world: World,
    make_unit: Callable[..., Unit], make_user: Callable[..., User],
) -> None:
    """DASH01-DASH04: Health (two cycles, 4 partners), WASH (2 partners), Education."""
    education = make_unit("CAR-EDU", kind=UnitKind.cluster, parent=world.country)
    final_ccpm_cycle(app, world.cluster, world.coordinator, world.focal_point,
                               answers={**COORDINATOR, "q111": 4}, title="Health 2025")
    health = final_ccpm_cycle(app, world.cluster, world.coordinator, world.focal_point,
                              title="Health 2026")
    wash = final_ccpm_cycle(app, world.other_cluster, world.coordinator,
                            world.other_focal_point, partners=PARTNERS[:2], title="WASH 2026")
    final_ccpm_cycle(app, education, world.coordinator,
                     make_user(role=Role.focal_point, unit=education), title="Education 2026")
    _with_plan(app, health, world.coordinator, overdue=True)
    _with_plan(app, wash, world.coordinator)
    login(world.coordinator)
    page = client.get("/dashboard/CAR")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    # DASH01: the heat map (SVG, colours and words) and its data table
    assert '<svg xmlns="http://www.w3.org/2000/svg"' in html and 'fill="#e0301e"' in html
    for code in ("CAR-HEALTH", "CAR-WASH", "CAR-EDU"):
        assert f'<th scope="row">{code}</th>' in html
    assert "Weak (25.00 %)" in html and "Good (100.00 %)" in html
    assert "Health 2026" in html and "Health 2025" in html
    # DASH02: Health 2025 had the coordinator's q111 at 4, not 1; with partners 0 1 2 1 the
    # median of the means is 1 (25 %) either way, so 1.1 reads 0.00, node by node
    assert "Change since each unit's previous cycle" in html and "<td>0.00</td>" in html
    # DASH03: WASH has 2 partners, fewer than the minimum of 3
    assert "fewer than 3" in html and "not shown" in html
    assert load_instrument("ccpm").instrument.questionnaires[1].min_group_size == 3
    # DASH04: every unit is weak in 1.1 and 5 (same answers), so these are shared
    assert "Weaknesses shared by several units" in html
    assert "3: CAR-EDU, CAR-HEALTH, CAR-WASH" in html
    assert "Hold monthly meetings" in html and str(LAST) in html  # overdue
    with app.app_context():
        assert len(db.session.scalars(select(StoredResult)).all()) == 4


def test_trend_shows_a_moved_rating(
    app: Flask, client: FlaskClient, login: Callable[..., object], world: World
) -> None:
    """DASH02: 2.1 was good (all answered 4), then satisfactory (75 %)."""
    final_ccpm_cycle(app, world.cluster, world.coordinator, world.focal_point,
                     answers={**COORDINATOR, "q211": 4},
                     partners=[{**partner, "q211": 4} for partner in PARTNERS])
    final_ccpm_cycle(app, world.cluster, world.coordinator, world.focal_point)
    login(world.coordinator)
    html = client.get("/dashboard/CAR").get_data(as_text=True)
    assert "-25.00 (Good → Satisfactory)" in html


def test_the_dashboard_reads_in_french(
    app: Flask, client: FlaskClient, login: Callable[..., object], world: World
) -> None:
    """docs/i18n.md: page words, the instrument's French bands (Bon / Satisfaisant /
    Insatisfaisant / Faible, instruments/library/ccpm.yaml) and French numbers."""
    final_ccpm_cycle(app, world.cluster, world.coordinator, world.focal_point,
                     answers={**COORDINATOR, "q211": 4},
                     partners=[{**partner, "q211": 4} for partner in PARTNERS])
    final_ccpm_cycle(app, world.cluster, world.coordinator, world.focal_point)
    login(world.coordinator)
    client.post("/language", data={"language": "fr"})
    html = client.get("/dashboard/CAR").get_data(as_text=True)
    assert '<html lang="fr"' in html and "Tableau de bord de" in html
    assert "Faible (25,00 %)" in html and "-25,00 (Bon → Satisfaisant)" in html
    assert "Faiblesses partagées par plusieurs unités" in html
    assert "Avancement des plans d'action par unité" in html
    assert "Weak" not in html and "Ratings of every unit" not in html


def _units_with_cycles(app: Flask, world: World, make_unit: Callable[..., Unit],
                       make_user: Callable[..., User], count: int, prefix: str) -> Unit:
    root = make_unit(prefix, kind=UnitKind.country)
    for number in range(count):
        cluster = make_unit(f"{prefix}-{number}", kind=UnitKind.cluster, parent=root)
        cycle_id = final_ccpm_cycle(app, cluster, world.coordinator,
                                    make_user(role=Role.focal_point, unit=cluster))
        _with_plan(app, cycle_id, world.coordinator, overdue=number % 2 == 0)
    return root


def test_the_dashboard_costs_the_same_queries_for_3_or_12_units(
    app: Flask, client: FlaskClient, login: Callable[..., object], world: World,
    make_unit: Callable[..., Unit], make_user: Callable[..., User],
) -> None:
    """DASH05: after the first view has stored each final cycle's results."""
    coordinator = make_user("many@example.org", role=Role.coordinator, unit=world.country)
    counts = {}
    login(coordinator)
    for size, prefix in ((3, "SMALL"), (12, "LARGE")):
        root = _units_with_cycles(app, world, make_unit, make_user, size, prefix)
        with app.app_context():
            db.session.add(Membership(user_id=coordinator.id, unit_id=root.id,
                                      role=Role.coordinator))
            db.session.commit()
        assert client.get(f"/dashboard/{prefix}").status_code == 200  # stores the results
        with counted_queries(app) as statements:
            page = client.get(f"/dashboard/{prefix}")
        assert page.status_code == 200
        assert page.get_data(as_text=True).count('<th scope="row">' + prefix) >= size
        counts[size] = len(statements)
    assert counts[3] == counts[12], counts
    with app.app_context():
        assert db.session.scalar(select(Action.id).limit(1)) is not None


def test_who_sees_the_dashboard(
    app: Flask, client: FlaskClient, login: Callable[..., object], world: World
) -> None:
    """DASH06."""
    login(world.viewer)
    assert client.get("/dashboard/").status_code == 302
    assert client.get("/dashboard/CAR").status_code == 200
    client.post("/auth/logout")
    login(world.focal_point)
    assert client.get("/dashboard/").status_code == 403
    assert client.get("/dashboard/CAR-HEALTH").status_code == 403
    assert client.get("/dashboard/UNDP").status_code == 404
    assert "Dashboards" not in client.get("/").get_data(as_text=True)
