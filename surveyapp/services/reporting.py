"""A cycle's answers, scored and turned into the report data that ``reports`` renders.

The database holds answers as the web forms saved them; the scoring engine and
the report writers take the same plain long-format answers as the command line
(``surveyapp score``/``report``). This module is the one translation between
the two, so a cycle scored on the web and its answers exported and scored
offline give the same result.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from instruments.loader import LoadedInstrument
from reports.action_plan import draft_action_plan
from reports.excel import write_workbook
from reports.i18n import LANGUAGES
from reports.model import ActionItem, ReportContext, ReportData
from reports.pdf import render_pdf
from scoring import Answer as ScoredAnswer
from scoring import AnswersInvalid, FrameworkNode, Responses, ScoreReport, score
from surveyapp.extensions import db
from surveyapp.models import Action, Answer, Cycle, CycleState, Response, ResponseState
from surveyapp.services.access import FINAL_STATES, AccessDenied, require
from surveyapp.services.instrument_versions import cycle_instrument, loaded_overlay
from surveyapp.services.reviews import validated_stage_answers

#: Responses that count in a report: submitted ones, and those validated or returned later.
REPORTED_RESPONSE_STATES = (ResponseState.submitted, ResponseState.returned,
                            ResponseState.validated)
#: A report exists once answers are in: preliminary during review, final once validated.
PRELIMINARY_STATES = frozenset({CycleState.submitted, CycleState.in_review})


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
class ScoredCycle:
    """A cycle's instrument, reported answers and scores, or the problems scoring met."""

    loaded: LoadedInstrument
    responses: Responses
    scores: ScoreReport | None
    problems: list[str]


def score_cycle(cycle: Cycle) -> ScoredCycle:
    """Score the cycle's reported answers with its own instrument version."""
    loaded = cycle_instrument(cycle)
    responses = cycle_responses(cycle, loaded)
    try:
        scores = score(loaded.instrument, responses, sha256=loaded.sha256)
    except AnswersInvalid as invalid:
        return ScoredCycle(loaded, responses, None,
                           [problem.format(f"cycle {cycle.id}") for problem in invalid.problems])
    return ScoredCycle(loaded, responses, scores, [])


def stored_plan_items(cycle: Cycle) -> tuple[ActionItem, ...]:
    """The cycle's stored action plan as report rows (empty when none is stored yet)."""
    actions = db.session.scalars(select(Action).where(Action.cycle_id == cycle.id)
                                 .order_by(Action.position, Action.id))
    return tuple(
        ActionItem(
            node=", ".join(action.nodes), action=action.title, basis=action.basis,
            rating=action.rating, responsible=action.responsible_organisation,
            support=" ".join(part for part in (action.support_required, f"({action.support_from})"
                                               if action.support_from else "") if part),
            due_quarter=action.due_quarter or "", status=action.status.value,
            source=action.source.value,
        )
        for action in actions
    )


@dataclass(frozen=True)
class CycleReport:
    """The report data of a cycle, or the problems that keep its answers from being scored."""

    data: ReportData | None
    problems: list[str]


def cycle_report(cycle: Cycle, *, language: str, today: dt.date) -> CycleReport:
    """Score the cycle and assemble its report (preliminary or final by the cycle's state).

    The action plan is the stored plan once the coordinator has one, else the drafts.
    """
    scored = score_cycle(cycle)
    if scored.scores is None:
        return CycleReport(None, scored.problems)
    loaded, responses, scores = scored.loaded, scored.responses, scored.scores
    context = ReportContext(
        unit=cycle.unit.name, generated=today, cycle=cycle.title,
        period=f"{cycle.period_start.isoformat()} to {cycle.period_end.isoformat()}",
        final=report_kind(cycle) == "final", language=language,
    )
    actions = stored_plan_items(cycle) or draft_action_plan(
        loaded.instrument, scores, responses, language=language)
    data = ReportData(context=context, instrument=loaded, scores=scores, responses=responses,
                      actions=actions,
                      overlay=loaded_overlay(cycle.overlay) if cycle.overlay else None)
    return CycleReport(data, [])


#: Report downloads and their media types.
REPORT_FORMATS = {
    "pdf": "application/pdf",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


@dataclass(frozen=True)
class ReportFile:
    content: bytes
    media_type: str
    filename: str


def report_file(cycle: Cycle, extension: str, *, language: str, today: dt.date) -> ReportFile:
    """The cycle's report as a PDF or Excel file, for the web and the API alike.

    :raises AccessDenied: 409 before the answers are submitted or while they cannot be
        scored, 400 for a language reports are not written in.
    """
    require(report_kind(cycle) is not None,
            _l("There is no report before the answers are submitted."), status=409)
    require(language in LANGUAGES, _l("Reports are written in %(languages)s.",
                                      languages=", ".join(LANGUAGES)), status=400)
    report = cycle_report(cycle, language=language, today=today)
    if report.data is None:
        raise AccessDenied(_l("The answers of this cycle cannot be scored yet: see the report "
                              "page for the problems."), 409)
    if extension == "pdf":
        content = render_pdf(report.data)
    else:
        buffer = io.BytesIO()
        write_workbook(report.data, buffer)
        content = buffer.getvalue()
    name = f"{cycle.instrument_version.key}-cycle-{cycle.id}-{report_kind(cycle)}-{language}"
    return ReportFile(content, REPORT_FORMATS[extension], f"{name}.{extension}")
