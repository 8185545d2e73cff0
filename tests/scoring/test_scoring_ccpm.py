"""CCPM scoring, ``median_of_respondent_means``: cases computed by hand from the source rules.

Rules (DESIGN.md "Scoring rules"; reference/instruments.md sections 1.4-1.6):

- SC-C1  a node's score is the median over respondents of each respondent's mean of valid
         answers to the node's items and its descendants' items, questionnaires pooled, x 25
- SC-C2  99, 999, 9999 and blanks are left out; a respondent with no valid answer is not counted
- SC-C3  even count: the median is the mean of the two middle values
- SC-C4  bands are upper-inclusive: <= 25 weak, <= 50 unsatisfactory, <= 75 satisfactory, else good
- SC-C5  rounding half up to the rule's decimals, bands applied to the rounded value
- SC-C6  fewer respondents than the minimum: no score, rating insufficient_data, never 0
- SC-C7  the same split by questionnaire, with the gap (first minus second)
- SC-C8  answer distributions per item, excluded codes and blanks as their own entries
- SC-C9  response rates from member and attendance counts by organisation type
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

from instruments.schema import Instrument
from scoring import INSUFFICIENT_DATA, PercentResult, ScoreReport
from scoring.numbers import band_for
from tests.scoring.inline import CCPM_BANDS, load

Run = Callable[..., ScoreReport]


def percent(report: ScoreReport, node: str) -> PercentResult:
    result = report.result(node)
    assert isinstance(result, PercentResult)
    return result


def single_node(items: int, *, decimals: int = 2, item_type: str = "freq") -> Instrument:
    """One node fed by ``items`` items of one questionnaire, for rounding and edge cases."""
    if item_type == "freq":
        item = "type: single_choice, scale: freq"
        scale_max, factor = 4, 25
    else:  # a 0-100 number scored as is, to reach band edges such as 25.01
        item = "type: number, minimum: 0, maximum: 100"
        scale_max, factor = 100, 1
    lines = "".join(
        f"      - {{id: i{n}, {item}, node: N, role: score, text: Q{n}}}\n"
        for n in range(1, items + 1)
    )
    return load(CCPM_BANDS + f"""
key: single
version: "1"
title: One node
scales:
  - id: freq
    options: [{{code: 0, label: a, score: 0}}, {{code: 1, label: b, score: 1}},
              {{code: 2, label: c, score: 2}}, {{code: 3, label: d, score: 3}},
              {{code: 4, label: e, score: 4}}]
scoring:
  - {{id: r, method: median_of_respondent_means, scale_min: 0, scale_max: {scale_max},
     percent_factor: {factor}, decimals: {decimals}, bands: status}}
nodes:
  - {{id: N, level: indicator, title: Node, scoring: r}}
questionnaires:
  - id: q
    role: partner
    title: Q
    items:
{lines}""")


def test_sub_function_pools_the_items_of_its_indicators(ccpm: Instrument, run: Run) -> None:
    """SC-C1: 1.1 is the median of respondent means over c1, c2 and p1 (instruments.md 1.5 step 1).

    Coordinator c: (4 + 0) / 2 = 2; partner a: 4; partner b: 3. Median {2, 3, 4} = 3 -> 75.
    Averaging the indicator scores instead (100 and 0) would give 50: the rule does not.
    """
    report = run(ccpm, [
        ("c", "coordinator", "c1", 4), ("c", "coordinator", "c2", 0),
        ("a", "partner", "p1", 4), ("b", "partner", "p1", 3),
    ])
    assert (percent(report, "1.1").score, percent(report, "1.1").rating) == (75.0, "satisfactory")
    assert percent(report, "1.1").respondents == 3
    assert percent(report, "1.1").items == 3
    assert (percent(report, "1.1.1").score, percent(report, "1.1.1").rating) == (100.0, "good")
    assert (percent(report, "1.1.2").score, percent(report, "1.1.2").rating) == (0.0, "weak")
    assert percent(report, "1").score == 75.0


def test_excluded_codes_and_blanks_are_left_out(ccpm: Instrument, run: Run) -> None:
    """SC-C2: 99, 999, 9999 and blanks never count, not even as 0 (instruments.md 1.4).

    Counted for 1.1.1: a (1) and b (3) only; median (1 + 3) / 2 = 2 -> 50.
    """
    report = run(ccpm, [
        ("a", "partner", "p1", 1), ("b", "partner", "p1", 3),
        ("d", "partner", "p1", 99), ("e", "partner", "p1", 999),
        ("f", "partner", "p1", 9999), ("g", "partner", "p1", ""), ("h", "partner", "p1", None),
    ])
    result = percent(report, "1.1.1")
    assert (result.score, result.rating, result.respondents) == (50.0, "unsatisfactory", 2)


def test_respondent_without_valid_answers_counts_only_where_it_has_some(
    ccpm: Instrument, run: Run
) -> None:
    """SC-C2: partner a said "don't know" to p1 but answered p2 (instruments.md 1.5 step 2).

    1.1.1: only b (2) -> 50, one respondent. 2: a (4) and b (0) -> median 2 -> 50, two.
    """
    report = run(ccpm, [
        ("a", "partner", "p1", 99), ("a", "partner", "p2", 4),
        ("b", "partner", "p1", 2), ("b", "partner", "p2", 0),
    ])
    assert (percent(report, "1.1.1").score, percent(report, "1.1.1").respondents) == (50.0, 1)
    assert (percent(report, "2").score, percent(report, "2").respondents) == (50.0, 2)


@pytest.mark.parametrize(
    ("answers", "expected"),
    [
        ((1, 2, 4), (50.0, "unsatisfactory")),  # odd: the middle value 2 -> 50
        ((1, 2, 3, 4), (62.5, "satisfactory")),  # even: (2 + 3) / 2 = 2.5 -> 62.5
        ((0, 0, 4, 4), (50.0, "unsatisfactory")),  # even: (0 + 4) / 2 = 2 -> 50
    ],
)
def test_median_of_odd_and_even_counts(
    ccpm: Instrument, run: Run, answers: tuple[int, ...], expected: tuple[float, str]
) -> None:
    """SC-C3: an even count takes the mean of the two middle means (DESIGN.md scoring rules)."""
    rows = [(f"r{n}", "partner", "p1", value) for n, value in enumerate(answers)]
    result = percent(run(ccpm, rows), "1.1.1")
    assert (result.score, result.rating) == expected


@pytest.mark.parametrize(
    ("score", "band"),
    [
        (0, "weak"), (25, "weak"), (25.01, "unsatisfactory"), (50, "unsatisfactory"),
        (50.5, "satisfactory"), (75, "satisfactory"), (75.01, "good"), (100, "good"),
    ],
)
def test_band_edges_are_upper_inclusive(ccpm: Instrument, score: float, band: str) -> None:
    """SC-C4: <= 25 weak, <= 50 unsatisfactory, <= 75 satisfactory, else good (S5 mapStatus)."""
    assert band_for(ccpm.bands[0], Decimal(str(score))).key == band


@pytest.mark.parametrize(
    ("answer", "expected"),
    [(25, (25.0, "weak")), (25.01, (25.01, "unsatisfactory")), (50, (50.0, "unsatisfactory")),
     (75, (75.0, "satisfactory")), (75.01, (75.01, "good"))],
)
def test_band_edges_through_the_engine(
    run: Run, answer: float, expected: tuple[float, str]
) -> None:
    """SC-C4: the engine rates the scores 25, 25.01, 50, 75 and 75.01 by the declared bands."""
    result = percent(run(single_node(1, item_type="number"), [("r", "q", "i1", answer)]), "N")
    assert (result.score, result.rating) == expected


def test_fifty_point_five_is_satisfactory(run: Run) -> None:
    """SC-C4/SC-C5: 49 answers of 2 and one of 3: mean 101 / 50 = 2.02, x 25 = 50.5 > 50."""
    rows = [("r", "q", f"i{n}", 2) for n in range(1, 50)] + [("r", "q", "i50", 3)]
    result = percent(run(single_node(50), rows), "N")
    assert (result.score, result.rating) == (50.5, "satisfactory")


@pytest.mark.parametrize(
    ("answers", "decimals", "expected"),
    [
        ((0, 1), 0, 13.0),  # mean 0.5 -> 12.5 -> half up 13 (half-even would give 12)
        ((2, 3), 0, 63.0),  # mean 2.5 -> 62.5 -> 63
        ((1, 1, 0), 2, 16.67),  # mean 2/3 -> 16.666... -> 16.67
        ((0, 0, 1), 2, 8.33),  # mean 1/3 -> 8.333... -> 8.33
    ],
)
def test_rounding_half_up_to_the_declared_decimals(
    run: Run, answers: tuple[int, ...], decimals: int, expected: float
) -> None:
    """SC-C5: one rounding rule, half up, to the rule's ``decimals`` (docs/scoring.md)."""
    instrument = single_node(len(answers), decimals=decimals)
    rows = [("r", "q", f"i{n}", value) for n, value in enumerate(answers, start=1)]
    assert percent(run(instrument, rows), "N").score == expected


def test_band_follows_the_rounded_score(run: Run) -> None:
    """SC-C5: mean 1.0002 is 25.005 before rounding; rounded half up it is 25.01: unsatisfactory."""
    instrument = single_node(1, decimals=2, item_type="number")
    result = percent(run(instrument, [("r", "q", "i1", 25.005)]), "N")
    assert (result.score, result.rating) == (25.01, "unsatisfactory")


def test_too_few_respondents_is_insufficient_data_never_zero(ccpm: Instrument, run: Run) -> None:
    """SC-C6: with a minimum of 3, two respondents give no score (instruments.md 1.5 step 5)."""
    rows = [("a", "partner", "p1", 4), ("b", "partner", "p1", 4)]
    report = run(ccpm, rows, min_respondents=3)
    result = percent(report, "1.1.1")
    assert (result.score, result.rating, result.respondents) == (None, INSUFFICIENT_DATA, 2)
    assert percent(run(ccpm, rows), "1.1.1").score == 100.0


def test_node_nobody_answered_is_insufficient_data(ccpm: Instrument, run: Run) -> None:
    """SC-C6: no valid answer at all is insufficient data, where S5's code gave 0 (weak)."""
    result = percent(run(ccpm, [("a", "partner", "p1", 99)]), "1.1.1")
    assert (result.score, result.rating, result.respondents) == (None, INSUFFICIENT_DATA, 0)


MINIMUM_TWO = CCPM_BANDS + """
key: minimum
version: "1"
title: Minimum two
scoring:
  - {id: r, method: median_of_respondent_means, scale_min: 0, scale_max: 4, percent_factor: 25,
     min_respondents: 2, bands: status}
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
        options: [{code: 0, label: "No", score: 0}, {code: 4, label: "Yes", score: 4}]
"""


def test_minimum_declared_in_the_rule(run: Run) -> None:
    """SC-C6: the rule's own ``min_respondents`` applies without any override."""
    instrument = load(MINIMUM_TWO)
    result = percent(run(instrument, [("r", "q", "i1", 4)]), "N")
    assert (result.score, result.rating) == (None, INSUFFICIENT_DATA)




def test_split_by_questionnaire_and_gap(ccpm: Instrument, run: Run) -> None:
    """SC-C7: coordinator 4 -> 100; partners 2 and 3 -> 62.5; gap 37.5; pooled median 3 -> 75."""
    report = run(ccpm, [
        ("c", "coordinator", "c1", 4), ("a", "partner", "p1", 2), ("b", "partner", "p1", 3),
    ])
    result = percent(report, "1.1.1")
    assert result.score == 75.0
    parts = {part.questionnaire: (part.score, part.rating, part.respondents)
             for part in result.by_questionnaire}
    assert parts == {"coordinator": (100.0, "good", 1), "partner": (62.5, "satisfactory", 2)}
    assert result.gap == 37.5
    only_coordinator = percent(report, "1.1.2")
    assert [part.questionnaire for part in only_coordinator.by_questionnaire] == ["coordinator"]
    assert only_coordinator.gap is None


def test_distribution_lists_every_code_excluded_and_blank(ccpm: Instrument, run: Run) -> None:
    """SC-C8: per item and questionnaire, each option's count, 99/999/9999 and blanks included."""
    report = run(ccpm, [
        ("a", "partner", "p1", 4), ("b", "partner", "p1", 4), ("d", "partner", "p1", 99),
        ("e", "partner", "p1", ""), ("f", "partner", "p1", 9999),
    ])
    distribution = next(d for d in report.distributions if d.item == "p1")
    counts = {entry.code: entry.count for entry in distribution.counts}
    assert counts == {0: 0, 1: 0, 2: 0, 3: 0, 4: 2, 99: 1, 999: 0, 9999: 1, None: 1}
    assert (distribution.questionnaire, distribution.nodes, distribution.answers) == (
        "partner", ("1.1.1",), 5)
    assert {(d.questionnaire, d.item) for d in report.distributions} == {
        ("coordinator", "c1"), ("coordinator", "c2"), ("coordinator", "c3"),
        ("partner", "p1"), ("partner", "p2")}


def coordinator_counts(members: tuple[Any, Any], attending: tuple[Any, Any]) -> list[tuple]:
    return [("c", "coordinator", "m1", members[0]), ("c", "coordinator", "m2", members[1]),
            ("c", "coordinator", "a1", attending[0]), ("c", "coordinator", "a2", attending[1])]


PARTNERS = [("x", "partner", "org", 1), ("y", "partner", "org", 1), ("z", "partner", "org", 2),
            ("x", "partner", "p1", 3), ("w", "partner", "p1", 2)]


def test_response_rates_overall_by_type_and_effective(ccpm: Instrument, run: Run) -> None:
    """SC-C9: 4 partners of 10 + 5 organisations = 26.67 %; 4 of 4 + 2.5 attending = 61.54 %.

    By type: INGO 2 of 10 = 20 %, effective 2 of 4 = 50 %; NNGO 1 of 5 = 20 %, effective
    1 of 2.5 = 40 %; w gave no type (instruments.md 1.6 items 2-3).
    """
    rates = run(ccpm, coordinator_counts((10, 5), (4, 2.5)) + PARTNERS).response_rates
    assert rates is not None
    assert (rates.questionnaire, rates.respondents, rates.members, rates.rate) == (
        "partner", 4, 15, 26.67)
    assert (rates.attending, rates.effective_rate, rates.unknown_type) == (6.5, 61.54, 1)
    by_type = {entry.code: (entry.respondents, entry.members, entry.rate, entry.attending,
                            entry.effective_rate) for entry in rates.by_type}
    assert by_type == {1: (2, 10, 20.0, 4, 50.0), 2: (1, 5, 20.0, 2.5, 40.0)}


def test_missing_member_count_gives_no_rate_not_zero(ccpm: Instrument, run: Run) -> None:
    """SC-C9: where a count is missing the rate is None (issue "Scoring engine": not 0)."""
    rows = [("c", "coordinator", "m1", 10), *PARTNERS]
    rates = run(ccpm, rows).response_rates
    assert rates is not None
    assert (rates.members, rates.rate, rates.effective_rate) == (None, None, None)
    by_type = {entry.code: (entry.members, entry.rate) for entry in rates.by_type}
    assert by_type == {1: (10, 20.0), 2: (None, None)}


def test_disputed_member_counts_give_no_rate(ccpm: Instrument, run: Run) -> None:
    """SC-C9: two coordinators giving different counts leave the count unknown, not averaged."""
    rows = [*coordinator_counts((10, 5), (4, 2)), ("c2", "coordinator", "m1", 12), *PARTNERS]
    rates = run(ccpm, rows).response_rates
    assert rates is not None
    assert rates.by_type[0].members is None
    assert rates.by_type[1].rate == 20.0
