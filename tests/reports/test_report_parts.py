"""The parts of the reports package, called directly: words, fetcher, charts, tables, plans.

Uses the small inline instruments of the scoring tests (tests/scoring/inline.py), whose
labels are in English only, to show how untranslated labels are marked.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import string

import pytest
from openpyxl import load_workbook

from instruments.loader import parse_instrument
from reports import ReportContext, ReportData, draft_action_plan, render_html
from reports.blocks import Chart
from reports.charts import Bar, horizontal_bars
from reports.csv_files import inert
from reports.document import build_document
from reports.excel import write_answers_workbook, write_workbook
from reports.i18n import CATALOGUE, Translator
from reports.pdf import ReportAssetFetcher, template_folder
from reports.quarters import quarter
from scoring import Answer, Responses, score
from tests.scoring.inline import MINI_CCPM

DAY = dt.date(2026, 11, 22)

# Coordinator c and partners a (international NGO) and b (national NGO).
MINI_ROWS = [
    Answer("c", "coordinator", "c1", 0), Answer("c", "coordinator", "c2", 4),
    Answer("c", "coordinator", "c3", 3, "\x07bell rung"),
    Answer("a", "partner", "org", 1), Answer("a", "partner", "p1", 1),
    Answer("a", "partner", "p2", 4),
    Answer("b", "partner", "org", 2), Answer("b", "partner", "p1", 0),
]


def mini_data(language: str = "en", **answers_override: object) -> ReportData:
    loaded = parse_instrument(MINI_CCPM.encode(), "mini-ccpm.yaml")
    responses = Responses.of(MINI_ROWS)
    scores = score(loaded.instrument, responses, sha256=loaded.sha256)
    actions = draft_action_plan(loaded.instrument, scores, responses, language=language)
    return ReportData(ReportContext("Mini cluster", DAY, language=language), loaded, scores,
                      responses, actions)


def fields(phrase: str) -> set[str]:
    """Placeholder names, case aside: English may capitalise a word French keeps lower."""
    return {name.lower() for _, name, _, _ in string.Formatter().parse(phrase) if name}


def test_every_phrase_has_the_same_placeholders_in_both_languages() -> None:
    mismatched = [key for key, (english, french) in CATALOGUE.items()
                  if not english.strip() or not french.strip() or fields(english) != fields(french)]
    assert mismatched == []


def test_numbers_and_dates_in_french() -> None:
    t = Translator("fr")
    assert (t.percent(62.5), t.signed(-12.5), t.date(DAY)) == ("62,50 %", "-12,50",
                                                               "22 novembre 2026")
    with pytest.raises(ValueError, match="en or fr"):
        Translator("de")


def test_untranslated_instrument_labels_are_marked_in_a_french_report() -> None:
    """The mini instrument has English labels only: they show, marked [en]."""
    html = render_html(mini_data("fr"))
    assert "Supporting service delivery [en]" in html and "Weak [en]" in html
    assert "Performance globale" in html


def test_action_plan_drafts_weak_blocks_only() -> None:
    """Blocks are 1.1 (above its indicators) and function 2 (scored directly). 1.1: means
    c (0 + 4) / 2 = 2, a 1, b 0, median 1, 25 % weak; 2: c 3, a 4, median 3.5, 87.5 % good."""
    data = mini_data()
    assert [(action.node, action.rating, action.status) for action in data.actions] == [
        ("1.1", "weak", "draft")]
    assert data.actions[0].basis == "Weak, 25.00 %"


def test_fetcher_serves_the_report_folder_only() -> None:
    fetcher = ReportAssetFetcher(template_folder())
    stylesheet = fetcher.fetch((template_folder() / "report.css").as_uri())
    assert b"@page" in stylesheet.read()
    assert fetcher.fetch("data:text/plain;base64,b2s=").read() == b"ok"
    for refused in ("file:///etc/passwd", "http://example.org/logo.png",
                    (template_folder() / ".." / "base.html").resolve().as_uri()):
        with pytest.raises(ValueError, match="only their own files"):
            fetcher.fetch(refused)


def test_charts_are_deterministic_svg_with_searchable_text() -> None:
    bars = [Bar("1.1", 25.0, "#e0301e", "25.00 %  Weak"), Bar("1.2", None, "#e6e6e6", "—")]
    first = horizontal_bars(bars, limit=100, axis="%")
    assert first == horizontal_bars(bars, limit=100, axis="%")
    assert first.startswith("<?xml") and "25.00 %  Weak" in first and "<dc:date>" not in first


@pytest.mark.parametrize(("value", "expected"), [
    ("2026-09-30", "2026-Q3"), ("2027-01-01", "2027-Q1"), ("2026-12-31T00:00:00", "2026-Q4"),
    ("end of year", "end of year"), ("", ""),
])
def test_due_dates_become_quarters(value: str, expected: str) -> None:
    assert quarter(value) == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("=1+1", "'=1+1"), ("+1 more", "'+1 more"), ("@SUM(1)", "'@SUM(1)"), ("\tx", "'\tx"),
    ("-1", "-1"), ("-2.5", "-2.5"), ("plain", "plain"),
])
def test_csv_text_cannot_start_a_formula(text: str, expected: str) -> None:
    assert inert(text) == expected


def test_workbook_drops_characters_xml_cannot_hold() -> None:
    buffer = io.BytesIO()
    write_workbook(mini_data(), buffer)
    answers = load_workbook(io.BytesIO(buffer.getvalue()))["Answers"]
    assert "bell rung" in [row[4] for row in answers.iter_rows(values_only=True)]


def test_report_data_must_match_its_scores() -> None:
    data = mini_data()
    other = parse_instrument(MINI_CCPM.replace('version: "1"', 'version: "2"').encode(), "b.yaml")
    with pytest.raises(ValueError, match="scores are of mini-ccpm 1"):
        ReportData(data.context, other, data.scores, data.responses)


def test_answers_workbook_alone() -> None:
    """The answers export: one sheet, the responses header, frozen and filtered, in French."""
    buffer = io.BytesIO()
    write_answers_workbook(Responses.of(MINI_ROWS), buffer, language="fr")
    workbook = load_workbook(io.BytesIO(buffer.getvalue()))
    assert workbook.sheetnames == ["Réponses"]
    sheet = workbook["Réponses"]
    assert (sheet.freeze_panes, sheet.auto_filter.ref) == ("A2", f"A1:F{len(MINI_ROWS) + 1}")
    assert next(sheet.iter_rows(max_row=1, values_only=True)) == (
        "respondent", "questionnaire", "item", "value", "comment", "organization_type")


def chart_texts(language: str) -> list[list[str]]:
    """The words drawn in each chart of the mini report, in chart order."""
    charts: list[Chart] = []

    def walk(part: object) -> None:
        if isinstance(part, Chart):
            charts.append(part)
            return
        for name in ("content", "sections", "blocks", "children"):
            children = getattr(part, name, None)
            if isinstance(children, list | tuple):
                for child in children:
                    walk(child)

    walk(build_document(mini_data(language)))
    return [[*re.findall(r"<text[^>]*>([^<]*)</text>", chart.svg), chart.description]
            for chart in charts]


def test_chart_labels_legends_and_descriptions_follow_the_report_language() -> None:
    """Charts are drawn in the report's language: legends, row labels, numbers, the text
    a screen reader reads instead; band words the file lacks in French are marked [en]."""
    english, french = chart_texts("en"), chart_texts("fr")
    assert len(english) == len(french) == 3
    rates, scores, gap = french
    assert {"Taux de réponse", "Taux de réponse effectif", "ONG internationale",
            "Taux de réponse par type d'organisation"} <= set(rates)
    assert "25,00 %  Weak [en]" in scores and "Notes par sous-fonction" in scores
    assert {"Coordonnateur", "Partenaires"} <= set(gap)
    english_words = {word for chart in english for word in chart}
    french_words = {word for chart in french for word in chart}
    assert {"Response rate", "International NGO", "25.00 %  Weak"} <= english_words
    assert not {"Response rate", "International NGO", "Coordinator"} & french_words
