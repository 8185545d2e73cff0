"""Broken response and import files: located messages, no traceback, nothing imported.

Issue 11: "at least 30 broken response or import files (...) each refused with a located
message, no traceback, nothing partially imported". Two readers, one table each, driven
through their real commands:

- ``surveyapp score`` reading a long-format responses CSV or .xlsx (scoring/responses.py);
- ``surveyapp responses convert --from xlsform-submissions`` reading Kobo and ODK Central
  exports (scoring/submissions.py).

For each file: exit status 1, every line of stderr is ``FILE[:ROW[:COLUMN]]: message``
and one of them holds the expected words, no traceback, and nothing is written: stdout is
empty for ``score``, and the converter leaves no output file.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import struct
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner
from openpyxl import Workbook

from instruments.excel import instrument_to_workbook
from instruments.loader import load_instrument
from instruments.xlsform import build_xlsform
from surveyapp.commands.instruments import command as instruments
from surveyapp.commands.interop import responses
from surveyapp.commands.scoring import command as score_command
from tests.interop.kobo import ExportStyle, Respondent, csv_bytes, main_table, xlsx_bytes
from tests.scoring.inline import MINI_CCPM

HEADER = "respondent,questionnaire,item,value,comment,organization_type\n"


def rows(*lines: str) -> bytes:
    return (HEADER + "".join(line + "\n" for line in lines)).encode()


def workbook(*table: list[object]) -> bytes:
    book = Workbook()
    for row in table:
        book.active.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def zipped(**members: bytes) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def zip_bomb(**members: bytes) -> bytes:
    """An archive whose directory declares nearly 4 GB for its last member (a lying bomb)."""
    data = bytearray(zipped(**members))
    entry = data.rfind(b"PK\x01\x02")
    data[entry + 24:entry + 28] = struct.pack("<I", 0xFFFF_FFF0)
    return bytes(data)


def damaged_sheet(workbook_data: bytes) -> bytes:
    """The workbook with its first sheet's XML broken, as a half-written file leaves it."""
    source = zipfile.ZipFile(io.BytesIO(workbook_data))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as target:
        for entry in source.infolist():
            data = source.read(entry)
            if entry.filename == "xl/worksheets/sheet1.xml":
                data = data[: len(data) // 2] + b"\x08<unclosed"
            target.writestr(entry, data)
    return buffer.getvalue()


LONG_HEADER = HEADER.strip().split(",")

#: (case, file name, content, words of the expected problem line)
BROKEN_RESPONSES = [
    ("empty", "answers.csv", b"", "the file is empty"),
    ("blank lines only", "answers.csv", b" \n\n\t\n", "the file is empty"),
    ("program", "answers.csv", b"\x7fELF\x02\x01\x01\x00" + bytes(40), "this is a binary file"),
    ("nul bytes in text", "answers.csv", rows("a,partner,p1,3,,1").replace(b"3", b"\x00"),
     "this is a binary file"),
    ("utf-16", "answers.csv", rows("a,partner,p1,3,,1").decode().encode("utf-16"),
     "this is a binary file"),
    ("old xls", "answers.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(100),
     "this is an old .xls workbook"),
    ("xlsx that is text", "answers.xlsx", rows("a,partner,p1,3,,1"),
     "this is not a readable .xlsx workbook"),
    ("truncated xlsx", "answers.xlsx", workbook(LONG_HEADER)[:300],
     "this is not a readable .xlsx workbook"),
    ("zip that is no workbook", "answers.xlsx", zipped(**{"notes.txt": b"hello"}),
     "this is not a readable .xlsx workbook"),
    ("latin-1 row", "answers.csv", rows("a,partner,p1,3,Très bien,1").decode().encode("latin-1"),
     ":2: this row is not UTF-8 text"),
    ("prose", "answers.csv", b"Dear colleagues,\nthe answers follow.\n",
     ":1:header: the first row must be the header"),
    ("json", "answers.json", b'{"answers": [1, 2]}', "is this a responses file?"),
    ("missing column", "answers.csv", b"respondent,questionnaire,item\na,partner,p1\n",
     ":1:value: the column `value` is missing"),
    ("misspelt column", "answers.csv",
     rows("a,partner,p1,3,,1").replace(b"value", b"vaule"), ":1:"),
    ("unknown item", "answers.csv", rows("a,partner,q99,3,,1"),
     ":2:item: questionnaire `partner` has no item `q99`"),
    ("unknown questionnaire", "answers.csv", rows("a,donors,p1,3,,"), ":2:questionnaire:"),
    ("code outside the scale", "answers.csv", rows("a,partner,p1,7,,1"),
     ":2:value: `p1` of respondent `a`: `7` is not one of the codes"),
    ("words for a code", "answers.csv", rows("a,partner,p1,often,,1"), ":2:value:"),
    ("negative count", "answers.csv", rows("c,coordinator,m1,-3,,"), ":2:value:"),
    ("fraction for a whole number", "answers.csv", rows("c,coordinator,m1,2.5,,"), ":2:value:"),
    ("answered twice", "answers.csv", rows("a,partner,p1,3,,1", "a,partner,p1,2,,1"),
     ":3:item: `p1` of respondent `a` is answered twice (first on row 2)"),
    ("blank respondent", "answers.csv", rows(",partner,p1,3,,1"), ":2:respondent:"),
    ("blank item", "answers.csv", rows("a,partner,,3,,1"), ":2:item: the item is blank"),
    ("too many cells", "answers.csv", rows("a,partner,p1,3,,1,extra,cells"), ":2:"),
    ("unclosed quote", "answers.csv", rows('a,partner,p1,3,"never closed,1', "b,partner,p1,2,,1"),
     ":2: this row is not readable CSV (unexpected end of data): check its quotes"),
    ("zip bomb workbook", "answers.xlsx", zip_bomb(**{"[Content_Types].xml": b"<Types/>",
                                                      "xl/sheet.xml": b"<sheetData/>"}),
     "(a possible zip bomb)"),
    ("unknown organisation type", "answers.csv", rows("a,partner,p1,3,,Donor"),
     ":2:organization_type:"),
    ("two organisation types", "answers.csv", rows("a,partner,p1,3,,1", "a,partner,p2,3,,2"),
     ":3:organization_type:"),
    ("xlsx with a bad code", "answers.xlsx",
     workbook(LONG_HEADER, ["a", "partner", "p1", 3, None, 1], ["b", "partner", "p1", 8, None, 1]),
     ":3:value: `p1` of respondent `b`: `8` is not one of the codes"),
    ("xlsx with a date for a code", "answers.xlsx",
     workbook(LONG_HEADER, ["a", "partner", "p1", dt.datetime(2025, 3, 1), None, 1]),
     ":2:value:"),
    ("empty workbook", "answers.xlsx", workbook(), "the file is empty"),
    ("workbook with damaged xml", "answers.xlsx",
     damaged_sheet(workbook(LONG_HEADER, ["a", "partner", "p1", 3, None, 1])),
     "this is not a readable .xlsx workbook (ParseError)"),
]

CCPM = load_instrument("ccpm").instrument
PARTNER_FORM = build_xlsform(CCPM, "partner")
GOOD_PARTNERS = [Respondent("p-1", {"q012": "1", "q111": "4", "q112": "3"}),
                 Respondent("p-2", {"q012": "2", "q111": "0"})]


def kobo(respondents: list[Respondent] = GOOD_PARTNERS) -> list[list[object]]:
    return main_table(PARTNER_FORM, respondents, ExportStyle("kobo", "/", ()))


def kobo_with(change: str, value: object) -> list[list[object]]:
    """A Kobo export whose first submission has ``value`` under the header ``change``."""
    table = kobo()
    table[1][table[0].index(change)] = value
    return table


def first_header_renamed(name: str) -> list[list[object]]:
    table = kobo()
    question = next(i for i, header in enumerate(table[0]) if str(header).endswith("q111"))
    table[0][question] = name
    return table


Q111 = next(str(header) for header in kobo()[0] if str(header).endswith("q111"))

BROKEN_EXPORTS = [
    ("empty", "export.csv", b"", "the file is empty"),
    ("old xls", "export.xls", b"\xd0\xcf\x11\xe0rest", "this is an old .xls workbook"),
    ("program", "export.csv", b"\x7fELF\x00\x01", "this is a binary file"),
    ("latin-1 row", "export.csv", csv_bytes(kobo_with("q012", "Réseau")).decode()
     .encode("latin-1"), ":2: this row is not UTF-8 text"),
    ("truncated xlsx", "export.xlsx", xlsx_bytes({"ccpm_partner": kobo()})[:400],
     "its ZIP container is damaged"),
    ("zip without csv", "export.zip", zipped(**{"readme.txt": b"hello"}), "holds no CSV file"),
    ("broken zip", "export.zip", b"PK\x03\x04 broken", "its ZIP container is damaged"),
    ("zip bomb", "export.zip", zip_bomb(**{"form.csv": b"_uuid\n"}),
     "(a possible zip bomb)"),
    ("unknown column", "export.xlsx", xlsx_bytes({"ccpm_partner": first_header_renamed("q999")}),
     ":1:q999: `q999` is not a question of this form"),
    ("repeated question", "export.xlsx", xlsx_bytes({"ccpm_partner": first_header_renamed("q112")}),
     ":1:"),
    ("the form itself", "export.xlsx", xlsx_bytes({"survey": [["type", "name", "label"],
                                                              ["text", "q111", "Hello"]]}),
     "no column is a question of the form ccpm_partner"),
    ("code outside the scale", "export.csv", csv_bytes(kobo_with(Q111, "7")), f":2:{Q111}:"),
    ("label that is no option", "export.csv", csv_bytes(kobo_with(Q111, "Excellent")),
     f":2:{Q111}:"),
    ("repeated submission id", "export.csv",
     csv_bytes(main_table(PARTNER_FORM, [GOOD_PARTNERS[0], GOOD_PARTNERS[0]],
                          ExportStyle("kobo", "/", ()))), ":3:"),
    ("unknown organisation type", "export.csv", csv_bytes(kobo_with(
        next(str(h) for h in kobo()[0] if str(h).endswith("q012")), "9")), ":2:"),
    ("unclosed quote", "export.csv", csv_bytes(kobo()) + b'"never closed,4\n',
     ":4: this row is not readable CSV (unexpected end of data): check its quotes"),
    ("header only, nothing else", "export.csv", b"\n\n", "the file is empty"),
    ("workbook with damaged xml", "export.xlsx",
     damaged_sheet(xlsx_bytes({"ccpm_partner": kobo()})),
     "this is not a readable .xlsx workbook (ParseError)"),
]


LOCATED = r"{file}(:\d+(:[^:]+)?)?: \S.*"
#: The converter's last line, after the located ones: what it did not write.
SUMMARY = re.compile(r"\d+ submission\(s\) refused: nothing written .*")


def assert_located(stderr: str, path: Path, expected: str) -> None:
    lines = stderr.splitlines()
    assert lines, "no problem printed"
    pattern = re.compile(LOCATED.format(file=re.escape(str(path))))
    assert all(pattern.fullmatch(line) or SUMMARY.fullmatch(line) for line in lines), stderr
    assert pattern.fullmatch(lines[0]), stderr
    assert any(expected in line for line in lines), stderr
    assert "Traceback" not in stderr


@pytest.fixture(scope="module")
def instrument_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("instrument") / "mini-ccpm.yaml"
    path.write_text(MINI_CCPM, encoding="utf-8")
    return path


@pytest.mark.parametrize(("name", "data", "expected"), [case[1:] for case in BROKEN_RESPONSES],
                         ids=[case[0] for case in BROKEN_RESPONSES])
def test_broken_responses_file(tmp_path: Path, instrument_file: Path, name: str, data: bytes,
                               expected: str) -> None:
    path = tmp_path / name
    path.write_bytes(data)
    result = CliRunner().invoke(score_command, [str(instrument_file), str(path), "--json"])
    assert isinstance(result.exception, SystemExit), repr(result.exception)
    assert result.exit_code == 1
    assert result.stdout == ""  # nothing scored from part of the file
    assert_located(result.stderr, path, expected)


@pytest.mark.parametrize(("name", "data", "expected"), [case[1:] for case in BROKEN_EXPORTS],
                         ids=[case[0] for case in BROKEN_EXPORTS])
def test_broken_submissions_export(tmp_path: Path, name: str, data: bytes,
                                   expected: str) -> None:
    source = tmp_path / name
    source.write_bytes(data)
    output = tmp_path / "long.csv"
    result = CliRunner().invoke(responses, [
        "convert", "--from", "xlsform-submissions", str(source), "--instrument", "ccpm",
        "--questionnaire", "partner", "-o", str(output)])
    assert isinstance(result.exception, SystemExit), repr(result.exception)
    assert result.exit_code == 1
    assert not output.exists()  # all or nothing: no file from the good submissions
    assert_located(result.stderr, source, expected)


def test_instrument_workbook_with_damaged_xml(tmp_path: Path) -> None:
    """The instrument Excel reader too: a located line, not a traceback."""
    path = tmp_path / "ccpm.xlsx"
    path.write_bytes(damaged_sheet(instrument_to_workbook(CCPM)))
    result = CliRunner().invoke(instruments, ["from-excel", str(path), "-o",
                                              str(tmp_path / "ccpm.yaml")])
    assert result.exit_code == 1, result.output
    assert f"{path}:" in result.output and "the workbook cannot be opened (ParseError)" in (
        result.output)
    assert "Traceback" not in result.output
    assert not (tmp_path / "ccpm.yaml").exists()


def test_instrument_workbook_zip_bomb_is_refused_before_it_expands(tmp_path: Path) -> None:
    """The instrument reader asks the same archive check as the responses and exports
    readers (instruments/archives.py), so a workbook declaring gigabytes is refused from
    its directory, by the command line and by the web library's upload alike."""
    path = tmp_path / "ccpm.xlsx"
    path.write_bytes(zip_bomb(**{"[Content_Types].xml": b"<Types/>",
                                 "xl/workbook.xml": b"<workbook/>"}))
    result = CliRunner().invoke(instruments, ["from-excel", str(path), "-o",
                                              str(tmp_path / "ccpm.yaml")])
    assert result.exit_code == 1, result.output
    assert "the workbook cannot be opened safely" in result.output
    assert "(a possible zip bomb)" in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "ccpm.yaml").exists()


def test_the_corpus_is_large_enough() -> None:
    assert len(BROKEN_RESPONSES) + len(BROKEN_EXPORTS) >= 30
    names = [case[0] for case in BROKEN_RESPONSES] + [case[0] for case in BROKEN_EXPORTS]
    assert len(set(map(tuple, (c[1:] for c in BROKEN_RESPONSES + BROKEN_EXPORTS)))) == len(names)
