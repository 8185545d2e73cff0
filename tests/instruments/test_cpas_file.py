"""The CPAS RED instrument encodes the facts of seeds/001_782aced7fcf9d02c.txt exactly.

"S1:N" below means line N of that seed; reference/cpas.md is the study of it.
"""

from __future__ import annotations

from itertools import pairwise
from pathlib import Path

import pytest
import yaml

from instruments.checks import missing_translations
from instruments.expressions import evaluate, parse_expression
from instruments.loader import load_instrument_file
from instruments.schema import BandSet, Instrument, Item, ScoringRule

CPAS_FILE = Path(__file__).resolve().parents[2] / "instruments" / "library" / "cpas-red.yaml"


@pytest.fixture(scope="module")
def cpas() -> Instrument:
    """The bundled CPAS RED file, validated by the schema."""
    return Instrument.model_validate(yaml.safe_load(CPAS_FILE.read_text(encoding="utf-8")))


def _item(instrument: Instrument, item_id: str) -> Item:
    (questionnaire,) = instrument.questionnaires
    return next(item for item in questionnaire.items if item.id == item_id)


def _rule(instrument: Instrument, rule_id: str) -> ScoringRule:
    return next(rule for rule in instrument.scoring if rule.id == rule_id)


def _band_set(instrument: Instrument, band_set_id: str) -> BandSet:
    return next(band_set for band_set in instrument.bands if band_set.id == band_set_id)


def test_file_passes_the_loader_cross_checks() -> None:
    loaded = load_instrument_file(CPAS_FILE)
    assert loaded.key == "cpas-red"
    # languages: [en, fr] promises French for every text people see.
    assert missing_translations(loaded.instrument, "fr") == []


def test_identity(cpas: Instrument) -> None:
    assert cpas.key == "cpas-red"
    assert cpas.version == "2020.1"  # S1 is "as of early 2020" (S1:153, reference/cpas.md header)
    assert cpas.languages == ("en", "fr")


def test_framework_is_impact_outcome_output(cpas: Instrument) -> None:
    # S1:64: the assessment covers "output, intended outcome, and intended impact".
    assert cpas.nodes == ()
    assert cpas.framework is not None
    assert cpas.framework.levels == ("impact", "outcome", "output")
    assert cpas.framework.scoring == {
        "output": "red_output", "outcome": "red_rollup", "impact": "red_rollup"
    }
    assert _rule(cpas, "red_rollup").method == "list_children"


def test_red_is_three_criteria_relevance_extent_duration(cpas: Instrument) -> None:
    red = _item(cpas, "red")
    assert red.type == "rubric"
    assert red.per_level == "output"  # S1:66: RED appreciates the quality of outputs
    assert red.required
    # S1:66 "relevance, extent, and duration (RED analysis)", defined at S1:68, 69 and 70.
    assert [criterion.id for criterion in red.criteria] == ["relevance", "extent", "duration"]
    assert [criterion.label["en"] for criterion in red.criteria] == [
        "Relevance", "Extent", "Duration"
    ]
    assert all(criterion.definition for criterion in red.criteria)


def test_each_criterion_scores_1_to_4(cpas: Instrument) -> None:
    # S1:72 "Each metric is given a score from 1 to 4."
    for criterion in _item(cpas, "red").criteria:
        assert [level.level for level in criterion.levels] == [1, 2, 3, 4], criterion.id


def test_level_descriptors_are_declared_as_the_files_own(cpas: Instrument) -> None:
    # The seed gives no verbal label for levels 1-4 (reference/instruments.md section 3.2 [U]).
    for criterion in _item(cpas, "red").criteria:
        assert criterion.source is not None and "own anchors" in criterion.source
    assert any("own anchors" in note for note in cpas.notes)


def test_justification_is_required(cpas: Instrument) -> None:
    # S1:72 "Scores are provided along with a short, written assessment ... explaining why".
    assert _item(cpas, "red").justification_required


def test_total_ranges_from_3_to_12(cpas: Instrument) -> None:
    # S1:72 "Each output therefore receives a total score between 3 and 12."
    red = _item(cpas, "red")
    lowest = sum(min(level.level for level in criterion.levels) for criterion in red.criteria)
    highest = sum(max(level.level for level in criterion.levels) for criterion in red.criteria)
    assert (lowest, highest) == (3 * 1, 3 * 4) == (3, 12)
    rule = _rule(cpas, "red_output")
    assert rule.method == "rubric_total"
    assert (rule.scale_min, rule.scale_max) == (lowest, highest)


def test_bands_on_the_total_are_a_declared_convention(cpas: Instrument) -> None:
    # CPAS defines no bands for the total (reference/cpas.md section 2.11; S1:66-72 has none).
    rule = _rule(cpas, "red_output")
    assert rule.bands == "red_total_convention"
    band_set = _band_set(cpas, "red_total_convention")
    assert band_set.convention is True
    assert band_set.note is not None
    assert set(band_set.note) == {"en", "fr"}
    assert "not cpas doctrine" in band_set.note["en"].lower()
    bands = band_set.bands
    assert (bands[0].lower, bands[-1].upper) == (rule.scale_min, rule.scale_max)
    assert all(before.upper == after.lower for before, after in pairwise(bands))


def test_recommendation_has_exactly_the_four_types(cpas: Instrument) -> None:
    # S1:64 "activities that they need to continue, end, adapt, or expand".
    recommendation = _item(cpas, "recommendation")
    assert recommendation.type == "single_choice"
    assert recommendation.role == "recommendation"
    assert recommendation.per_level == "output"
    assert [option.label["en"] for option in recommendation.options] == [
        "Continue", "End", "Adapt", "Expand"
    ]
    assert len({option.code for option in recommendation.options}) == 4
    # A recommendation type is a decision, not a score.
    assert all(option.score is None and option.excluded is None
               for option in recommendation.options)


@pytest.mark.parametrize("item_id", ["recommendation.owner", "recommendation.timeline"])
def test_owner_and_timeline_are_asked_only_for_a_change(cpas: Instrument, item_id: str) -> None:
    # S1:64 "Decisions are then communicated to managers, with timelines for implementation";
    # an output that continues stays with its responsible section (S1:121).
    codes = {option.label["en"]: option.code for option in _item(cpas, "recommendation").options}
    relevant = _item(cpas, item_id).relevant
    assert relevant is not None
    rule = parse_expression(relevant)
    asked = {label for label, code in codes.items() if evaluate(rule, {"recommendation": code})}
    assert asked == {"End", "Adapt", "Expand"}


def test_outcomes_and_impacts_get_a_written_progress_judgement(cpas: Instrument) -> None:
    # S1:64: progress towards the intended outcome, then the intended impact; no scale is given
    # for those levels (reference/cpas.md section 1.6), so the answer is text.
    for item_id, level in (("outcome.progress", "outcome"), ("impact.progress", "impact")):
        item = _item(cpas, item_id)
        assert (item.type, item.per_level, item.required) == ("text", level, True)


def test_the_working_group_answers(cpas: Instrument) -> None:
    # S1:82: CPAS working groups undertake the RED analysis and produce recommendations.
    (questionnaire,) = cpas.questionnaires
    assert questionnaire.role == "working_group"
