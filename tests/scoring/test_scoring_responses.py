"""Reading the offline responses file (CSV or .xlsx, long format) into answers.

Rules (issue "Scoring engine", offline CLI; docs/scoring.md "The responses file"):

- SF1  header respondent,questionnaire,item,value with optional comment, organization_type;
       a missing or unknown column is reported on row 1 with the column's name
- SF2  rows are numbered as a spreadsheet shows them (header = row 1), blank rows skipped
- SF3  files that are not CSV or .xlsx (empty, binary, old .xls, broken .xlsx, not UTF-8,
       text without the header) give one clear problem, never a traceback
- SF4  NODE.CRITERION and NODE.ITEM name answers asked per framework node; framework rows
       declare the unit's own nodes
- SF5  organization_type gives a respondent's type by code or name, consistently
"""

from __future__ import annotations

import io

import pytest
from openpyxl import Workbook

from instruments.schema import Instrument
from scoring import Answer, AnswersInvalid, FrameworkNode
from scoring.responses import parse_responses, read_rows


def problems(instrument: Instrument, data: bytes, name: str = "answers.csv") -> list[str]:
    with pytest.raises(AnswersInvalid) as raised:
        parse_responses(instrument, data, name)
    return [problem.format(name) for problem in raised.value.problems]


def xlsx(rows: list[list[object]]) -> bytes:
    workbook = Workbook()
    for values in rows:
        workbook.active.append(values)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def test_csv_rows_become_answers(ccpm: Instrument) -> None:
    """SF1/SF2: one row per answer; the row number is the spreadsheet's (header = 1)."""
    data = (b"respondent,questionnaire,item,value,comment\n"
            b"c,coordinator,c1,4,well run\n\n"
            b"a,partner,p1,,\n")
    responses = parse_responses(ccpm, data, "answers.csv")
    assert responses.answers == (
        Answer("c", "coordinator", "c1", "4", "well run", None, None, 2),
        Answer("a", "partner", "p1", "", None, None, None, 4),
    )


def test_header_is_forgiving_about_case_spaces_bom_and_separator(ccpm: Instrument) -> None:
    """SF1: Excel's "CSV UTF-8" adds a BOM; French Excel separates with semicolons."""
    data = "\ufeffRespondent ; Questionnaire;ITEM;value;Organisation_Type\na;partner;p1;3;1\n"
    (answer, typed) = parse_responses(ccpm, data.encode("utf-8"), "answers.csv").answers
    assert (answer.item, answer.value) == ("p1", "3")
    assert (typed.item, typed.value) == ("org", 1)


def test_missing_and_unknown_columns_are_named_on_row_one(ccpm: Instrument) -> None:
    """SF1: every header problem at once, each naming its column."""
    lines = problems(ccpm, b"respondent,item,vaule,comments\na,p1,3,x\n")
    assert lines == [
        "answers.csv:1:comments: unknown column `comments`: the columns are respondent, "
        "questionnaire, item, value, comment, organization_type",
        "answers.csv:1:questionnaire: the column `questionnaire` is missing: the first row must "
        "be the header respondent,questionnaire,item,value (optionally comment and "
        "organization_type)",
        "answers.csv:1:value: the column `value` is missing: the first row must be the header "
        "respondent,questionnaire,item,value (optionally comment and organization_type)",
        "answers.csv:1:vaule: unknown column `vaule`: the columns are respondent, "
        "questionnaire, item, value, comment, organization_type",
    ]


def test_row_with_too_many_cells_and_blank_ids(ccpm: Instrument) -> None:
    """SF2: a stray separator or a blank questionnaire/item is located by row and column."""
    data = b"respondent,questionnaire,item,value\na,partner,p1,3,4\nb,,p1,3\nb,partner,,3\n"
    assert problems(ccpm, data) == [
        "answers.csv:2:value: this row has 5 cells but the header has 4: remove the extra cells "
        "or quote values that contain the separator",
        "answers.csv:3:questionnaire: the questionnaire is blank: fill it in",
        "answers.csv:4:item: the item is blank: fill it in",
    ]


@pytest.mark.parametrize(
    ("data", "name", "message"),
    [
        (b"", "answers.csv", "the file is empty"),
        (b"  \n\n", "answers.csv", "the file is empty"),
        (b"\x7fELF\x02\x01\x01\x00\x00\x00", "answers.csv", "this is a binary file"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "answers.xls", "this is an old .xls workbook"),
        (b"respondent,questionnaire", "answers.xlsx", "this is not a readable .xlsx workbook"),
        (b"PK\x03\x04 broken zip", "answers.csv", "this is not a readable .xlsx workbook"),
        (b"respondent,questionnaire,item,value\na,partner,p1,\xe9\n", "answers.csv",
         "answers.csv:2: this row is not UTF-8 text"),
        (b"Dear colleagues,\nplease find the answers below.\n", "answers.txt",
         "the first row must be the header"),
        (b'{"answers": [1, 2, 3]}', "answers.json", "is this a responses file?"),
    ],
)
def test_files_that_are_not_responses(
    ccpm: Instrument, data: bytes, name: str, message: str
) -> None:
    """SF3: one problem, in words a spreadsheet user can act on."""
    (line,) = problems(ccpm, data, name)
    assert line.startswith(name + ":")
    assert message in line


def test_xlsx_numbers_and_text_cells(ccpm: Instrument) -> None:
    """SF1/SF2: in a workbook 4 arrives as 4 (or 4.0) and ids may be numbers; rows as shown."""
    data = xlsx([["respondent", "questionnaire", "item", "value"],
                 [17, "partner", "p1", 4.0], [None, None, None, None], ["b", "partner", "p2", 0]])
    rows = read_rows(data, "answers.xlsx")
    assert [(r.row, r.respondent, r.item, r.value) for r in rows] == [
        (2, "17", "p1", 4.0), (4, "b", "p2", 0)]


def test_per_output_items_and_framework_rows(cpas: Instrument) -> None:
    """SF4: OUT1.relevance is criterion relevance of item red for output OUT1; the framework
    rows declare IM1 > OC1 > OUT1; recommendation.text is an item id containing a dot."""
    data = (b"respondent,questionnaire,item,value,comment\n"
            b",framework,IM1,Civilians safer,level=impact\n"
            b",framework,OC1,Threats reported,level=outcome; parent=IM1\n"
            b",framework,OUT1,Early warning,level = output ; parent=OC1; section=Civil Affairs\n"
            b"wg,red,OUT1.relevance,3,reaches chiefs\n"
            b"wg,red,OUT1.recommendation.text,Train more,\n")
    responses = parse_responses(cpas, data, "red.csv")
    assert responses.framework == (
        FrameworkNode("IM1", "impact", "Civilians safer", None, None, 2),
        FrameworkNode("OC1", "outcome", "Threats reported", "IM1", None, 3),
        FrameworkNode("OUT1", "output", "Early warning", "OC1", "Civil Affairs", 4),
    )
    assert [(a.item, a.node, a.criterion) for a in responses.answers] == [
        ("red", "OUT1", "relevance"), ("recommendation.text", "OUT1", None)]


def test_malformed_framework_rows(cpas: Instrument) -> None:
    """SF4: a framework row needs a level, a title, and only level/parent/section keys."""
    data = (b"respondent,questionnaire,item,value,comment\n"
            b",framework,IM1,,parent=none; colour=red\n")
    assert problems(cpas, data) == [
        "answers.csv:2:comment: `colour=red` is not one of level=..., parent=..., section=...: "
        "write the framework node as e.g. `level=output; parent=OC1; section=Civil Affairs`",
        "answers.csv:2:comment: framework node `IM1` needs its level: write e.g. "
        "`level=output; parent=OC1` in the comment",
        "answers.csv:2:value: framework node `IM1` needs a title in the value column",
    ]


def test_organization_type_by_code_or_name(ccpm: Instrument) -> None:
    """SF5: the type may be a code or a label in any language of the instrument."""
    data = (b"respondent,questionnaire,item,value,organization_type\n"
            b"a,partner,p1,3,International NGO\nb,partner,p1,2,ong nationale\n"
            b"c,partner,p1,1,2\n")
    typed = {a.respondent: a.value for a in parse_responses(ccpm, data, "x.csv").answers
             if a.item == "org"}
    assert typed == {"a": 1, "b": 2, "c": 2}


def test_organization_type_must_be_consistent(ccpm: Instrument) -> None:
    """SF5: one respondent, one type; the column and an answer row must agree."""
    data = (b"respondent,questionnaire,item,value,organization_type\n"
            b"a,partner,p1,3,1\na,partner,p2,3,2\n"
            b"b,partner,org,1,\nb,partner,p1,3,2\n"
            b"c,partner,p1,3,Donor\nd,coordinator,c1,3,1\n")
    assert problems(ccpm, data) == [
        "answers.csv:3:organization_type: respondent `a` has organisation type 1 on row 2 and 2 "
        "here: give one type",
        "answers.csv:5:organization_type: respondent `b` answered `org` with 1 on row 4 but "
        "organization_type says 2: make them agree",
        "answers.csv:6:organization_type: `Donor` is not an organisation type: use a code or a "
        "name (1 International NGO; 2 National NGO)",
        "answers.csv:7:organization_type: questionnaire `coordinator` records no organisation "
        "type: leave organization_type empty on its rows",
    ]
