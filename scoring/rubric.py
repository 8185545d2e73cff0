"""``rubric_total`` (CPAS RED) and ``list_children``.

Each output of a mission's results framework is scored on relevance, extent
and duration, 1 to 4 each, with a written justification; the total runs from
3 to 12 (seeds/001_782aced7fcf9d02c.txt:72; reference/cpas.md sections 0 and
2.1). A missing criterion or justification is an error, not a lower total.
A band on the total is shown only when the instrument declares one, and its
``convention`` flag travels with the result so reports can say it is the
file's own reading aid (DESIGN.md "Scoring rules"; cpas.md section 2.11).
Outcomes and impacts get no score of their own: they list their outputs' results.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from instruments.schema import ScoringRule
from scoring.answers import AnswerProblem, AnswersInvalid
from scoring.methods import Context, register
from scoring.numbers import Bands
from scoring.plan import PlanNode, Slot
from scoring.results import CriterionScore, ListResult, NodeResult, RubricResult


@register("rubric_total")
def rubric_total(
    context: Context, rule: ScoringRule, nodes: Sequence[PlanNode]
) -> Mapping[str, NodeResult]:
    """Each node's criterion levels, their total, and the declared band if any."""
    bands = Bands.of(context.plan.bands[rule.bands]) if rule.bands else None
    problems: list[AnswerProblem] = []
    results: dict[str, NodeResult] = {}
    for node in nodes:
        criteria = _criteria(context, node, problems)
        if criteria is None:
            continue
        total = sum(entry.value for entry, _ in criteria)
        results[node.id] = RubricResult(
            node=node.id, level=node.level, parent=node.parent, depth=node.depth,
            method=rule.method,
            criteria=tuple(entry for entry, _ in criteria),
            total=total,
            rating=bands.band_for(total).key if bands else None,
            convention=bands.band_set.convention if bands else False,
            respondents=tuple(sorted({respondent for _, respondent in criteria})),
        )
    if problems:
        raise AnswersInvalid(problems)
    return results


def _rubric_slots(context: Context, node: PlanNode) -> list[Slot]:
    """The criteria slots asked for this node: per its level, or attached to it."""
    return [
        slot for slot in context.plan.slots
        if slot.item.type == "rubric"
        and (slot.item.per_level == node.level if node.node is None
             else node.id in slot.item.node_ids)
    ]


def _criteria(
    context: Context, node: PlanNode, problems: list[AnswerProblem]
) -> list[tuple[CriterionScore, str]] | None:
    """Each criterion's one score with its justification and respondent, or None on problems."""
    answers = context.answers
    found: list[tuple[CriterionScore, str]] = []
    missing: list[str] = []
    before = len(problems)
    framework_node = node.id if node.node is None else None
    for slot in _rubric_slots(context, node):
        given = sorted(
            (answers.respondent_id(int(p)), int(p)) for p in answers.positions(slot.index)
            if answers.answers[int(p)].node == framework_node and answers.value(int(p)) is not None
        )
        criterion = slot.criterion or slot.item.id
        if not given:
            missing.append(criterion)
        elif len(given) > 1:
            names = ", ".join(f"`{respondent}`" for respondent, _ in given)
            again = answers.answers[max(position for _, position in given)]
            problems.append(AnswerProblem(
                f"{node.level} `{node.id}` has {len(given)} {criterion} scores (from {names}): "
                "score each criterion once per assessment; keep one", again.row, "item"))
        else:
            respondent, position = given[0]
            level = int(answers.number[position])  # rubric levels are whole numbers
            comment = (answers.answers[position].comment or "").strip()
            found.append((CriterionScore(criterion, level, comment), respondent))
    if missing:
        rows = ", ".join(f"`{node.id}.{criterion}`" for criterion in missing)
        problems.append(AnswerProblem(
            f"{node.level} `{node.id}` has no {' / '.join(missing)} score: add {rows} with a "
            "value and a justification", node.row, "item"))
    return found if len(problems) == before else None


@register("list_children", rollup=True)
def list_children(
    context: Context, rule: ScoringRule, nodes: Sequence[PlanNode]
) -> Mapping[str, NodeResult]:
    """Each node's list of the results of the scored nodes below it, in tree order."""
    return {
        node.id: ListResult(
            node=node.id, level=node.level, parent=node.parent, depth=node.depth,
            method=rule.method,
            results=tuple(
                result for result in (
                    context.results.get(below) for below in context.tree.subtree[node.id][1:]
                )
                if result is not None and not isinstance(result, ListResult)
            ),
        )
        for node in nodes
    }
