"""Facts of the bundled `jiu-rbm` instrument, counted against the source.

JIU01: 5 pillars, 17 components, numbered 1.1-5.2 with their Annex VIII names
       (seeds/002_b884183981354cb4.txt:447 "There are 17 components in total for the 5
       pillars"; names from reference/jiu_framework.md section 1.5).
JIU02: each component has exactly five stages, numbered 1-5, each with English and French
       title and descriptor (Box 3, seed lines 492-512; annex IX per component).
JIU03: the self-assessment asks one stage per component, with rationale and evidence, and
       evidence may be replaced by the names of those who judged (annex IX Q.1, seed lines
       2420-2431; jiu_framework.md 4.4).
JIU04: supporting activities are rated on the 1-3 contribution scale (seed lines 2252-2265).
JIU05: components are judged holistically and pillars shown as a distribution, never averaged
       (seed line 2240; paragraph 87, seed lines 618-625).
"""

from __future__ import annotations

import pytest

from instruments.checks import walk_nodes
from instruments.loader import LoadedInstrument, load_instrument

COMPONENTS = {
    "1.1": "Results-based management strategy",
    "1.2": "Change management framework",
    "1.3": "Accountability framework",
    "2.1": "Corporate strategic results framework and strategic planning",
    "2.2": "Results frameworks for programmes and projects",
    "2.3": "Results measurement system",
    "2.4": "Results-based budgeting",
    "2.5": "Human resources management",
    "3.1": "Performance monitoring",
    "3.2": "Results reporting",
    "3.3": "Evaluation",
    "3.4": "Management information system",
    "4.1": "Internalization",
    "4.2": "Leadership",
    "4.3": "Use of results",
    "5.1": "United Nations coherence for outcome achievement",
    "5.2": "Alignment between United Nations and other partners for outcome achievement",
}


@pytest.fixture(scope="module")
def jiu() -> LoadedInstrument:
    return load_instrument("jiu-rbm")


def _components(jiu: LoadedInstrument) -> dict[str, object]:
    return {node.id: node for node, _ in walk_nodes(jiu.instrument.nodes)
            if node.level == "component"}


def test_five_pillars_and_seventeen_components_with_exact_names(jiu: LoadedInstrument) -> None:
    """JIU01."""
    pillars = jiu.instrument.nodes
    assert [pillar.id for pillar in pillars] == ["P1", "P2", "P3", "P4", "P5"]
    assert [len(pillar.children) for pillar in pillars] == [3, 5, 4, 3, 2]
    components = _components(jiu)
    assert {cid: node.title["en"] for cid, node in components.items()} == COMPONENTS


def test_every_component_has_five_stages_in_english_and_french(jiu: LoadedInstrument) -> None:
    """JIU02: 17 x 5 = 85 stage descriptors."""
    components = _components(jiu)
    stages = [stage for node in components.values() for stage in node.stages]
    assert len(stages) == 85
    for cid, node in components.items():
        assert [stage.stage for stage in node.stages] == [1, 2, 3, 4, 5], cid
        for stage in node.stages:
            assert {"en", "fr"} <= set(stage.title) and {"en", "fr"} <= set(stage.descriptor)
            assert stage.source and stage.source.startswith("seeds/002_b884183981354cb4.txt:")


def test_stage_descriptors_are_not_a_template(jiu: LoadedInstrument) -> None:
    """Errata point 2: each component's descriptors follow its own text, none is generated."""
    descriptors = [stage.descriptor["en"] for node in _components(jiu).values()
                   for stage in node.stages]
    assert len(set(descriptors)) >= 84  # 4.3 stage 5 repeats 4.2 stage 5 in the source


def test_self_assessment_asks_stage_rationale_and_evidence(jiu: LoadedInstrument) -> None:
    """JIU03."""
    questionnaire = {q.id: q for q in jiu.instrument.questionnaires}["self_assessment"]
    items = {item.id: item for item in questionnaire.items}
    for cid in COMPONENTS:
        stage = items[cid]
        assert stage.type == "stage" and stage.role == "stage" and stage.node == cid
        assert stage.required
        assert stage.evidence is not None and stage.evidence.alternative is not None
        assert items[f"{cid}.rationale"].required
        assert items[f"{cid}.evidence"].role == "evidence_note"


def test_validation_questionnaire_has_a_validated_stage_per_component(
    jiu: LoadedInstrument,
) -> None:
    """Annex IX part 3: the validator records a stage per component (seed lines 3333-3360)."""
    questionnaire = {q.id: q for q in jiu.instrument.questionnaires}["validation"]
    stages = [item for item in questionnaire.items if item.role == "validated_stage"]
    assert [item.node for item in stages] == list(COMPONENTS)


def test_activities_use_the_contribution_scale(jiu: LoadedInstrument) -> None:
    """JIU04."""
    scale = {s.id: s for s in jiu.instrument.scales}["contribution"]
    assert [(option.code, option.label["en"]) for option in scale.options] == [
        (1, "No contribution"), (2, "Little contribution"), (3, "Significant contribution")]
    activity_items = [item for q in jiu.instrument.questionnaires for item in q.items
                      if item.role == "activity"]
    assert activity_items and all(item.scale == "contribution" for item in activity_items)


def test_components_are_judged_and_pillars_distributed(jiu: LoadedInstrument) -> None:
    """JIU05: the rules named in the file, never an average."""
    rules = {rule.id: rule.method for rule in jiu.instrument.scoring}
    for pillar in jiu.instrument.nodes:
        assert rules[pillar.scoring] == "stage_distribution"
        for component in pillar.children:
            assert rules[component.scoring] == "holistic_stage"


def test_outcomes_questionnaire_is_open_ended(jiu: LoadedInstrument) -> None:
    """Annex X: outcomes are asked with open questions, not ratings (seed lines 3370-3540)."""
    questionnaire = {q.id: q for q in jiu.instrument.questionnaires}["outcomes"]
    assert questionnaire.role == "senior_manager"
    assert len(questionnaire.items) >= 30
    assert {item.type for item in questionnaire.items} == {"text"}
