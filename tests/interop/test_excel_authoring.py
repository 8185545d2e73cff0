"""Instruments authored in Excel: ``surveyapp instruments to-excel`` and ``from-excel``.

Rules (issue "Work with the tools our users already have", instruments authored in Excel):

- EX1 YAML -> workbook -> YAML is lossless for the bundled instruments: the parsed models
      are equal (YAML comments are not carried)
- EX2 the documented layout: one sheet per kind of thing, one column per language of each
      text (``title::en``, ``title::fr``), rows in order
- EX3 a translator fills a French column and gets the French text in the instrument
- EX4 a broken workbook gives one located line per problem, ``FILE:SHEET!CELL: CODE
      message``, with the codes of instrument files; the YAML it would give goes through
      parse_instrument, so every cross-check applies and is traced back to its cell
- EX5 the commands write nothing and exit 1 on any problem, never with a traceback
"""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner
from openpyxl import Workbook, load_workbook

from instruments.checks import missing_translations
from instruments.errors import InstrumentInvalid
from instruments.excel import SHEETS, instrument_to_workbook, workbook_to_yaml
from instruments.loader import library_files, load_instrument, load_instrument_file
from surveyapp.commands.instruments import command as instruments
from surveyapp.commands.interop import commands

WORKED_EXAMPLE = Path(__file__).parents[1] / "instruments" / "data" / "worked_example.yaml"
Edit = Callable[[Workbook], None]


def rows_of(data: bytes, sheet: str) -> list[tuple[object, ...]]:
    workbook = load_workbook(io.BytesIO(data), read_only=True)
    return [tuple(row) for row in workbook[sheet].iter_rows(values_only=True)]


@pytest.mark.parametrize("path", library_files(), ids=lambda path: path.stem)
def test_bundled_instruments_survive_the_round_trip(path: Path) -> None:
    """EX1: the instrument read back equals the original, field for field."""
    original = load_instrument_file(path).instrument
    text, loaded = workbook_to_yaml(instrument_to_workbook(original), f"{path.stem}.xlsx")
    assert loaded.instrument.model_dump() == original.model_dump()
    assert loaded.instrument == original
    assert text.startswith(f"# Written by `surveyapp instruments from-excel` from "
                           f"{path.stem}.xlsx.\nkey: {original.key}\n")


def test_the_layout_has_a_sheet_per_kind_and_a_column_per_language() -> None:
    """EX2: sheet names and order, language columns, one row per item and per stage."""
    jiu = load_instrument("jiu-rbm").instrument
    data = instrument_to_workbook(jiu)
    workbook = load_workbook(io.BytesIO(data), read_only=True)
    assert workbook.sheetnames == ["read_me", *(sheet.name for sheet in SHEETS)]
    header, *items = rows_of(data, "items")
    assert header[:4] == ("questionnaire", "id", "type", "node")
    assert {"text::en", "text::fr", "help::en", "help::fr"} <= set(header)
    assert len(items) == sum(len(q.items) for q in jiu.questionnaires) == 255
    header, *stages = rows_of(data, "stages")
    assert header[:4] == ("node", "questionnaire", "item", "stage")
    assert len(stages) == 85
    assert stages[0][:4] == ("1.1", None, None, 1)
    instrument_rows = dict(rows_of(data, "instrument")[1:])
    assert instrument_rows["key"] == "jiu-rbm"
    assert instrument_rows["version"] == "2017.1"
    assert instrument_rows["languages"] == "en, fr"


def test_a_translator_fills_a_french_column() -> None:
    """EX3: one French text added in the workbook is in the instrument read back."""
    jiu = load_instrument("jiu-rbm").instrument
    before = len(missing_translations(jiu, "fr"))
    workbook = load_workbook(io.BytesIO(instrument_to_workbook(jiu)))
    sheet = workbook["items"]
    header = [cell.value for cell in sheet[1]]
    row = next(row for row in sheet.iter_rows(min_row=2)
               if row[header.index("id")].value == "1.1.rationale")
    row[header.index("text::fr")].value = "Pourquoi ce stade convient-il à votre stratégie ?"
    buffer = io.BytesIO()
    workbook.save(buffer)
    _, loaded = workbook_to_yaml(buffer.getvalue(), "jiu-fr.xlsx")
    item = next(item for item in loaded.instrument.questionnaires[0].items
                if item.id == "1.1.rationale")
    assert item.text["fr"] == "Pourquoi ce stade convient-il à votre stratégie ?"
    assert len(missing_translations(loaded.instrument, "fr")) == before - 1


def test_texts_that_look_like_formulas_stay_texts(tmp_path: Path) -> None:
    """A note starting with `=` is text in the workbook and comes back unchanged."""
    text = WORKED_EXAMPLE.read_text(encoding="utf-8").replace(
        "key: mini-coordination", "key: mini-coordination\nnotes: ['=SUM(A1:A3) is not a formula']")
    path = tmp_path / "formula.yaml"
    path.write_text(text, encoding="utf-8")
    original = load_instrument_file(path).instrument
    data = instrument_to_workbook(original)
    assert rows_of(data, "notes")[1] == ("=SUM(A1:A3) is not a formula",)
    assert workbook_to_yaml(data, "formula.xlsx")[1].instrument == original


def base() -> bytes:
    return instrument_to_workbook(load_instrument_file(WORKED_EXAMPLE).instrument)


def cell(sheet: str, reference: str, value: object) -> Edit:
    def edit(workbook: Workbook) -> None:
        workbook[sheet][reference] = value
    return edit


def rename(sheet: str, title: str) -> Edit:
    def edit(workbook: Workbook) -> None:
        workbook[sheet].title = title
    return edit


# Each case breaks one thing of the worked example's workbook (items rows: 2 org_type, 3 q11,
# 4 q12, 5 q21, 6 q22; columns: A questionnaire, B id, C type, H required, I relevant,
# J text::en, N scale).
BROKEN: dict[str, tuple[Edit, list[str]]] = {
    "misspelt column": (cell("items", "H1", "requried"), [
        "book.xlsx:items!H1: I010 unknown column `requried` in sheet items: did you mean "
        "`required`?"]),
    "renamed sheet": (rename("items", "questions"), [
        "book.xlsx: I011 the workbook has no `items` sheet: add it (surveyapp instruments "
        "to-excel writes a complete workbook to start from)",
        "book.xlsx:questions: I010 unknown sheet `questions`: did you mean `questionnaires`?"]),
    "score not a number": (cell("scales", "E3", "high"), [
        "book.xlsx:scales!E3: I012 `score` takes a number, not 'high'"]),
    "bad yes/no": (cell("items", "H3", "maybe"), [
        "book.xlsx:items!H3: I012 `required` is a yes/no column: write yes or no, not 'maybe'"]),
    "option of an unknown item": (cell("options", "B2", "org_typ"), [
        "book.xlsx:options!B2: I021 questionnaire `partner` / item `org_typ` is not defined in "
        "its sheet: check the spelling"]),
    "parent below its child": (cell("nodes", "A2", "2"), [
        "book.xlsx:nodes!A2: I021 parent `2` is not a node on a row above this one: list every "
        "node after its parent"]),
    "formula": (cell("items", "J3", "=A1"), [
        "book.xlsx:items!J3: I012 `text` holds the formula =A1: type the value itself"]),
    "unknown item type": (cell("items", "C4", "likert"), [
        "book.xlsx:items!C4: I012 questionnaires[0].items[2].type: Input should be "
        "'single_choice', 'stage', 'rubric', 'yes_no', 'number', 'text' or 'date' "
        "(got 'likert')"]),
    "unknown scale": (cell("items", "N3", "frequence"), [
        "book.xlsx:items!N3: I021 no scale has the id `frequence`: did you mean `frequency`?"]),
    "skip logic reads a later item": (cell("items", "I4", "${q21} >= 1"), [
        "book.xlsx:items!I4: I042 skip logic of `q12` reads `${q21}`, which is asked at or "
        "after this item: only earlier answers are known"]),
    "band gap": (cell("bands", "D2", 20), [
        "book.xlsx:bands!C3: I030 band `unsatisfactory` starts at 25 but `weak` ends at 20: "
        "set lower to 20"]),
    "English title missing": (cell("questionnaires", "C2", None), [
        "book.xlsx:questionnaires!C2: I012 questionnaires[0].title: Value error, text needs an "
        "English version: add an `en:` entry (got a dict)"]),
    "column twice": (cell("items", "AG1", "type"), [
        "book.xlsx:items!AG1: I004 column `type` appears twice (first in column C): keep one"]),
    "language not a code": (cell("nodes", "E1", "title::french"), [
        "book.xlsx:nodes!E1: I012 `french` in `title::french` is not a two-letter language code "
        "such as en or fr"]),
    "value without a header": (cell("items", "AH3", "stray"), [
        "book.xlsx:items!AH3: I011 column AH has values but no header in row 1: add the header "
        "or delete the values"]),
    "item id twice": (cell("items", "B6", "q21"), [
        "book.xlsx:items!B6: I020 item id `q21` is used twice: give each item its own id"]),
    "unknown metadata field": (cell("instrument", "A4", "titel::en"), [
        "book.xlsx:instrument!A4: I010 unknown field `titel::en`: did you mean `title`?"]),
    "owner column missing": (cell("items", "A1", None), [
        "book.xlsx:items: I011 sheet items needs a `questionnaire` column: it says which "
        "questionnaire each row belongs to",
        "book.xlsx:items!A2: I011 column A has values but no header in row 1: add the header or "
        "delete the values"]),
}


@pytest.mark.parametrize("case", BROKEN)
def test_broken_workbooks_give_located_lines(case: str) -> None:
    """EX4: exactly the expected lines, in sheet order."""
    edit, expected = BROKEN[case]
    workbook = load_workbook(io.BytesIO(base()))
    edit(workbook)
    buffer = io.BytesIO()
    workbook.save(buffer)
    with pytest.raises(InstrumentInvalid) as raised:
        workbook_to_yaml(buffer.getvalue(), "book.xlsx")
    assert [problem.format() for problem in raised.value.problems] == expected


@pytest.mark.parametrize(("data", "line"), [
    (b"", "book.xlsx: I001 the file is empty: start from the workbook that `surveyapp "
          "instruments to-excel` writes"),
    (b"key: x\n", "book.xlsx: I002 this is not an .xlsx workbook: save it from your "
                  "spreadsheet program as Excel Workbook (.xlsx)"),
    (b"PK\x03\x04broken", "book.xlsx: I000 the workbook cannot be opened safely: its ZIP "
                          "container is damaged (BadZipFile); save it again as .xlsx"),
])
def test_files_that_are_no_workbook(data: bytes, line: str) -> None:
    with pytest.raises(InstrumentInvalid) as raised:
        workbook_to_yaml(data, "book.xlsx")
    assert [problem.format() for problem in raised.value.problems] == [line]


def test_cli_round_trip_and_errors(tmp_path: Path) -> None:
    """EX5: to-excel then from-excel give a valid file; a broken workbook writes nothing."""
    assert set(instruments.commands) >= {"from-excel", "to-excel"}
    assert [command.name for command in commands] == ["xlsform", "responses"]
    runner = CliRunner()
    book, output = tmp_path / "cpas.xlsx", tmp_path / "cpas.yaml"
    result = runner.invoke(instruments, ["to-excel", "cpas-red", "-o", str(book)])
    assert result.exit_code == 0, result.output
    result = runner.invoke(instruments, ["from-excel", str(book), "-o", str(output)])
    assert result.exit_code == 0, result.output
    assert result.output == f"wrote {output}: cpas-red 2020.1, 1 questionnaire(s), 8 items\n"
    assert load_instrument_file(output).instrument == load_instrument("cpas-red").instrument
    workbook = load_workbook(book)
    workbook["scoring"]["B2"] = "sum"
    workbook.save(book)
    broken_output = tmp_path / "broken.yaml"
    result = runner.invoke(instruments, ["from-excel", str(book), "-o", str(broken_output)])
    assert result.exit_code == 1
    assert result.output.startswith(f"{book}:scoring!B2: I012 scoring[0].method: Input should "
                                    "be 'median_of_respondent_means'")
    assert "Traceback" not in result.output and not broken_output.exists()
    result = runner.invoke(instruments, ["from-excel", str(tmp_path / "none.xlsx"), "-o",
                                         str(broken_output)])
    assert result.exit_code == 1
    assert result.output == (f"{tmp_path / 'none.xlsx'}:1:1: I000 cannot read the file: "
                             "No such file or directory\n")


def test_a_text_too_long_for_a_cell_is_refused(tmp_path: Path) -> None:
    """Excel cells hold at most 32,767 characters: say which text, not a corrupt file."""
    text = WORKED_EXAMPLE.read_text(encoding="utf-8").replace(
        "key: mini-coordination", "key: mini-coordination\nnotes: ['" + "x" * 40_000 + "']")
    path = tmp_path / "long.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InstrumentInvalid) as raised:
        instrument_to_workbook(load_instrument_file(path).instrument)
    assert [problem.format() for problem in raised.value.problems] == [
        "mini-coordination:notes!A2: I012 this text has 40000 characters; an Excel cell holds "
        "at most 32767: shorten it in the instrument"]
