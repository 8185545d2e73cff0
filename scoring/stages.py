"""``holistic_stage`` and ``stage_distribution`` (JIU RBM benchmarking).

A component's stage is one holistic judgement against its stage descriptors,
never computed from indicators (JIU/NOTE/2017/1 annex IX, every component;
reference/jiu_framework.md section 4.3). The engine records the self-assessed
stage and the validated stage side by side and their difference (validated
minus self). Pillars and the organisation are shown as the configuration of
their components' stages: minimum, median, maximum, modes and counts per
stage, never an averaged stage (para 63 and para 87; jiu_framework.md 2.7).
Supporting-activity ratings (Q.2: 1 no, 2 little, 3 significant contribution)
are summarised per component and do not feed the stage (jiu_framework.md 4.3 point 8).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from fractions import Fraction

from instruments.schema import ScoringRule
from scoring.answers import AnswerProblem, AnswersInvalid
from scoring.methods import Context, register
from scoring.numbers import median
from scoring.plan import LevelDomain, PlanNode, Slot, code_domain
from scoring.results import (
    ActivityRating,
    ActivitySummary,
    CodeCount,
    DistributionResult,
    NodeResult,
    StageResult,
    StageSummary,
)


@register("holistic_stage")
def holistic_stage(
    context: Context, rule: ScoringRule, nodes: Sequence[PlanNode]
) -> Mapping[str, NodeResult]:
    """The self-assessed and validated stage of each node, and its activities."""
    problems: list[AnswerProblem] = []
    results: dict[str, NodeResult] = {}
    for node in nodes:
        self_slots = context.plan.slots_where(roles=("stage",), node=node.id)
        validated_slots = context.plan.slots_where(roles=("validated_stage",), node=node.id)
        self_stage = _judged_stage(context, node, self_slots, "self-assessed", problems)
        validated = _judged_stage(context, node, validated_slots, "validated", problems)
        results[node.id] = StageResult(
            node=node.id, level=node.level, parent=node.parent, depth=node.depth,
            method=rule.method, self_stage=self_stage, validated_stage=validated,
            difference=None if self_stage is None or validated is None
            else validated - self_stage,
            stages=_stage_scale(node, (*self_slots, *validated_slots)),
            activities=_activities(context, node),
        )
    if problems:
        raise AnswersInvalid(problems)
    return results


def _judged_stage(
    context: Context, node: PlanNode, slots: Iterable[Slot], kind: str,
    problems: list[AnswerProblem],
) -> int | None:
    """The one stage given for a node; two respondents giving one is a problem to fix."""
    answers = context.answers
    given = sorted(
        (answers.respondent_id(int(position)), int(position))
        for slot in slots for position in answers.positions(slot.index)
        if answers.value(int(position)) is not None
    )
    if len(given) > 1:
        names = ", ".join(f"`{respondent}`" for respondent, _ in given)
        last = answers.answers[max(position for _, position in given)]
        problems.append(AnswerProblem(
            f"{node.level} `{node.id}` has {len(given)} {kind} stages (from {names}): an "
            f"assessment judges one {kind} stage per {node.level}; keep one", last.row, "item"))
        return None
    if not given:
        return None
    value = answers.value(given[0][1])
    return value if isinstance(value, int) else None


def _stage_scale(node: PlanNode, slots: Iterable[Slot]) -> tuple[int, ...]:
    """The stages a node can be at: its own stage descriptors, else its items' stages."""
    if node.node is not None and node.node.stages:
        return tuple(stage.stage for stage in node.node.stages)
    levels = {level for slot in slots if isinstance(slot.domain, LevelDomain)
              for level in slot.domain.levels}
    return tuple(sorted(levels))


def _activities(context: Context, node: PlanNode) -> ActivitySummary:
    """How many supporting activities got each rating, and the ratings in item order."""
    answers = context.answers
    rated: list[ActivityRating] = []
    codes: list[int] = []
    for slot in context.plan.slots_where(roles=("activity",), node=node.id):
        domain = code_domain(slot)
        codes += [code for code in (domain.codes if domain else ()) if code not in codes]
        rated += sorted(
            (ActivityRating(slot.item.id, answers.respondent_id(int(p)), value)
             for p in answers.positions(slot.index)
             if isinstance(value := answers.value(int(p)), int)),
            key=lambda entry: entry.respondent,
        )
    tally = Counter(entry.rating for entry in rated)
    return ActivitySummary(tuple(CodeCount(code, tally[code]) for code in codes), tuple(rated))


@register("stage_distribution", rollup=True)
def stage_distribution(
    context: Context, rule: ScoringRule, nodes: Sequence[PlanNode]
) -> Mapping[str, NodeResult]:
    """The configuration of the judged stages below each node."""
    return {
        node.id: configuration_of(
            context, rule, node.id, node.level, node.parent, node.depth,
            context.tree.subtree[node.id][1:],
        )
        for node in nodes
    }


def configuration(context: Context) -> DistributionResult | None:
    """The whole instrument's configuration, when its top nodes are stage distributions.

    "Across all components, it provides the configuration or pattern of level
    of development" (JIU/NOTE/2017/1 para 63; jiu_framework.md 2.7).
    """
    rules = {node.rule.id: node.rule for node in context.tree.roots if node.rule is not None}
    roots_share_one_rule = len(rules) == 1 and all(node.rule for node in context.tree.roots)
    if not roots_share_one_rule:
        return None
    rule = next(iter(rules.values()))
    if rule.method != "stage_distribution":
        return None
    every_node = tuple(node.id for node in context.tree.nodes)
    key = context.plan.instrument.key
    return configuration_of(context, rule, key, "instrument", None, 0, every_node)


def configuration_of(
    context: Context, rule: ScoringRule, node: str, level: str, parent: str | None, depth: int,
    below: Iterable[str],
) -> DistributionResult:
    """The stage distribution of the judged nodes among ``below``, self and validated apart."""
    judged = [
        result for result in (context.results.get(node_id) for node_id in below)
        if isinstance(result, StageResult)
    ]
    scale = tuple(sorted({stage for result in judged for stage in result.stages}))
    return DistributionResult(
        node=node, level=level, parent=parent, depth=depth, method=rule.method,
        components=tuple(result.node for result in judged),
        self_assessed=_summary([result.self_stage for result in judged], scale),
        validated=_summary([result.validated_stage for result in judged], scale),
    )


def _summary(stages: list[int | None], scale: tuple[int, ...]) -> StageSummary:
    given = [stage for stage in stages if stage is not None]
    tally = Counter(given)
    top = max(tally.values(), default=0)
    return StageSummary(
        assessed=len(given),
        missing=len(stages) - len(given),
        minimum=min(given, default=None),
        median=float(median([Fraction(stage) for stage in given])) if given else None,
        maximum=max(given, default=None),
        modes=tuple(sorted(stage for stage, count in tally.items() if count == top)),
        counts=tuple(CodeCount(stage, tally[stage]) for stage in scale),
    )
