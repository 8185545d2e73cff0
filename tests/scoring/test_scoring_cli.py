"""``surveyapp score KEY RESPONSES [--json] [--min-respondents N]``, driven through click.

Rules (issue "Scoring engine", offline CLI, exact interface):

- CL1  --json prints one object: instrument, version, sha256, results with lower-case ratings;
       JIU components carry self_stage and validated_stage; CPAS outputs relevance, extent,
       duration and total
- CL2  without --json, a readable table
- CL3  bad input exits 1 with one line per problem naming file, row and column, nothing on
       stdout, no traceback
- CL4  .xlsx input scores exactly like the same rows in CSV
- CL5  byte-for-byte determinism: two runs, and the same rows shuffled, print the same JSON
"""

from __future__ import annotations

import hashlib
import io
import json
import random
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from openpyxl import Workbook

from surveyapp.commands.scoring import command
from tests.scoring.inline import MINI_CCPM, MINI_CPAS, MINI_JIU

CCPM_ROWS = """respondent,questionnaire,item,value,comment,organization_type
c,coordinator,c1,4,,
c,coordinator,c2,2,,
c,coordinator,c3,3,,
c,coordinator,m1,10,,
c,coordinator,m2,5,,
a,partner,p1,3,,1
a,partner,p2,99,,1
b,partner,p1,2,,National NGO
b,partner,p2,4,,
d,partner,p1,,,
"""


def invoke(*args: str) -> Result:
    return CliRunner().invoke(command, list(args))


Files = Callable[..., tuple[str, str]]


@pytest.fixture
def files(tmp_path: Path, write_instrument: Callable[[str], Path]) -> Files:
    """Write an instrument and a responses file; return their paths as the CLI takes them."""

    def write(instrument: str, responses: str | bytes, name: str = "answers.csv"
              ) -> tuple[str, str]:
        path = tmp_path / name
        if isinstance(responses, str):
            path.write_text(responses, encoding="utf-8")
        else:
            path.write_bytes(responses)
        return str(write_instrument(instrument)), str(path)

    return write


def test_json_for_ccpm(files: Files) -> None:
    """CL1: 1.1.1 over c (4), a (3), b (2): median 3 -> 75.0, satisfactory, 3 respondents."""
    instrument, responses = files(MINI_CCPM, CCPM_ROWS)
    result = invoke(instrument, responses, "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert (report["instrument"], report["version"]) == ("mini-ccpm", "1")
    assert report["sha256"] == hashlib.sha256(Path(instrument).read_bytes()).hexdigest()
    by_node = {entry["node"]: entry for entry in report["results"]}
    assert {key: by_node["1.1.1"][key] for key in ("score", "rating", "respondents")} == {
        "score": 75.0, "rating": "satisfactory", "respondents": 3}
    assert by_node["2"]["rating"] == "good"  # c 3, b 4 (a said "don't know"): 3.5 -> 87.5
    assert {entry["rating"] for entry in report["results"]} <= {
        "good", "satisfactory", "unsatisfactory", "weak", "insufficient_data"}
    assert report["response_rates"]["by_type"][1]["respondents"] == 1


def test_min_respondents_override(files: Files) -> None:
    """CL1: --min-respondents 4 leaves every node of this 4-respondent file without a score."""
    instrument, responses = files(MINI_CCPM, CCPM_ROWS)
    report = json.loads(invoke(instrument, responses, "--json", "--min-respondents", "4").stdout)
    assert {entry["rating"] for entry in report["results"]} == {"insufficient_data"}
    assert report["min_respondents"] == 4


def test_json_for_jiu(files: Files) -> None:
    """CL1: self_assessment and validation rows, item = component id, value = stage."""
    rows = ("respondent,questionnaire,item,value\norg,self_assessment,1.1,3\n"
            "jiu,validation,1.1,2\norg,self_assessment,2.1,4\n")
    instrument, responses = files(MINI_JIU, rows)
    report = json.loads(invoke(instrument, responses, "--json").stdout)
    component = next(entry for entry in report["results"] if entry["node"] == "1.1")
    assert (component["self_stage"], component["validated_stage"], component["difference"]) == (
        3, 2, -1)
    assert report["configuration"]["self"]["median"] == 3.5


CPAS_ROWS = """respondent,questionnaire,item,value,comment
,framework,IM1,Civilians are safer,level=impact
,framework,OC1,Threats are reported,level=outcome; parent=IM1
,framework,OUT1,Early-warning network,level=output; parent=OC1; section=Civil Affairs
wg,red,OUT1.relevance,3,Reaches the chiefs who act on alerts
wg,red,OUT1.extent,2,Two provinces of five
wg,red,OUT1.duration,4,Committees run it without us
wg,red,OUT1.recommendation,4,
"""


def test_json_for_cpas(files: Files) -> None:
    """CL1: an output result carries relevance, extent, duration and total (3 + 2 + 4 = 9)."""
    instrument, responses = files(MINI_CPAS, CPAS_ROWS)
    report = json.loads(invoke(instrument, responses, "--json").stdout)
    output = next(entry for entry in report["results"] if entry["node"] == "OUT1")
    assert [output[key] for key in ("relevance", "extent", "duration", "total", "rating")] == [
        3, 2, 4, 9, "moderate"]
    assert report["framework"][2] == {"node": "OUT1", "level": "output",
                                      "title": "Early-warning network", "parent": "OC1",
                                      "section": "Civil Affairs"}


def test_table_without_json(files: Files) -> None:
    """CL2: one line per node with its title, score, rating and respondents."""
    instrument, responses = files(MINI_CCPM, CCPM_ROWS)
    result = invoke(instrument, responses)
    assert result.exit_code == 0
    line = next(line for line in result.stdout.splitlines() if line.startswith("1.1.1 "))
    assert "Meetings" in line and "75.00" in line and "satisfactory" in line and "n=3" in line
    assert "Response rate   3 respondents of 15 organisations: 20.00 %" in result.stdout


BAD_INPUTS = [
    ("unknown item", "respondent,questionnaire,item,value\na,partner,q99,3\n",
     "answers.csv:2:item: questionnaire `partner` has no item `q99`"),
    ("value outside codes", "respondent,questionnaire,item,value\na,partner,p1,7\n",
     "answers.csv:2:value: `p1` of respondent `a`: `7` is not one of the codes"),
    ("missing column", "respondent,questionnaire,item\na,partner,p1\n",
     "answers.csv:1:value: the column `value` is missing"),
    ("duplicate answer", "respondent,questionnaire,item,value\na,partner,p1,3\na,partner,p1,3\n",
     "answers.csv:3:item: `p1` of respondent `a` is answered twice (first on row 2)"),
    ("text that is not CSV", "Minutes of the cluster meeting\nAll partners attended.\n",
     "answers.csv:1:header: the first row must be the header"),
    ("empty file", "", "answers.csv: the file is empty"),
    ("binary file", b"\x00\x01\x02\x03binary", "answers.csv: this is a binary file"),
]


@pytest.mark.parametrize(("case", "content", "expected"), BAD_INPUTS,
                         ids=[case[0] for case in BAD_INPUTS])
def test_bad_input_exits_one_with_located_lines(
    files: Files, tmp_path: Path, case: str, content: str | bytes,
    expected: str,
) -> None:
    """CL3: one line per problem, FILE:ROW:COLUMN, exit status 1, stdout empty."""
    instrument, responses = files(MINI_CCPM, content)
    result = invoke(instrument, responses, "--json")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.startswith(str(tmp_path / expected)), result.stderr
    assert "Traceback" not in result.output


def test_missing_justification_exits_one(files: Files) -> None:
    """CL3: a RED score without its written justification is refused (seed 001:72)."""
    instrument, responses = files(MINI_CPAS, CPAS_ROWS.replace("Two provinces of five", ""))
    result = invoke(instrument, responses, "--json")
    assert result.exit_code == 1
    assert ":6:comment: `OUT1.extent` of respondent `wg`: the score needs a written " \
           "justification" in result.stderr


@pytest.mark.parametrize(
    ("key", "expected"),
    [("ccpn-nothing", "no bundled instrument has the key `ccpn-nothing`"),
     ("missing.yaml", "missing.yaml:1:1:")],
)
def test_unknown_instrument_exits_one(
    files: Files, key: str, expected: str
) -> None:
    """CL3: an unknown key or a missing instrument file is one line, not a traceback."""
    _, responses = files(MINI_CCPM, CCPM_ROWS)
    result = invoke(key, responses)
    assert (result.exit_code, result.stdout) == (1, "")
    assert expected in result.stderr and len(result.stderr.splitlines()) == 1


def test_missing_responses_file_exits_one(files: Files) -> None:
    """CL3: a responses path that does not exist is named in one line."""
    instrument, _ = files(MINI_CCPM, CCPM_ROWS)
    result = invoke(instrument, "no-such-file.csv")
    assert result.exit_code == 1
    assert result.stderr == "no-such-file.csv: cannot read the file: No such file or directory\n"


def workbook(csv_text: str) -> bytes:
    book = Workbook()
    for line in csv_text.splitlines():
        book.active.append([_typed(cell) for cell in line.split(",")])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _typed(cell: str) -> object:
    """Numbers as a spreadsheet stores them, empty cells as None."""
    if not cell:
        return None
    return int(cell) if cell.isdigit() else cell


def test_xlsx_scores_like_csv(files: Files) -> None:
    """CL4: the same rows in a workbook give the same results as in CSV."""
    instrument, csv_path = files(MINI_CCPM, CCPM_ROWS)
    _, xlsx_path = files(MINI_CCPM, workbook(CCPM_ROWS), "answers.xlsx")
    from_csv = json.loads(invoke(instrument, csv_path, "--json").stdout)
    from_xlsx = json.loads(invoke(instrument, xlsx_path, "--json").stdout)
    assert from_xlsx == from_csv


def test_xlsx_problems_name_the_row(files: Files) -> None:
    """CL3/CL4: rows of a workbook are numbered as the spreadsheet shows them."""
    instrument, path = files(MINI_CCPM, workbook(CCPM_ROWS + "e,partner,p1,6,,\n"), "a.xlsx")
    result = invoke(instrument, path)
    assert result.exit_code == 1
    assert result.stderr.endswith("a.xlsx:12:value: `p1` of respondent `e`: `6` is not one of "
                                  "the codes 0, 1, 2, 3, 4, 99, 999, 9999: use one of them\n")


@pytest.mark.parametrize(("instrument", "rows"), [(MINI_CCPM, CCPM_ROWS), (MINI_CPAS, CPAS_ROWS)])
def test_json_is_identical_across_runs_and_row_orders(
    files: Files, tmp_path: Path, instrument: str, rows: str
) -> None:
    """CL5: same instrument sha256 and answers -> identical output, byte for byte."""
    header, *body = rows.splitlines()
    instrument_path, first = files(instrument, rows)
    outputs = {invoke(instrument_path, first, "--json").stdout for _ in range(2)}
    for seed in range(3):
        random.Random(seed).shuffle(body)
        shuffled = tmp_path / f"shuffled{seed}.csv"
        shuffled.write_text("\n".join([header, *body]) + "\n", encoding="utf-8")
        outputs.add(invoke(instrument_path, str(shuffled), "--json").stdout)
    assert len(outputs) == 1


def test_table_for_rubric_and_stages(files: Files) -> None:
    """CL2: RED outputs show their three levels, total and band marked as a convention; JIU
    components show both stages and their difference."""
    instrument, responses = files(MINI_CPAS, CPAS_ROWS)
    line = next(line for line in invoke(instrument, responses).stdout.splitlines()
                if line.startswith("OUT1 "))
    assert line.endswith("R 3 E 2 D 4 = 9  moderate (convention)")
    instrument, responses = files(MINI_JIU, "respondent,questionnaire,item,value\n"
                                            "org,self_assessment,1.1,3\njiu,validation,1.1,2\n")
    table = invoke(instrument, responses).stdout
    assert "self 3, validated 2 (-1)" in table
    assert "Configuration   self min 3 median 3 max 3 (1 of 5)" in table


def test_workbook_that_is_not_a_workbook_exits_one(files: Files) -> None:
    """CL3: a file named .xlsx that is not a zip archive is one line, not a traceback."""
    instrument, responses = files(MINI_CCPM, b"respondent,questionnaire,item,value\n",
                                  "answers.xlsx")
    result = invoke(instrument, responses)
    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr.endswith("answers.xlsx: this is not a readable .xlsx workbook: open it "
                                  "in a spreadsheet program and save it again as .xlsx, or save "
                                  "it as CSV UTF-8\n")
