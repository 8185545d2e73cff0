"""The offline answers workbook: download, fill with openpyxl, upload, and every refusal.

Each refused upload asserts its message, where it points (sheet, cell, column, question),
and that the answers stored before are intact: nothing of a refused workbook is saved.
"""

from __future__ import annotations

import datetime as dt
import html
import io
import re
import zipfile
from collections.abc import Callable, Mapping
from datetime import date, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from openpyxl import Workbook, load_workbook
from sqlalchemy import select

from surveyapp.extensions import db
from surveyapp.models import (
    Answer,
    AuditEvent,
    CycleState,
    Decision,
    ParticipantRole,
    Response,
)
from surveyapp.services.answer_workbook import COLUMNS, IDENTITY_SHEET
from surveyapp.services.answers import RawAnswer, save_answer, submit_response
from surveyapp.services.audit import Actor
from surveyapp.services.cycles import NodeDraft, add_framework_node, add_participant, change_state
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

OFFLINE = "/cycles/{id}/respond/{q}/offline"
WORKBOOK = "/cycles/{id}/respond/{q}/offline/workbook.xlsx"
COLUMN = {name: index for index, name in enumerate(COLUMNS, start=1)}


def download(client: FlaskClient, cycle_id: int, questionnaire: str = "self") -> bytes:
    sent = client.get(WORKBOOK.format(id=cycle_id, q=questionnaire))
    assert sent.status_code == 200, sent.get_data(as_text=True)[:500]
    assert sent.mimetype == ("application/vnd.openxmlformats-officedocument."
                             "spreadsheetml.sheet")
    assert "attachment" in sent.headers["Content-Disposition"]
    return sent.data


def rows_of(data: bytes, sheet: str = "Answers") -> dict[str, dict[str, Any]]:
    """The answers sheet's rows by hidden id, each a mapping column name -> value."""
    book = load_workbook(io.BytesIO(data))
    found = {}
    for cells in book[sheet].iter_rows(min_row=2, values_only=True):
        found[cells[0]] = dict(zip(COLUMNS, cells, strict=False))
    return found


def row_number(data: bytes, key: str, sheet: str = "Answers") -> int:
    book = load_workbook(io.BytesIO(data))
    for number, cells in enumerate(book[sheet].iter_rows(values_only=True), start=1):
        if cells[0] == key:
            return number
    raise AssertionError(key)


def filled(data: bytes, answers: Mapping[str, Mapping[str, Any]],
           change: Callable[[Workbook], None] | None = None, sheet: str = "Answers") -> bytes:
    """The workbook with cells set as a respondent would, by hidden id and column name."""
    book = load_workbook(io.BytesIO(data))
    answers_sheet = book[sheet]
    rows = {cells[0].value: cells[0].row for cells in answers_sheet.iter_rows(min_row=2)}
    for key, cells in answers.items():
        for column, value in cells.items():
            cell = answers_sheet.cell(rows[key], COLUMN[column])
            cell.value = value
            if isinstance(value, str) and value.startswith("="):
                cell.data_type = "s"  # typed with an apostrophe: text, not a formula
    if change is not None:
        change(book)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def upload(client: FlaskClient, cycle_id: int, data: bytes, name: str = "answers.xlsx",
           questionnaire: str = "self", url: str | None = None) -> Any:
    return client.post(url or OFFLINE.format(id=cycle_id, q=questionnaire),
                       data={"workbook": (io.BytesIO(data), name)},
                       content_type="multipart/form-data")


def stored(app: Flask, cycle_id: int, questionnaire: str = "self") -> dict[str, tuple]:
    """Every stored answer of the cycle's questionnaire: key -> (value, n/a, why, comment)."""
    with app.app_context():
        answers = db.session.scalars(select(Answer).join(Response).where(
            Response.cycle_id == cycle_id, Response.questionnaire == questionnaire))
        return {f"{a.item_id}@{a.framework_node}" if a.framework_node else a.item_id:
                (a.value, a.not_applicable, a.justification, a.comment) for a in answers}


FULL = {
    "a_stage": {"answer": "2 – Growing"},
    "a_choice": {"answer": "Agree"},
    "a_follow": {"answer": "Because it works"},
    "a_yes": {"answer": "Yes"},
    "b_number": {"answer": 12, "comment": "Counted in March"},
    "b_date": {"answer": dt.datetime(2025, 3, 1)},
    "b_text": {"answer": "=not a formula"},
}


def test_round_trip_download_fill_upload_gives_the_same_answers(
    app: Flask, client: FlaskClient, login: Callable[..., Any], world: World, mini: int
) -> None:
    login(world.focal_point)
    blank = download(client, mini)
    rows = rows_of(blank)
    assert list(rows) == ["a_stage", "a_choice", "a_follow", "a_yes", "b_number", "b_date",
                          "b_text"]
    assert rows["a_choice"]["question"] == "Do you agree?"
    sent = upload(client, mini, filled(blank, FULL))
    assert sent.status_code == 302, sent.get_data(as_text=True)
    assert sent.headers["Location"].endswith(f"/cycles/{mini}/respond/self/review")
    assert stored(app, mini) == {
        "a_stage": (2, False, None, None), "a_choice": (2, False, None, None),
        "a_follow": ("Because it works", False, None, None), "a_yes": ("yes", False, None, None),
        "b_number": (12, False, None, "Counted in March"),
        "b_date": ("2025-03-01", False, None, None),
        "b_text": ("=not a formula", False, None, None),
    }
    again = rows_of(download(client, mini))
    assert again["a_stage"]["answer"] == "2 – Growing"
    assert again["a_choice"]["answer"] == "Agree"
    assert again["b_number"]["answer"] == 12 and again["b_number"]["comment"] == (
        "Counted in March")
    assert again["b_date"]["answer"] == dt.datetime(2025, 3, 1)
    assert again["b_text"]["answer"] == "=not a formula"
    with app.app_context():
        actions = db.session.scalars(select(AuditEvent.action).where(
            AuditEvent.cycle_id == mini, AuditEvent.action.in_(
                ("answer.saved", "response.workbook_uploaded")))).all()
    assert actions.count("answer.saved") == 7
    assert actions.count("response.workbook_uploaded") == 1



def page_text(sent: Any) -> str:
    return html.unescape(sent.get_data(as_text=True))


def problems_in(sent: Any) -> str:
    """The page's list of problems, one line each as ``CellProblem.format`` writes them."""
    page = sent.get_data(as_text=True)
    listed = page[page.find('<ol class="workbook-problems">'):]
    items = re.findall(r"<li>(.*?)</li>", listed[:listed.find("</ol>")], re.DOTALL)
    return "\n".join(html.unescape(re.sub(r"<[^>]+>", "", item)) for item in items)


@pytest.fixture
def saved(app: Flask, client: FlaskClient, login: Callable[..., Any], world: World,
          mini: int) -> bytes:
    """The focal point signed in, FULL saved through a workbook; the workbook as it is now."""
    login(world.focal_point)
    assert upload(client, mini, filled(download(client, mini), FULL)).status_code == 302
    return download(client, mini)


def _delete_row(number: int) -> Callable[[Workbook], None]:
    return lambda book: book["Answers"].delete_rows(number)


def _set(cell: str, value: Any, sheet: str = "Answers") -> Callable[[Workbook], None]:
    def change(book: Workbook) -> None:
        book[sheet][cell] = value
    return change


def _identity(name: str, value: str) -> Callable[[Workbook], None]:
    def change(book: Workbook) -> None:
        for cells in book[IDENTITY_SHEET].iter_rows():
            if cells[0].value == name:
                cells[1].value = value
    return change


def _rename(book: Workbook) -> None:
    book["Answers"].title = "Antworten"


def _add_sheet(book: Workbook) -> None:
    book.create_sheet("Notes")["A1"] = "my notes"


def _add_row(book: Workbook) -> None:
    book["Answers"]["E9"] = "An extra answer"


def _macro_enabled(data: bytes) -> bytes:
    """The workbook saved as .xlsm (a macro-enabled main part and a VBA project)."""
    source = zipfile.ZipFile(io.BytesIO(data))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as target:
        for entry in source.infolist():
            content = source.read(entry.filename)
            if entry.filename == "[Content_Types].xml":
                content = content.replace(
                    b"spreadsheetml.sheet.main+xml",
                    b"ms-excel.sheet.macroEnabled.main+xml")
            target.writestr(entry, content)
        target.writestr("xl/vbaProject.bin", b"\xd0\xcf\x11\xe0 VBA project")
    return buffer.getvalue()


def _bomb(data: bytes) -> bytes:
    """The workbook with a part that expands a thousand times over."""
    source = zipfile.ZipFile(io.BytesIO(data))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as target:
        for entry in source.infolist():
            target.writestr(entry, source.read(entry.filename))
        target.writestr("xl/media/padding.bin", b"\0" * (3 * 1024 * 1024))
    return buffer.getvalue()


def _damaged_sheet(data: bytes) -> bytes:
    """The workbook with the answers sheet's XML cut short, the archive itself sound."""
    source = zipfile.ZipFile(io.BytesIO(data))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as target:
        for entry in source.infolist():
            content = source.read(entry.filename)
            if entry.filename == "xl/worksheets/sheet2.xml":
                content = content[: len(content) // 2]
            target.writestr(entry, content)
    return buffer.getvalue()


def _plain_workbook(_data: bytes) -> bytes:
    book = Workbook()
    book.active["A1"] = "my own answers"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


#: (case, the cells to fill, a change to the workbook, a change to the bytes, the message)
MALFORMED: list[tuple[str, dict[str, dict[str, Any]], Any, Any, str]] = [
    ("wrong-type", {"b_number": {"answer": "many"}}, None, None,
     "Answers!E6 (Answer, question b_number): Enter a whole number from 0 to 100, in figures "
     "(e.g. 12)."),
    ("unknown-code", {"a_choice": {"answer": "Perhaps"}}, None, None,
     "Answers!E3 (Answer, question a_choice): Choose one of the answers offered. Pick one "
     "from the cell's list."),
    ("stage-out-of-range", {"a_stage": {"answer": 7}}, None, None,
     "Answers!E2 (Answer, question a_stage): Choose one of the stages 1 to 3. Pick one from "
     "the cell's list."),
    ("number-out-of-range", {"b_number": {"answer": 101}}, None, None,
     "Answers!E6 (Answer, question b_number): Enter a whole number from 0 to 100."),
    ("not-a-date", {"b_date": {"answer": "31/02/2025"}}, None, None,
     "Answers!E7 (Answer, question b_date): Enter a date as year-month-day, e.g. 2026-03-31."),
    ("text-too-long", {"b_text": {"answer": "x" * 21}}, None, None,
     "Answers!E8 (Answer, question b_text): Use at most 20 characters here; this text has 21."),
    ("na-without-justification", {"a_yes": {"not_applicable": "Yes"}}, None, None,
     "Answers!G5 (Justification / why it does not apply, question a_yes): Explain why this "
     "question does not apply."),
    ("na-not-allowed", {"a_choice": {"not_applicable": "Yes"}}, None, None,
     "Answers!F3 (Not applicable, question a_choice): This question cannot be answered “not "
     "applicable”. Leave the cell empty."),
    ("na-not-a-yes", {"a_yes": {"not_applicable": "maybe"}}, None, None,
     "Answers!F5 (Not applicable, question a_yes): “maybe” is not a yes: choose “Yes” from "
     "the list if the question does not apply, or leave the cell empty."),
    ("justification-not-asked", {"b_number": {"justification": "Because"}}, None, None,
     "Answers!G6 (Justification / why it does not apply, question b_number): This question "
     "takes no justification: leave the cell empty."),
    ("formula", {}, _set("E6", "=10+2"), None,
     "Answers!E6 (Answer, question b_number): This cell holds the formula =10+2; formulas are "
     "not read. Type the answer itself"),
    ("deleted-row", {}, _delete_row(7), None,
     "Sheet Answers: The row of question b_date (“When did it start?”) is missing: it was "
     "deleted. Download a new workbook and copy your answers into it."),
    ("added-row", {}, _add_row, None,
     "Answers!A9: This row was added: it has no hidden question id. Delete it; answers go in "
     "the rows of the questions."),
    ("tampered-hidden-id", {}, _set("A3", "a_choise"), None,
     "Answers!A3: The hidden question id of this row was changed (it reads “a_choise”, which "
     "is no question of this questionnaire)."),
    ("swapped-hidden-id", {}, _set("A3", "a_yes"), None,
     "Answers!A3: The hidden question id of this row (a_yes) does not match the question id "
     "shown in it (a_choice)"),
    ("changed-heading", {}, _set("E1", "Antwort"), None,
     "Answers!E1: The column heading was changed to “Antwort”; it must read “Answer”."),
    ("cell-beyond-the-columns", {}, _set("K4", "stray"), None,
     "Answers!J4: This row has cells beyond the “How to answer” column: delete them"),
    ("added-sheet", {}, _add_sheet, None,
     "Sheet Notes: The sheet “Notes” was added: delete it. Answers are read from the "
     "“Answers” sheet only."),
    ("renamed-sheet", {}, _rename, None,
     "Workbook: The sheet “Answers” is missing. Was it renamed (this workbook has "
     "“Antworten”)? Give it back its name."),
    ("tampered-identity", {}, _identity("response", "999"), None,
     "Workbook: The workbook's hidden identity was changed, or the workbook was made by "
     "another site: its signature does not match."),
    ("no-identity", {}, None, _plain_workbook,
     "Workbook: This is not a workbook downloaded from this questionnaire (it has no "
     "surveyapp identity)."),
    ("not-an-xlsx", {}, None, lambda _data: b"%PDF-1.7\n%fake\n",
     "Workbook: “answers.xlsx” is a PDF document, not an Excel workbook (.xlsx)."),
    ("old-xls", {}, None, lambda _data: b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 512
     + "Workbook".encode("utf-16-le"),
     "Workbook: “answers.xlsx” is an Excel 97-2003 workbook, not an Excel workbook (.xlsx)."),
    ("macros", {}, None, _macro_enabled,
     "Workbook: The Office file contains macros (programs), which are never accepted."),
    ("zip-bomb", {}, None, _bomb,
     "is compressed more than 200 times over, which no real document is; it is refused as a "
     "possible decompression bomb."),
    ("corrupt-zip", {}, None, lambda data: data[: len(data) // 2],
     "Workbook: The file looks like an Office document or ZIP archive but cannot be read"),
    ("damaged-sheet", {}, None, _damaged_sheet,
     "Workbook: The workbook cannot be read (ParseError). Open it in Excel or LibreOffice, "
     "save it again as Excel Workbook (.xlsx), and upload the new copy."),
    ("forged-signature", {}, _identity("signature", "é" * 64), None,
     "Workbook: The workbook's hidden identity was changed, or the workbook was made by "
     "another site: its signature does not match."),
    ("empty", {}, None, lambda _data: b"",
     "Workbook: The file is empty. Choose the workbook you filled in and try again."),
]


@pytest.mark.parametrize(("case", "cells", "change", "raw", "message"), MALFORMED,
                         ids=[case[0] for case in MALFORMED])
def test_a_malformed_workbook_is_refused_with_a_precise_message_and_nothing_saved(
    app: Flask, client: FlaskClient, mini: int, saved: bytes, case: str,
    cells: dict[str, dict[str, Any]], change: Any, raw: Any, message: str,
) -> None:
    before = stored(app, mini)
    # Every case also changes a valid answer: it must not be saved either.
    data = filled(saved, {"a_follow": {"answer": "Changed in the workbook"}, **cells}, change)
    if raw is not None:
        data = raw(data)
    sent = upload(client, mini, data)
    assert sent.status_code == 422, case
    assert "The workbook was not saved" in page_text(sent)
    assert message in problems_in(sent)
    assert stored(app, mini) == before


def test_a_workbook_of_another_cycle_is_refused(
    app: Flask, client: FlaskClient, world: World, mini: int, saved: bytes
) -> None:
    other = make_cycle(app, MINI, world.cluster, world.coordinator,
                       focal_points=[world.focal_point], framework=MINI_FRAMEWORK)
    foreign = filled(download(client, other), {"a_choice": {"answer": "Disagree"}})
    before = stored(app, mini)
    sent = upload(client, mini, foreign)
    assert sent.status_code == 422
    assert ("Workbook: This workbook belongs to another assessment cycle, not to “Test cycle "
            "mini”. Download this cycle's workbook") in problems_in(sent)
    assert stored(app, mini) == before


def test_another_respondents_workbook_is_refused(
    app: Flask, client: FlaskClient, login: Callable[..., Any], world: World, mini: int,
    saved: bytes,
) -> None:
    with app.app_context():
        add_participant(get_cycle(mini), user(world.second_focal_point.email),
                        ParticipantRole.focal_point, Actor.of(user(world.coordinator.email)))
        db.session.commit()
    client.post("/auth/logout")
    login(world.second_focal_point)
    theirs = filled(download(client, mini), {"a_choice": {"answer": "Disagree"}})
    client.post("/auth/logout")
    login(world.focal_point)
    before = stored(app, mini)
    sent = upload(client, mini, theirs)
    assert sent.status_code == 422
    assert ("This workbook holds another respondent's answers or another questionnaire of "
            "this cycle, not yours.") in page_text(sent)
    assert stored(app, mini) == before
    rubric = download(client, mini, "rubric")
    assert "another questionnaire" in page_text(upload(client, mini, rubric))


@pytest.mark.app_config(IMPORT_MAX_BYTES=30_000)
def test_a_workbook_over_the_upload_limit_is_refused_before_it_is_read(
    app: Flask, client: FlaskClient, mini: int, saved: bytes
) -> None:
    before = stored(app, mini)
    sent = upload(client, mini, saved + b"\0" * 30_000)
    assert sent.status_code == 422
    assert ("Workbook: The file is larger than the 29.3 KB an answers workbook may be"
            in problems_in(sent))
    assert stored(app, mini) == before


def test_a_50_megabyte_upload_gets_the_size_limit_page(
    app: Flask, client: FlaskClient, mini: int, saved: bytes
) -> None:
    before = stored(app, mini)
    sent = upload(client, mini, b"PK\x03\x04" + b"\0" * (50 * 1024 * 1024))
    assert sent.status_code == 413
    assert "The request is larger than the 25 MB limit" in page_text(sent)
    assert stored(app, mini) == before


def test_an_answer_hidden_by_skip_logic_is_kept_until_submission_as_on_the_web(
    app: Flask, client: FlaskClient, mini: int, saved: bytes
) -> None:
    """The web saves an answer whatever the skip logic says and clears it on submission;
    a workbook does the same, and says so."""
    sent = upload(client, mini, filled(saved, {"a_choice": {"answer": "Disagree"}}))
    assert sent.status_code == 302
    review = page_text(client.get(sent.headers["Location"]))
    assert ("1 answer is to questions that do not apply given your other answers; they are "
            "cleared when you submit.") in review
    assert stored(app, mini)["a_follow"][0] == "Because it works"


def test_blank_cells_take_answers_back_and_unchanged_rows_are_not_saved_again(
    app: Flask, client: FlaskClient, mini: int, saved: bytes
) -> None:
    sent = upload(client, mini, filled(saved, {"b_number": {"answer": None, "comment": None}}))
    assert sent.status_code == 302
    assert "b_number" not in {key for key, parts in stored(app, mini).items() if any(
        part is not None and part is not False for part in parts)}
    with app.app_context():
        saves = db.session.scalars(select(AuditEvent.entity_id).where(
            AuditEvent.cycle_id == mini, AuditEvent.action == "answer.saved")).all()
    assert len(saves) == 7 + 1  # FULL, then only b_number again


def test_not_applicable_with_its_reason_is_saved(
    app: Flask, client: FlaskClient, mini: int, saved: bytes
) -> None:
    sent = upload(client, mini, filled(saved, {"a_yes": {
        "not_applicable": "Yes", "justification": "There is no plan to have."}}))
    assert sent.status_code == 302
    assert stored(app, mini)["a_yes"] == (None, True, "There is no plan to have.", None)
    assert rows_of(download(client, mini))["a_yes"]["not_applicable"] == "Yes"


def test_rubric_rows_per_framework_output_round_trip_and_must_be_complete(
    app: Flask, client: FlaskClient, login: Callable[..., Any], world: World, mini: int
) -> None:
    login(world.focal_point)
    blank = download(client, mini, "rubric")
    rows = rows_of(blank)
    assert list(rows) == ["red@OP1", "red@OP1~relevance", "red@OP1~extent", "red@OP2",
                          "red@OP2~relevance", "red@OP2~extent", "progress@O1"]
    assert rows["red@OP1~extent"]["question_id"] == "red (OP1): extent"
    partial = filled(blank, {"red@OP1~relevance": {"answer": 2},
                             "red@OP1": {"justification": "Seen in reports."}})
    refused = upload(client, mini, partial, questionnaire="rubric")
    assert refused.status_code == 422
    assert ("Answers!E4 (Answer, question red (OP1): extent): Score Extent as well."
            in problems_in(refused))
    unjustified = filled(blank, {"red@OP1~relevance": {"answer": 2},
                                 "red@OP1~extent": {"answer": 1}})
    assert ("Answers!G2 (Justification / why it does not apply, question red (OP1)): Write "
            "the justification of these scores.") in problems_in(
        upload(client, mini, unjustified, questionnaire="rubric"))
    assert stored(app, mini, "rubric") == {}
    complete = filled(blank, {"red@OP1~relevance": {"answer": 2},
                              "red@OP1~extent": {"answer": "1"},
                              "red@OP1": {"justification": "Seen in reports."},
                              "progress@O1": {"answer": "Halfway"}})
    assert upload(client, mini, complete, questionnaire="rubric").status_code == 302
    assert stored(app, mini, "rubric") == {
        "red@OP1": ({"relevance": 2, "extent": 1}, False, "Seen in reports.", None),
        "progress@O1": ("Halfway", False, None, None)}


def _return_b_number(app: Flask, world: World, cycle_id: int) -> None:
    with app.app_context():
        for questionnaire in ("self", "rubric"):
            response = db.session.get_one(Response, response_id(
                app, cycle_id, world.focal_point, questionnaire))
            if questionnaire == "rubric":
                for node in ("OP1", "OP2"):
                    save_answer(response, "red", node, RawAnswer(
                        criteria={"relevance": "2", "extent": "1"}, justification="Seen."),
                        Actor.of(user(world.focal_point.email)))
            else:
                stage = answer_for_item(response, "a_stage", "",
                                        Actor.of(user(world.focal_point.email)))
                add_link(get_cycle(cycle_id), stage, "https://example.org/plan.pdf",
                         "The plan", date(2025, 6, 1), Actor.of(user(world.focal_point.email)))
            submit_response(response, Actor.of(user(world.focal_point.email)))
        response = db.session.get_one(Response, response_id(app, cycle_id, world.focal_point,
                                                            "self"))
        decide(response, "b_number", "", Decision.request_changes, "Count again.", None, {},
               user(world.validator.email))
        db.session.commit()


def test_in_a_returned_response_only_the_returned_items_change(
    app: Flask, client: FlaskClient, world: World, mini: int, saved: bytes
) -> None:
    _return_b_number(app, world, mini)
    workbook = download(client, mini)
    rows = rows_of(workbook)
    assert rows["a_choice"]["guide"] == ("Locked: only the items a validator returned can "
                                         "change.")
    before = stored(app, mini)
    refused = upload(client, mini, filled(workbook, {"a_choice": {"answer": "Disagree"},
                                                     "b_number": {"answer": 13}}))
    assert refused.status_code == 422
    assert ("Answers!E3 (Answer, question a_choice): This answer is locked: only the items the "
            "validator returned can change now. Put back “Agree”, or download a new "
            "workbook.") in problems_in(refused)
    assert stored(app, mini) == before
    accepted = upload(client, mini, filled(workbook, {"b_number": {"answer": 13}}))
    assert accepted.status_code == 302
    assert stored(app, mini)["b_number"][0] == 13
    assert stored(app, mini)["a_choice"] == before["a_choice"]


def test_a_submitted_response_downloads_locked_and_refuses_uploads(
    app: Flask, client: FlaskClient, world: World, mini: int, saved: bytes
) -> None:
    _return_b_number(app, world, mini)
    with app.app_context():
        response = db.session.get_one(Response, response_id(app, mini, world.focal_point,
                                                            "self"))
        submit_response(response, Actor.of(user(world.focal_point.email)))
        db.session.commit()
    workbook = download(client, mini)
    assert {row["guide"] for row in rows_of(workbook).values()} == {
        "Locked: only the items a validator returned can change."}
    page = page_text(client.get(OFFLINE.format(id=mini, q="self")))
    assert "Uploading is not possible now." in page
    before = stored(app, mini)
    sent = upload(client, mini, filled(workbook, {"b_number": {"answer": 14}}))
    assert sent.status_code == 422
    assert ("These answers have been submitted and are locked; only the items a validator "
            "returns can change again. The workbook was not read.") in problems_in(sent)
    assert stored(app, mini) == before


def test_only_the_respondent_reaches_the_workbook(
    client: FlaskClient, login: Callable[..., Any], world: World, mini: int
) -> None:
    for who in (world.coordinator, world.validator, world.other_focal_point, world.stranger):
        client.post("/auth/logout")
        login(who)
        assert client.get(WORKBOOK.format(id=mini, q="self")).status_code == 404, who.email
        assert client.post(OFFLINE.format(id=mini, q="self")).status_code == 404, who.email
    client.post("/auth/logout")
    assert client.get(WORKBOOK.format(id=mini, q="self")).status_code == 302  # sign in first


def test_a_partner_works_offline_through_the_invitation_link_in_french(
    app: Flask, client: FlaskClient, world: World, mini: int
) -> None:
    with app.app_context():
        [(_, token)] = create_invitations(
            get_cycle(mini), "partners", count=1, language="fr",
            expires_on=date.today() + timedelta(days=10),
            actor=Actor.of(user(world.coordinator.email)))
        db.session.commit()
    link = f"/i/{token}/"
    assert client.get(f"{link}offline/workbook.xlsx").headers["Location"].endswith(link)
    client.post(link, data={"organization_type": "1", "language": "fr"})
    blank = client.get(f"{link}offline/workbook.xlsx").data
    book = load_workbook(io.BytesIO(blank))
    assert book.sheetnames == ["À lire", "Réponses", "lists", IDENTITY_SHEET]
    assert book["lists"].sheet_state == "veryHidden"
    assert book["Réponses"].protection.sheet
    rows = rows_of(blank, "Réponses")
    assert rows["org"]["answer"] == "NGO"
    assert rows["p_choice"]["guide"].startswith("Obligatoire. Choisissez dans la liste : Pas "
                                                "d'accord, D'accord, Don't know.")
    sent = upload(client, mini, filled(blank, {"p_choice": {"answer": "d'accord"}},
                                       sheet="Réponses"), url=f"{link}offline")
    assert sent.status_code == 302 and sent.headers["Location"].endswith(f"{link}review")
    assert stored(app, mini, "partners") == {"org": (1, False, None, None),
                                             "p_choice": (2, False, None, None)}
    with app.app_context():
        actor = db.session.scalar(select(AuditEvent.actor_label).where(
            AuditEvent.action == "response.workbook_uploaded"))
    assert actor is not None and actor.startswith("invitation ")


def test_a_partner_works_offline_in_arabic_right_to_left(
    app: Flask, client: FlaskClient, world: World, mini: int
) -> None:
    """docs/i18n.md: the offline pages are respondent pages, so they have Arabic; the
    workbook too, its sheets right to left (the instrument's English text inside)."""
    with app.app_context():
        [(_, token)] = create_invitations(
            get_cycle(mini), "partners", count=1, language="ar",
            expires_on=date.today() + timedelta(days=10),
            actor=Actor.of(user(world.coordinator.email)))
        db.session.commit()
    link = f"/i/{token}/"
    client.post(link, data={"organization_type": "1", "language": "ar"})
    page = page_text(client.get(f"{link}offline"))
    assert '<html lang="ar" dir="rtl">' in page
    assert "العمل دون اتصال في Excel" in page and "1. نزّل مصنفك" in page
    blank = client.get(f"{link}offline/workbook.xlsx").data
    book = load_workbook(io.BytesIO(blank))
    assert book.sheetnames == ["اقرأ أولًا", "الإجابات", "lists", IDENTITY_SHEET]
    assert book["الإجابات"].sheet_view.rightToLeft and book["اقرأ أولًا"].sheet_view.rightToLeft
    assert book["الإجابات"]["E1"].value == "الإجابة"
    sent = upload(client, mini, filled(blank, {"p_choice": {"answer": "Agree"}},
                                       sheet="الإجابات"), url=f"{link}offline")
    assert sent.status_code == 302 and sent.headers["Location"].endswith(f"{link}review")
    assert stored(app, mini, "partners")["p_choice"] == (2, False, None, None)
    refused = page_text(upload(client, mini, b"", url=f"{link}offline"))
    assert "لم يُحفظ المصنف: مشكلة واحدة يجب تصحيحها" in refused
    assert "الملف فارغ." in refused


def test_an_arabic_workbook_reads_back_its_arabic_yes_and_no(
    app: Flask, client: FlaskClient, login: Callable[..., Any], world: World, mini: int
) -> None:
    """The lists of an Arabic workbook say نعم / لا (services.questionnaire.YES_NO), though
    the instrument has no Arabic: they are read back as yes and no."""
    answered = response_id(app, mini, world.focal_point, "self")
    with app.app_context():
        db.session.get_one(Response, answered).language = "ar"
        db.session.commit()
    login(world.focal_point)
    blank = download(client, mini)
    assert rows_of(blank, "الإجابات")["a_yes"]["guide"].startswith("مطلوب.")
    sent = upload(client, mini, filled(blank, {"a_yes": {"answer": "نعم"}}, sheet="الإجابات"))
    assert sent.status_code == 302, page_text(sent)
    assert stored(app, mini)["a_yes"] == ("yes", False, None, None)


def test_the_workbook_offers_lists_and_unlocks_only_answer_cells(
    client: FlaskClient, login: Callable[..., Any], world: World, mini: int
) -> None:
    login(world.focal_point)
    book = load_workbook(io.BytesIO(download(client, mini)))
    sheet = book["Answers"]
    assert sheet.column_dimensions["A"].hidden
    assert book.security.lockStructure
    unlocked = {cell.coordinate for cells in sheet.iter_rows() for cell in cells
                if not cell.protection.locked}
    assert unlocked == {"E2", "E3", "E4", "E5", "F5", "G5", "E6", "H6", "E7", "E8"}
    lists = {str(validation.sqref): validation.formula1
             for validation in sheet.data_validations.dataValidation}
    assert book["lists"]["A1"].value == "1 – Starting"
    assert lists["E2"] == "'lists'!$A$1:$A$3"
    choice_list = lists["E3"].split("!")[1].replace("$", "")
    assert [cell.value for cells in book["lists"][choice_list] for cell in cells] == [
        "Disagree", "Agree", "Don't know"]
    validations = {str(v.sqref): (v.type, v.formula1, v.formula2)
                   for v in sheet.data_validations.dataValidation}
    assert validations["E6"] == ("whole", "0", "100")
    assert validations["E8"] == ("textLength", "20", None)


def test_a_workbook_from_before_the_framework_changed_is_refused(
    app: Flask, client: FlaskClient, login: Callable[..., Any], world: World
) -> None:
    """Downloaded while the cycle was prepared; an output was added before it opened."""
    cycle_id = make_cycle(app, MINI, world.cluster, world.coordinator,
                          focal_points=[world.focal_point], framework=MINI_FRAMEWORK,
                          state=CycleState.draft)
    login(world.focal_point)
    early = download(client, cycle_id, "rubric")
    with app.app_context():
        actor = Actor.of(user(world.coordinator.email))
        add_framework_node(get_cycle(cycle_id), NodeDraft("output", "OP3", "Node OP3", "O1"),
                           actor)
        change_state(get_cycle(cycle_id), CycleState.open, actor)
        db.session.commit()
    sent = upload(client, cycle_id, filled(early, {"red@OP1~relevance": {"answer": 2}}),
                  questionnaire="rubric")
    assert sent.status_code == 422
    assert "Workbook: The questions of this questionnaire changed after the workbook was " \
           "downloaded (" in problems_in(sent)
    assert stored(app, cycle_id, "rubric") == {}


@pytest.mark.parametrize(("key", "questionnaire"), [
    ("jiu-rbm", "self_assessment"), ("ccpm", "coordinator"), ("cpas-red", "red")])
def test_every_bundled_questionnaire_comes_back_unchanged(
    app: Flask, client: FlaskClient, login: Callable[..., Any], world: World, key: str,
    questionnaire: str,
) -> None:
    """A workbook uploaded as downloaded is accepted and changes nothing."""
    unit, coordinator, respondent = world.cluster, world.coordinator, world.focal_point
    framework: list[tuple[str, str, str | None]] = []
    if key == "cpas-red":
        unit, coordinator, respondent = (world.mission, world.mission_coordinator,
                                         world.working_group)
        framework = [("impact", "I1", None), ("outcome", "O1", "I1"), ("output", "OP1", "O1"),
                     ("output", "OP2", "O1")]
    cycle_id = make_cycle(app, key, unit, coordinator, focal_points=[respondent],
                          framework=framework)
    login(respondent)
    workbook = download(client, cycle_id, questionnaire)
    rows = rows_of(workbook)
    assert len(rows) > 10
    sent = upload(client, cycle_id, workbook, questionnaire=questionnaire)
    assert sent.status_code == 302, problems_in(sent)
    assert stored(app, cycle_id, questionnaire) == {}
