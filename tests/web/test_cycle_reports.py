"""Reports of a cycle from the web (reports issue, "From the web").

REP-W1: no report while the cycle is being answered (the page says so; downloads 409).
REP-W2: once submitted, the report is preliminary; its PDF says so and carries the unit and
        the scored stages; the workbook reads back with openpyxl.
REP-W3: only those who may read the cycle's results download it (other unit: 404).
"""

from __future__ import annotations

import io
import shutil
import subprocess

import openpyxl
from flask import Flask
from flask.testing import FlaskClient

from surveyapp.extensions import db
from surveyapp.models import Answer, CycleState, Response, ResponseState
from surveyapp.services.audit import Actor
from surveyapp.services.cycles import change_state
from tests.web.cycles_world import (
    World,
    get_cycle,
    make_cycle,
    response_id,
    user,
)

COMPONENTS = ["1.1", "1.2", "1.3", "2.1", "2.2", "2.3", "2.4", "2.5", "3.1", "3.2", "3.3",
              "3.4", "4.1", "4.2", "4.3", "5.1", "5.2"]


def _submitted_jiu_cycle(app: Flask, world: World) -> int:
    """A JIU cycle whose focal point submitted stage 1 + (n % 5) for the n-th component."""
    cycle_id = make_cycle(app, "jiu-rbm", world.cluster, world.coordinator,
                          focal_points=[world.focal_point], validators=[world.validator])
    answered = response_id(app, cycle_id, world.focal_point, "self_assessment")
    with app.app_context():
        response = db.session.get_one(Response, answered)
        response.answers.extend(Answer(item_id=cid, value=1 + n % 5)
                                for n, cid in enumerate(COMPONENTS))
        response.state = ResponseState.submitted
        change_state(get_cycle(cycle_id), CycleState.submitted,
                     Actor.of(user(world.coordinator.email)))
        db.session.commit()
    return cycle_id


def test_no_report_while_answering(app: Flask, client: FlaskClient, login, world: World) -> None:
    """REP-W1."""
    cycle_id = make_cycle(app, "jiu-rbm", world.cluster, world.coordinator,
                          focal_points=[world.focal_point])
    login(world.coordinator.email)
    page = client.get(f"/cycles/{cycle_id}/report")
    assert page.status_code == 200
    assert b"There is no report yet" in page.data
    assert client.get(f"/cycles/{cycle_id}/report.pdf").status_code == 409


def test_submitted_cycle_gives_a_preliminary_pdf_and_workbook(
    app: Flask, client: FlaskClient, login, world: World, require_tool
) -> None:
    """REP-W2: stages as scored (component n has stage 1 + n mod 5)."""
    require_tool(shutil.which("pdftotext") is not None, "pdftotext (poppler-utils) is missing")
    cycle_id = _submitted_jiu_cycle(app, world)
    login(world.coordinator.email)
    page = client.get(f"/cycles/{cycle_id}/report")
    assert b"preliminary" in page.data and b"report.pdf?lang=fr" in page.data

    pdf = client.get(f"/cycles/{cycle_id}/report.pdf?lang=en")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    assert "attachment" in pdf.headers["Content-Disposition"]
    text = subprocess.run(["pdftotext", "-layout", "-", "-"], input=pdf.data,
                          capture_output=True, check=True).stdout.decode()
    assert "Preliminary" in text or "PRELIMINARY" in text
    assert world.cluster.name in text
    assert "Results-based management strategy" in text

    workbook_response = client.get(f"/cycles/{cycle_id}/report.xlsx")
    assert workbook_response.status_code == 200
    workbook = openpyxl.load_workbook(io.BytesIO(workbook_response.data), read_only=True)
    answers = list(workbook["Answers"].iter_rows(values_only=True))
    stages = {row[2]: row[3] for row in answers[1:] if row[1] == "self_assessment"}
    assert {cid: int(stages[cid]) for cid in COMPONENTS} == {
        cid: 1 + n % 5 for n, cid in enumerate(COMPONENTS)}


def test_other_units_cannot_download(
    app: Flask, client: FlaskClient, login, world: World
) -> None:
    """REP-W3."""
    cycle_id = _submitted_jiu_cycle(app, world)
    login(world.other_focal_point.email)
    assert client.get(f"/cycles/{cycle_id}/report.pdf").status_code == 404
    assert client.get(f"/cycles/{cycle_id}/report").status_code == 404


def test_unknown_language_is_refused(app: Flask, client: FlaskClient, login, world: World) -> None:
    cycle_id = _submitted_jiu_cycle(app, world)
    login(world.coordinator.email)
    assert client.get(f"/cycles/{cycle_id}/report.pdf?lang=xx").status_code == 400
