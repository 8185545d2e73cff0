"""Answers the engine refuses: every problem located, all reported at once, nothing scored.

Rules (issue "Scoring engine", bad input; DESIGN.md: same answers, same result):

- SV1  unknown questionnaire or item is an error naming the row, with a suggestion
- SV2  a value outside the item's codes, stages, levels or range is an error
- SV3  one respondent answering one item twice is an error naming both rows
- SV4  every problem is reported in one pass, sorted by row
- SV5  "not applicable" needs a justification; it counts in no score
- SV6  an answer to an item that the respondent's own answers skip is an error
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from instruments.schema import Instrument
from scoring import AnswerProblem, AnswersInvalid, ScoreReport
from tests.scoring.inline import CCPM_BANDS, MINI_CCPM, load

Run = Callable[..., ScoreReport]


def problems_of(run: Run, instrument: Instrument, rows: list[tuple[object, ...]]) -> list[str]:
    with pytest.raises(AnswersInvalid) as raised:
        run(instrument, rows)
    return [problem.format("answers.csv") for problem in raised.value.problems]


def row(respondent: str, questionnaire: str, item: str, value: object, line: int) -> tuple:
    return (respondent, questionnaire, item, value, None, None, None, line)


def test_unknown_item_and_questionnaire(ccpm: Instrument, run: Run) -> None:
    """SV1: a misspelt item gets a "did you mean"; an unknown questionnaire lists the known."""
    lines = problems_of(run, ccpm, [
        row("a", "partner", "p11", 3, 2), row("a", "partners", "p1", 3, 3),
    ])
    assert lines == [
        "answers.csv:2:item: questionnaire `partner` has no item `p11`: did you mean `p1`?",
        "answers.csv:3:questionnaire: there is no questionnaire `partners` in instrument "
        "`mini-ccpm`: use one of coordinator, partner",
    ]


@pytest.mark.parametrize(
    ("item", "value", "message"),
    [
        ("p1", 5, "`5` is not one of the codes 0, 1, 2, 3, 4, 99, 999, 9999: use one of them"),
        ("p1", "often", "`often` is not one of the codes"),
        ("p1", 2.5, "`2.5` is not one of the codes"),
        ("org", 7, "`7` is not one of the codes 1, 2: use one of them"),
    ],
)
def test_value_outside_the_item_codes(
    ccpm: Instrument, run: Run, item: str, value: object, message: str
) -> None:
    """SV2: option codes are facts of the instrument (instruments.md 1.4): nothing else passes."""
    (line,) = problems_of(run, ccpm, [row("a", "partner", item, value, 4)])
    assert line.startswith(f"answers.csv:4:value: `{item}` of respondent `a`: ")
    assert message in line


def test_number_outside_its_range(ccpm: Instrument, run: Run) -> None:
    """SV2: a member count is a whole number from 0 (schema: minimum, integer)."""
    lines = problems_of(run, ccpm, [
        row("c", "coordinator", "m1", -1, 2), row("c", "coordinator", "m2", 2.5, 3),
    ])
    assert "`-1` is outside the accepted range: at least 0" in lines[0]
    assert "`2.5` is not a whole number" in lines[1]


def test_duplicate_answer_names_both_rows(ccpm: Instrument, run: Run) -> None:
    """SV3: the same respondent, questionnaire and item twice: which one counts is unknowable."""
    (line,) = problems_of(run, ccpm, [row("a", "partner", "p1", 3, 2),
                                      row("a", "partner", "p1", 4, 9)])
    assert line == ("answers.csv:9:item: `p1` of respondent `a` is answered twice "
                    "(first on row 2): keep one of the answers")


def test_same_respondent_id_in_two_questionnaires_is_two_respondents(
    ccpm: Instrument, run: Run
) -> None:
    """SV3: a respondent is one filled-in questionnaire (instruments.md 1.5: each response)."""
    report = run(ccpm, [("x", "coordinator", "c1", 4), ("x", "partner", "p1", 0)])
    assert report.result("1.1.1").to_dict()["respondents"] == 2


def test_every_problem_at_once_sorted_by_row(ccpm: Instrument, run: Run) -> None:
    """SV4: a person fixes the file in one pass; nothing is half-scored."""
    lines = problems_of(run, ccpm, [
        row("a", "partner", "p1", 3, 2), row("b", "partner", "zz", 3, 3),
        row("a", "partner", "p1", 3, 4), row("", "partner", "p2", 9, 5),
    ])
    assert [line.split(":")[1] for line in lines] == ["3", "4", "5", "5"]
    assert any("respondent is blank" in line for line in lines)


def test_problem_without_a_row_names_the_answer() -> None:
    """SV1: answers from the web app have no row: the message alone must locate them."""
    assert AnswerProblem("`p1` of respondent `a`: bad").format() == "answers: `p1` of respondent " \
                                                                    "`a`: bad"


NOT_APPLICABLE = CCPM_BANDS + """
key: na
version: "1"
title: Not applicable allowed
scoring:
  - {id: r, method: median_of_respondent_means, scale_min: 0, scale_max: 4, percent_factor: 25,
     bands: status}
nodes:
  - {id: N, level: indicator, title: Node, scoring: r}
questionnaires:
  - id: q
    role: partner
    title: Q
    items:
      - id: i1
        type: single_choice
        node: N
        role: score
        text: Q
        not_applicable: {allowed: true}
        options: [{code: 0, label: "No", score: 0}, {code: 4, label: "Yes", score: 4}]
"""


def test_not_applicable_needs_a_justification_and_counts_nowhere(run: Run) -> None:
    """SV5: "not applicable" only with a justification (DESIGN.md "How work flows", step 2)."""
    instrument = load(NOT_APPLICABLE)
    report = run(instrument, [("a", "q", "i1", "n/a", "we are a donor"), ("b", "q", "i1", 4)])
    assert report.result("N").to_dict()["respondents"] == 1
    counts = {c.code: c.count for c in report.distributions[0].counts}
    assert counts == {0: 0, 4: 1, "not_applicable": 1, None: 0}
    (line,) = problems_of(run, instrument, [row("a", "q", "i1", "N/A", 3)])
    assert line == ("answers.csv:3:comment: `i1` of respondent `a`: \"not applicable\" needs a "
                    "written justification in the comment")


def test_answer_to_a_skipped_item_is_an_error(run: Run) -> None:
    """SV6: skip logic hides p2 when p1 = 0 (CCPM: no meeting, no meeting quality; instruments.md
    1.4); an answer to it cannot come from the questionnaire and would be scored wrongly."""
    instrument = load(MINI_CCPM.replace(
        'node: "2", role: score, text: "Analysis?"}\n',
        'node: "2", role: score, text: "Analysis?", relevant: "${p1} != 0"}\n'))
    (line,) = problems_of(run, instrument, [
        row("a", "partner", "p1", 0, 2), row("a", "partner", "p2", 3, 3),
        row("b", "partner", "p1", 2, 4), row("b", "partner", "p2", 3, 5),
        row("d", "partner", "p1", 0, 6), row("d", "partner", "p2", "", 7),
    ])
    assert line == ("answers.csv:3:value: `p2` of respondent `a`: this item is only asked when "
                    "${p1} != 0, which the respondent's other answers make false: remove this "
                    "answer or correct the earlier one")
