"""``surveyapp report ccpm``: the PDF and the workbook of a hand-made cluster, read back.

The case: one coordinator and four partners (two international NGOs, a national NGO, a
UN agency) answer one question per sub-function, so every score can be computed by hand
with the rule of reference/instruments.md section 1.5 (each respondent's mean, median
over respondents, x 25; bands upper-inclusive: <= 25 weak, <= 50 unsatisfactory, <= 75
satisfactory, else good):

====== ======================================= ================= ======= =============
block  answers (coordinator; partners p1-p4)    respondent means  median  score, rating
====== ======================================= ================= ======= =============
1.1    q111 1; q111 0, 1, 2, 1                  0 1 1 1 2         1       25 % weak
1.2    q121 2; q121 2, 2, 3, 1                  1 2 2 2 3         2       50 % unsatisf.
2.1    q211 3; q211 3, 3, 2, 4                  2 3 3 3 4         3       75 % satisf.
2.2    q221 4; q221 4, 4, 4, 0                  0 4 4 4 4         4       100 % good
2.3    q231 2; q231 2, 3 (p1, p2)               2 2 3             2       50 % unsatisf.
5      q51 0; q52 1, 0, 1, 0                    0 0 0 1 1         0       0 % weak
others no answer                                                          insufficient data
====== ======================================= ================= ======= =============

So the action plan drafts exactly one action for each of 1.1, 1.2, 2.3 and 5 (weak or
unsatisfactory, seeds/004_bc0651d6516aab8c.txt:45) and none for the blocks with
insufficient data. Response rates (coordinator q012/q013): 4 partners of 15 member
organisations = 26.67 %; of 8 usually attending = 50.00 %; international NGOs 2 of 4 = 50.00 %.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook

from instruments.loader import load_instrument
from scoring import PercentResult
from surveyapp.cli import cli
from tests.reports.conftest import (
    Reporter,
    ReportRun,
    body,
    flat,
    has_colour,
    is_drawn,
    page_image,
    pdf_text,
    run_report,
    running_heads,
    scores_of,
)

pytestmark = pytest.mark.usefixtures("poppler")

INJECTIONS = ('=HYPERLINK("http://example.org","click")', "+1", "-1", "@SUM(1)")

ROWS = f"""respondent,questionnaire,item,value,comment,organization_type
coord,coordinator,q012_1,4,,
coord,coordinator,q012_2,5,,
coord,coordinator,q012_3,2,,
coord,coordinator,q012_4,1,,
coord,coordinator,q012_5,1,,
coord,coordinator,q012_6,2,,
coord,coordinator,q013_1,2,,
coord,coordinator,q013_2,2,,
coord,coordinator,q013_3,2,,
coord,coordinator,q013_4,1,,
coord,coordinator,q013_5,0,,
coord,coordinator,q013_6,1,,
coord,coordinator,q111,1,{INJECTIONS[1]},
coord,coordinator,q121,2,{INJECTIONS[2]},
coord,coordinator,q211,3,{INJECTIONS[3]},
coord,coordinator,q221,4,,
coord,coordinator,q231,2,,
coord,coordinator,q51,0,,
coord,coordinator,q124,"{INJECTIONS[0].replace('"', '""')}",,
p1,partner,q111,0,,International NGO
p1,partner,q121,2,,1
p1,partner,q211,3,,1
p1,partner,q221,4,,1
p1,partner,q231,2,,1
p1,partner,q52,1,,1
p2,partner,q111,1,,2
p2,partner,q121,2,,2
p2,partner,q211,3,,2
p2,partner,q221,4,,2
p2,partner,q231,3,,2
p2,partner,q52,0,,2
p2,partner,q014,Meetings clash with the health sector's,2
p3,partner,q111,2,,3
p3,partner,q121,3,,3
p3,partner,q211,2,,3
p3,partner,q221,4,,3
p3,partner,q52,1,,3
p4,partner,q111,1,,1
p4,partner,q121,1,,1
p4,partner,q211,4,,1
p4,partner,q221,0,,1
p4,partner,q52,0,,1
"""

BY_HAND = {"1.1": (25.0, "Weak"), "1.2": (50.0, "Unsatisfactory"),
           "2.1": (75.0, "Satisfactory"), "2.2": (100.0, "Good"),
           "2.3": (50.0, "Unsatisfactory"), "5": (0.0, "Weak")}
BY_HAND_FR = {"Weak": "Faible", "Unsatisfactory": "Insatisfaisant",
              "Satisfactory": "Satisfaisant", "Good": "Bon"}
DRAFTED = ["1.1", "1.2", "2.3", "5"]


@pytest.fixture(scope="module")
def sha256() -> str:
    return load_instrument("ccpm").sha256


@pytest.fixture(scope="module")
def default(tmp_path_factory: pytest.TempPathFactory) -> ReportRun:
    """The preliminary English report of ROWS, written once for the tests that only read it."""
    run = run_report(tmp_path_factory.mktemp("ccpm"), "ccpm", ROWS)
    assert run.result.exit_code == 0, run.result.output
    return run


def between(text: str, start: str, end: str) -> str:
    """The report body from one heading to the next."""
    content = body(text)
    first = content.index(start)
    return content[first:content.index(end, first)]


def _row(text: str, node: str) -> str:
    """The status-table line of a node: it starts with the node's number."""
    return next(line for line in text.splitlines() if re.match(rf"\s*{re.escape(node)}\s{{2,}}",
                                                                 line))


def test_pdf_shows_each_block_score_and_rating_as_scored(report: Reporter, sha256: str) -> None:
    """The status table agrees with the engine, and with the hand computation above."""
    run = report("ccpm", ROWS, "--unit", "Health cluster, Bangui", "--cycle", "2026")
    assert run.result.exit_code == 0, run.result.output
    text = pdf_text(run.pdf)
    scores = scores_of("ccpm", ROWS)
    status_table = between(text, "Overall performance", "Coordinator and Partners compared")
    for result in scores.results:
        if not isinstance(result, PercentResult) or result.level == "indicator":
            continue
        line = _row(status_table, result.node)
        if result.score is None:
            assert "Insufficient data" in line, line
            continue
        word = {"weak": "Weak", "unsatisfactory": "Unsatisfactory",
                "satisfactory": "Satisfactory", "good": "Good"}[result.rating or ""]
        assert f"{result.score:.2f} %" in line and word in line, line
        assert str(result.respondents) in line.split()[-1]
    for node, (value, word) in BY_HAND.items():
        assert scores.result(node).score == value  # type: ignore[attr-defined]
        assert f"{value:.2f} %" in _row(status_table, node) and word in _row(status_table, node)
    assert "Health cluster, Bangui" in text and "2026" in text
    assert "ccpm 2015.2" in text and sha256 in text and f"sha256 {sha256[:16]}" in text
    assert running_heads(text) == {"PRELIMINARY REPORT"}
    assert "not yet been discussed and validated" in flat(text)


def test_pdf_has_legend_rates_gap_and_action_plan(default: ReportRun) -> None:
    text = pdf_text(default.pdf)
    for band, span in (("Weak", "0–25 %"), ("Unsatisfactory", "> 25–50 %"),
                       ("Satisfactory", "> 50–75 %"), ("Good", "> 75–100 %")):
        assert re.search(rf"{band}\s+{span}", text), band
    overall = next(line for line in text.splitlines() if line.strip().startswith("All types"))
    assert overall.split() == ["All", "types", "4", "15", "26.67", "%", "8", "50.00", "%"]
    ingo = next(line for line in text.splitlines() if line.strip().startswith("International"))
    assert "50.00 %" in ingo and "100.00 %" in ingo
    assert "Coordinator and Partners compared" in text
    plan = flat(body(text)[body(text).index("Action plan"):])
    for node in DRAFTED:
        assert f"strengthen {node} " in plan
    assert "strengthen 2.1 " not in plan and "strengthen 6 " not in plan


def test_final_report_in_french(report: Reporter) -> None:
    """French headings, rating words and decimal commas; no preliminary mark once final."""
    run = report("ccpm", ROWS, "--lang", "fr", "--final")
    assert run.result.exit_code == 0, run.result.output
    text = pdf_text(run.pdf)
    for heading in ("Notes méthodologiques", "Taux de réponse", "Performance globale",
                    "Performance par sous-fonction et analyse", "Plan d'action", "RAPPORT FINAL",
                    "Légende"):
        assert heading in text, heading
    status_table = between(text, "Performance globale", "Comparaison")
    for node, (value, word) in BY_HAND.items():
        line = _row(status_table, node)
        assert f"{value:.2f} %".replace(".", ",") in line and BY_HAND_FR[word] in line, line
    assert running_heads(text) == {"RAPPORT FINAL"}


def test_first_pages_render_and_show_band_colours(default: ReportRun, tmp_path: Path) -> None:
    """pdftoppm draws the cover and the status table; the weak band's red is on it."""
    run = default
    cover = page_image(run.pdf, 1, tmp_path)
    assert cover.size == (414, 585)  # A4, 210 x 297 mm, at 50 dpi (pdftoppm rounds up)
    assert is_drawn(cover)
    text = pdf_text(run.pdf)
    status_page = text.index("Overall performance", text.index("Method notes", text.index(
        "Method notes") + 1))
    status_page = text[:status_page].count("\f") + 1
    status = page_image(run.pdf, status_page, tmp_path)
    assert has_colour(status, "#e0301e") and has_colour(status, "#1fc63c")


def test_workbook_sheets_frozen_filtered_and_coloured(default: ReportRun) -> None:
    workbook = load_workbook(default.xlsx)
    assert workbook.sheetnames == ["Answers", "Scores", "Evidence", "Comments", "Action plan"]
    for sheet in workbook.worksheets:
        assert sheet.freeze_panes == "A2", sheet.title
        assert sheet.auto_filter.ref == f"A1:{sheet.cell(1, sheet.max_column).column_letter}" \
                                        f"{sheet.max_row}", sheet.title
        assert sheet.column_dimensions["A"].width > 8
        assert all(cell.font.bold for cell in sheet[1])
    answers = workbook["Answers"]
    assert [cell.value for cell in answers[1]] == ["respondent", "questionnaire", "item",
                                                   "value", "comment", "organization_type"]
    scores = {row[0].value: row for row in workbook["Scores"].iter_rows(min_row=2)}
    header = [cell.value for cell in workbook["Scores"][1]]
    rating = header.index("Rating")
    assert scores["1.1"][rating].value == "Weak"
    assert scores["1.1"][rating].fill.fgColor.rgb == "00E0301E"
    assert scores["2.2"][rating].fill.fgColor.rgb == "001FC63C"
    assert scores["1.1"][header.index("Score")].value == 25


def test_user_text_stays_inert_text_in_the_workbook(default: ReportRun) -> None:
    """Formula injection: =HYPERLINK(...), +1, -1 and @SUM(1) are stored as typed, as text."""
    workbook = load_workbook(default.xlsx)
    cells = [cell for sheet in ("Answers", "Comments") for row in workbook[sheet].iter_rows()
             for cell in row if cell.value in INJECTIONS]
    found = {cell.value for cell in cells}
    assert found == set(INJECTIONS)
    assert all(cell.data_type == "s" for cell in cells)


def test_action_plan_sheet_has_one_draft_per_weak_or_unsatisfactory_block(
    default: ReportRun,
) -> None:
    """The hand-made case of the module docstring: 1.1, 1.2, 2.3 and 5, all drafts."""
    sheet = load_workbook(default.xlsx)["Action plan"]
    header = [cell.value for cell in sheet[1]]
    assert header == ["Action", "Linked to", "Rating or score", "Responsible organisation",
                      "Support required (from whom)", "Due quarter", "Status"]
    rows = list(sheet.iter_rows(min_row=2))
    assert [row[1].value for row in rows] == DRAFTED
    assert {row[6].value for row in rows} == {"draft"}
    assert rows[0][2].value == "Weak, 25.00 %" and rows[0][2].fill.fgColor.rgb == "00E0301E"
    assert rows[1][2].value == "Unsatisfactory, 50.00 %"
    # Exactly one draft per block the Scores sheet rates Weak or Unsatisfactory: the
    # bands marked `action: true` in ccpm.yaml (reference/instruments.md section 1.6, "focus
    # on weak and unsatisfactory"); 2.1 at exactly 75 % is Satisfactory (upper-inclusive
    # bands, section 1.5) and gets none, nor do the blocks with insufficient data.
    workbook = load_workbook(default.xlsx)
    header = [cell.value for cell in workbook["Scores"][1]]
    rated = {row[0]: (row[header.index("Level")], row[header.index("Rating")])
             for row in workbook["Scores"].iter_rows(min_row=2, values_only=True)}
    # blocks: the sub-functions, and functions 5-7, scored directly (section 1.5)
    weak = [node for node, (level, rating) in rated.items()
            if (level == "sub_function" or node in ("5", "6", "7"))
            and rating in ("Weak", "Unsatisfactory")]
    assert weak == DRAFTED == [row[1].value for row in rows]
    assert rated["2.1"][1] == "Satisfactory"
    for row, (node, (score, words)) in zip(rows, [(n, BY_HAND[n]) for n in DRAFTED],
                                           strict=True):
        assert row[0].value.startswith(f"Agree and carry out actions to strengthen {node} ")
        assert row[0].value.endswith(f"rated {words} ({score:.2f} %).")


def test_csv_answers_score_again_to_the_same_result(report: Reporter, tmp_path: Path) -> None:
    """The answers CSV is the CLI's input format: scoring it again gives the same JSON."""
    answers, scores = tmp_path / "answers-out.csv", tmp_path / "scores.csv"
    run = report("ccpm", ROWS, "--csv-answers", str(answers), "--csv-scores", str(scores),
                 outputs=False)
    assert run.result.exit_code == 0, run.result.output
    text = answers.read_text(encoding="utf-8")
    assert scores_of("ccpm", text).to_json() == scores_of("ccpm", ROWS).to_json()
    assert "'=HYPERLINK" in text and ",-1," in text  # formula made inert; a number left alone
    rows = {row["No."]: row for row in csv.DictReader(io.StringIO(scores.read_text("utf-8")))}
    assert (rows["1.1"]["Score"], rows["1.1"]["Rating"]) == ("25", "Weak")


def test_review_file_fills_constraints_and_good_practice(
    report: Reporter, tmp_path: Path
) -> None:
    review = tmp_path / "review.csv"
    review.write_text("node,constraints,good_practice\n1.1,Staff turnover in March,"
                      "Minutes shared within 48 hours\n", encoding="utf-8")
    text = flat(pdf_text(report("ccpm", ROWS, "--review", str(review), "--final").pdf))
    assert "Staff turnover in March" in text and "Minutes shared within 48 hours" in text


@pytest.mark.parametrize(("rows", "review", "message"), [
    (ROWS + "p5,partner,q999,1,,\n", None,
     f"answers.csv:{len(ROWS.splitlines()) + 1}:item: questionnaire `partner` has no item "
     "`q999`"),
    (ROWS, "node,constraints\n9.9,x\n",
     "review.csv:2:node: `9.9` is not a node of this report"),
    (ROWS, "node,remarks\n1.1,x\n", "review.csv:1:remarks: unknown column `remarks`"),
])
def test_bad_input_exits_1_with_located_messages(
    report: Reporter, tmp_path: Path, rows: str, review: str | None, message: str
) -> None:
    options = []
    if review is not None:
        (tmp_path / "review.csv").write_text(review, encoding="utf-8")
        options = ["--review", str(tmp_path / "review.csv")]
    run = report("ccpm", rows, *options)
    assert run.result.exit_code == 1
    assert message in run.result.stderr and "Traceback" not in run.result.output
    assert not run.pdf.exists() and not run.xlsx.exists()


def test_bad_answers_get_the_same_messages_as_score(report: Reporter, tmp_path: Path) -> None:
    rows = ROWS + "p5,partner,q111,7,,\n"
    run = report("ccpm", rows)
    scored = CliRunner().invoke(cli, ["score", "ccpm", str(tmp_path / "answers.csv")])
    assert run.result.exit_code == scored.exit_code == 1
    assert run.result.stderr == scored.stderr


def test_an_output_is_required(report: Reporter) -> None:
    run = report("ccpm", ROWS, outputs=False)
    assert run.result.exit_code == 2
    assert "--pdf OUT.pdf and/or --xlsx OUT.xlsx" in run.result.output


def test_same_answers_same_pdf_bytes(default: ReportRun, report: Reporter) -> None:
    """Reports are reproducible: same instrument, answers and date give the same file."""
    first = default.pdf.read_bytes()
    second = report("ccpm", ROWS).pdf.read_bytes()
    assert first[:5] == b"%PDF-" and first == second
