"""Overlays in the web: a unit adapts a published instrument for its cycles, core items locked.

Rules (issue "Instrument management in the web", local adaptation without forking;
reference/cpims.md sections 2.3 and 2.8):

- OW1 an overlay with problems is refused from the version page with its located lines,
      exactly as the loader prints them; nothing is stored
- OW2 a new cycle of the overlay's unit, or of a unit below it, is opened with the overlay
      and keeps it; other units' cycles are not adapted; the questionnaire pages of an
      adapted cycle leave the hidden item out and ask the added one
- OW3 draft cycles follow a new or withdrawn overlay; opened cycles keep theirs; all audited
- OW4 reports of an adapted cycle name the overlay and its sha256 on the cover and in the
      method notes (PDF read back with pdftotext)
"""

from __future__ import annotations

import datetime as dt
import io
import shutil
import subprocess
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from markupsafe import escape
from sqlalchemy import func, select

from reports.pdf import render_pdf
from surveyapp.extensions import db
from surveyapp.models import (
    AuditEvent,
    CycleState,
    InstrumentOverlay,
    Response,
    Unit,
    User,
)
from surveyapp.services.access import AccessDenied
from surveyapp.services.overlays import upload_overlay, withdraw_overlay
from surveyapp.services.reporting import cycle_report
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

OVERLAY = """key: car-local
version: "1"
instrument: mini
instrument_version: "1"
title: {en: CAR local questions, fr: Questions locales RCA}
hide:
  - {questionnaire: self, item: b_date, reason: Known from the CAR register}
add:
  - questionnaire: self
    after: a_yes
    item:
      id: car.plan_owner
      type: text
      node: A
      role: comment
      text: {en: Who owns the plan?, fr: Qui porte le plan ?}
"""


def adapt(app: Flask, unit: Unit, who: User, text: str = OVERLAY) -> int:
    with app.app_context():
        overlay = upload_overlay(user(who.email), db.session.get_one(Unit, unit.id),
                                 version_for(MINI), text.encode(), "car-local.yaml")
        db.session.commit()
        return overlay.id


def overlay_of(app: Flask, cycle_id: int) -> int | None:
    with app.app_context():
        return get_cycle(cycle_id).overlay_id


def test_a_broken_overlay_is_refused_with_its_lines(
    app: Flask, client: FlaskClient, login: Callable[..., Any], world: World
) -> None:
    """OW1: hiding a required item names it and its line; nothing is stored."""
    with app.app_context():
        version_id = version_for(MINI).id
        db.session.commit()
    login(world.coordinator)
    broken = OVERLAY.replace("item: b_date,", "item: a_choice,")
    response = client.post(f"/instruments/{version_id}/overlays", data={
        "unit": world.cluster.id, "file": (io.BytesIO(broken.encode()), "car-local.yaml")},
        content_type="multipart/form-data")
    assert response.status_code == 422
    line = ("car-local.yaml:7:27: I070 item `a_choice` cannot be hidden: it is required. Core "
            "items stay in every unit's questionnaire so that results stay comparable; remove "
            "this entry")
    assert f"<code>{escape(line)}</code>" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count(InstrumentOverlay.id))) == 0


def test_the_units_new_cycles_are_asked_the_adapted_questionnaire(
    app: Flask, client: FlaskClient, login: Callable[..., Any], world: World
) -> None:
    """OW2: the country's overlay adapts its cluster's cycle, not the mission's."""
    overlay_id = adapt(app, world.country, world.coordinator)
    cycle_id = make_cycle(app, MINI, world.cluster, world.coordinator,
                          focal_points=[world.focal_point], framework=MINI_FRAMEWORK)
    other = make_cycle(app, MINI, world.mission, world.mission_coordinator,
                       state=CycleState.draft)
    assert overlay_of(app, cycle_id) == overlay_id
    assert overlay_of(app, other) is None
    login(world.focal_point)
    page = client.get(f"/cycles/{cycle_id}/respond/self/page/1").get_data(as_text=True)
    assert 'id="q-car.plan_owner"' in page and "Who owns the plan?" in page
    assert page.index('id="q-a_yes"') < page.index('id="q-car.plan_owner"')
    second = client.get(f"/cycles/{cycle_id}/respond/self/page/2").get_data(as_text=True)
    assert 'id="q-b_number"' in second and 'id="q-b_date"' not in second
    saved = client.post(f"/cycles/{cycle_id}/respond/self/autosave",
                        json={"slots": {"car.plan_owner": {"value": "The health ministry"}}})
    assert saved.get_json()["saved"] == ["car.plan_owner"]
    refused = client.post(f"/cycles/{cycle_id}/respond/self/autosave",
                          json={"slots": {"b_date": {"value": "2025-01-01"}}})
    assert refused.status_code == 400  # not a question of this cycle
    detail = client.get(f"/cycles/{cycle_id}").get_data(as_text=True)
    assert "CAR local questions" in detail
    coordinator = app.test_client()
    login(world.coordinator, client=coordinator)
    page = coordinator.get(f"/instruments/overlays/{overlay_id}").get_data(as_text=True)
    assert "self/b_date" in page and "Known from the CAR register" in page
    assert coordinator.get(f"/instruments/overlays/{overlay_id}/overlay.yaml").get_data(
        as_text=True) == OVERLAY


def test_draft_cycles_follow_the_overlay_and_opened_ones_keep_theirs(
    app: Flask, world: World
) -> None:
    """OW3."""
    opened = make_cycle(app, MINI, world.cluster, world.coordinator,
                        focal_points=[world.focal_point], framework=MINI_FRAMEWORK)
    draft = make_cycle(app, MINI, world.other_cluster, world.coordinator,
                       state=CycleState.draft)
    first = adapt(app, world.country, world.coordinator)
    assert overlay_of(app, opened) is None and overlay_of(app, draft) == first
    second = adapt(app, world.country, world.coordinator,
                   OVERLAY.replace('version: "1"\ninstrument', 'version: "2"\ninstrument'))
    assert overlay_of(app, draft) == second
    with app.app_context():
        overlay = db.session.get_one(InstrumentOverlay, second)
        assert not db.session.get_one(InstrumentOverlay, first).active
        withdraw_overlay(user(world.coordinator.email), overlay)
        db.session.commit()
        actions = list(db.session.scalars(select(AuditEvent.action).where(
            AuditEvent.action.like("%overlay%")).order_by(AuditEvent.id)))
    assert overlay_of(app, draft) is None
    assert actions == ["overlay.uploaded", "cycle.overlay_changed", "overlay.uploaded",
                       "cycle.overlay_changed", "overlay.withdrawn", "cycle.overlay_changed"]


def test_reports_name_the_overlay_and_its_sha256(
    app: Flask, world: World, require_tool: Callable[[bool, str], None]
) -> None:
    """OW4: in French, on the cover and in the method notes."""
    require_tool(shutil.which("pdftotext") is not None, "pdftotext (poppler-utils) is missing")
    adapt(app, world.country, world.coordinator)
    cycle_id = make_cycle(app, MINI, world.cluster, world.coordinator,
                          focal_points=[world.focal_point], framework=MINI_FRAMEWORK)
    with app.app_context():
        response = db.session.get_one(
            Response, response_id(app, cycle_id, world.focal_point, "self"))
        assert response.questionnaire == "self"
        cycle = get_cycle(cycle_id)
        report = cycle_report(cycle, language="fr", today=dt.date(2026, 1, 15))
        assert report.data is not None, report.problems
        sha256 = cycle.overlay.sha256  # type: ignore[union-attr]
        pdf = render_pdf(report.data)
    text = subprocess.run(["pdftotext", "-layout", "-", "-"], input=pdf, capture_output=True,
                          check=True).stdout.decode()
    flat = "".join(text.split())
    assert "Adaptationlocale" in flat and "QuestionslocalesRCA(car-local1)" in flat
    assert sha256 in flat
    assert "telsqu'adaptésparQuestionslocalesRCA" in flat.replace("’", "'")
    assert "(self/b_date)" in flat and "(self/car.plan_owner)" in flat


def test_an_overlay_needs_a_manager_of_its_unit(app: Flask, world: World) -> None:
    """The service refuses whoever does not coordinate or administer the unit."""
    with pytest.raises(AccessDenied, match="Only coordinators and administrators of CAR"):
        adapt(app, world.country, world.focal_point)
    with pytest.raises(AccessDenied, match="Only coordinators and administrators of CAR"):
        adapt(app, world.country, world.mission_coordinator)
