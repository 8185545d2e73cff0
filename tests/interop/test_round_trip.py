"""Round trips: instrument -> XLSForm -> a server's export of answers -> long CSV -> score.

Rules (issue "Work with the tools our users already have", "Done when"):

- RT1 CCPM, coordinator and partners: answers made up with a seed, exported the way
      KoboToolbox does (group prefixes, labels for half the submissions in English or French,
      metadata columns), converted, then scored: the JSON is byte for byte the JSON of the
      same answers written directly in the long format
- RT2 JIU self-assessment and validation: the same
- RT3 CPAS RED, whose per-output items come back as repeat tables: Kobo's .xlsx (one sheet
      per repeat) and ODK Central's .zip (one CSV per repeat) score like the direct file
- RT4 .xlsx and .csv exports (Kobo's ``;`` CSV, ODK Central's ``,`` CSV with ``-`` group
      separators) give the very same long rows as the direct answers
"""

from __future__ import annotations

import csv
import io
import random
from collections.abc import Callable

import pytest

from instruments.loader import load_instrument
from instruments.xlsform import build_xlsform
from tests.interop.conftest import Convert
from tests.interop.kobo import (
    ExportStyle,
    Respondent,
    Server,
    csv_bytes,
    long_csv,
    long_rows,
    main_table,
    make_answers,
    make_framework_answers,
    odk_zip,
    repeat_tables,
    xlsx_bytes,
)

ScoreJson = Callable[[str, str], str]


def half_labelled(count: int) -> list[str | None]:
    """Labels for every other submission, alternating English and French; codes otherwise."""
    return [None if position % 2 else ("en" if position % 4 == 0 else "fr")
            for position in range(count)]


def converted_rows(text: str) -> list[tuple[str, ...]]:
    """The long rows of a converted file, without the organization_type column."""
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["respondent", "questionnaire", "item", "value", "comment",
                       "organization_type"]
    return [tuple(row[:5]) for row in rows[1:]]


def combined(*texts: str) -> str:
    """Several long CSV files as one: the first header, then every row."""
    lines = [texts[0].rstrip("\n")]
    lines += [text.split("\n", 1)[1].rstrip("\n") for text in texts[1:]]
    return "\n".join(line for line in lines if line) + "\n"


def export_and_convert(convert: Convert, key: str, questionnaire: str,
                       respondents: list[Respondent], style: ExportStyle, kind: str) -> str:
    """Build the server's export of ``respondents``, convert it; the long CSV text."""
    instrument = load_instrument(key).instrument
    form = build_xlsform(instrument, questionnaire)
    table = main_table(form, respondents, style)
    repeats = repeat_tables(form, respondents, style)
    if kind == "xlsx":
        data, name = xlsx_bytes({"submissions": table, **repeats}), "export.xlsx"
    elif kind == "zip":
        data, name = odk_zip(form, table, repeats), "submissions.csv.zip"
    else:
        data, name = csv_bytes(table, ";" if style.server == "kobo" else ","), "export.csv"
    result, output = convert(data, f"{questionnaire}-{name}", key, questionnaire)
    assert result.exit_code == 0, result.output
    return output.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def ccpm_answers() -> dict[str, list[Respondent]]:
    rng = random.Random(20250301)
    instrument = load_instrument("ccpm").instrument
    return {"coordinator": make_answers(instrument, "coordinator", 2, rng),
            "partner": make_answers(instrument, "partner", 14, rng)}


def test_ccpm_scores_the_same_through_a_kobo_export(
    ccpm_answers: dict[str, list[Respondent]], convert: Convert, score_json: ScoreJson
) -> None:
    """RT1: coordinator and partners, Kobo .xlsx, labels for half the submissions."""
    texts = []
    for questionnaire, respondents in ccpm_answers.items():
        style = ExportStyle("kobo", "/", half_labelled(len(respondents)))
        texts.append(export_and_convert(convert, "ccpm", questionnaire, respondents, style,
                                        "xlsx"))
    direct = long_csv([row for questionnaire, respondents in ccpm_answers.items()
                       for row in long_rows(questionnaire, respondents)])
    converted = combined(*texts)
    scored = score_json("ccpm", converted)
    assert scored == score_json("ccpm", direct)
    assert '"rating": "' in scored  # the answers were scored, not left out


@pytest.mark.parametrize(("server", "separator", "kind"), [
    ("kobo", "/", "csv"), ("odk", "-", "csv"), ("kobo", "/", "xlsx"), ("odk", "-", "zip"),
])
def test_every_export_form_gives_the_direct_rows(
    ccpm_answers: dict[str, list[Respondent]], convert: Convert, server: Server,
    separator: str, kind: str,
) -> None:
    """RT4: the converted rows are the direct ones, whatever the file and the separator."""
    respondents = ccpm_answers["partner"]
    style = ExportStyle(server, separator, half_labelled(len(respondents)))
    text = export_and_convert(convert, "ccpm", "partner", respondents, style, kind)
    direct = [tuple(row) for row in long_rows("partner", respondents)]
    assert sorted(converted_rows(text)) == sorted(direct)
    types = {row[0]: row[5] for row in csv.reader(io.StringIO(text)) if row[0] != "respondent"}
    assert types == {r.id: r.answers["q012"] for r in respondents}  # organization_type too


def test_ccpm_converted_rows_equal_the_direct_rows(
    ccpm_answers: dict[str, list[Respondent]], convert: Convert
) -> None:
    """RT1: row for row, codes recovered from English and French labels."""
    for questionnaire, respondents in ccpm_answers.items():
        style = ExportStyle("kobo", "/", half_labelled(len(respondents)))
        text = export_and_convert(convert, "ccpm", questionnaire, respondents, style, "xlsx")
        direct = [tuple(row) for row in long_rows(questionnaire, respondents)]
        assert sorted(converted_rows(text)) == sorted(direct)


def test_jiu_scores_the_same_through_a_kobo_export(convert: Convert,
                                                   score_json: ScoreJson) -> None:
    """RT2: self-assessment in French labels, validation in codes, without group prefixes."""
    rng = random.Random(2017)
    instrument = load_instrument("jiu-rbm").instrument
    answers = {"self_assessment": make_answers(instrument, "self_assessment", 1, rng),
               "validation": make_answers(instrument, "validation", 1, rng)}
    styles = {"self_assessment": ExportStyle("kobo", "/", ["fr"]),
              "validation": ExportStyle("kobo", "/", [None], group_prefixes=False)}
    texts = [export_and_convert(convert, "jiu-rbm", questionnaire, respondents,
                                styles[questionnaire], "csv")
             for questionnaire, respondents in answers.items()]
    direct = long_csv([row for questionnaire, respondents in answers.items()
                       for row in long_rows(questionnaire, respondents)])
    for questionnaire, text in zip(answers, texts, strict=True):
        assert sorted(converted_rows(text)) == sorted(
            tuple(row) for row in long_rows(questionnaire, answers[questionnaire]))
    scored = score_json("jiu-rbm", combined(*texts))
    assert scored == score_json("jiu-rbm", direct)
    assert '"self_stage": ' in scored and '"validated_stage": ' in scored


@pytest.mark.parametrize(("server", "kind"), [("kobo", "xlsx"), ("odk", "zip")])
def test_cpas_repeats_score_the_same(convert: Convert, score_json: ScoreJson, server: Server,
                                     kind: str) -> None:
    """RT3: framework nodes and per-output answers come back from the repeat tables."""
    rng = random.Random(62)
    instrument = load_instrument("cpas-red").instrument
    respondents = [Respondent("wg-civil-affairs")]
    make_framework_answers(instrument, "red", respondents[0], rng)
    separator = "/" if server == "kobo" else "-"
    text = export_and_convert(convert, "cpas-red", "red", respondents,
                              ExportStyle(server, separator), kind)
    direct = long_csv(long_rows("red", respondents))
    assert sorted(converted_rows(text)) == sorted(
        tuple(row) for row in long_rows("red", respondents))
    scored = score_json("cpas-red", text)
    assert scored == score_json("cpas-red", direct)
    assert '"total": ' in scored
