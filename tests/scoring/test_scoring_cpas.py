"""CPAS RED: ``rubric_total`` per output and ``list_children`` above it, computed by hand.

Rules (seeds/001_782aced7fcf9d02c.txt:66-72; reference/cpas.md sections 0, 2.1, 2.11):

- SR1  relevance, extent, duration 1-4 each; total = their sum, 3 to 12
- SR2  each score needs a written justification; a missing one is an error
- SR3  a missing criterion or a value outside 1-4 is an error, never a lower total
- SR4  a band on the total only when the file declares one, carrying its convention flag
- SR5  outcomes and impacts list the results of the outputs below them
- SR6  the unit's framework: known levels, each parent one level up
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from instruments.schema import Instrument
from scoring import (
    AnswersInvalid,
    FrameworkNode,
    ListResult,
    RubricResult,
    ScoreReport,
)
from tests.scoring.inline import MINI_CPAS, load

Run = Callable[..., ScoreReport]

FRAMEWORK = (
    FrameworkNode("IM1", "impact", "Civilians are safer"),
    FrameworkNode("OC1", "outcome", "Communities report threats", "IM1"),
    FrameworkNode("OUT1", "output", "Early-warning network", "OC1", "Civil Affairs"),
    FrameworkNode("OUT2", "output", "Joint patrols", "OC1", "Force"),
)


def red(output: str, relevance: int, extent: int, duration: int) -> list[tuple[object, ...]]:
    """One working group's three RED rows for an output, each justified."""
    return [
        ("wg", "red", "red", value, f"why {criterion}", output, criterion, None)
        for criterion, value in (("relevance", relevance), ("extent", extent),
                                 ("duration", duration))
    ]


def rubric(report: ScoreReport, node: str) -> RubricResult:
    result = report.result(node)
    assert isinstance(result, RubricResult)
    return result


def test_total_is_the_sum_of_the_three_criteria(cpas: Instrument, run: Run) -> None:
    """SR1/SR4: 3 + 2 + 4 = 9, in the band (6, 9] "moderate", flagged as a convention."""
    report = run(cpas, red("OUT1", 3, 2, 4) + red("OUT2", 1, 1, 1), FRAMEWORK)
    result = rubric(report, "OUT1")
    assert [(c.criterion, c.value) for c in result.criteria] == [
        ("relevance", 3), ("extent", 2), ("duration", 4)]
    assert (result.total, result.rating, result.convention) == (9, "moderate", True)
    assert rubric(report, "OUT2").total == 3
    assert rubric(report, "OUT2").rating == "low"
    as_dict = result.to_dict()
    assert (as_dict["relevance"], as_dict["extent"], as_dict["duration"], as_dict["total"]) == (
        3, 2, 4, 9)
    assert as_dict["justifications"]["extent"] == "why extent"


@pytest.mark.parametrize(("levels", "total"), [((1, 1, 1), 3), ((4, 4, 4), 12)])
def test_total_spans_three_to_twelve(
    cpas: Instrument, run: Run, levels: tuple[int, int, int], total: int
) -> None:
    """SR1: "Each output therefore receives a total score between 3 and 12" (S1:72)."""
    report = run(cpas, red("OUT1", *levels) + red("OUT2", 2, 2, 2), FRAMEWORK)
    assert rubric(report, "OUT1").total == total


def test_no_band_unless_the_file_declares_one(run: Run) -> None:
    """SR4: CPAS defines no bands (cpas.md 2.11): without `bands:` the rating stays empty."""
    instrument = load(MINI_CPAS.replace("decimals: 0,\n     bands: red_total}", "decimals: 0}"))
    result = rubric(run(instrument, red("OUT1", 3, 3, 3) + red("OUT2", 2, 2, 2), FRAMEWORK), "OUT1")
    assert (result.total, result.rating, result.convention) == (9, None, False)


def test_missing_justification_is_an_error(cpas: Instrument, run: Run) -> None:
    """SR2: "Scores are provided along with a short, written assessment" (S1:72)."""
    rows = red("OUT1", 3, 2, 4) + red("OUT2", 2, 2, 2)
    rows[1] = ("wg", "red", "red", 2, "  ", "OUT1", "extent", 7)
    with pytest.raises(AnswersInvalid) as raised:
        run(cpas, rows, FRAMEWORK)
    (problem,) = raised.value.problems
    assert (problem.row, problem.column) == (7, "comment")
    assert "`OUT1.extent`" in problem.message and "justification" in problem.message


def test_missing_criterion_is_an_error_not_a_lower_total(cpas: Instrument, run: Run) -> None:
    """SR3: an output scored on relevance and extent only has no total at all."""
    rows = red("OUT1", 3, 2, 4)[:2] + red("OUT2", 2, 2, 2)
    with pytest.raises(AnswersInvalid) as raised:
        run(cpas, rows, FRAMEWORK)
    (problem,) = raised.value.problems
    assert "output `OUT1` has no duration score: add `OUT1.duration`" in problem.message


def test_unscored_output_is_an_error(cpas: Instrument, run: Run) -> None:
    """SR3: a declared output with no RED rows lacks all three criteria."""
    with pytest.raises(AnswersInvalid) as raised:
        run(cpas, red("OUT1", 3, 2, 4), FRAMEWORK)
    (problem,) = raised.value.problems
    assert "`OUT2` has no relevance / extent / duration score" in problem.message


@pytest.mark.parametrize("value", [0, 5, "high"])
def test_value_outside_one_to_four_is_an_error(cpas: Instrument, run: Run, value: object) -> None:
    """SR3: each metric is given a score from 1 to 4 (S1:72)."""
    rows = red("OUT1", 3, 2, 4) + red("OUT2", 2, 2, 2)
    rows[0] = ("wg", "red", "red", value, "why", "OUT1", "relevance", 4)
    with pytest.raises(AnswersInvalid) as raised:
        run(cpas, rows, FRAMEWORK)
    (problem,) = raised.value.problems
    assert (problem.row, problem.column) == (4, "value")
    assert f"`{value}` is not a relevance level (1, 2, 3, 4)" in problem.message


def test_outcomes_and_impacts_list_their_outputs(cpas: Instrument, run: Run) -> None:
    """SR5: only outputs get a RED score; OC1 and IM1 list OUT1 and OUT2 (cpas.md section 0)."""
    report = run(cpas, red("OUT2", 2, 2, 2) + red("OUT1", 3, 2, 4), FRAMEWORK)
    for node in ("OC1", "IM1"):
        result = report.result(node)
        assert isinstance(result, ListResult)
        assert [(r.node, r.total) for r in result.results if isinstance(r, RubricResult)] == [
            ("OUT1", 9), ("OUT2", 6)]
    assert [r.node for r in report.results] == ["IM1", "OC1", "OUT1", "OUT2"]
    assert [entry.id for entry in report.framework] == ["IM1", "OC1", "OUT1", "OUT2"]


@pytest.mark.parametrize(
    ("node", "message"),
    [
        (FrameworkNode("OUT9", "output", "Orphan", "OC9", row=5),
         "`OUT9` names parent `OC9`, which is not declared"),
        (FrameworkNode("OUT9", "output", "Skips a level", "IM1", row=5),
         "output `OUT9` has parent `IM1` of level impact; it needs a parent of level outcome"),
        (FrameworkNode("OUT9", "activity", "Unknown level", "OC1", row=5),
         "has level `activity`; the levels are impact, outcome, output"),
        (FrameworkNode("OC1", "outcome", "Twice", "IM1", row=5), "`OC1` is declared twice"),
    ],
)
def test_framework_structure_is_checked(
    cpas: Instrument, run: Run, node: FrameworkNode, message: str
) -> None:
    """SR6: impact > outcome > output (cpas.md 1.3); each problem names the framework row."""
    with pytest.raises(AnswersInvalid) as raised:
        run(cpas, red("OUT1", 3, 2, 4) + red("OUT2", 2, 2, 2), (*FRAMEWORK, node))
    assert any(message in p.message and p.row == 5 for p in raised.value.problems), [
        p.message for p in raised.value.problems]


def test_score_for_an_undeclared_output_is_an_error(cpas: Instrument, run: Run) -> None:
    """SR6: RED rows must name a declared output of the unit's framework."""
    rows = red("OUT1", 3, 2, 4) + red("OUT2", 2, 2, 2) + [
        ("wg", "red", "red", 3, "why", "OUT7", "relevance", 30)]
    with pytest.raises(AnswersInvalid) as raised:
        run(cpas, rows, FRAMEWORK)
    (problem,) = raised.value.problems
    assert (problem.row, problem.message) == (
        30, "output `OUT7` is not declared: add a framework row for it")
