"""Hypothesis fuzzing of every parser of outside input: only the documented errors escape.

Issue 11: "hypothesis fuzzing of every parser (...): zero uncaught exceptions other than
the documented error types". The instrument loader has its own fuzz test
(tests/instruments/test_fuzz.py); here are the others, each with the one error type it
documents:

| parser                                   | documented error   |
|------------------------------------------|--------------------|
| skip-logic expressions: parse, evaluate  | ExpressionError    |
| responses CSV/.xlsx (``surveyapp score``) | AnswersInvalid     |
| Kobo/ODK submissions: read, convert      | SubmissionsInvalid |
| instruments authored in Excel            | InstrumentInvalid  |
| evidence file type sniffing              | UploadRefused      |

Inputs are drawn near the formats (their column names, codes, signatures and sizes), so
that the deep branches are reached, and also as raw bytes. Examples per test:
``FUZZ_EXAMPLES``, and ``WORKBOOK_EXAMPLES`` for the slow workbook mutations (the figures
in docs/reliability.md).
"""

from __future__ import annotations

import io
import struct
import zipfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook, load_workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from instruments.errors import InstrumentInvalid
from instruments.excel import instrument_to_workbook, workbook_to_yaml
from instruments.expressions import ExpressionError, evaluate, parse_expression
from instruments.loader import load_instrument
from instruments.xlsform import build_xlsform
from scoring.answers import AnswersInvalid
from scoring.responses import OPTIONAL_COLUMNS, REQUIRED_COLUMNS, parse_responses
from scoring.submissions import SubmissionsInvalid, convert_submissions, read_tables
from surveyapp.file_types import KIND_BY_EXTENSION, check_content
from surveyapp.storage import UploadRefused

FUZZ_EXAMPLES = 150
FUZZ = settings(max_examples=FUZZ_EXAMPLES, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                       HealthCheck.function_scoped_fixture])
#: Each example writes and reads a whole instrument workbook (about 0.2 s).
WORKBOOK_EXAMPLES = 60

CCPM = load_instrument("ccpm").instrument
PARTNER_FORM = build_xlsform(CCPM, "partner")
FIELD_NAMES = [field.name for field in PARTNER_FORM.fields]
ITEM_IDS = [item.id for q in CCPM.questionnaires for item in q.items]

cells = st.one_of(
    st.none(), st.integers(-10, 10_000), st.floats(allow_nan=True), st.booleans(),
    st.text(max_size=12), st.sampled_from(["", "1", "4", "99", "9999", "n/a", "yes", "no",
                                           "uuid:x", "1 2", "NGO", "Good", "=1+1"]),
    st.sampled_from(ITEM_IDS), st.sampled_from(["partner", "coordinator", "framework"]),
)


def text_of(value: Any) -> str:
    return "" if value is None else str(value)


# --- Skip logic --------------------------------------------------------------------------

EXPRESSION_PARTS = ["${q1}", "${q2}", "${a.b}", "=", "!=", "<", "<=", ">", ">=", "and", "or",
                    "not(", "(", ")", "'x'", '"y"', "4", "-2.5", "1e9", "true", "${", "}",
                    "$", " ", "''", "not", "${q1} = 1"]
expressions = st.one_of(
    st.text(max_size=40),
    st.lists(st.sampled_from(EXPRESSION_PARTS), max_size=12).map(" ".join),
    st.lists(st.sampled_from(EXPRESSION_PARTS), max_size=12).map("".join),
)
answers = st.dictionaries(st.sampled_from(["q1", "q2", "a.b", "other"]),
                          st.one_of(st.none(), st.integers(), st.floats(), st.text(max_size=5),
                                    st.booleans(), st.lists(st.integers(), max_size=2)))


@FUZZ
@given(expressions, answers)
def test_skip_logic_parser(text: str, values: dict[str, Any]) -> None:
    try:
        expression = parse_expression(text)
    except ExpressionError as error:
        assert 0 <= error.position <= len(text)
        return
    assert evaluate(expression, values) in (True, False)


# --- Responses files ---------------------------------------------------------------------

headers = st.lists(st.sampled_from([*REQUIRED_COLUMNS, *OPTIONAL_COLUMNS, "level", "parent",
                                    "section", "Value ", "organisation_type", "extra", ""]),
                   max_size=8)
grids = st.tuples(headers, st.lists(st.lists(cells, max_size=8), max_size=6))


def csv_bytes(header: list[str], rows: list[list[Any]], separator: str) -> bytes:
    lines = [separator.join(header)] + [separator.join(map(text_of, row)) for row in rows]
    return "\n".join(lines).encode("utf-8")


def _storable(value: Any) -> Any:
    """What a spreadsheet can hold: no control characters, no NaN (test data, not input)."""
    if isinstance(value, str):
        return ILLEGAL_CHARACTERS_RE.sub("", value)
    if isinstance(value, float) and value != value:
        return None
    return value


def workbook_bytes(*sheets: list[list[Any]], titles: tuple[str, ...] = ()) -> bytes:
    book = Workbook()
    for position, table in enumerate(sheets):
        sheet = book.active if position == 0 else book.create_sheet()
        if position < len(titles):
            sheet.title = titles[position]
        for row in table:
            sheet.append([_storable(value) for value in row])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


@FUZZ
@given(grids, st.sampled_from([",", ";", "\t"]), st.booleans())
def test_responses_reader(grid: tuple[list[str], list[list[Any]]], separator: str,
                          as_workbook: bool) -> None:
    header, rows = grid
    if as_workbook:
        data, name = workbook_bytes([header, *rows]), "answers.xlsx"
    else:
        data, name = csv_bytes(header, rows, separator), "answers.csv"
    try:
        parse_responses(CCPM, data, name)
    except AnswersInvalid as invalid:
        assert all(problem.format(name) for problem in invalid.problems)


@FUZZ
@given(st.binary(max_size=300), st.sampled_from(["answers.csv", "answers.xlsx", "a.txt"]),
       st.sampled_from([b"", b"PK\x03\x04", b"\xd0\xcf\x11\xe0", b"respondent,item\n",
                        b"\xef\xbb\xbf"]))
def test_responses_reader_on_raw_bytes(data: bytes, name: str, prefix: bytes) -> None:
    try:
        parse_responses(CCPM, prefix + data, name)
    except AnswersInvalid as invalid:
        assert all(problem.format(name).startswith(name) for problem in invalid.problems)


# --- Kobo and ODK exports ----------------------------------------------------------------

export_headers = st.lists(st.one_of(
    st.sampled_from(FIELD_NAMES), st.sampled_from([f"group/{n}" for n in FIELD_NAMES[:10]]),
    st.sampled_from(["_uuid", "meta/instanceID", "KEY", "_index", "start", "SubmissionDate"]),
    st.text(max_size=10)), max_size=10)


@FUZZ
@given(export_headers, st.lists(st.lists(cells, max_size=10), max_size=5),
       st.sampled_from(["csv", "xlsx", "zip"]))
def test_submissions_converter(header: list[str], rows: list[list[Any]], kind: str) -> None:
    table = [header, *rows]
    if kind == "xlsx":
        data = workbook_bytes(table, titles=("ccpm_partner",))
    else:
        data = csv_bytes(header, rows, ",")
        if kind == "zip":
            buffer = io.BytesIO()
            with zipfile.ZipFile(buffer, "w") as archive:
                archive.writestr("ccpm_partner.csv", data)
            data = buffer.getvalue()
    name = f"export.{kind}"
    try:
        tables = read_tables(data, name)
        convert_submissions(CCPM, "partner", tables.main, name, tables.repeats)
    except SubmissionsInvalid as invalid:
        assert all(problem.format() for problem in invalid.problems)


@FUZZ
@given(st.binary(max_size=300), st.sampled_from(["export.csv", "export.xlsx", "export.zip"]),
       st.sampled_from([b"", b"PK\x03\x04", b"\xd0\xcf\x11\xe0", b"_uuid,q111\n"]))
def test_submissions_reader_on_raw_bytes(data: bytes, name: str, prefix: bytes) -> None:
    try:
        read_tables(prefix + data, name)
    except SubmissionsInvalid as invalid:
        assert all(problem.format().startswith(name) for problem in invalid.problems)


# --- Instruments in Excel ----------------------------------------------------------------

MINI_WORKBOOK = instrument_to_workbook(load_instrument("cpas-red").instrument)


def _sheets(data: bytes) -> dict[str, list[list[Any]]]:
    book = load_workbook(io.BytesIO(data))
    return {sheet.title: [list(row) for row in sheet.iter_rows(values_only=True)]
            for sheet in book.worksheets}


SHEETS = _sheets(MINI_WORKBOOK)


@settings(FUZZ, max_examples=WORKBOOK_EXAMPLES)
@given(st.data())
def test_instrument_workbook_reader(data: st.DataObject) -> None:
    """Single-cell mutations of a real workbook, and sheets dropped or renamed."""
    sheets = {title: [list(row) for row in rows] for title, rows in SHEETS.items()}
    for _change in range(data.draw(st.integers(1, 4))):
        title = data.draw(st.sampled_from(sorted(sheets)))
        rows = sheets[title]
        action = data.draw(st.sampled_from(["cell", "drop-row", "drop-sheet", "rename"]))
        if action == "cell" and rows:
            row = data.draw(st.integers(0, len(rows) - 1))
            if rows[row]:
                column = data.draw(st.integers(0, len(rows[row]) - 1))
                rows[row][column] = data.draw(cells)
        elif action == "drop-row" and rows:
            rows.pop(data.draw(st.integers(0, len(rows) - 1)))
        elif action == "drop-sheet" and len(sheets) > 1:
            sheets.pop(title)
        elif action == "rename":
            sheets[data.draw(st.text(min_size=1, max_size=8).filter(
                lambda name: not set(name) & set("[]:*?/\\")))] = sheets.pop(title)
    workbook = workbook_bytes(*sheets.values(), titles=tuple(sheets))
    try:
        workbook_to_yaml(workbook, "instrument.xlsx")
    except InstrumentInvalid as invalid:
        assert invalid.problems


@FUZZ
@given(st.binary(max_size=300), st.sampled_from([b"", b"PK\x03\x04", MINI_WORKBOOK[:200]]))
def test_instrument_workbook_reader_on_raw_bytes(data: bytes, prefix: bytes) -> None:
    try:
        workbook_to_yaml(prefix + data, "instrument.xlsx")
    except InstrumentInvalid as invalid:
        assert all(problem.format().startswith("instrument.xlsx")
                   for problem in invalid.problems)


# --- Evidence file types -----------------------------------------------------------------

SIGNATURES = [b"%PDF-", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", b"\xff\xd8\xff", b"GIF89a",
              b"RIFF\x00\x00\x00\x00WEBPVP8X", b"RIFF\x00\x00\x00\x00WEBPVP8L",
              b"RIFF\x00\x00\x00\x00WEBPVP8 ", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",
              b"PK\x03\x04", b"MZ", b"#!", b"<html>", b"\xef\xbb\xbf", b""]


def office_like(parts: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in parts.items():
            archive.writestr(name, content)
    return buffer.getvalue()


contents = st.one_of(
    st.tuples(st.sampled_from(SIGNATURES), st.binary(max_size=200)).map(b"".join),
    st.tuples(st.sampled_from(SIGNATURES[1:5]), st.integers(0, 2**32 - 1),
              st.integers(0, 2**32 - 1), st.binary(max_size=40)).map(
        lambda t: t[0] + struct.pack(">II", t[1], t[2]) + t[3]),
    st.dictionaries(st.sampled_from(["[Content_Types].xml", "word/document.xml",
                                     "xl/vbaProject.bin", "x.bin"]),
                    st.one_of(st.binary(max_size=60), st.sampled_from([
                        b"wordprocessingml.document.main+xml", b"macroEnabled"])),
                    max_size=4).map(office_like),
    st.text(max_size=200).map(str.encode),
)


@FUZZ
@given(contents, st.sampled_from(sorted(KIND_BY_EXTENSION)))
def test_file_type_sniffing(tmp_path_factory: Any, data: bytes, extension: str) -> None:
    path = Path(tmp_path_factory.mktemp("sniff")) / "upload"
    path.write_bytes(data)
    try:
        kind = check_content(path, f"document.{extension}")
    except UploadRefused as refused:
        assert str(refused)
    else:
        assert kind is KIND_BY_EXTENSION[extension] or extension == "csv"
