"""KoboToolbox and ODK submission exports imported into a cycle, all or nothing.

Partners who answered a questionnaire offline on phones (KoboCollect, ODK Collect,
Enketo) come back as an export of submissions. A coordinator uploads it for one of the
cycle's questionnaires answered by partners; each submission becomes a submitted partner
response of the cycle, without an invitation, carrying its organisation type when the
form asks for it.

The file is read by ``scoring.submissions`` exactly as ``surveyapp responses convert``
reads it (the same located messages, ``FILE:ROW:COLUMN: message``), and every answer then
goes through ``services.answers.save_answer`` and ``submit_response``, the rules of the
web questionnaire. A submission is refused when the converter, the questionnaire or the
cycle refuses it: a problem in a cell, a required answer missing, or a submission id
(Kobo ``_uuid``, ODK ``instanceID``) already imported into this cycle. One refused
submission refuses the whole file.

:func:`preview` runs the whole import and rolls it back, keeping only the upload and its
report; :func:`import_submissions` runs it again on the kept file and keeps the result.
Neither commits: the view or command does.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import delete, select

from instruments.schema import Questionnaire
from instruments.xlsform import (
    APPLIES_SUFFIX,
    COMMENT_SUFFIX,
    JUSTIFICATION_SUFFIX,
    WHY_NOT_SUFFIX,
    field_name,
)
from scoring.responses import FRAMEWORK_QUESTIONNAIRE
from scoring.submissions import (
    NOT_APPLICABLE,
    LongRow,
    RowProblem,
    SubmissionsInvalid,
    convert_each_submission,
    read_tables,
)
from surveyapp.extensions import db
from surveyapp.file_types import refuse_archive_bombs
from surveyapp.models import Cycle, Response, SubmissionImport, User
from surveyapp.models.base import now_utc
from surveyapp.services import ServiceError
from surveyapp.services.access import ANSWERING_STATES
from surveyapp.services.answers import (
    RawAnswer,
    answers_by_slot,
    layout_for,
    missing_items,
    save_answer,
    submit_response,
)
from surveyapp.services.audit import Actor, record
from surveyapp.services.instrument_versions import cycle_instrument
from surveyapp.services.invitations import invitation_questionnaires
from surveyapp.services.questionnaire import Layout, Slot
from surveyapp.storage import UploadRefused, readable_size

#: Where a refused part of an answer is in the export: the column suffix of each part.
PART_SUFFIXES = {"value": "", "not_applicable": APPLIES_SUFFIX,
                 "justification": WHY_NOT_SUFFIX, "comment": COMMENT_SUFFIX}


def importable_questionnaires(cycle: Cycle) -> list[Questionnaire]:
    """The questionnaires partners answer: those collected with Kobo or ODK in the field."""
    return invitation_questionnaires(cycle)


# --------------------------------------------------------------------------- the report


@dataclass(frozen=True)
class TakenSubmission:
    """A submission that becomes (or became) a response."""

    row: int
    submission: str
    answers: int
    organization_type: str | None = None


@dataclass(frozen=True)
class RefusedRow:
    """A submission left out, with every problem (``RowProblem.format`` lines)."""

    row: int
    submission: str
    problems: tuple[RowProblem, ...]


@dataclass(frozen=True)
class ImportReport:
    """What a file gives: submissions taken, submissions refused, problems of the file."""

    taken: tuple[TakenSubmission, ...] = ()
    refused: tuple[RefusedRow, ...] = ()
    file_problems: tuple[RowProblem, ...] = ()

    @property
    def acceptable(self) -> bool:
        return bool(self.taken) and not self.refused and not self.file_problems

    def problem_lines(self) -> list[str]:
        return [problem.format() for problem in self.file_problems] + [
            problem.format() for refused in self.refused for problem in refused.problems]

    def to_json(self) -> dict[str, Any]:
        def problem(found: RowProblem) -> dict[str, Any]:
            return {"source": found.source, "row": found.row, "column": found.column,
                    "message": found.message}

        return {
            "taken": [vars(entry) for entry in self.taken],
            "refused": [{"row": entry.row, "submission": entry.submission,
                         "problems": [problem(found) for found in entry.problems]}
                        for entry in self.refused],
            "file_problems": [problem(found) for found in self.file_problems],
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ImportReport:
        return cls(
            taken=tuple(TakenSubmission(**entry) for entry in data.get("taken", ())),
            refused=tuple(RefusedRow(entry["row"], entry["submission"], tuple(
                RowProblem(**found) for found in entry["problems"]))
                for entry in data.get("refused", ())),
            file_problems=tuple(RowProblem(**found) for found in data.get("file_problems", ())),
        )


class ImportRefused(ServiceError):
    """The import ran and was refused; ``report`` says why (nothing was kept)."""

    def __init__(self, report: ImportReport) -> None:
        self.report = report
        count = len(report.refused)
        super().__init__(
            ngettext("Nothing was imported: %(num)s submission refused",
                     "Nothing was imported: %(num)s submissions refused", count)
            if count else _("Nothing was imported: the file cannot be read as these submissions"))


# --------------------------------------------------------------------------- checks


def _check_cycle(cycle: Cycle, questionnaire_id: str) -> None:
    if cycle.state not in ANSWERING_STATES:
        raise ServiceError(
            _("Submissions can be imported only while the cycle is open for answers; it is "
              "%(state)s.", state=cycle.state.label.lower()))
    if questionnaire_id not in {q.id for q in importable_questionnaires(cycle)}:
        raise ServiceError(
            _("“%(questionnaire)s” is not a questionnaire of this cycle answered by partners; "
              "only those can be imported from Kobo or ODK.", questionnaire=questionnaire_id))


def check_export_file(data: bytes, filename: str, max_bytes: int) -> None:
    """Size, then, for a workbook or ODK .zip, that it is no decompression bomb.

    :raises UploadRefused: with what to do instead.
    """
    if len(data) > max_bytes:
        raise UploadRefused(
            _("The file is larger than the %(limit)s limit for an export of submissions. Export "
              "fewer submissions at a time (filter them by date) and import each file.",
              limit=readable_size(max_bytes)))
    if data.startswith(b"PK\x03\x04"):
        refuse_archive_bombs(io.BytesIO(data))


# --------------------------------------------------------------------------- preview, import


def preview(cycle: Cycle, questionnaire_id: str, data: bytes, filename: str, user: User, *,
            max_bytes: int) -> SubmissionImport:
    """Run the import and roll it back; keep the upload and its report for the confirmation.

    The caller commits. Older previews of this cycle by the same person are dropped.

    :raises ServiceError: the cycle does not take answers, the questionnaire is not one
        partners answer, or the file is too large or unsafe.
    """
    _check_cycle(cycle, questionnaire_id)
    check_export_file(data, filename, max_bytes)
    cycle_id, user_id = cycle.id, user.id
    dry_run = db.session.begin_nested()
    try:
        report = _run(cycle, questionnaire_id, data, filename, Actor.of(user), None)
    finally:
        dry_run.rollback()
    db.session.execute(delete(SubmissionImport).where(
        SubmissionImport.cycle_id == cycle_id, SubmissionImport.created_by_id == user_id,
        SubmissionImport.imported_at.is_(None)))
    batch = SubmissionImport(
        cycle_id=cycle_id, questionnaire=questionnaire_id, filename=filename[:255],
        sha256=hashlib.sha256(data).hexdigest(), size=len(data), content=data,
        created_by_id=user_id, report=report.to_json())
    db.session.add(batch)
    db.session.flush()
    return batch


def import_submissions(batch: SubmissionImport, actor: Actor) -> ImportReport:
    """Import a previewed file for good: every submission, or none.

    :raises ImportRefused: when any submission is refused now; the caller rolls back.
    :raises ServiceError: already imported, or the cycle no longer takes answers.
    """
    if batch.imported_at is not None or batch.content is None:
        raise ServiceError(_("This file was imported already."))
    cycle = batch.cycle
    _check_cycle(cycle, batch.questionnaire)
    report = _run(cycle, batch.questionnaire, batch.content, batch.filename, actor, batch.id)
    if not report.acceptable:
        raise ImportRefused(report)
    batch.imported_at = now_utc()
    batch.imported = len(report.taken)
    batch.content = None
    batch.report = report.to_json()
    db.session.flush()
    record(actor, "submissions.imported", "submission_import", batch.id,
           after={"file": batch.filename, "sha256": batch.sha256,
                  "questionnaire": batch.questionnaire, "submissions": len(report.taken)},
           unit_id=cycle.unit_id, cycle_id=cycle.id)
    return report


# --------------------------------------------------------------------------- one run


def _run(cycle: Cycle, questionnaire_id: str, data: bytes, filename: str, actor: Actor,
         batch_id: int | None) -> ImportReport:
    """Create, fill and submit a response per submission; report what was taken and not."""
    instrument = cycle_instrument(cycle).instrument
    try:
        tables = read_tables(data, filename)
        conversion, accepted = convert_each_submission(
            instrument, questionnaire_id, tables.main, filename, tables.repeats)
    except SubmissionsInvalid as invalid:
        return ImportReport(file_problems=invalid.problems)
    refused = [RefusedRow(entry.row, entry.respondent, entry.problems)
               for entry in conversion.refused]
    rows: dict[str, list[LongRow]] = {}
    for row in conversion.rows:
        rows.setdefault(row.respondent, []).append(row)
    ids = [entry.respondent for entry in accepted]
    known = set(db.session.scalars(select(Response.external_id).where(
        Response.cycle_id == cycle.id, Response.external_id.in_(ids)))) if ids else set()
    taken = []
    for entry in accepted:
        problem = _id_problem(entry.respondent, entry.row, filename, known)
        if problem is not None:
            refused.append(RefusedRow(entry.row, entry.respondent, (problem,)))
            continue
        response = Response(cycle_id=cycle.id, questionnaire=questionnaire_id,
                            language=instrument.languages[0], external_id=entry.respondent,
                            submission_import_id=batch_id)
        db.session.add(response)
        db.session.flush()
        record(actor, "response.imported", "response", response.id,
               after={"submission": entry.respondent, "file": filename[:255]},
               unit_id=cycle.unit_id, cycle_id=cycle.id)
        try:
            problems, count = _fill(response, rows.get(entry.respondent, []), entry.row,
                                    filename, actor)
        except ServiceError as locked:  # the cycle stopped taking answers meanwhile
            problems, count = [RowProblem(filename, entry.row, None, str(locked))], 0
        if problems:
            refused.append(RefusedRow(entry.row, entry.respondent, tuple(problems)))
            continue
        taken.append(TakenSubmission(entry.row, entry.respondent, count,
                                     response.organization_type))
    refused.sort(key=lambda found: found.row)
    return ImportReport(tuple(taken), tuple(refused))


def _id_problem(submission: str, row: int, filename: str, known: set[str | None]
                ) -> RowProblem | None:
    if submission == f"row-{row}":
        return RowProblem(filename, row, None, (
            "the submission has no id (_uuid, meta/instanceID or KEY), so importing the same "
            "export twice could not be refused: export it again with the metadata columns"))
    if submission in known:
        return RowProblem(filename, row, None, (
            f"submission `{submission}` was imported into this cycle already: it is not "
            "imported twice (delete its row, or export only the new submissions)"))
    return None


def _fill(response: Response, rows: Sequence[LongRow], row: int, filename: str,
          actor: Actor) -> tuple[list[RowProblem], int]:
    """Save the submission's answers and submit it: the problems that refuse it, and the
    number of answers saved.

    :raises ServiceError: when the response may not change (the cycle closed meanwhile).
    """
    layout = layout_for(response)
    answers = answers_by_slot(response)
    problems: list[RowProblem] = []
    for slot, raw in _raw_answers(layout, rows, problems, row, filename):
        saved = save_answer(response, slot.item_id, slot.framework_node, raw, actor,
                            layout=layout, answers=answers, editable=None)
        if saved.answer is not None:
            answers[slot.key] = saved.answer
        for part, message in saved.errors.items():
            suffix = PART_SUFFIXES.get(part, JUSTIFICATION_SUFFIX)
            problems.append(RowProblem(filename, row, field_name(slot.item_id) + suffix,
                                       message))
    if problems:
        return problems, 0
    missing = missing_items(response)
    if missing:
        return [RowProblem(filename, row, field_name(status.slot.item_id),
                           f"the questionnaire requires this: {status.problem}")
                for status in missing], 0
    submit_response(response, actor)
    return [], len(answers)


def _raw_answers(layout: Layout, rows: Iterable[LongRow], problems: list[RowProblem],
                 row: int, filename: str) -> list[tuple[Slot, RawAnswer]]:
    """The long rows of one submission as the web would send them, slot by slot."""
    framework = {entry.code for entry in layout.framework}
    parts: dict[str, dict[str, Any]] = {}
    slots: dict[str, Slot] = {}
    for long_row in rows:
        if long_row.questionnaire == FRAMEWORK_QUESTIONNAIRE:
            if long_row.item not in framework:
                problems.append(RowProblem(filename, row, None, (
                    f"`{long_row.item}` is not a node of this cycle's results framework: add "
                    "it on the cycle's Results framework page first")))
            continue
        found = _slot_of(layout, long_row.item)
        if found is None:
            problems.append(RowProblem(filename, row, None, (
                f"`{long_row.item}` is no question of this cycle's questionnaire")))
            continue
        slot, criterion = found
        slots[slot.key] = slot
        answer = parts.setdefault(slot.key, {})
        if criterion is not None:
            answer.setdefault("criteria", {})[criterion] = long_row.value
            if long_row.comment:
                answer.setdefault("justifications", []).append(long_row.comment)
        elif long_row.value == NOT_APPLICABLE:
            answer.update(not_applicable=True, justification=long_row.comment)
        else:
            answer.update(value=long_row.value, comment=long_row.comment or None)
    raws = []
    for key, answer in parts.items():
        question = slots[key].question
        justification = answer.get("justification")
        if "justifications" in answer:
            justification = "\n".join(dict.fromkeys(answer["justifications"]))
        raws.append((slots[key], RawAnswer(
            value=answer.get("value"), criteria=answer.get("criteria"),
            not_applicable=answer.get("not_applicable"), justification=justification,
            comment=answer.get("comment") if question.item.comment else None)))
    return raws


def _slot_of(layout: Layout, written: str) -> tuple[Slot, str | None] | None:
    """The slot (and rubric criterion) a long-format item names.

    The long format writes ``ITEM``, ``ITEM.CRITERION``, ``NODE.ITEM`` or
    ``NODE.CRITERION`` (scoring/submissions.py); item ids may hold dots themselves, so each
    split is tried against the questionnaire.
    """
    slot = layout.slot(written)
    if slot is not None:
        return slot, None
    for position in range(len(written) - 1, 0, -1):
        if written[position] != ".":
            continue
        head, tail = written[:position], written[position + 1:]
        slot = layout.slot(head)
        if slot is not None and any(c.id == tail for c in slot.question.item.criteria):
            return slot, tail
        slot = layout.slot(tail, head)
        if slot is not None:
            return slot, None
        for candidate in layout.slots:
            if candidate.framework_node == head and any(
                    c.id == tail for c in candidate.question.item.criteria):
                return candidate, tail
    return None


def imports_of(cycle: Cycle) -> list[SubmissionImport]:
    """The cycle's imports, newest first."""
    return list(db.session.scalars(
        select(SubmissionImport).where(SubmissionImport.cycle_id == cycle.id)
        .order_by(SubmissionImport.created_at.desc(), SubmissionImport.id.desc())))


def report_of(batch: SubmissionImport) -> ImportReport:
    return ImportReport.from_json(batch.report or {})


@dataclass(frozen=True)
class ImportRow:
    """An import as the cycle's list shows it."""

    batch: SubmissionImport
    report: ImportReport = field(default_factory=ImportReport)

    @property
    def state(self) -> str:
        if self.batch.imported_at is not None:
            return "imported"
        return "ready to import" if self.report.acceptable else "refused"
