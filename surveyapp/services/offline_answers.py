"""A response downloaded as a workbook, filled offline, and uploaded back.

The workbook itself (layout, signature, structure checks) is ``services.answer_workbook``.
This module ties it to a response: what the respondent may download, and the upload,
which passes every row to ``services.answers.save_answer`` so that a cell is accepted or
refused exactly as the web questionnaire would accept or refuse it. Nothing is kept unless
every cell is valid: the service flushes as it goes and raises :class:`WorkbookRefused`
with every problem, and the caller rolls back; on success the caller commits once.

A row the workbook fills must be a complete answer: "not applicable" with its reason, a
rubric with all its criteria and the justification it requires (the checks of
``answers.slot_statuses``). Required questions may still be left empty, as on the web,
where a questionnaire is filled over several sittings.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from flask_babel import gettext as _

from scoring.submissions import cell_text
from surveyapp.file_types import XLSX, detect
from surveyapp.i18n import respondent_languages
from surveyapp.models import Answer, Response
from surveyapp.models.base import now_utc
from surveyapp.services.answer_workbook import (
    CellProblem,
    ReadRow,
    SheetRow,
    WorkbookFacts,
    WorkbookIdentity,
    WorkbookRefused,
    build_workbook,
    cell_values,
    code_of,
    read_workbook,
    rows_digest,
    sheet_rows,
    yes_words,
)
from surveyapp.services.answers import (
    RawAnswer,
    answers_by_slot,
    editable_keys,
    layout_for,
    locked_reason,
    save_answer,
    slot_statuses,
)
from surveyapp.services.audit import Actor, record
from surveyapp.services.instrument_versions import cycle_instrument
from surveyapp.services.questionnaire import Layout, Slot, localized
from surveyapp.storage import UploadRefused, readable_size

#: Refusals of a part of an answer by ``save_answer``, and the column that holds the part.
PART_COLUMNS = {"value": "answer", "not_applicable": "not_applicable",
                "justification": "justification", "comment": "comment"}


def _identity(response: Response, layout: Layout, created: str) -> WorkbookIdentity:
    return WorkbookIdentity(
        cycle_id=response.cycle_id, response_id=response.id,
        questionnaire=response.questionnaire,
        instrument_sha256=cycle_instrument(response.cycle).sha256,
        language=response.language, rows_sha256=rows_digest(sheet_rows(layout)),
        created=created)


def workbook_name(response: Response) -> str:
    """The download's file name: instrument, questionnaire, cycle and response."""
    key = response.cycle.instrument_version.key
    return f"{key}-{response.questionnaire}-cycle{response.cycle_id}-{response.id}.xlsx"


def download_workbook(response: Response, *, secret: str, now: dt.datetime | None = None
                      ) -> bytes:
    """The response's workbook, pre-filled; locked where the response may not change."""
    layout = layout_for(response)
    created = (now or now_utc()).strftime("%Y-%m-%d %H:%M UTC")
    editable = editable_keys(response, layout) if locked_reason(response) is None \
        else frozenset()
    respondent = response.respondent.display_name if response.respondent else ""
    facts = WorkbookFacts(
        cycle_title=response.cycle.title, unit_name=response.cycle.unit.name,
        questionnaire_title=localized(layout.questionnaire.title, response.language),
        respondent=respondent)
    return build_workbook(layout, answers_by_slot(response),
                          _identity(response, layout, created), facts, secret=secret,
                          editable=editable)


# --------------------------------------------------------------------------- the file


def check_workbook_file(data: bytes, filename: str, max_bytes: int) -> None:
    """The size and the kind of the upload, before anything parses it.

    The kind is read from the bytes by ``file_types.detect`` (which also refuses macros and
    decompression bombs), whatever the name says.

    :raises WorkbookRefused: too large, empty, or not a plain .xlsx workbook.
    """
    if len(data) > max_bytes:
        raise WorkbookRefused([CellProblem(
            _("The file is larger than the %(limit)s an answers workbook may be; the workbook "
              "downloaded is far smaller. Upload that workbook, filled in.",
              limit=readable_size(max_bytes)))])
    if not data:
        raise WorkbookRefused([CellProblem(
            _("The file is empty. Choose the workbook you filled in and try again."))])
    with tempfile.TemporaryDirectory(prefix="surveyapp-workbook-") as folder:
        path = Path(folder) / "upload"
        path.write_bytes(data)
        try:
            kind = detect(path)
        except UploadRefused as refused:
            if not data.startswith(b"PK\x03\x04"):
                kind = None  # a program, markup or unknown content: not a workbook at all
            else:
                raise WorkbookRefused([CellProblem(str(refused))]) from None
    if kind is not XLSX:
        what = kind.description if kind else _("not a document we can read")
        raise WorkbookRefused([CellProblem(
            _("“%(name)s” is %(what)s, not an Excel workbook (.xlsx). Upload the workbook "
              "downloaded from this questionnaire, saved as Excel Workbook (.xlsx).",
              name=filename, what=what) if filename else
            _("The file is %(what)s, not an Excel workbook (.xlsx). Upload the workbook "
              "downloaded from this questionnaire, saved as Excel Workbook (.xlsx).",
              what=what))])


# --------------------------------------------------------------------------- the upload


@dataclass(frozen=True)
class WorkbookUpload:
    """What an accepted upload changed."""

    changed: int
    #: Answers kept for questions the skip logic now rules out: cleared on submission.
    not_asked: int


def upload_workbook(response: Response, data: bytes, filename: str, actor: Actor, *,
                    secret: str, max_bytes: int) -> WorkbookUpload:
    """Check the workbook and save every answer it holds; audited like web saves.

    :raises WorkbookRefused: with every problem; the caller rolls back, nothing is kept.
    """
    reason = locked_reason(response)
    if reason:
        raise WorkbookRefused([CellProblem(_("%(reason)s The workbook was not read.",
                                             reason=reason))])
    check_workbook_file(data, filename, max_bytes)
    layout = layout_for(response)
    rows = sheet_rows(layout)
    read = read_workbook(data, _identity(response, layout, ""), rows, secret=secret,
                         cycle_title=response.cycle.title)
    editable = editable_keys(response, layout)
    answers = answers_by_slot(response)
    # Labels are read in any language the workbook may have been written in: the
    # instrument's, and the page languages (the yes/no words exist in every one of them).
    languages = tuple(respondent_languages(cycle_instrument(response.cycle).instrument.languages))
    by_slot: dict[str, list[ReadRow]] = {}
    for row in rows:
        by_slot.setdefault(row.slot.key, []).append(read[row.key])
    problems: list[CellProblem] = []
    changed = 0
    for slot in layout.slots:
        slot_rows = by_slot[slot.key]
        if editable is not None and slot.key not in editable:
            problems += _changed_locked_cells(slot_rows, answers.get(slot.key),
                                              response.language)
            continue
        raw, refused = _raw_answer(slot, slot_rows, languages)
        if refused:
            problems += refused
            continue
        saved = save_answer(response, slot.item_id, slot.framework_node, raw, actor,
                            layout=layout, answers=answers, editable=editable)
        if saved.answer is not None:
            answers[slot.key] = saved.answer
        changed += saved.changed
        problems += _located(saved.errors, slot_rows)
    problems += _incomplete(layout, answers, by_slot, editable)
    if problems:
        raise WorkbookRefused(sorted(problems, key=_position))
    not_asked = sum(1 for status in slot_statuses(layout, answers)
                    if not status.relevant and (answer := answers.get(status.slot.key))
                    and (answer.value is not None or answer.not_applicable))
    record(actor, "response.workbook_uploaded", "response", response.id,
           after={"file": filename[:255], "sha256": hashlib.sha256(data).hexdigest(),
                  "answers_changed": changed},
           unit_id=response.cycle.unit_id, cycle_id=response.cycle_id)
    return WorkbookUpload(changed, not_asked)


def _position(problem: CellProblem) -> tuple[int, str]:
    cell = problem.cell or ""
    digits = "".join(character for character in cell if character.isdigit())
    return (int(digits) if digits else 0, cell)


def _raw_answer(slot: Slot, rows: list[ReadRow], languages: tuple[str, ...]
                ) -> tuple[RawAnswer, list[CellProblem]]:
    """The row's cells as the browser would send them, or what stops reading them.

    A blank cell is sent blank: the workbook holds the whole answer, so emptying a cell
    takes the answer back, as emptying a field does on the web.
    """
    question = slot.question
    item_row, criterion_rows = rows[0], rows[1:]
    cells = item_row.cells
    problems: list[CellProblem] = []

    def code(row: ReadRow, criterion: SheetRow | None = None) -> str:
        text = row.cells["answer"]
        if not text:
            return ""
        found = code_of(text, question, languages, criterion.criterion if criterion else None)
        if isinstance(found, set):
            problems.append(row.problem("answer", _(
                "“%(text)s” is the label of several answers (%(codes)s): write the code of the "
                "one you mean.", text=text, codes=", ".join(sorted(found)))))
            return ""
        return found

    value = None if question.type == "rubric" else code(item_row)
    criteria = {row.row.criterion.id: code(row, row.row) for row in criterion_rows
                if row.row.criterion is not None} if question.type == "rubric" else None
    not_applicable = None
    if cells["not_applicable"]:
        yes, no = yes_words(languages)
        folded = " ".join(cells["not_applicable"].split()).casefold()
        if folded in yes:
            not_applicable = True
        elif folded in no:
            not_applicable = False
        else:
            problems.append(item_row.problem("not_applicable", _(
                "“%(text)s” is not a yes: choose “Yes” from the list if the question does not "
                "apply, or leave the cell empty.", text=cells["not_applicable"])))
    elif question.allows_not_applicable:
        not_applicable = False
    for column, asked in (("justification", question.asks_justification),
                          ("comment", bool(question.item.comment))):
        if cells[column] and not asked:
            problems.append(item_row.problem(column, _(
                "This question takes no justification: leave the cell empty.")
                if column == "justification" else _(
                "This question takes no comment: leave the cell empty.")))
    if cells["answer"] and question.type == "rubric":
        problems.append(item_row.problem("answer", _(
            "Score this question in the rows of its criteria, below it; leave this cell "
            "empty.")))
    raw = RawAnswer(
        value=value, criteria=criteria, not_applicable=not_applicable,
        justification=cells["justification"] if question.asks_justification else None,
        comment=cells["comment"] if question.item.comment else None,
    )
    return raw, problems


def _located(errors: Mapping[str, str], rows: list[ReadRow]) -> list[CellProblem]:
    """``save_answer``'s refusals, each at its cell, with what to do in a workbook."""
    problems = []
    choice_like = rows[0].row.question.type in ("single_choice", "stage", "yes_no")
    for part, message in errors.items():
        if part.startswith("criteria."):
            criterion = part.removeprefix("criteria.")
            row = next(row for row in rows[1:]
                       if row.row.criterion and row.row.criterion.id == criterion)
            problems.append(row.problem("answer", _("%(message)s Pick it from the cell's "
                                                    "list.", message=message)))
            continue
        column = PART_COLUMNS[part]
        if column == "answer" and choice_like:
            message = _("%(message)s Pick one from the cell's list.", message=message)
        elif column == "not_applicable":
            message = _("%(message)s Leave the cell empty.", message=message)
        problems.append(rows[0].problem(column, message))
    return problems


def _incomplete(layout: Layout, answers: Mapping[str, Answer],
                by_slot: Mapping[str, list[ReadRow]], editable: frozenset[str] | None
                ) -> list[CellProblem]:
    """A row that gives an answer must give all of it (the questionnaire's own checks)."""
    problems = []
    for status in slot_statuses(layout, answers):
        answer = answers.get(status.slot.key)
        if (status.problem is None or answer is None
                or (editable is not None and status.slot.key not in editable)
                or (answer.value is None and not answer.not_applicable)):
            continue
        rows = by_slot[status.slot.key]
        question = status.slot.question
        complete_rubric = question.type == "rubric" and len(answer.value or {}) == len(
            question.item.criteria)
        if answer.not_applicable or complete_rubric:
            problems.append(rows[0].problem("justification", status.problem))
            continue
        for row in rows[1:]:  # a rubric with criteria left unscored
            criterion = row.row.criterion
            if criterion is not None and criterion.id not in (answer.value or {}):
                problems.append(row.problem("answer", status.problem))
    return problems


def _changed_locked_cells(rows: list[ReadRow], answer: Answer | None, language: str
                          ) -> list[CellProblem]:
    """In a returned response, rows not returned must come back as they were written."""
    problems = []
    for row in rows:
        written = cell_values(row.row, answer, language)
        for column in ("answer", "not_applicable", "justification", "comment"):
            before = cell_text(written.get(column))
            if row.cells[column] != before:
                problems.append(row.problem(column, _(
                    "This answer is locked: only the items the validator returned can change "
                    "now. Put back “%(before)s”, or download a new workbook.", before=before)
                    if before else _(
                    "This answer is locked: only the items the validator returned can change "
                    "now. Leave the cell empty, or download a new workbook.")))
    return problems
