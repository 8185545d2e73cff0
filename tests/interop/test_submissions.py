"""``surveyapp responses convert``: KoboToolbox and ODK Central exports into the long format.

Rules (issue "Work with the tools our users already have", submission import):

- SB1 metadata columns are left out; the respondent is the submission's _uuid, else its
      meta/instanceID, else ODK's KEY (without the "uuid:" scheme), else its row number
- SB2 answers may be codes or option labels in any language (case and spacing ignored);
      headers may be names with group prefixes or, when unambiguous, Kobo's labels
- SB3 a submission with any problem is refused with every problem located as
      FILE:ROW:COLUMN: message (unknown code or label, missing or repeated id, a value
      ``surveyapp score`` would refuse, a form of another version)
- SB4 all or nothing by default: nothing is written and the exit status is 1; --partial
      writes the other submissions and lists the refused ones
- SB5 a file that does not fit the questionnaire is refused as a whole (unknown or repeated
      columns, an ambiguous label header, a foreign file, a missing repeat table)
- SB6 "not applicable" with its reason, comments, rubric justifications and yes/no answers
      reach the long format, and it scores like the same answers written directly
- SB7 convert_submissions is a pure function returning (rows, refused), reusable by the web
"""

from __future__ import annotations

import csv
import io
import random
from collections.abc import Callable
from pathlib import Path

import pytest

from instruments.loader import load_instrument, load_instrument_file
from instruments.xlsform import build_xlsform
from scoring.submissions import (
    Conversion,
    LongRow,
    SubmissionsInvalid,
    convert_submissions,
    read_tables,
    write_long_csv,
)
from tests.interop.conftest import Convert
from tests.interop.kobo import (
    ExportStyle,
    Respondent,
    csv_bytes,
    main_table,
    make_framework_answers,
    repeat_tables,
    xlsx_bytes,
)

DATA = Path(__file__).parent / "data"
CCPM = load_instrument("ccpm").instrument
PARTNER_FORM = build_xlsform(CCPM, "partner")


def partners() -> list[Respondent]:
    """Three partners; the second skips q112 on purpose."""
    return [
        Respondent("p-1", {"q012": "1", "q111": "4", "q112": "3", "q113": "2"}),
        Respondent("p-2", {"q012": "2", "q111": "0"}, {}),
        Respondent("p-3", {"q012": "3", "q111": "99", "q112": "1", "q81": "All good"}),
    ]


def kobo_table(labels: tuple[str | None, ...] = ()) -> list[list[object]]:
    return main_table(PARTNER_FORM, partners(), ExportStyle("kobo", "/", labels))


def column(table: list[list[object]], header: str) -> int:
    return table[0].index(header)


def convert_table(table: list[list[object]], name: str = "export.xlsx") -> Conversion:
    return convert_submissions(CCPM, "partner", table, name)


def test_metadata_is_left_out_and_uuid_names_the_respondent() -> None:
    """SB1, SB7: the pure function, unpacked as (rows, refused)."""
    rows, refused = convert_table(kobo_table())
    assert refused == ()
    assert rows[:4] == (
        LongRow("p-1", "partner", "q012", "1", "", "1"),
        LongRow("p-1", "partner", "q111", "4", "", "1"),
        LongRow("p-1", "partner", "q112", "3", "", "1"),
        LongRow("p-1", "partner", "q113", "2", "", "1"),
    )
    assert {row.respondent for row in rows} == {"p-1", "p-2", "p-3"}
    assert {row.item for row in rows} == {"q012", "q111", "q112", "q113", "q81"}


@pytest.mark.parametrize(("kept", "respondents"), [
    (("meta/instanceID",), ["p-1", "p-2", "p-3"]),
    (("KEY",), ["p-1", "p-2", "p-3"]),
    ((), ["row-2", "row-3", "row-4"]),
])
def test_respondent_falls_back_to_instance_id_key_or_row(kept: tuple[str, ...],
                                                         respondents: list[str]) -> None:
    """SB1: without _uuid, the instanceID; without any id column, the row number."""
    table = kobo_table()
    metadata = ["meta/instanceID", "_uuid", "_id", "formhub/uuid"]
    drop = [column(table, name) for name in metadata if name not in kept]
    if "KEY" in kept:
        table = [[*row, f"uuid:{row[column(table, '_uuid')]}" if number else "KEY"]
                 for number, row in enumerate(table)]
        drop.append(column(table, "meta/instanceID"))
    table = [[cell for position, cell in enumerate(row) if position not in drop]
             for row in table]
    rows, refused = convert_table(table)
    assert refused == ()
    assert sorted({row.respondent for row in rows}) == respondents


def test_labels_in_any_language_case_and_spacing() -> None:
    """SB2: French and English labels, odd case and spaces, give the codes."""
    table = kobo_table(("fr", "en", None))
    q111 = column(table, "node_1/node_1_1/q111")
    table[3][q111] = "  ne SAIT   pas "
    rows, refused = convert_table(table)
    assert refused == ()
    assert [(row.respondent, row.value) for row in rows if row.item in ("q012", "q111")] == [
        ("p-1", "1"), ("p-1", "4"), ("p-2", "2"), ("p-2", "0"), ("p-3", "3"), ("p-3", "99")]


def test_label_headers_are_read_when_unambiguous() -> None:
    """SB2: Kobo's "labels" export: group labels joined by /, question labels as headers."""
    table = kobo_table(("en", "en", "en"))
    labels = {f.name: f.label["en"] for f in PARTNER_FORM.fields}
    table[0] = [labels.get(str(header).rsplit("/", 1)[-1], header) for header in table[0]]
    table[0][column(table, labels["q111"])] = (
        "1 Supporting service delivery/1.1 Something/" + labels["q111"])
    rows, refused = convert_table(table)
    assert refused == ()
    assert rows == convert_table(kobo_table())[0]


def test_refused_submissions_are_located() -> None:
    """SB3: every problem of a submission, each at its row and column."""
    table = kobo_table()
    q111, q112, uuid = (column(table, name) for name in (
        "node_1/node_1_1/q111", "node_1/node_1_1/q112", "_uuid"))
    table[1][q111] = "7"
    table[1][q112] = "Sometimes-ish"
    table[2][uuid] = ""
    table[3][uuid] = "p-1"
    table[3][column(table, "surveyapp_form")] = "ccpm partner 2014.1"
    rows, refused = convert_table(table, "partners.xlsx")
    assert rows == ()
    lines = [problem.format() for entry in refused for problem in entry.problems]
    assert lines == [
        "partners.xlsx:2:node_1/node_1_1/q111: `7` is neither a code (0, 1, 2, 3, 4, 99) nor "
        "a label of `q111`: correct it or leave it blank",
        "partners.xlsx:2:node_1/node_1_1/q112: `Sometimes-ish` is neither a code (0, 1, 2, 3, "
        "4, 99) nor a label of `q112`: correct it or leave it blank",
        "partners.xlsx:3:_uuid: the submission has no id: export again with the metadata "
        "columns",
        "partners.xlsx:4:_uuid: submission `p-1` appears twice (first on row 2): delete the "
        "duplicate",
        "partners.xlsx:4:surveyapp_form: this submission was made with the form `ccpm partner "
        "2014.1`, not `ccpm partner 2015.2`: convert it with that instrument version",
    ]
    assert [(entry.row, entry.respondent) for entry in refused] == [
        (2, "p-1"), (3, ""), (4, "p-1")]


def test_values_are_checked_as_scoring_checks_them() -> None:
    """SB3: the coordinator's counts must be whole numbers of at least 0."""
    form = build_xlsform(CCPM, "coordinator")
    table = main_table(form, [Respondent("c-1", {"q012_1": "-3", "q012_2": "2.5"})],
                       ExportStyle())
    _, refused = convert_submissions(CCPM, "coordinator", table, "coord.csv")
    assert [problem.format() for problem in refused[0].problems] == [
        "coord.csv:2:q012_1: `-3` is outside the accepted range: at least 0",
        "coord.csv:2:q012_2: `2.5` is not a whole number",
    ]


def test_all_or_nothing_and_partial(convert: Convert) -> None:
    """SB4: one bad submission stops everything, unless --partial."""
    table = kobo_table()
    table[2][column(table, "node_1/node_1_1/q111")] = "Often?"
    data = csv_bytes(table, ";")
    result, output = convert(data, "export.csv", "ccpm", "partner")
    assert result.exit_code == 1
    assert not output.exists()
    assert result.stderr.splitlines() == [
        f"{Path(output).parent / 'export.csv'}:3:node_1/node_1_1/q111: `Often?` is neither a "
        "code (0, 1, 2, 3, 4, 99) nor a label of `q111`: correct it or leave it blank",
        "1 submission(s) refused: nothing written (fix them, or add --partial to write the "
        "others)",
    ]
    result, output = convert(data, "export.csv", "ccpm", "partner", "--partial")
    assert result.exit_code == 0, result.output
    assert {row[0] for row in csv.reader(io.StringIO(output.read_text()))} == {
        "respondent", "p-1", "p-3"}
    assert "export.csv:3:node_1/node_1_1/q111" in result.stderr
    assert result.stdout == (f"wrote {output}: 8 answers from 2 submission(s) of "
                             "ccpm/partner; 1 refused\n")


@pytest.mark.parametrize(("change", "message"), [
    (lambda t: t[0].__setitem__(2, "q999"),
     "export.xlsx:1:q999: `q999` is not a question of this form: check that the export is of "
     "this questionnaire, or delete the column"),
    (lambda t: t[0].__setitem__(5, "q111"),
     "export.xlsx:1:q111: `q111` and `node_1/node_1_1/q111` are the same question: delete one "
     "of the two columns"),
    (lambda t: t[0].__setitem__(2, "Comments on function 1"),
     "export.xlsx:1:Comments on function 1: `Comments on function 1` is not a question of this "
     "form: check that the export is of this questionnaire, or delete the column"),
])
def test_columns_that_do_not_fit_refuse_the_file(change: Callable[[list[list[object]]], None],
                                                 message: str) -> None:
    """SB5: the whole file, before any row."""
    table = kobo_table()
    change(table)
    with pytest.raises(SubmissionsInvalid) as raised:
        convert_table(table)
    assert [problem.format() for problem in raised.value.problems] == [message]


def test_an_ambiguous_label_header_refuses_the_file() -> None:
    """SB5: JIU's validator comments share one text: labels cannot tell them apart."""
    jiu = load_instrument("jiu-rbm").instrument
    form = build_xlsform(jiu, "validation")
    comment = next(f for f in form.fields if f.name == "q1_1_comment").label["en"]
    table = [["_uuid", comment], ["v-1", "Fine"]]
    with pytest.raises(SubmissionsInvalid) as raised:
        convert_submissions(jiu, "validation", table, "v.xlsx")
    (problem,) = raised.value.problems
    assert problem.format().startswith(f"v.xlsx:1:{comment}: the label `{comment}` belongs to "
                                       "several questions (q1_1_comment, q1_2_comment, ")
    assert problem.format().endswith("): export with XML names as headers")


def test_a_foreign_file_and_missing_repeats_are_refused() -> None:
    """SB5: the XLSForm itself is no export; CPAS needs its repeat tables."""
    form_table = [["type", "name", "label"], ["text", "q111", "Hello"]]
    with pytest.raises(SubmissionsInvalid, match="no column is a question of the form "
                                                 "ccpm_partner"):
        convert_table(form_table)
    cpas = load_instrument("cpas-red").instrument
    with pytest.raises(SubmissionsInvalid) as raised:
        convert_submissions(cpas, "red", [["_uuid"], ["wg"]], "red.csv")
    assert raised.value.problems[0].format() == (
        "red.csv:1: the answers given once per output are in a separate table "
        "`framework_output`, which this file lacks: convert Kobo's .xlsx export (one sheet per "
        "repeat) or ODK Central's .zip export (one CSV per repeat)")


@pytest.mark.parametrize(("data", "message"), [
    (b"", "x.csv:1: the file is empty: export the submissions again"),
    (b"\xd0\xcf\x11\xe0rest", "x.csv:1: this is an old .xls workbook: export the submissions "
                              "as .xlsx or CSV"),
    (b"ab\x00cd", "x.csv:1: this is a binary file, not a CSV or .xlsx export"),
    (b"_uuid,q111\nok,\xff\n", "x.csv:2: this row is not UTF-8 text: export the submissions "
                               "as UTF-8 CSV"),
])
def test_unreadable_files(data: bytes, message: str) -> None:
    with pytest.raises(SubmissionsInvalid) as raised:
        read_tables(data, "x.csv")
    assert [problem.format() for problem in raised.value.problems] == [message]


@pytest.mark.parametrize("delimiter", [";", ",", "\t"])
def test_csv_separators_are_sniffed(delimiter: str) -> None:
    """Kobo's ``;`` CSV quotes every cell, so commas inside texts must not mislead."""
    table = kobo_table()
    table[1][column(table, "q81")] = "Good, clear; thanks"
    tables = read_tables(csv_bytes(table, delimiter), "export.csv")
    rows, refused = convert_table(tables.main)
    assert refused == ()
    assert ("p-1", "q81", "Good, clear; thanks") in {(r.respondent, r.item, r.value)
                                                      for r in rows}


EVERY_ROWS = """respondent,questionnaire,item,value,comment
r-1,survey,ok,yes,
r-1,survey,stage,2,
r-1,survey,agree,not_applicable,No partner was consulted
r-1,survey,staff.count,12,
r-1,survey,due,2026-01-31,
r-1,survey,rating.quality,2,Costed and dated
r-2,survey,ok,no,
r-2,survey,share,0.75,
r-2,survey,due,not_applicable,Open-ended plan
r-2,survey,other,Nothing,
r-3,survey,ok,yes,
r-3,survey,stage,2,
r-3,survey,agree,2,Broad support
r-3,survey,rating.quality,1,Too vague
"""


def test_every_item_type_reaches_the_long_format(score_json: Callable[[str, str], str]) -> None:
    """SB6: n/a with its reason, comments, justifications, yes/no labels, numbers, dates."""
    loaded = load_instrument_file(DATA / "every_type.yaml")
    form = build_xlsform(loaded.instrument)
    names = [f.name for f in form.fields]
    header = ["_uuid", *names, "surveyapp_form"]
    values = {
        "r-1": {"ok": "Oui", "stage": "adopté", "agree__applies": "No",
                "agree__why_not": "No partner was consulted", "staff_count": 12,
                "due": "2026-01-31", "rating__quality": "2. Strong plan",
                "rating__quality__why": "Costed and dated"},
        "r-2": {"ok": "no", "share": 0.75, "due__applies": "non",
                "due__why_not": "Open-ended plan", "other": "Nothing"},
        "r-3": {"ok": "yes", "stage": 2, "agree__applies": "yes", "agree": "D'accord",
                "agree__comment": "Broad support", "rating__quality": "1",
                "rating__quality__why": "Too vague"},
    }
    table = [header] + [[uuid, *(answers.get(name, "") for name in names), form.stamp]
                        for uuid, answers in values.items()]
    rows, refused = convert_submissions(loaded.instrument, "survey", xlsx_table(table),
                                        "every.xlsx")
    assert refused == ()
    expected = list(csv.reader(io.StringIO(EVERY_ROWS)))[1:]
    assert [list(row[:5]) for row in rows] == expected
    converted = write_long_csv(rows)
    assert score_json(str(DATA / "every_type.yaml"), converted) == score_json(
        str(DATA / "every_type.yaml"), EVERY_ROWS)


def xlsx_table(table: list[list[object]]) -> list[list[object]]:
    """The table as it comes back from an .xlsx file (numbers stay numbers)."""
    return [list(row) for row in read_tables(xlsx_bytes({"data": table}), "t.xlsx").main]


def cpas_export() -> tuple[list[list[object]], dict[str, list[list[object]]]]:
    """A working group's Kobo export: the submission and its three repeat sheets."""
    cpas = load_instrument("cpas-red").instrument
    respondent = Respondent("wg-1")
    make_framework_answers(cpas, "red", respondent, random.Random(7))
    form = build_xlsform(cpas, "red")
    style = ExportStyle("kobo", "/")
    return main_table(form, [respondent], style), repeat_tables(form, [respondent], style)


def test_repeat_rows_are_checked_with_their_submission() -> None:
    """SB3 for CPAS: a bad node code, a node declared twice, a row of no submission."""
    cpas = load_instrument("cpas-red").instrument
    main, repeats = cpas_export()
    outputs = repeats["framework_output"]
    code = outputs[0].index("framework_output/output_id")
    link = outputs[0].index("_submission__uuid")
    outputs[1][code] = "OP 1"
    outputs[3][code] = "OP2"
    outputs[5][link] = "nobody"
    rows, refused = convert_submissions(cpas, "red", main, "red.xlsx", repeats)
    assert rows == ()
    assert [problem.format() for entry in refused for problem in entry.problems] == [
        "red.xlsx[framework_output]:2:framework_output/output_id: `OP 1` cannot be the code "
        "of this output: use letters, digits, '.', '_' or '-'",
        "red.xlsx[framework_output]:6:_submission__uuid: no submission has the _uuid `nobody` "
        "this row points at: export the tables together",
    ]
    outputs[1][code] = "OP1"
    _, refused = convert_submissions(cpas, "red", main, "red.xlsx", repeats)
    assert [problem.format() for entry in refused for problem in entry.problems] == [
        "red.xlsx:2: framework node `OP2` is declared more than once in this submission: give "
        "each node its own code",
        "red.xlsx[framework_output]:6:_submission__uuid: no submission has the _uuid `nobody` "
        "this row points at: export the tables together",
    ]
