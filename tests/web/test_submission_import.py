"""Kobo/ODK submission exports imported into a cycle: preview, confirm, all or nothing.

The exports are built as the servers lay them out (tests/interop/kobo.py, after peers.md
section 3); the messages are the converter's (scoring/submissions.py), located by row and
column. Each refusal asserts that nothing was imported.
"""

from __future__ import annotations

import html
import io
import random
import re
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import func, select

from instruments import parse_instrument
from instruments.loader import load_instrument
from instruments.xlsform import XLSForm, build_xlsform
from scoring.submissions import convert_submissions, read_tables
from surveyapp.extensions import db
from surveyapp.models import (
    Answer,
    AuditEvent,
    CycleState,
    Response,
    ResponseState,
    SubmissionImport,
)
from tests.interop.kobo import (
    ExportStyle,
    Respondent,
    csv_bytes,
    main_table,
    make_answers,
    odk_zip,
    xlsx_bytes,
)
from tests.web.cycles_world import MINI, MINI_FRAMEWORK, World, make_cycle

IMPORTS = "/cycles/{id}/imports"


@pytest.fixture
def ccpm(app: Flask, world: World) -> int:
    """An open CCPM cycle of the Health cluster; partners answer through Kobo."""
    return make_cycle(app, "ccpm", world.cluster, world.coordinator,
                      focal_points=[world.focal_point], anonymous=True)


def mini_form() -> XLSForm:
    return build_xlsform(parse_instrument(MINI.encode(), "mini").instrument, "partners")


def mini_export(*respondents: Respondent) -> list[list[Any]]:
    """MINI's partner submissions as Kobo exports them (codes, ``/`` group prefixes)."""
    return main_table(mini_form(), list(respondents), ExportStyle())


def partner(identifier: str, org: str = "1", choice: str = "2") -> Respondent:
    return Respondent(identifier, answers={"org": org, "p_choice": choice})


def send(client: FlaskClient, cycle_id: int, data: bytes, name: str,
         questionnaire: str = "partners") -> Any:
    return client.post(IMPORTS.format(id=cycle_id), data={
        "questionnaire": questionnaire, "export": (io.BytesIO(data), name)},
        content_type="multipart/form-data")


def text(sent: Any) -> str:
    """The page as a reader sees it: tags dropped, spaces collapsed (tables kept as cells)."""
    page = re.sub(r"<(?!/?(?:tr|td)\b)[^>]*>", "", sent.get_data(as_text=True))
    return html.unescape(re.sub(r"\s+", " ", page).replace("> <", "><"))


def refused_rows(page: str) -> list[tuple[str, str, str, str]]:
    table = page[page.find("Rows refused"):]
    table = table[:table.find("Rows that can be taken")]
    return re.findall(r"<tr><td>(.*?)</td><td>(.*?)</td><td>(.*?)</td><td>(.*?)</td></tr>",
                      table)


def imported(app: Flask, cycle_id: int) -> dict[str, dict[str, Any]]:
    """The cycle's imported responses: submission id -> item -> stored value."""
    with app.app_context():
        responses = db.session.scalars(select(Response).where(
            Response.cycle_id == cycle_id, Response.external_id.is_not(None)))
        return {response.external_id: {answer.item_id: answer.value
                                       for answer in response.answers}
                for response in responses}


def previewed(client: FlaskClient, cycle_id: int, data: bytes, name: str,
              questionnaire: str = "partners") -> tuple[str, str]:
    """Upload; the address of the report and the report page."""
    sent = send(client, cycle_id, data, name, questionnaire)
    assert sent.status_code == 302, text(sent)
    location = sent.headers["Location"]
    return location, text(client.get(location))


def test_ccpm_partner_answers_from_kobo_are_previewed_then_imported(
    app: Flask, client: FlaskClient, login: Callable[..., Any], world: World, ccpm: int
) -> None:
    instrument = load_instrument("ccpm").instrument
    form = build_xlsform(instrument, "partner")
    respondents = make_answers(instrument, "partner", 6, random.Random(9))
    export = xlsx_bytes({"ccpm_partner": main_table(form, respondents, ExportStyle())})
    login(world.coordinator)
    page = text(client.get(IMPORTS.format(id=ccpm)))
    assert "Import submissions from KoboToolbox or ODK" in page
    location, report = previewed(client, ccpm, export, "kobo.xlsx", "partner")
    assert "Checked, not imported yet: all 6 submissions can be imported" in report
    assert imported(app, ccpm) == {}  # the preview keeps nothing but the file
    confirmed = client.post(f"{location}/confirm")
    assert confirmed.status_code == 302
    report = text(client.get(location))
    assert "6 submissions imported on" in report
    expected = convert_submissions(instrument, "partner", read_tables(
        export, "kobo.xlsx").main, "kobo.xlsx")
    assert not expected.refused
    stored = imported(app, ccpm)
    assert set(stored) == {respondent.id for respondent in respondents}
    for row in expected.rows:
        assert str(stored[row.respondent][row.item]) == row.value, row
    with app.app_context():
        responses = db.session.scalars(select(Response).where(
            Response.cycle_id == ccpm, Response.external_id.is_not(None))).all()
        assert {response.state for response in responses} == {ResponseState.submitted}
        assert all(response.invitation_id is None and response.respondent_id is None
                   for response in responses)
        assert {r.external_id: r.organization_type for r in responses} == {
            respondent.id: respondent.answers["q012"] for respondent in respondents}
        batch = db.session.scalars(select(SubmissionImport)).one()
        assert batch.imported == 6 and batch.content is None
        assert {response.submission_import_id for response in responses} == {batch.id}
        actions = db.session.scalars(select(AuditEvent.action).where(
            AuditEvent.cycle_id == ccpm)).all()
    assert actions.count("submissions.imported") == 1
    assert actions.count("response.imported") == 6
    assert actions.count("response.submitted") == 6
    assert "answer.saved" in actions
    listing = text(client.get(IMPORTS.format(id=ccpm)))
    assert "kobo.xlsx" in listing and "6 imported" in listing
    detail = client.get(f"/cycles/{ccpm}").get_data(as_text=True)
    assert f'href="/cycles/{ccpm}/imports"' in detail
    cycles = client.get("/cycles/").get_data(as_text=True)
    assert '<td data-label="Partner answers">6</td>' in cycles


def test_the_same_export_twice_is_refused_submission_by_submission(
    app: Flask, client: FlaskClient, login: Callable[..., Any], world: World, mini: int
) -> None:
    export = csv_bytes(mini_export(partner("s-1"), partner("s-2", org="2")))
    login(world.coordinator)
    location, _ = previewed(client, mini, export, "kobo.csv")
    assert client.post(f"{location}/confirm").status_code == 302
    assert set(imported(app, mini)) == {"s-1", "s-2"}
    again, report = previewed(client, mini, export, "kobo.csv")
    assert "Nothing can be imported from this file." in report
    assert refused_rows(report) == [
        ("2", "s-1", "", "submission `s-1` was imported into this cycle already: it is not "
                         "imported twice (delete its row, or export only the new submissions)"),
        ("3", "s-2", "", "submission `s-2` was imported into this cycle already: it is not "
                         "imported twice (delete its row, or export only the new submissions)"),
    ]
    assert "Import 2 submissions" not in report
    refused = client.post(f"{again}/confirm")
    assert refused.status_code == 302
    assert "Nothing was imported: 2 submissions refused" in text(client.get(again))
    with app.app_context():
        assert db.session.scalar(select(func.count(Response.id)).where(
            Response.cycle_id == mini, Response.external_id.is_not(None))) == 2


def test_the_import_pages_read_in_french_and_row_problems_stay_as_the_command_prints_them(
    client: FlaskClient, login: Callable[..., Any], world: World, mini: int
) -> None:
    """docs/i18n.md: page words in French; each refused row's reason is the line
    `surveyapp import` prints, in English."""
    table = mini_export(partner("s-1"), partner("s-2", choice="7"))
    login(world.coordinator)
    client.post("/language", data={"language": "fr"})
    _location, report = previewed(client, mini, xlsx_bytes({"mini_partners": table}),
                                  "kobo.xlsx")
    assert "Rien ne peut être importé de ce fichier." in report
    assert "1 soumission est refusée, et un fichier est importé en entier ou pas du tout." in (
        report)
    assert "`7` is neither a code (1, 2, 99) nor a label of `p_choice`" in report


def test_one_bad_cell_refuses_the_whole_file_by_row_and_column(
    app: Flask, client: FlaskClient, login: Callable[..., Any], world: World, mini: int
) -> None:
    table = mini_export(partner("s-1"), partner("s-2", choice="7"), partner("s-3", org=""))
    login(world.coordinator)
    location, report = previewed(client, mini, xlsx_bytes({"mini_partners": table}),
                                 "kobo.xlsx")
    assert "2 submissions are refused, and a file is imported whole or not at all" in report
    rows = refused_rows(report)
    assert rows[0] == ("3", "s-2", "node_A/p_choice",
                       "`7` is neither a code (1, 2, 99) nor a label of `p_choice`: correct it "
                       "or leave it blank")
    assert rows[1] == ("4", "s-3", "org",
                       "the questionnaire requires this: Answer this question.")
    assert "Rows that can be taken (1)" in report
    assert "Import 1 submission" not in report
    client.post(f"{location}/confirm")
    assert imported(app, mini) == {}


def test_odk_central_zip_and_labels_are_read_as_the_converter_reads_them(
    app: Flask, client: FlaskClient, login: Callable[..., Any], world: World, mini: int
) -> None:
    form = mini_form()
    table = main_table(form, [partner("odk-1", org="2", choice="1")],
                       ExportStyle(server="odk", separator="-", labels=["fr"]))
    login(world.coordinator)
    location, report = previewed(client, mini, odk_zip(form, table, {}),
                                 "submissions.csv.zip")
    assert "all 1 submission can be imported" in report
    assert "UN agency" in report  # the organisation type, read from its French label
    client.post(f"{location}/confirm")
    assert imported(app, mini) == {"odk-1": {"org": 2, "p_choice": 1}}


def test_a_file_of_another_form_is_refused_before_any_row(
    client: FlaskClient, login: Callable[..., Any], world: World, mini: int
) -> None:
    login(world.coordinator)
    _, report = previewed(client, mini, b"name,age\nAda,36\n", "people.csv")
    assert ("people.csv:1: no column is a question of the form mini_partners (the columns "
            "start name, age): give the export of that form's submissions") in report


def test_a_submission_without_an_id_cannot_be_imported(
    app: Flask, client: FlaskClient, login: Callable[..., Any], world: World, mini: int
) -> None:
    table = [row[2:4] for row in mini_export(partner("s-1"))]  # only the questions
    login(world.coordinator)
    _, report = previewed(client, mini, csv_bytes(table), "bare.csv")
    assert refused_rows(report) == [(
        "2", "row-2", "", "the submission has no id (_uuid, meta/instanceID or KEY), so "
        "importing the same export twice could not be refused: export it again with the "
        "metadata columns")]
    assert imported(app, mini) == {}


@pytest.mark.app_config(IMPORT_MAX_BYTES=1000)
def test_a_file_over_the_limit_and_a_decompression_bomb_are_refused(
    app: Flask, client: FlaskClient, login: Callable[..., Any], world: World, mini: int
) -> None:
    login(world.coordinator)
    large = send(client, mini, b"a," * 600, "big.csv")
    assert large.status_code == 422
    assert ("The file is larger than the 1000 bytes limit for an export of submissions."
            in text(large))
    app.config["IMPORT_MAX_BYTES"] = 10 * 1024 * 1024
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("mini_partners.csv", b"a" * (3 * 1024 * 1024))
    bomb = send(client, mini, buffer.getvalue(), "submissions.csv.zip")
    assert bomb.status_code == 422
    assert "refused as a possible decompression bomb" in text(bomb)
    with app.app_context():
        assert db.session.scalar(select(func.count(SubmissionImport.id))) == 0


@pytest.mark.parametrize("state", [CycleState.draft, CycleState.submitted])
def test_imports_only_while_the_cycle_is_open(
    app: Flask, client: FlaskClient, login: Callable[..., Any], world: World,
    state: CycleState,
) -> None:
    cycle_id = make_cycle(app, MINI, world.cluster, world.coordinator,
                          focal_points=[world.focal_point], framework=MINI_FRAMEWORK,
                          state=state)
    login(world.coordinator)
    assert "Submissions can be imported only while the cycle is open for answers." in text(
        client.get(IMPORTS.format(id=cycle_id)))
    sent = send(client, cycle_id, csv_bytes(mini_export(partner("s-1"))), "kobo.csv")
    assert sent.status_code == 422
    assert ("Submissions can be imported only while the cycle is open for answers; it is "
            f"{state.label.lower()}.") in text(sent)
    assert imported(app, cycle_id) == {}


def test_a_preview_left_while_the_cycle_closes_cannot_be_imported(
    app: Flask, client: FlaskClient, login: Callable[..., Any], world: World, mini: int
) -> None:
    login(world.coordinator)
    location, _ = previewed(client, mini, csv_bytes(mini_export(partner("s-1"))), "kobo.csv")
    client.post(f"/cycles/{mini}/state", data={"target": "submitted"})
    report = text(client.get(location))
    assert "The cycle no longer takes answers, so this file cannot be imported." in report
    client.post(f"{location}/confirm")
    assert imported(app, mini) == {}


def test_only_the_cycles_coordinators_import(
    client: FlaskClient, login: Callable[..., Any], world: World, mini: int
) -> None:
    expected = {world.focal_point: 403, world.validator: 403, world.viewer: 403,
                world.stranger: 404, world.mission_coordinator: 404}
    for who, status in expected.items():
        client.post("/auth/logout")
        login(who)
        assert client.get(IMPORTS.format(id=mini)).status_code == status, who.email
        sent = send(client, mini, csv_bytes(mini_export(partner("s-1"))), "kobo.csv")
        assert sent.status_code == status, who.email
    client.post("/auth/logout")
    login(world.coordinator)
    assert client.get(IMPORTS.format(id=mini)).status_code == 200


def test_the_command_line_imports_the_same_way(
    app: Flask, runner: FlaskCliRunner, world: World, mini: int, tmp_path: Path
) -> None:
    good = tmp_path / "kobo.csv"
    good.write_bytes(csv_bytes(mini_export(partner("c-1"), partner("c-2"))))
    args = ["responses", "import", str(good), "--cycle", str(mini), "-q", "partners",
            "--as", world.coordinator.email]
    dry = runner.invoke(args=[*args, "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "2 submission(s) can be imported" in dry.output
    assert imported(app, mini) == {}
    done = runner.invoke(args=args)
    assert done.exit_code == 0, done.output
    assert "imported 2 submission(s) into cycle" in done.output
    assert set(imported(app, mini)) == {"c-1", "c-2"}
    again = runner.invoke(args=args)
    assert again.exit_code == 1
    assert "kobo.csv:2: submission `c-1` was imported into this cycle already" in again.output
    assert "2 submission(s) refused: nothing imported" in again.output
    stranger = runner.invoke(args=[*args[:-1], world.focal_point.email])
    assert stranger.exit_code == 1
    assert "is not a coordinator of cycle" in stranger.output
    with app.app_context():
        assert db.session.scalar(select(func.count(Answer.id)).join(Response).where(
            Response.external_id.is_not(None))) == 4


def test_a_damaged_workbook_export_gets_a_message(
    app: Flask, client: FlaskClient, login: Callable[..., Any], world: World, mini: int
) -> None:
    source = zipfile.ZipFile(io.BytesIO(xlsx_bytes({"mini_partners": mini_export(
        partner("s-1"))})))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as target:
        for entry in source.infolist():
            content = source.read(entry.filename)
            if entry.filename == "xl/worksheets/sheet1.xml":
                content = content[: len(content) // 2]
            target.writestr(entry, content)
    login(world.coordinator)
    _, report = previewed(client, mini, buffer.getvalue(), "kobo.xlsx")
    assert ("kobo.xlsx:1: this is not a readable .xlsx workbook (ParseError): export it again"
            in report)
    assert imported(app, mini) == {}
