"""The scoring run: check the answers, run each node's method, assemble the report.

Pure: an instrument and answers in, a frozen :class:`ScoreReport` out; no file,
database or web access. Either every answer is acceptable and everything is
scored, or :class:`AnswersInvalid` lists every problem and nothing is scored.
"""

from __future__ import annotations

from dataclasses import replace

from instruments.schema import Instrument, ScoringRule
from scoring import respondent_means, stages
from scoring import rubric as _registers_rubric_methods  # noqa: F401 - registration on import
from scoring.answers import AnswerProblem, AnswersInvalid, Responses
from scoring.methods import Context, method_named
from scoring.numbers import natural_key
from scoring.plan import Plan, PlanNode
from scoring.results import NodeResult, ScoreReport
from scoring.validation import check_answers


def score(
    instrument: Instrument,
    responses: Responses,
    *,
    sha256: str | None = None,
    min_respondents: int | None = None,
) -> ScoreReport:
    """Score one assessment of one unit.

    :param sha256: the instrument file's digest, recorded in the report so the
        result can be traced to the exact instrument text.
    :param min_respondents: overrides every rule's ``min_respondents``.
    :raises AnswersInvalid: listing every problem in the answers or the framework.
    """
    if min_respondents is not None and min_respondents < 1:
        raise ValueError("min_respondents must be at least 1")
    plan = Plan.compile(instrument)
    tree, problems = plan.with_framework(responses.framework)
    if problems:
        raise AnswersInvalid(problems)
    context = Context(plan, tree, check_answers(plan, tree, responses.answers), min_respondents)
    context = replace(context, results=_run_methods(context))
    return ScoreReport(
        instrument=instrument.key,
        version=instrument.version,
        sha256=sha256,
        min_respondents=min_respondents,
        results=tuple(context.results[node.id] for node in tree.nodes
                      if node.id in context.results),
        configuration=stages.configuration(context),
        response_rates=respondent_means.response_rates(context),
        distributions=respondent_means.answer_distributions(context),
        framework=tuple(sorted(responses.framework, key=lambda entry: natural_key(entry.id))),
    )


def _run_methods(context: Context) -> dict[str, NodeResult]:
    """Run every rule's method over its nodes: direct methods first, then roll-ups."""
    groups: dict[str, tuple[ScoringRule, list[PlanNode]]] = {}
    for node in context.tree.nodes:
        if node.rule is not None:
            groups.setdefault(node.rule.id, (node.rule, []))[1].append(node)
    results: dict[str, NodeResult] = {}
    for rollup in (False, True):
        problems: list[AnswerProblem] = []
        for rule, nodes in groups.values():
            method = method_named(rule.method)
            if method.rollup != rollup:
                continue
            try:
                results.update(method.compute(replace(context, results=results), rule, nodes))
            except AnswersInvalid as invalid:
                problems += invalid.problems
        if problems:
            raise AnswersInvalid(problems)
    return results
