"""A cycle's answers, scored and turned into the report data that ``reports`` renders.

The database holds answers as the web forms saved them; the scoring engine and
the report writers take the same plain long-format answers as the command line
(``surveyapp score``/``report``). This module is the one translation between
the two, so a cycle scored on the web and its answers exported and scored
offline give the same result.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from instruments.loader import LoadedInstrument
from reports.action_plan import draft_action_plan
from reports.model import ReportContext, ReportData
from scoring import Answer as ScoredAnswer
from scoring import AnswersInvalid, FrameworkNode, Responses, score
from surveyapp.extensions import db
from surveyapp.models import Answer, Cycle, CycleState, Response, ResponseState
from surveyapp.services.instrument_versions import cycle_instrument, loaded_overlay
from surveyapp.services.reviews import validated_stage_answers

#: Responses that count in a report: submitted ones, and those validated or returned later.
REPORTED_RESPONSE_STATES = (ResponseState.submitted, ResponseState.returned,
                            ResponseState.validated)
#: A report exists once answers are in: preliminary during review, final once validated.
PRELIMINARY_STATES = frozenset({CycleState.submitted, CycleState.in_review})
FINAL_STATES = frozenset({CycleState.validated, CycleState.closed})


def report_kind(cycle: Cycle) -> str | None:
    """"preliminary", "final", or None while the cycle is still being answered."""
    if cycle.state in FINAL_STATES:
        return "final"
    if cycle.state in PRELIMINARY_STATES:
        return "preliminary"
    return None


def scored_answers(respondent: str, questionnaire: str, answer: Answer
                   ) -> Iterator[ScoredAnswer]:
    """The long-format answers of one stored answer (a rubric gives one per criterion)."""
    node = answer.framework_node or None
    if answer.not_applicable:
        yield ScoredAnswer(respondent, questionnaire, answer.item_id, "n/a",
                           answer.justification, node)
    elif isinstance(answer.value, Mapping):
        for criterion, level in sorted(answer.value.items()):
            yield ScoredAnswer(respondent, questionnaire, answer.item_id, level,
                               answer.justification, node, criterion)
    elif answer.value is not None:
        yield ScoredAnswer(respondent, questionnaire, answer.item_id, answer.value,
                           answer.comment, node)


def cycle_responses(cycle: Cycle, loaded: LoadedInstrument) -> Responses:
    """Every reported answer of the cycle, its validated stages and its framework."""
    responses = db.session.scalars(
        select(Response).where(Response.cycle_id == cycle.id,
                               Response.state.in_(REPORTED_RESPONSE_STATES))
        .options(selectinload(Response.answers)).order_by(Response.id)
    ).all()
    answers = [scored for response in responses
               for answer in sorted(response.answers, key=lambda a: (a.item_id, a.framework_node))
               for scored in scored_answers(f"R{response.id}", response.questionnaire, answer)]
    answers.extend(validated_stage_answers(cycle, loaded.instrument))
    framework = [FrameworkNode(node.code, node.level, node.title, node.parent_code, node.section)
                 for node in cycle.framework_nodes]
    return Responses.of(answers, framework)


@dataclass(frozen=True)
class CycleReport:
    """The report data of a cycle, or the problems that keep its answers from being scored."""

    data: ReportData | None
    problems: list[str]


def cycle_report(cycle: Cycle, *, language: str, today: dt.date) -> CycleReport:
    """Score the cycle and assemble its report (preliminary or final by the cycle's state)."""
    loaded = cycle_instrument(cycle)
    responses = cycle_responses(cycle, loaded)
    try:
        scores = score(loaded.instrument, responses, sha256=loaded.sha256)
    except AnswersInvalid as invalid:
        return CycleReport(None, [problem.format(f"cycle {cycle.id}")
                                  for problem in invalid.problems])
    context = ReportContext(
        unit=cycle.unit.name, generated=today, cycle=cycle.title,
        period=f"{cycle.period_start.isoformat()} to {cycle.period_end.isoformat()}",
        final=report_kind(cycle) == "final", language=language,
    )
    data = ReportData(
        context=context, instrument=loaded, scores=scores, responses=responses,
        actions=draft_action_plan(loaded.instrument, scores, responses, language=language),
        overlay=loaded_overlay(cycle.overlay) if cycle.overlay else None,
    )
    return CycleReport(data, [])
