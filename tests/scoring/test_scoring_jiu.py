"""JIU RBM benchmarking: ``holistic_stage`` and ``stage_distribution``, computed by hand.

Rules (DESIGN.md "Scoring rules"; reference/jiu_framework.md sections 2.7 and 4.3):

- SJ1  a component's stage is the one judged stage, self-assessed and validated side by side,
       difference = validated - self (None when either is missing)
- SJ2  one judgement per component and kind: two self-assessed stages are an error to fix
- SJ3  a pillar is the distribution of its components' stages (min, median, max, modes,
       counts per stage), for self and validated separately: never an averaged stage (para 87)
- SJ4  the whole instrument is the configuration across all components (para 63)
- SJ5  supporting activities: counts of ratings 1/2/3 and the list; they never feed the stage
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from instruments.schema import Instrument
from scoring import (
    AnswersInvalid,
    DistributionResult,
    ScoreReport,
    StageResult,
)

Run = Callable[..., ScoreReport]

SELF = {"1.1": 1, "1.2": 2, "1.3": 2, "1.4": 5, "2.1": 4}
VALIDATED = {"1.1": 1, "1.2": 2, "1.3": 3, "2.1": 3}


def assessment() -> list[tuple[object, ...]]:
    rows: list[tuple[object, ...]] = [("org", "self_assessment", c, s) for c, s in SELF.items()]
    rows += [("jiu", "validation", c, s) for c, s in VALIDATED.items()]
    return rows


def stage(report: ScoreReport, node: str) -> StageResult:
    result = report.result(node)
    assert isinstance(result, StageResult)
    return result


def distribution(report: ScoreReport, node: str) -> DistributionResult:
    result = report.result(node)
    assert isinstance(result, DistributionResult)
    return result


def test_self_and_validated_stage_side_by_side(jiu: Instrument, run: Run) -> None:
    """SJ1: 1.3 self 2, validated 3, difference +1; 2.1 self 4, validated 3, difference -1."""
    report = run(jiu, assessment())
    assert (stage(report, "1.3").self_stage, stage(report, "1.3").validated_stage) == (2, 3)
    assert stage(report, "1.3").difference == 1
    assert stage(report, "2.1").difference == -1
    assert stage(report, "1.3").stages == (1, 2, 3, 4, 5)


def test_difference_is_none_before_validation(jiu: Instrument, run: Run) -> None:
    """SJ1: 1.4 has no validated stage yet: the difference is unknown, not 0 or -5."""
    result = stage(run(jiu, assessment()), "1.4")
    assert (result.self_stage, result.validated_stage, result.difference) == (5, None, None)


def test_two_self_assessed_stages_are_an_error(jiu: Instrument, run: Run) -> None:
    """SJ2: the form asks for one stage per component (jiu_framework.md 4.3 point 1)."""
    rows = [*assessment(), ("other", "self_assessment", "1.1", 3, None, None, None, 9)]
    with pytest.raises(AnswersInvalid) as raised:
        run(jiu, rows)
    (problem,) = raised.value.problems
    assert problem.row == 9
    assert "`1.1` has 2 self-assessed stages" in problem.message
    assert "`org`" in problem.message and "`other`" in problem.message


def test_stage_outside_the_scale_is_an_error(jiu: Instrument, run: Run) -> None:
    """SJ1: stages are 1 to 5 (JIU/NOTE/2017/1 Box 3); 6 is refused with the accepted stages."""
    with pytest.raises(AnswersInvalid) as raised:
        run(jiu, [("org", "self_assessment", "1.1", 6, None, None, None, 2)])
    (problem,) = raised.value.problems
    assert (problem.row, problem.column) == (2, "value")
    assert "`6` is not a stage (1, 2, 3, 4, 5)" in problem.message


def test_pillar_distribution_is_never_a_mean(jiu: Instrument, run: Run) -> None:
    """SJ3: P1 self stages 1, 2, 2, 5: min 1, median 2, max 5, mode 2 (their mean, 2.5, is
    not reported anywhere); validated 1, 2, 3 and one missing: median 2."""
    pillar = distribution(run(jiu, assessment()), "P1")
    assert pillar.components == ("1.1", "1.2", "1.3", "1.4")
    summary = pillar.self_assessed
    assert (summary.minimum, summary.median, summary.maximum) == (1, 2.0, 5)
    assert summary.modes == (2,)
    assert {c.code: c.count for c in summary.counts} == {1: 1, 2: 2, 3: 0, 4: 0, 5: 1}
    assert (summary.assessed, summary.missing) == (4, 0)
    validated = pillar.validated
    assert (validated.minimum, validated.median, validated.maximum) == (1, 2.0, 3)
    assert (validated.assessed, validated.missing) == (3, 1)
    assert "mean" not in str(pillar.to_dict())


def test_even_count_median_lies_between_two_stages(jiu: Instrument, run: Run) -> None:
    """SJ3: self stages 1, 2, 4, 5: the median (2 + 4) / 2 = 3 describes the distribution."""
    rows = [("org", "self_assessment", c, s)
            for c, s in {"1.1": 1, "1.2": 2, "1.3": 4, "1.4": 5}.items()]
    summary = distribution(run(jiu, rows), "P1").self_assessed
    assert summary.median == 3.0
    assert summary.modes == (1, 2, 4, 5)


def test_configuration_spans_every_component(jiu: Instrument, run: Run) -> None:
    """SJ4: self stages 1, 2, 2, 5, 4 across the five components: min 1, median 2, max 5."""
    configuration = run(jiu, assessment()).configuration
    assert configuration is not None
    assert (configuration.node, configuration.level) == ("mini-jiu", "instrument")
    assert configuration.components == ("1.1", "1.2", "1.3", "1.4", "2.1")
    summary = configuration.self_assessed
    assert (summary.minimum, summary.median, summary.maximum, summary.modes) == (1, 2.0, 5, (2,))
    assert configuration.validated.median == 2.5  # validated 1, 2, 3, 3 -> (2 + 3) / 2


def test_activities_are_counted_and_listed_not_scored(jiu: Instrument, run: Run) -> None:
    """SJ5: ratings 3, 1, 3 -> counts 1:1, 2:0, 3:2; the stage stays the one judged (1)."""
    rows = [*assessment(), ("org", "self_assessment", "1.1.a1", 3),
            ("org", "self_assessment", "1.1.a2", 1), ("org", "self_assessment", "1.1.a3", 3)]
    result = stage(run(jiu, rows), "1.1")
    assert {c.code: c.count for c in result.activities.counts} == {1: 1, 2: 0, 3: 2}
    assert [(a.item, a.rating) for a in result.activities.rated] == [
        ("1.1.a1", 3), ("1.1.a2", 1), ("1.1.a3", 3)]
    assert result.self_stage == 1


def test_json_shape_of_a_component(jiu: Instrument, run: Run) -> None:
    """SJ1: the JSON result of a component carries self_stage and validated_stage (issue text)."""
    as_dict = stage(run(jiu, assessment()), "1.2").to_dict()
    assert {key: as_dict[key] for key in ("node", "self_stage", "validated_stage")} == {
        "node": "1.2", "self_stage": 2, "validated_stage": 2}
