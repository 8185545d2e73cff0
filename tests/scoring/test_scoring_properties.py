"""Properties of the CCPM method that must hold for any answers (hypothesis).

- SP1  results do not depend on the order of the answers (DESIGN.md: same answers, same
       result, byte for byte)
- SP2  every score lies within 0-100 (the 0-4 scale x 25, instruments.md 1.5 step 4)
- SP3  raising one answer never lowers the score of any node it feeds: the respondent's mean
       can only rise, and the median is monotone in each value
"""

from __future__ import annotations

from random import Random

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from instruments.schema import Instrument
from scoring import Answer, PercentResult, Responses, score
from tests.scoring.inline import MINI_CCPM, load

INSTRUMENT: Instrument = load(MINI_CCPM)
SCORED_ITEMS = {"coordinator": ("c1", "c2", "c3"), "partner": ("p1", "p2")}
CODES = (0, 1, 2, 3, 4, 99, 999, 9999, None)


@st.composite
def assessments(draw: st.DrawFn) -> list[Answer]:
    """Up to 12 respondents, each answering any subset of their questionnaire's items."""
    answers: list[Answer] = []
    for number in range(draw(st.integers(min_value=0, max_value=12))):
        questionnaire = draw(st.sampled_from(sorted(SCORED_ITEMS)))
        items = draw(st.sets(st.sampled_from(SCORED_ITEMS[questionnaire]), min_size=1))
        answers += [Answer(f"r{number}", questionnaire, item, draw(st.sampled_from(CODES)))
                    for item in sorted(items)]
    return answers


def scores(answers: list[Answer]) -> dict[str, float | None]:
    report = score(INSTRUMENT, Responses.of(answers))
    return {r.node: r.score for r in report.results if isinstance(r, PercentResult)}


@settings(max_examples=100, suppress_health_check=[HealthCheck.too_slow])
@given(assessments(), st.randoms(use_true_random=False))
def test_results_do_not_depend_on_row_order(answers: list[Answer], shuffler: Random) -> None:
    """SP1: shuffled answers serialise to the same JSON."""
    shuffled = list(answers)
    shuffler.shuffle(shuffled)
    first = score(INSTRUMENT, Responses.of(answers)).to_json()
    assert score(INSTRUMENT, Responses.of(shuffled)).to_json() == first


@settings(max_examples=100)
@given(assessments())
def test_scores_stay_within_zero_and_one_hundred(answers: list[Answer]) -> None:
    """SP2: a score is None (insufficient data) or a percentage."""
    report = score(INSTRUMENT, Responses.of(answers))
    for result in report.results:
        assert isinstance(result, PercentResult)
        for value in (result.score, *(part.score for part in result.by_questionnaire)):
            assert value is None or 0 <= value <= 100


@settings(max_examples=200)
@given(assessments(), st.data())
def test_raising_one_answer_never_lowers_a_score(
    answers: list[Answer], data: st.DataObject
) -> None:
    """SP3: change one valid answer v to a higher valid code; no node's score goes down."""
    raisable = {i: answer.value for i, answer in enumerate(answers)
                if isinstance(answer.value, int) and answer.value < 4}
    if not raisable:
        return
    position = data.draw(st.sampled_from(sorted(raisable)))
    higher = data.draw(st.integers(min_value=raisable[position] + 1, max_value=4))
    raised = list(answers)
    raised[position] = answers[position]._replace(value=higher)
    before, after = scores(answers), scores(raised)
    for node, value in before.items():
        if value is None:  # nobody counted: raising a valid answer cannot add respondents
            assert after[node] is None
            continue
        new = after[node]
        assert new is not None and new >= value, (node, value, new)
