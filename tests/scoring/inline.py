"""Small instruments written inline (pyxform style), shared by the scoring tests.

Each instrument is the smallest file that exercises one method the way the
real framework uses it; the bundled library files are tested in
test_scoring_library.py.
"""

from __future__ import annotations

import yaml

from instruments.schema import Instrument

# Bands as in reference/instruments.md section 1.5: upper-inclusive, weak <= 25 < unsatisfactory
# <= 50 < satisfactory <= 75 < good.
CCPM_BANDS = """
bands:
  - id: status
    source: reference/instruments.md#1.5
    bands:
      - {key: weak, lower: 0, upper: 25, label: Weak, colour: "#e0301e", action: true}
      - {key: unsatisfactory, lower: 25, upper: 50, label: Unsatisfactory, colour: "#ff9400",
         action: true}
      - {key: satisfactory, lower: 50, upper: 75, label: Satisfactory, colour: "#ffe003"}
      - {key: good, lower: 75, upper: 100, label: Good, colour: "#1fc63c"}
"""

# Coordinator and partner questionnaires; codes 99/999/9999 are excluded (instruments.md 1.4).
MINI_CCPM = CCPM_BANDS + """
key: mini-ccpm
version: "1"
title: Mini coordination survey
scales:
  - id: freq
    options:
      - {code: 0, label: Never, score: 0}
      - {code: 1, label: Rarely, score: 1}
      - {code: 2, label: Sometimes, score: 2}
      - {code: 3, label: Often, score: 3}
      - {code: 4, label: Always, score: 4}
      - {code: 99, label: "Don't know", excluded: dont_know}
      - {code: 999, label: Does not exist, excluded: does_not_exist}
      - {code: 9999, label: Not applicable, excluded: not_applicable}
scoring:
  - id: pct
    method: median_of_respondent_means
    scale_min: 0
    scale_max: 4
    percent_factor: 25
    decimals: 2
    min_respondents: 1
    bands: status
nodes:
  - id: "1"
    level: function
    title: Supporting service delivery
    scoring: pct
    children:
      - id: "1.1"
        level: sub_function
        title: Platform
        scoring: pct
        children:
          - {id: "1.1.1", level: indicator, title: Meetings, scoring: pct}
          - {id: "1.1.2", level: indicator, title: Minutes, scoring: pct}
  - id: "2"
    level: function
    title: Informing decisions
    scoring: pct
questionnaires:
  - id: coordinator
    role: coordinator
    title: Coordinator
    items:
      - {id: c1, type: single_choice, scale: freq, node: "1.1.1", role: score, text: "Meetings?"}
      - {id: c2, type: single_choice, scale: freq, node: "1.1.2", role: score, text: "Minutes?"}
      - {id: c3, type: single_choice, scale: freq, node: "2", role: score, text: "Analysis?"}
      - {id: m1, type: number, integer: true, minimum: 0, role: member_count, text: "INGOs?"}
      - {id: m2, type: number, integer: true, minimum: 0, role: member_count, text: "NNGOs?"}
      - {id: a1, type: number, minimum: 0, role: attendance_count, text: "INGOs at meetings?"}
      - {id: a2, type: number, minimum: 0, role: attendance_count, text: "NNGOs at meetings?"}
      - {id: note, type: text, role: comment, node: "1", text: Comments}
  - id: partner
    role: partner
    title: Partner
    anonymous: true
    items:
      - id: org
        type: single_choice
        role: organisation_type
        required: true
        text: Type of organisation
        options:
          - {code: 1, label: {en: International NGO, fr: ONG internationale}}
          - {code: 2, label: {en: National NGO, fr: ONG nationale}}
      - {id: p1, type: single_choice, scale: freq, node: "1.1.1", role: score, text: "Meetings?"}
      - {id: p2, type: single_choice, scale: freq, node: "2", role: score, text: "Analysis?"}
"""

_STAGES = """
        stages:
          - {stage: 1, title: Not started, descriptor: Nothing in place}
          - {stage: 2, title: Exploring, descriptor: Pilots}
          - {stage: 3, title: Transition, descriptor: Being mainstreamed}
          - {stage: 4, title: Mainstreamed, descriptor: In place almost everywhere}
          - {stage: 5, title: Renewal, descriptor: Evaluated and renewed}"""


def _component(node_id: str) -> str:
    return f"""
      - id: "{node_id}"
        level: component
        title: Component {node_id}
        scoring: component{_STAGES}"""


# Stage per component, self-assessed and validated, never averaged (jiu_framework.md 4.3).
MINI_JIU = f"""
key: mini-jiu
version: "1"
title: Mini RBM benchmarking
scales:
  - id: contribution
    options:
      - {{code: 1, label: No contribution}}
      - {{code: 2, label: Little contribution}}
      - {{code: 3, label: Significant contribution}}
scoring:
  - {{id: component, method: holistic_stage}}
  - {{id: pillar, method: stage_distribution}}
nodes:
  - id: P1
    level: pillar
    title: Pillar one
    scoring: pillar
    children:{_component("1.1")}{_component("1.2")}{_component("1.3")}{_component("1.4")}
  - id: P2
    level: pillar
    title: Pillar two
    scoring: pillar
    children:{_component("2.1")}
questionnaires:
  - id: self_assessment
    role: focal_point
    title: Self-assessment
    items:
""" + "".join(
    f"""      - {{id: "{c}", type: stage, node: "{c}", role: stage, required: true, text: "Stage?"}}
      - {{id: "{c}.rationale", type: text, node: "{c}", role: rationale, text: "Why?"}}
"""
    for c in ("1.1", "1.2", "1.3", "1.4", "2.1")
) + """      - {id: "1.1.a1", type: single_choice, scale: contribution, node: "1.1", role: activity,
         text: Strategy workshops}
      - {id: "1.1.a2", type: single_choice, scale: contribution, node: "1.1", role: activity,
         text: Focal point network}
      - {id: "1.1.a3", type: single_choice, scale: contribution, node: "1.1", role: activity,
         text: Guidance notes}
  - id: validation
    role: validator
    title: Validation
    items:
""" + "".join(
    f"""      - {{id: "{c}", type: stage, node: "{c}", role: validated_stage, text: "Validated?"}}
"""
    for c in ("1.1", "1.2", "1.3", "1.4", "2.1")
)

# RED: relevance, extent, duration 1-4 each with a justification, total 3-12 (cpas.md 2.1).
_LEVELS = """
            levels:
              - {level: 1, descriptor: Poor}
              - {level: 2, descriptor: Fair}
              - {level: 3, descriptor: Good}
              - {level: 4, descriptor: Strong}"""

MINI_CPAS = f"""
key: mini-cpas
version: "1"
title: Mini RED analysis
bands:
  - id: red_total
    convention: true
    note: Our own reading aid, not CPAS doctrine.
    bands:
      - {{key: low, lower: 3, upper: 6, label: Low, colour: "#dceaf7"}}
      - {{key: moderate, lower: 6, upper: 9, label: Moderate, colour: "#8db6de"}}
      - {{key: high, lower: 9, upper: 12, label: High, colour: "#1f4e79", text_colour: "#ffffff"}}
scoring:
  - {{id: red_output, method: rubric_total, scale_min: 3, scale_max: 12, decimals: 0,
     bands: red_total}}
  - {{id: red_rollup, method: list_children}}
framework:
  levels: [impact, outcome, output]
  scoring: {{output: red_output, outcome: red_rollup, impact: red_rollup}}
questionnaires:
  - id: red
    role: working_group
    title: RED analysis
    items:
      - id: red
        type: rubric
        per_level: output
        required: true
        justification_required: true
        role: score
        text: Score the output
        criteria:
          - id: relevance
            label: Relevance{_LEVELS}
          - id: extent
            label: Extent{_LEVELS}
          - id: duration
            label: Duration{_LEVELS}
      - id: recommendation
        type: single_choice
        per_level: output
        role: recommendation
        text: Recommendation
        options:
          - {{code: 1, label: Continue}}
          - {{code: 2, label: End}}
          - {{code: 3, label: Adapt}}
          - {{code: 4, label: Expand}}
      - {{id: recommendation.text, type: text, per_level: output, role: open_answer,
         text: Recommendation in words}}
"""


def load(text: str) -> Instrument:
    """An instrument from inline YAML, validated by the schema."""
    return Instrument.model_validate(yaml.safe_load(text))
