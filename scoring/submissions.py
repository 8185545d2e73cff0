"""KoboToolbox and ODK Central submission exports -> the long format of ``surveyapp score``.

A questionnaire exported as an XLSForm (instruments/xlsform.py) and answered in KoboCollect,
ODK Collect or Enketo comes back as the server's export of the submissions: one row per
submission and one column per question. Each server writes it its own way (peers.md section
3), so this module accepts:

- headers with group prefixes, joined by ``/`` (Kobo), ``-`` (ODK Central), ``.`` or ``:``;
  and Kobo's "labels" headers, matched against the question texts when that is unambiguous;
- answers as option codes or as option labels in any language of the instrument (case and
  spacing ignored), as Kobo writes them when asked for labels;
- metadata columns (Kobo ``_uuid``, ``_index``, ``_submission_time``, ``_validation_status``,
  ``formhub/uuid``, ``meta/instanceID``; ODK Central ``SubmissionDate``, ``meta-instanceID``,
  ``KEY``, ``SubmitterID``, ``ReviewState`` ...), which are left out;
- items asked once per framework node (CPAS) from the repeat tables: Kobo's extra sheets
  (linked by ``_parent_index``/``_submission__uuid``) or ODK Central's extra CSV files (linked
  by ``PARENT_KEY``).

Every answer is checked as ``surveyapp score`` checks it (the domains of scoring/plan.py),
so a converted file always scores. A submission with any problem is refused as a whole and
every problem is located (file, table, row, column), so that nothing is half-imported; the
caller decides whether to keep the other submissions. The conversion is pure: cells in,
rows out. :func:`read_tables` turns the bytes of a file into cells.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import zipfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import NamedTuple

from instruments.archives import UNREADABLE_WORKBOOK, archive_problem
from instruments.schema import ID_PATTERN, Instrument, Item
from instruments.xlsform import (
    APPLIES_SUFFIX,
    COMMENT_SUFFIX,
    JUSTIFICATION_SUFFIX,
    STAMP_FIELD,
    WHY_NOT_SUFFIX,
    ExportRefused,
    FormField,
    XLSForm,
    build_xlsform,
    field_name,
)
from scoring.answers import RawValue
from scoring.plan import Plan
from scoring.responses import FRAMEWORK_QUESTIONNAIRE, csv_records

LONG_HEADER = ("respondent", "questionnaire", "item", "value", "comment", "organization_type")
NOT_APPLICABLE = "not_applicable"
#: Column names that are metadata of the servers, compared without case (peers.md 3.3, 4.1).
METADATA_NAMES = frozenset({
    "start", "end", "today", "deviceid", "username", "phonenumber", "simserial",
    "subscriberid", "email", "audit", "submissiondate", "key", "parent_key", "submitterid",
    "submittername", "attachmentspresent", "attachmentsexpected", "status", "reviewstate",
    "edits", "formversion", "instanceid", "instancename",
})
#: Where the submission's own id is, in order of preference: Kobo, then ODK, then ODK's KEY.
RESPONDENT_COLUMNS = ("_uuid", "instanceid", "key")
#: Columns of a repeat table that point at the submission, with the main column they match.
PARENT_LINKS = (("_submission__uuid", "_uuid"), ("parent_key", "key"),
                ("_parent_index", "_index"))
_SEPARATORS = "/-.:"
_ID = re.compile(ID_PATTERN)

Table = Sequence[Sequence[RawValue]]


class LongRow(NamedTuple):
    """One row of the long format read by ``surveyapp score`` (scoring/responses.py)."""

    respondent: str
    questionnaire: str
    item: str
    value: str
    comment: str = ""
    organization_type: str = ""


@dataclass(frozen=True)
class RowProblem:
    """Something wrong at one place of the export: ``source`` names the file (and table)."""

    source: str
    row: int
    column: str | None
    message: str

    def format(self) -> str:
        """``SOURCE:ROW:COLUMN: message``, like every located problem of surveyapp."""
        column = f":{self.column}" if self.column else ""
        return f"{self.source}:{self.row}{column}: {self.message}"


@dataclass(frozen=True)
class RefusedSubmission:
    """A submission left out, with every reason.

    ``row`` is its row in the main table; a repeat row that belongs to no submission is
    refused on its own, with its row in its repeat table and no respondent.
    """

    row: int
    respondent: str
    problems: tuple[RowProblem, ...]


class AcceptedSubmission(NamedTuple):
    """A submission whose rows were all converted: its row in the main table and its id."""

    row: int
    respondent: str


class Conversion(NamedTuple):
    """The long rows of the accepted submissions, and the refused ones with their reasons."""

    rows: tuple[LongRow, ...]
    refused: tuple[RefusedSubmission, ...]


class SubmissionsInvalid(Exception):
    """The file as a whole cannot be read as submissions of this questionnaire."""

    def __init__(self, problems: Iterable[RowProblem]) -> None:
        self.problems = tuple(problems)
        super().__init__("\n".join(problem.format() for problem in self.problems))


@dataclass(frozen=True)
class Tables:
    """The tables of an export: the submissions, and repeat tables by sheet or file name."""

    main: Table
    repeats: Mapping[str, Table]


# --------------------------------------------------------------------------- reading files


def read_tables(data: bytes, name: str) -> Tables:
    """The tables of a Kobo or ODK export: .xlsx (every sheet), .csv, or ODK Central's .zip.

    :raises SubmissionsInvalid: for an empty, binary or unreadable file.
    """
    if not data.strip():
        raise _file_problem(name, "the file is empty: export the submissions again")
    if data.startswith(b"PK\x03\x04"):
        problem = archive_problem(data)
        if problem:
            raise _file_problem(name, f"this is not a readable .xlsx or .zip export: {problem}; "
                                      "export the submissions again")
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = archive.namelist()
            if "[Content_Types].xml" in names:
                return _xlsx_tables(data, name)
            return _zip_tables(archive, names, name)
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        raise _file_problem(name, "this is an old .xls workbook: export the submissions as "
                                  ".xlsx or CSV")
    if b"\x00" in data:
        raise _file_problem(name, "this is a binary file, not a CSV or .xlsx export")
    return Tables(_csv_table(data, name), {})


def _file_problem(source: str, message: str) -> SubmissionsInvalid:
    return SubmissionsInvalid([RowProblem(source, 1, None, message)])


def _csv_table(data: bytes, name: str) -> Table:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        row = data[: error.start].count(b"\n") + 1
        raise SubmissionsInvalid([RowProblem(name, row, None, "this row is not UTF-8 text: "
                                             "export the submissions as UTF-8 CSV")]) from None
    delimiter = _delimiter(text.partition("\n")[0])
    records, problem, row = csv_records(text, delimiter)
    if problem:
        raise SubmissionsInvalid([RowProblem(name, row, None, f"this row is not readable CSV "
                                             f"({problem}): check its quotes")])
    return records


def _delimiter(header: str) -> str:
    """Kobo writes ``;`` or ``,``, spreadsheets sometimes tabs: count them outside quotes."""
    counts = dict.fromkeys(",;\t", 0)
    quoted = False
    for character in header:
        if character == '"':
            quoted = not quoted
        elif not quoted and character in counts:
            counts[character] += 1
    return max(counts, key=lambda mark: (counts[mark], mark == ","))


def _xlsx_tables(data: bytes, name: str) -> Tables:
    from openpyxl import load_workbook  # only workbooks need it

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        try:  # read-only sheets are parsed while their rows are read: damage shows here too
            tables = [(sheet.title, [[_cell(value) for value in values]
                                     for values in sheet.iter_rows(values_only=True)])
                      for sheet in workbook.worksheets]
        finally:
            workbook.close()
    except UNREADABLE_WORKBOOK as error:
        raise _file_problem(name, f"this is not a readable .xlsx workbook "
                                  f"({error.__class__.__name__}): export it again") from None
    return Tables(tables[0][1], dict(tables[1:]))


def _zip_tables(archive: zipfile.ZipFile, names: list[str], name: str) -> Tables:
    """ODK Central's ``submissions.csv.zip``: ``FORM.csv`` and ``FORM-REPEAT.csv`` files."""
    csv_names = sorted((entry for entry in names if entry.lower().endswith(".csv")), key=len)
    if not csv_names:
        raise _file_problem(name, "this .zip holds no CSV file: give ODK Central's "
                                  "'submissions.csv.zip' or an .xlsx or .csv export")
    tables = {PurePosixPath(entry).stem: _csv_table(archive.read(entry), f"{name}/{entry}")
              for entry in csv_names}
    main = PurePosixPath(csv_names[0]).stem
    return Tables(tables.pop(main), tables)


def _cell(value: object) -> RawValue:
    if value is None or isinstance(value, int | float | str):
        return value
    if isinstance(value, dt.datetime):
        is_midnight = value.time() == dt.time()
        return value.date().isoformat() if is_midnight else value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def _text(value: RawValue) -> str:
    """A cell as text: ``4.0`` from a workbook reads ``4``."""
    if value is None:
        return ""
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    return str(value).strip()


def cell_text(value: object) -> str:
    """A spreadsheet cell as text: ``4.0`` reads ``4``, a date at midnight year-month-day."""
    return _text(_cell(value))


def _folded(text: str) -> str:
    """Labels compared without case or extra spaces."""
    return " ".join(text.split()).casefold()


# --------------------------------------------------------------------------- headers


@dataclass
class _Header:
    """What the columns of one table hold."""

    fields: dict[str, int]  # form field name -> column position
    names: list[str]  # the header cells as written, for messages
    metadata: dict[str, int]  # case-folded metadata name -> column position
    known: dict[str, int]  # notes and the form's stamp: no answers, but ours
    unknown: list[str]  # headers that are no question of the form


def _is_metadata(header: str) -> bool:
    parts = re.split(r"[/:]", header)
    first = re.split(r"[/\-.:]", header)[0].casefold()
    return (header.casefold() in METADATA_NAMES or parts[-1].startswith("_")
            or first in ("meta", "formhub"))


def _metadata_key(header: str) -> str:
    """``meta/instanceID`` and ``meta-instanceID`` -> ``instanceid``; ``_uuid`` stays."""
    return re.split(r"[/\-]", header)[-1].casefold() if header[:1] != "_" else header.casefold()


class _HeaderReader:
    """Finds each form field in a header, by name with any group prefix, or by its label."""

    def __init__(self, fields: Sequence[FormField], ignored: Iterable[str]) -> None:
        self.fields = {form_field.name: form_field for form_field in fields}
        self.by_length = sorted([*self.fields, *ignored], key=len, reverse=True)
        self.ignored = set(ignored)
        self.labels: dict[str, set[str]] = {}
        for form_field in fields:
            for text in form_field.label.values():
                self.labels.setdefault(_folded(text), set()).add(form_field.name)

    def read(self, cells: Sequence[RawValue], source: str,
             level: str | None) -> tuple[_Header, list[RowProblem]]:
        header = _Header({}, [_text(cell) for cell in cells], {}, {}, [])
        problems: list[RowProblem] = []
        for position, name in enumerate(header.names):
            if not name:
                continue
            found, problem = self._field(name)
            if problem:
                problems.append(RowProblem(source, 1, name, problem))
            elif found is None and _is_metadata(name):
                header.metadata.setdefault(_metadata_key(name), position)
            elif found is None:
                header.unknown.append(name)
            elif found in self.ignored:
                header.known.setdefault(found, position)
            elif self.fields[found].level != level:
                where = (f"the `{self.fields[found].level}` repeat table" if
                         self.fields[found].level else "the main table")
                problems.append(RowProblem(source, 1, name, f"`{name}` belongs in {where}"))
            elif found in header.fields:
                first = header.names[header.fields[found]]
                problems.append(RowProblem(source, 1, name, f"`{name}` and `{first}` are the "
                                           "same question: delete one of the two columns"))
            else:
                header.fields[found] = position
        return header, problems

    def _field(self, header: str) -> tuple[str | None, str | None]:
        """The field a header names, or why it is ambiguous."""
        if header in self.fields:
            return header, None
        if _is_metadata(header):
            return None, None
        for name in self.by_length:
            if header == name or (len(header) > len(name) and header.endswith(name)
                                  and header[-len(name) - 1] in _SEPARATORS):
                return name, None
        folded = _folded(header)
        matches = {name for label, names in self.labels.items()
                   if folded == label or folded.endswith("/" + label) for name in names}
        if len(matches) > 1:
            return None, (f"the label `{header}` belongs to several questions "
                          f"({', '.join(sorted(matches))}): export with XML names as headers")
        return (matches.pop() if matches else None), None


# --------------------------------------------------------------------------- conversion


def convert_submissions(
    instrument: Instrument, questionnaire_id: str, table_rows: Table, source_name: str,
    repeat_tables: Mapping[str, Table] | None = None,
) -> Conversion:
    """Turn a submissions table into long-format rows for ``questionnaire_id``.

    :param table_rows: the main table, header first (spreadsheet rows are numbered from 1).
    :param source_name: the file name as the user knows it, used in every problem.
    :param repeat_tables: for items asked once per framework node, the repeat tables by
        sheet or file name (Kobo: the repeat's name; ODK Central: ``FORM-REPEAT``).
    :returns: the rows of every submission without problems, and every refused submission
        with all its problems. All or nothing is the caller's choice: check ``refused``.
    :raises SubmissionsInvalid: when the file as a whole does not fit the questionnaire
        (unknown or duplicate columns, missing repeat tables, no question at all).
    """
    return convert_each_submission(instrument, questionnaire_id, table_rows, source_name,
                                   repeat_tables)[0]


def convert_each_submission(
    instrument: Instrument, questionnaire_id: str, table_rows: Table, source_name: str,
    repeat_tables: Mapping[str, Table] | None = None,
) -> tuple[Conversion, tuple[AcceptedSubmission, ...]]:
    """:func:`convert_submissions`, and each accepted submission's row and id in file order,
    for callers that report submission by submission (the web import into a cycle)."""
    try:
        form = build_xlsform(instrument, questionnaire_id)
    except ExportRefused as error:
        raise _file_problem(source_name, str(error)) from None
    converter = _Converter(instrument, form, questionnaire_id, source_name)
    conversion = converter.run(table_rows, repeat_tables or {})
    return conversion, converter.accepted


class _Converter:
    def __init__(self, instrument: Instrument, form: XLSForm, questionnaire_id: str,
                 source: str) -> None:
        self.form = form
        self.questionnaire = questionnaire_id
        self.source = source
        plan = Plan.compile(instrument)
        self.domains = {(item_id, criterion): plan.slots[index].domain
                        for (questionnaire, item_id, criterion), index in plan.slot_index.items()
                        if questionnaire == questionnaire_id}
        self.fields = {form_field.name: form_field for form_field in form.fields}
        self.choices = {form_field.name: _choice_index(form_field)
                        for form_field in form.fields if form_field.choices}
        items = [form_field.item for form_field in form.fields if form_field.item]
        self.items = list({item.id: item for item in items}.values())
        ignored = [row["name"] for row in form.survey if row["type"] == "note"]
        self.headers = _HeaderReader(form.fields, [*ignored, STAMP_FIELD])
        self.type_item = next((item for item in self.items
                               if item.role == "organisation_type" and not item.per_level), None)
        self.levels = list(dict.fromkeys(f.level for f in form.fields if f.level))
        self.accepted: tuple[AcceptedSubmission, ...] = ()

    def run(self, main: Table, repeats: Mapping[str, Table]) -> Conversion:
        header, problems = self._header(main, self.source, None)
        repeat_tables = {level: self._repeat_table(level, repeats, problems)
                         for level in self.levels}
        if problems:
            raise SubmissionsInvalid(problems)
        submissions = list(self._submissions(main, header))
        children, refused = self._children(repeat_tables, submissions)
        rows: list[LongRow] = []
        accepted: list[AcceptedSubmission] = []
        for submission in submissions:
            own = children.get(submission.row, [])
            converted = [*submission.rows, *(row for entry in own for row in entry.rows)]
            problems = [*submission.problems, *(problem for entry in own
                                                for problem in entry.problems)]
            problems = problems or _duplicate_nodes(converted, self.source, submission.row)
            if problems:
                refused.append(RefusedSubmission(submission.row, submission.respondent,
                                                 tuple(problems)))
            else:
                rows += self._with_type(converted)
                accepted.append(AcceptedSubmission(submission.row, submission.respondent))
        refused.sort(key=lambda entry: entry.row)
        self.accepted = tuple(accepted)
        return Conversion(tuple(rows), tuple(refused))

    # ------------------------------------------------------------------ tables

    def _header(self, table: Table, source: str,
                level: str | None) -> tuple[_Header, list[RowProblem]]:
        if not table or not any(_text(cell) for cell in table[0]):
            return _Header({}, [], {}, {}, []), [RowProblem(
                source, 1, None, "the first row must be the header of the export")]
        header, problems = self.headers.read(table[0], source, level)
        if not header.fields and not problems and any(
                form_field.level == level and form_field.item for form_field in self.form.fields):
            # Nothing matched: one message rather than one per column of a foreign file.
            shown = ", ".join(name for name in header.names[:5] if name)
            problems.append(RowProblem(source, 1, None, (
                f"no column is a question of the form {self.form.form_id} (the columns start "
                f"{shown}): give the export of that form's submissions")))
        else:
            problems += [RowProblem(source, 1, name, (
                f"`{name}` is not a question of this form: check that the export is of this "
                "questionnaire, or delete the column")) for name in header.unknown]
        return header, problems

    def _repeat_table(self, level: str, repeats: Mapping[str, Table],
                      problems: list[RowProblem]) -> tuple[str, Table, _Header] | None:
        repeat = f"framework_{field_name(level)}"
        for name, table in repeats.items():
            if name == repeat[:31] or name.endswith(f"-{repeat}"):
                source = f"{self.source}[{name}]"
                header, found = self._header(table, source, level)
                problems += found
                if not any(key in header.metadata for key, _ in PARENT_LINKS):
                    problems.append(RowProblem(source, 1, None, "no column links these rows to "
                                               "their submission (_parent_index, "
                                               "_submission__uuid or PARENT_KEY)"))
                return source, table, header
        problems.append(RowProblem(self.source, 1, None, (
            f"the answers given once per {level} are in a separate table `{repeat}`, which "
            "this file lacks: convert Kobo's .xlsx export (one sheet per repeat) or ODK "
            "Central's .zip export (one CSV per repeat)")))
        return None

    def _submissions(self, table: Table, header: _Header) -> Iterator[_Submission]:
        id_column = next((header.metadata[name] for name in RESPONDENT_COLUMNS
                          if name in header.metadata), None)
        seen: dict[str, int] = {}
        for number, cells in enumerate(table[1:], start=2):
            if not any(_text(cell) for cell in cells):
                continue
            problems: list[RowProblem] = []
            respondent = f"row-{number}"
            if id_column is not None:
                # Kobo's _uuid and ODK's instanceID name the same submission, one with the
                # "uuid:" scheme and one without: the respondent is the bare id either way.
                respondent = _text(_at(cells, id_column)).removeprefix("uuid:")
                if not respondent:
                    problems.append(self._problem(number, header.names[id_column],
                                                  "the submission has no id: export again "
                                                  "with the metadata columns"))
                elif respondent in seen:
                    problems.append(self._problem(
                        number, header.names[id_column], f"submission `{respondent}` appears "
                        f"twice (first on row {seen[respondent]}): delete the duplicate"))
                seen.setdefault(respondent, number)
            stamp = _text(_at(cells, header.known.get(STAMP_FIELD)))
            if stamp and stamp != self.form.stamp:
                problems.append(self._problem(number, STAMP_FIELD, (
                    f"this submission was made with the form `{stamp}`, not "
                    f"`{self.form.stamp}`: convert it with that instrument version")))
            converted = self._answers(cells, header, self.source, number, respondent)
            links = {key: _text(_at(cells, position))
                     for key, position in header.metadata.items()}
            yield _Submission(number, respondent, links, converted.rows,
                              (*problems, *converted.problems))

    def _children(self, repeat_tables: Mapping[str, tuple[str, Table, _Header] | None],
                  submissions: list[_Submission]
                  ) -> tuple[dict[int, list[_Converted]], list[RefusedSubmission]]:
        """Each repeat row converted, by its submission's row; rows that belong to none."""
        attached: dict[int, list[_Converted]] = {}
        orphans: list[RefusedSubmission] = []
        for level, found in repeat_tables.items():
            if found is None:
                continue
            source, table, header = found
            link, target = next((link, target) for link, target in PARENT_LINKS
                                if link in header.metadata)
            parents = {submission.links.get(target): submission for submission in submissions}
            for number, cells in enumerate(table[1:], start=2):
                if not any(_text(cell) for cell in cells):
                    continue
                key = _text(_at(cells, header.metadata[link]))
                parent = parents.get(key) if key else None
                if parent is None:
                    problem = RowProblem(source, number, header.names[header.metadata[link]],
                                         f"no submission has the {target} `{key}` this row "
                                         "points at: export the tables together")
                    orphans.append(RefusedSubmission(number, "", (problem,)))
                    continue
                node = self._node(cells, header, source, number, level, parent.respondent)
                answers = self._answers(cells, header, source, number, parent.respondent,
                                        level, node.node)
                attached.setdefault(parent.row, []).append(
                    _Converted(node.rows + answers.rows, node.problems + answers.problems))
        return attached, orphans

    # ------------------------------------------------------------------ one row

    def _problem(self, row: int, column: str | None, message: str) -> RowProblem:
        return RowProblem(self.source, row, column, message)

    def _node(self, cells: Sequence[RawValue], header: _Header, source: str, row: int,
              level: str, respondent: str) -> _Converted:
        """The framework row of one repeat row: the node's code, title, parent and section."""
        values: dict[str, tuple[str, str]] = {}
        for name, position in header.fields.items():
            form_field = self.fields[name]
            if form_field.item is None:
                values[form_field.part] = (_text(_at(cells, position)), header.names[position])
        problems: list[RowProblem] = []
        code, column = values.get("framework_id", ("", f"{field_name(level)}_id"))
        title, title_column = values.get("framework_title", ("", f"{field_name(level)}_title"))
        if not _ID.match(code):
            problems.append(RowProblem(source, row, column, f"`{code}` cannot be the code of "
                                       f"this {level}: use letters, digits, '.', '_' or '-'"))
        if not title:
            problems.append(RowProblem(source, row, title_column, f"the {level} needs a title"))
        parts = [f"level={level}"]
        for part, key in (("framework_parent", "parent"), ("framework_section", "section")):
            value, where = values.get(part, ("", ""))
            if ";" in value:
                problems.append(RowProblem(source, row, where, f"`{value}` may not contain ';'"))
            if value:
                parts.append(f"{key}={value}")
        rows = (LongRow(respondent, FRAMEWORK_QUESTIONNAIRE, code, title, "; ".join(parts)),)
        return _Converted(rows if not problems else (), tuple(problems), code)

    def _answers(self, cells: Sequence[RawValue], header: _Header, source: str, row: int,
                 respondent: str, level: str | None = None, node: str | None = None
                 ) -> _Converted:
        """The long rows of one table row's answers, or the problems that stop them."""
        rows: list[LongRow] = []
        problems: list[RowProblem] = []

        def cell(name: str) -> tuple[RawValue, str]:
            position = header.fields.get(name)
            return _at(cells, position), header.names[position] if position is not None else name

        def add(item: Item, criterion: str | None, value: str, comment: str) -> None:
            if not value and not comment:
                return
            written = item.id if criterion is None else f"{item.id}.{criterion}"
            if node is not None:
                written = f"{node}.{criterion or item.id}"
            rows.append(LongRow(respondent, self.questionnaire, written, value, comment))

        for item in self.items:
            if item.per_level != level:
                continue
            name = field_name(item.id)
            if item.type == "rubric":
                for criterion in item.criteria:
                    part = f"{name}__{criterion.id.replace('.', '_')}"
                    value = self._value(item, criterion.id, part, *cell(part), problems, row,
                                        source)
                    add(item, criterion.id, value,
                        _text(cell(part + JUSTIFICATION_SUFFIX)[0]))
                continue
            applies = self._value(item, None, name + APPLIES_SUFFIX,
                                  *cell(name + APPLIES_SUFFIX), problems, row, source)
            if applies == "no":
                add(item, None, NOT_APPLICABLE, _text(cell(name + WHY_NOT_SUFFIX)[0]))
                continue
            value = self._value(item, None, name, *cell(name), problems, row, source)
            add(item, None, value, _text(cell(name + COMMENT_SUFFIX)[0]))
        return _Converted(tuple(rows), tuple(problems))

    def _value(self, item: Item, criterion: str | None, name: str, raw: RawValue, column: str,
               problems: list[RowProblem], row: int, source: str) -> str:
        """One answer as the long format writes it: a code for choices, checked text else."""
        form_field = self.fields.get(name)
        text = _text(raw)
        if form_field is None or not text:
            return ""
        if form_field.choices:
            codes = self.choices[name].get(_folded(text), [])
            if len(codes) != 1:
                listing = ", ".join(codes or [choice.name for choice in form_field.choices])
                problems.append(RowProblem(source, row, column, (
                    f"`{text}` is the label of several options ({listing}): write the code"
                    if codes else f"`{text}` is neither a code ({listing}) nor a label of "
                    f"`{name}`: correct it or leave it blank")))
                return ""
            text = codes[0]
        if form_field.part != "answer":
            return text
        parsed = self.domains[(item.id, criterion)].parse(text)
        if parsed.error is not None:
            problems.append(RowProblem(source, row, column, parsed.error))
            return ""
        # A choice keeps its code as the form stores it (yes/no stay words); other answers
        # are written in the engine's normal form (a date without its time, a trimmed text).
        return text if form_field.choices else _number_text(parsed.value)

    def _with_type(self, rows: list[LongRow]) -> list[LongRow]:
        """The respondent's organisation type on each of their rows (organization_type)."""
        if self.type_item is None:
            return rows
        code = next((row.value for row in rows if row.item == self.type_item.id), "")
        return [row._replace(organization_type=code) for row in rows]


class _Submission(NamedTuple):
    row: int
    respondent: str
    links: dict[str, str]
    rows: tuple[LongRow, ...]
    problems: tuple[RowProblem, ...]


class _Converted(NamedTuple):
    rows: tuple[LongRow, ...]
    problems: tuple[RowProblem, ...]
    node: str | None = None


def _at(cells: Sequence[RawValue], position: int | None) -> RawValue:
    return cells[position] if position is not None and position < len(cells) else None


def _choice_index(form_field: FormField) -> dict[str, list[str]]:
    """Folded code or label -> the codes it may mean: a code is itself, a label (in any
    language) is every option that carries it, so that a shared label is caught."""
    index: dict[str, list[str]] = {}
    for choice in form_field.choices:
        for label in dict.fromkeys(_folded(text) for text in choice.label.values()):
            index.setdefault(label, []).append(choice.name)
    index.update({_folded(choice.name): [choice.name] for choice in form_field.choices})
    return index


def _number_text(value: int | float | str | None) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    return str(value)


def _duplicate_nodes(rows: Sequence[LongRow], source: str, row: int) -> list[RowProblem]:
    """One submission may declare a framework node only once."""
    codes = [entry.item for entry in rows if entry.questionnaire == FRAMEWORK_QUESTIONNAIRE]
    repeated = sorted({code for code in codes if codes.count(code) > 1})
    return [RowProblem(source, row, None, f"framework node `{code}` is declared more than once "
                                          "in this submission: give each node its own code")
            for code in repeated]


def write_long_csv(rows: Iterable[LongRow]) -> str:
    """The long format as CSV text, header first (scoring/responses.py reads it)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(LONG_HEADER)
    writer.writerows(rows)
    return buffer.getvalue()
