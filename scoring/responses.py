"""The offline responses file: long format, one row per answer, as CSV or .xlsx.

Header (row 1): ``respondent,questionnaire,item,value`` and, optionally,
``comment`` and ``organization_type``. Rows are numbered as a spreadsheet shows
them (the header is row 1), and every problem names its row and column.

This module parses bytes the caller has already read: no file access. It turns
rows into :class:`~scoring.answers.Answer` records for one instrument:

- an item asked once per framework node is written ``NODE.ITEM`` (``OUT1.recommendation``),
  a rubric criterion ``NODE.CRITERION`` (``OUT1.relevance``), the comment
  column holding the justification;
- rows whose questionnaire is ``framework`` declare the unit's own results
  framework: ``item`` = node id, ``value`` = title, ``comment`` =
  ``level=output; parent=OC1; section=Civil Affairs``;
- ``organization_type`` (code or option label) answers the respondent's
  organisation-type item, so partners' types can come from a column.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

from instruments.archives import UNREADABLE_WORKBOOK, ZIP_MAGIC, archive_problem
from instruments.schema import Instrument, Item
from scoring.answers import (
    Answer,
    AnswerProblem,
    AnswersInvalid,
    FrameworkNode,
    RawValue,
    Responses,
)
from scoring.plan import CodeDomain

REQUIRED_COLUMNS = ("respondent", "questionnaire", "item", "value")
OPTIONAL_COLUMNS = ("comment", "organization_type")
COLUMN_ALIASES = {"organisation_type": "organization_type"}
FRAMEWORK_QUESTIONNAIRE = "framework"
FRAMEWORK_KEYS = ("level", "parent", "section")

_OLE_MAGIC = b"\xd0\xcf\x11\xe0"
_HEADER_HELP = (
    "the first row must be the header respondent,questionnaire,item,value "
    "(optionally comment and organization_type)"
)


@dataclass(frozen=True)
class ResponseRow:
    """One row of the file, cells as read (text for the id columns)."""

    row: int
    respondent: str
    questionnaire: str
    item: str
    value: RawValue
    comment: str | None
    organization_type: RawValue


def read_rows(data: bytes, name: str) -> tuple[ResponseRow, ...]:
    """Parse a CSV or .xlsx responses file into rows.

    :param name: the file name as the user gave it; ``.xlsx`` selects the
        workbook reader (so does the content, whatever the name).
    :raises AnswersInvalid: for an empty, binary or unreadable file, a bad header
        or malformed rows; nothing is returned half-read.
    """
    if not data.strip():
        raise _fail("the file is empty: " + _HEADER_HELP)
    if data.startswith(ZIP_MAGIC):
        problem = archive_problem(data)
        if problem:
            raise _fail(f"this is not a readable .xlsx workbook: {problem}; save it again as "
                        ".xlsx or as CSV UTF-8")
        grid = _xlsx_grid(data)
    elif name.lower().endswith((".xlsx", ".xlsm")):
        raise _fail("this is not a readable .xlsx workbook: open it in a spreadsheet program "
                    "and save it again as .xlsx, or save it as CSV UTF-8")
    elif data.startswith(_OLE_MAGIC):
        raise _fail("this is an old .xls workbook: save it as .xlsx or as CSV UTF-8")
    elif b"\x00" in data:
        raise _fail("this is a binary file, not CSV text or an .xlsx workbook: "
                    "save the responses as CSV UTF-8 or .xlsx")
    else:
        grid = _csv_grid(data)
    return _rows(grid)


def csv_records(text: str, delimiter: str) -> tuple[list[list[str]], str | None, int]:
    """The records of CSV text, read strictly: an unclosed quote is an error, not a cell
    that silently swallows the rest of the file. Returns the records read, the problem if
    any, and the number of the record where it started."""
    records: list[list[str]] = []
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    try:
        records.extend(reader)
    except csv.Error as error:
        return records, str(error), len(records) + 1
    return records, None, 0


def _fail(message: str, row: int | None = None, column: str | None = None) -> AnswersInvalid:
    return AnswersInvalid([AnswerProblem(message, row, column)])


def _csv_grid(data: bytes) -> list[tuple[int, list[RawValue]]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        row = data[: error.start].count(b"\n") + 1
        raise _fail("this row is not UTF-8 text: save the file as CSV UTF-8", row) from None
    header_line = text.splitlines()[0] if text.splitlines() else ""
    delimiter = ","
    if "," not in header_line:
        delimiter = next((mark for mark in (";", "\t") if mark in header_line), ",")
    records, problem, row = csv_records(text, delimiter)
    if problem:
        raise _fail(f"this row is not readable CSV ({problem}): check its quotes", row)
    return [(number, list(cells)) for number, cells in enumerate(records, start=1)]


def _xlsx_grid(data: bytes) -> list[tuple[int, list[RawValue]]]:
    """The first worksheet's rows; a workbook that cannot be opened is one clear problem."""
    from openpyxl import load_workbook  # imported here: only .xlsx files need it

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        try:  # read-only sheets are parsed while their rows are read: damage shows here too
            sheet = workbook.worksheets[0]
            return [(number, [_cell(value) for value in values])
                    for number, values in enumerate(sheet.iter_rows(values_only=True), start=1)]
        finally:
            workbook.close()
    except UNREADABLE_WORKBOOK as error:
        raise _fail(f"this is not a readable .xlsx workbook ({error.__class__.__name__}): "
                    "save it again as .xlsx or as CSV UTF-8") from None


def _cell(value: object) -> RawValue:
    if value is None or isinstance(value, int | float | str):
        return value
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return str(value)


def _text(value: RawValue) -> str:
    """An id cell as text: ``3`` and ``3.0`` both read ``3``."""
    if value is None:
        return ""
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    return str(value).strip()


def _rows(grid: list[tuple[int, list[RawValue]]]) -> tuple[ResponseRow, ...]:
    body = [(number, cells) for number, cells in grid if any(_text(cell) for cell in cells)]
    if not body:
        raise _fail("the file is empty: " + _HEADER_HELP)
    header_row, header_cells = body[0]
    columns = _header(header_row, header_cells)
    problems: list[AnswerProblem] = []
    rows: list[ResponseRow] = []
    for number, cells in body[1:]:
        if len(cells) > len(header_cells) and any(_text(c) for c in cells[len(header_cells):]):
            problems.append(AnswerProblem(
                f"this row has {len(cells)} cells but the header has {len(header_cells)}: "
                "remove the extra cells or quote values that contain the separator",
                number, "value"))
            continue

        def cell(column: str, cells: list[RawValue] = cells) -> RawValue:
            position = columns.get(column)
            return cells[position] if position is not None and position < len(cells) else None

        row = ResponseRow(
            row=number,
            respondent=_text(cell("respondent")),
            questionnaire=_text(cell("questionnaire")),
            item=_text(cell("item")),
            value=cell("value"),
            comment=_text(cell("comment")) or None,
            organization_type=cell("organization_type"),
        )
        for column in ("questionnaire", "item"):
            if not getattr(row, column):
                problems.append(AnswerProblem(f"the {column} is blank: fill it in", number, column))
        rows.append(row)
    if problems:
        raise AnswersInvalid(problems)
    return tuple(rows)


def _header(row: int, cells: Sequence[RawValue]) -> dict[str, int]:
    names = [COLUMN_ALIASES.get(name, name) for name in (_text(c).lower() for c in cells)]
    problems: list[AnswerProblem] = []
    if not set(REQUIRED_COLUMNS) & set(names):
        raise _fail(f"{_HEADER_HELP}; found {', '.join(filter(None, names)) or 'nothing'}: "
                    "is this a responses file?", row, "header")
    columns: dict[str, int] = {}
    for position, name in enumerate(names):
        if not name:
            continue
        if name in columns:
            problems.append(AnswerProblem(f"column `{name}` appears twice: keep one", row, name))
        elif name not in REQUIRED_COLUMNS + OPTIONAL_COLUMNS:
            problems.append(AnswerProblem(
                f"unknown column `{name}`: the columns are "
                f"{', '.join(REQUIRED_COLUMNS + OPTIONAL_COLUMNS)}", row, name))
        columns.setdefault(name, position)
    problems += [
        AnswerProblem(f"the column `{name}` is missing: {_HEADER_HELP}", row, name)
        for name in REQUIRED_COLUMNS if name not in columns
    ]
    if problems:
        raise AnswersInvalid(problems)
    return columns


# --------------------------------------------------------------------------- rows -> answers


def to_responses(instrument: Instrument, rows: Iterable[ResponseRow]) -> Responses:
    """Turn rows into answers and framework nodes for one instrument.

    Item names that do not resolve are passed on unchanged, so the engine
    reports them with the same message as any other unknown item.

    :raises AnswersInvalid: for malformed framework rows or organisation types.
    """
    resolver = _ItemResolver(instrument)
    problems: list[AnswerProblem] = []
    answers: list[Answer] = []
    framework: list[FrameworkNode] = []
    types: dict[tuple[str, str], tuple[int, ResponseRow]] = {}
    for row in rows:
        if row.questionnaire.lower() == FRAMEWORK_QUESTIONNAIRE and resolver.has_framework:
            framework.append(_framework_node(row, problems))
            continue
        item, node, criterion = resolver.resolve(row.questionnaire, row.item)
        answers.append(Answer(row.respondent, row.questionnaire, item, row.value, row.comment,
                              node, criterion, row.row))
        if _text(row.organization_type):
            _note_type(resolver, row, types, problems)
    answers += _type_answers(resolver, answers, types, problems)
    if problems:
        raise AnswersInvalid(problems)
    return Responses(tuple(answers), tuple(framework))


def _framework_node(row: ResponseRow, problems: list[AnswerProblem]) -> FrameworkNode:
    """``level=output; parent=OC1; section=Civil Affairs`` in the comment column."""
    fields: dict[str, str] = {}
    for part in filter(str.strip, (row.comment or "").split(";")):
        key, sign, value = part.partition("=")
        key = key.strip().lower()
        if not sign or key not in FRAMEWORK_KEYS:
            problems.append(AnswerProblem(
                f"`{part.strip()}` is not one of level=..., parent=..., section=...: write the "
                "framework node as e.g. `level=output; parent=OC1; section=Civil Affairs`",
                row.row, "comment"))
            continue
        fields[key] = value.strip()
    if not fields.get("level"):
        problems.append(AnswerProblem(
            f"framework node `{row.item}` needs its level: write e.g. `level=output; "
            "parent=OC1` in the comment", row.row, "comment"))
    title = _text(row.value)
    if not title:
        problems.append(AnswerProblem(
            f"framework node `{row.item}` needs a title in the value column", row.row, "value"))
    return FrameworkNode(row.item, fields.get("level", ""), title, fields.get("parent") or None,
                         fields.get("section") or None, row.row)


class _ItemResolver:
    """Reads ``NODE.ITEM`` and ``NODE.CRITERION`` names against one instrument."""

    def __init__(self, instrument: Instrument) -> None:
        self.has_framework = instrument.framework is not None
        self.items = {(q.id, item.id): item for q in instrument.questionnaires for item in q.items}
        self.suffixes: dict[str, list[tuple[str, Item, str | None]]] = {}
        self.type_items: dict[str, Item] = {}
        for questionnaire in instrument.questionnaires:
            suffixes = self.suffixes.setdefault(questionnaire.id, [])
            for item in questionnaire.items:
                if item.role == "organisation_type":
                    self.type_items.setdefault(questionnaire.id, item)
                if item.per_level and not item.criteria:
                    suffixes.append(("." + item.id, item, None))
                suffixes += [("." + c.id, item, c.id) for c in item.criteria]
            suffixes.sort(key=lambda entry: -len(entry[0]))

    def resolve(self, questionnaire: str, name: str) -> tuple[str, str | None, str | None]:
        """(item id, framework node, criterion) for a name in the file."""
        if (questionnaire, name) in self.items:
            return name, None, None
        for suffix, item, criterion in self.suffixes.get(questionnaire, ()):
            if name.endswith(suffix) and len(name) > len(suffix):
                prefix = name[: -len(suffix)]
                if item.per_level:
                    return item.id, prefix, criterion
                if prefix == item.id:
                    return item.id, None, criterion
        return name, None, None


def _note_type(
    resolver: _ItemResolver, row: ResponseRow,
    types: dict[tuple[str, str], tuple[int, ResponseRow]], problems: list[AnswerProblem],
) -> None:
    """Record a respondent's organisation type from the column; disagreeing rows are a problem."""
    item = resolver.type_items.get(row.questionnaire)
    if item is None:
        problems.append(AnswerProblem(
            f"questionnaire `{row.questionnaire}` records no organisation type: leave "
            "organization_type empty on its rows", row.row, "organization_type"))
        return
    code = _type_code(item, row.organization_type)
    if code is None:
        choices = "; ".join(f"{o.code} {o.label['en']}" for o in item.options)
        problems.append(AnswerProblem(
            f"`{row.organization_type}` is not an organisation type: use a code or a name "
            f"({choices})", row.row, "organization_type"))
        return
    key = (row.questionnaire, row.respondent)
    earlier = types.setdefault(key, (code, row))
    if earlier[0] != code:
        problems.append(AnswerProblem(
            f"respondent `{row.respondent}` has organisation type {earlier[0]} on row "
            f"{earlier[1].row} and {code} here: give one type", row.row, "organization_type"))


def _type_code(item: Item, raw: RawValue) -> int | None:
    """An organisation type given as its code or as one of its labels (any language)."""
    parsed = CodeDomain(item.options).parse(raw)
    if parsed.error is None and isinstance(parsed.value, int):
        return parsed.value
    wanted = _text(raw).casefold()
    for option in item.options:
        if wanted in (label.casefold() for label in option.label.values()):
            return option.code
    return None


def _type_answers(
    resolver: _ItemResolver, answers: list[Answer],
    types: dict[tuple[str, str], tuple[int, ResponseRow]], problems: list[AnswerProblem],
) -> Iterator[Answer]:
    """Answers to the organisation-type item from the column, unless answered as a row too."""
    explicit = {
        (answer.questionnaire, answer.respondent): answer for answer in answers
        if (item := resolver.type_items.get(answer.questionnaire)) and answer.item == item.id
    }
    for (questionnaire, respondent), (code, row) in types.items():
        item = resolver.type_items[questionnaire]
        answer = explicit.get((questionnaire, respondent))
        if answer is None:
            yield Answer(respondent, questionnaire, item.id, code, None, None, None, row.row)
        elif _type_code(item, answer.value) != code:
            problems.append(AnswerProblem(
                f"respondent `{respondent}` answered `{item.id}` with {answer.value} on row "
                f"{answer.row} but organization_type says {code}: make them agree",
                row.row, "organization_type"))


def parse_responses(instrument: Instrument, data: bytes, name: str) -> Responses:
    """Read a responses file's bytes into answers and framework nodes for ``instrument``."""
    return to_responses(instrument, read_rows(data, name))
