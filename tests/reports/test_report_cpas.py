"""``surveyapp report cpas-red``: a two-output results framework, scores and recommendations.

By hand (seeds/001_782aced7fcf9d02c.txt:72: each criterion 1-4, total 3-12): OUT1 scores
relevance 3, extent 2, duration 4 = 9, Moderate under the file's own convention
(6 < 9 <= 9); OUT2 scores 2, 2, 1 = 5, Low (<= 6). OUT1 is recommended for expansion by the
Civil Affairs Section by 30 September 2026 (third quarter), OUT2 for adaptation by
31 December 2026 (fourth quarter); leadership approved OUT1 and has not decided on OUT2.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from openpyxl import load_workbook

from instruments.loader import load_instrument
from scoring import score
from scoring.responses import parse_responses
from tests.reports.conftest import Reporter, body, flat, pdf_text, scores_of

pytestmark = pytest.mark.usefixtures("poppler")

ROWS = """respondent,questionnaire,item,value,comment
,framework,IM1,Civilians in the west are safer,level=impact
,framework,OC1,Communities report threats early,level=outcome; parent=IM1
,framework,OUT1,Early-warning network,level=output; parent=OC1; section=Civil Affairs
,framework,OUT2,Protection briefings to prefects,level=output; parent=OC1; section=Human Rights
wg,red,OUT1.relevance,3,Reaches the chiefs who act on alerts
wg,red,OUT1.extent,2,Two provinces of five
wg,red,OUT1.duration,4,Committees run it without the mission
wg,red,OUT1.recommendation,4,
wg,red,OUT1.recommendation.text,Extend the network to Ouaka,
wg,red,OUT1.recommendation.owner,Civil Affairs Section,
wg,red,OUT1.recommendation.timeline,2026-09-30,
wg,red,OUT2.relevance,2,Prefects rarely act on them
wg,red,OUT2.extent,2,Three prefects attend
wg,red,OUT2.duration,1,Ends with the briefings
wg,red,OUT2.recommendation,3,
wg,red,OUT2.recommendation.text,Replace briefings with joint field visits,
wg,red,OUT2.recommendation.owner,Human Rights Division,
wg,red,OUT2.recommendation.timeline,2026-12-31,
wg,red,OC1.outcome.progress,Alerts reach the authorities within a day,
wg,red,IM1.impact.progress,Attacks fell by a third,
"""


@pytest.fixture
def review(tmp_path: Path) -> str:
    """Leadership's decisions: OUT1 approved, OUT2 not decided yet."""
    path = tmp_path / "review.csv"
    path.write_text("node,decision\nOUT1,Approved 3 Oct\n", encoding="utf-8")
    return str(path)


def test_outputs_show_red_scores_justifications_and_convention(report: Reporter) -> None:
    run = report("cpas-red", ROWS, "--unit", "MINUSCA")
    assert run.result.exit_code == 0, run.result.output
    text = body(pdf_text(run.pdf))
    for criterion, level, justification in (
        ("Relevance", "3", "Reaches the chiefs who act on alerts"),
        ("Extent", "2", "Two provinces of five"),
        ("Duration", "4", "Committees run it without the mission"),
        ("Relevance", "2", "Prefects rarely act on them"),
        ("Duration", "1", "Ends with the briefings"),
    ):
        assert any(line.split()[:2] == [criterion, level] and justification in line
                   for line in text.splitlines()), justification
    flat_text = flat(text)
    assert "Band (convention)" in flat_text
    assert "Civil Affairs 9 Moderate Expand" in flat_text
    assert "Human Rights 5 Low Adapt" in flat_text
    assert "not part of the framework itself" in flat_text
    assert "Alerts reach the authorities within a day" in flat_text
    assert "Attacks fell by a third" in flat_text


def test_recommendations_with_decisions_and_actions(report: Reporter, review: str) -> None:
    run = report("cpas-red", ROWS, "--review", review, "--final")
    assert run.result.exit_code == 0, run.result.output
    text = flat(body(pdf_text(run.pdf)))
    decisions = text[text.index("Recommendations and decisions"):text.index("Action plan")]
    assert "Approved 3 Oct" in decisions and "pending" in decisions
    sheet = load_workbook(run.xlsx)["Action plan"]
    rows = list(sheet.iter_rows(min_row=2, values_only=True))
    assert [row[:4] for row in rows] == [
        ("Expand: Extend the network to Ouaka", "OUT1", "Total 9 (3-12): Moderate",
         "Civil Affairs Section"),
        ("Adapt: Replace briefings with joint field visits", "OUT2", "Total 5 (3-12): Low",
         "Human Rights Division"),
    ]
    assert [row[5] for row in rows] == ["2026-Q3", "2026-Q4"]


def test_scores_sheet_has_criteria_total_and_band(report: Reporter) -> None:
    sheet = load_workbook(report("cpas-red", ROWS).xlsx)["Scores"]
    header = [cell.value for cell in sheet[1]]
    rows = {row[0].value: row for row in sheet.iter_rows(min_row=2)}
    out1 = rows["OUT1"]
    assert [out1[header.index(name)].value for name in ("Relevance", "Extent", "Duration",
                                                         "Total", "Band")] == [
        3, 2, 4, 9, "Moderate"]
    assert out1[header.index("Band")].fill.fgColor.rgb == "008DB6DE"
    assert out1[header.index("Extent: justification")].value == "Two provinces of five"


def test_workbook_answers_sheet_scores_again(report: Reporter) -> None:
    """The Answers sheet is the responses format: the workbook itself is a valid input."""
    workbook = report("cpas-red", ROWS).xlsx
    loaded = load_instrument("cpas-red")
    again = score(loaded.instrument, parse_responses(loaded.instrument, workbook.read_bytes(),
                                                     workbook.name), sha256=loaded.sha256)
    assert again.to_json() == scores_of("cpas-red", ROWS).to_json()
