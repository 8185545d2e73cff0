"""The JSON API: cycles, results, answers and reports, with the web's permission rules.

Views are thin, as on the web: they ask ``services.access`` who may do what (role, unit
and workflow state), call the same services as the web pages (answers, questionnaire,
reporting) and commit; every change is audited by those services, naming the token.
"""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

from flask import Response as FlaskResponse
from flask import send_file
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from surveyapp.api.operations import (
    NOT_FOUND,
    api_actor,
    api_token,
    api_user,
    operation,
)
from surveyapp.api.problems import ApiProblem
from surveyapp.api.schemas import (
    AnswerIn,
    AnswerOut,
    AnswersIn,
    CompletionOut,
    CycleDetail,
    CycleOut,
    CyclePage,
    CycleQuery,
    FieldError,
    InstrumentOut,
    ItemOut,
    MembershipOut,
    MeOut,
    PermissionsOut,
    PersonOut,
    QuestionnaireOut,
    ReportQuery,
    ResponseDetail,
    ResponseList,
    ResponseOut,
    ResultsOut,
    SaveResult,
    ScoreReportOut,
    TokenOut,
    UnitOut,
)
from surveyapp.extensions import db
from surveyapp.models import Cycle, InstrumentVersion, Response, Unit
from surveyapp.services import ServiceError
from surveyapp.services.access import (
    CycleAccess,
    load_cycle_for,
    may_edit_response,
    may_read_answers,
    require,
)
from surveyapp.services.answers import (
    RawAnswer,
    answers_by_slot,
    completion_by_response,
    editable_keys,
    evidence_counts,
    layout_for,
    lock_for,
    missing_items,
    save_answers,
    slot_statuses,
    submit_response,
)
from surveyapp.services.api_tokens import expires_on
from surveyapp.services.cycles import instrument_of, visible_cycles_query
from surveyapp.services.questionnaire import Layout, localized, slot_key
from surveyapp.services.reporting import REPORT_FORMATS, report_file, report_kind, score_cycle
from surveyapp.services.units import memberships_of

NO_SUCH_RESPONSE = "There is no such response, or none whose answers you may read."
CONFLICT = ("These answers were changed by someone else at the same moment. Read the response "
            "again and send your changes anew.")


# --------------------------------------------------------------------------- shapes


def _unit(unit: Unit) -> UnitOut:
    return UnitOut(code=unit.code, name=unit.name, kind=unit.kind)


def _cycle_fields(cycle: Cycle) -> dict[str, Any]:
    version = cycle.instrument_version
    return {
        "id": cycle.id, "title": cycle.title, "state": cycle.state, "unit": _unit(cycle.unit),
        "instrument": InstrumentOut(key=version.key, version=version.version,
                                    title=version.title, sha256=version.sha256),
        "period_start": cycle.period_start, "period_end": cycle.period_end,
        "due_on": cycle.due_on, "review_due_on": cycle.review_due_on,
        "anonymous": cycle.anonymous, "report_kind": report_kind(cycle),
    }


def _permissions(access: CycleAccess) -> PermissionsOut:
    return PermissionsOut(
        unit_roles=sorted(access.unit_roles), assignments=sorted(access.assignments),
        may_manage=access.may_manage, may_answer=access.may_answer,
        may_review=access.may_review, may_see_results=access.may_see_results)


def _response_fields(response: Response, completion: CompletionOut) -> dict[str, Any]:
    respondent = response.respondent
    assert respondent is not None  # may_read_answers: only responses of signed-in people
    return {
        "id": response.id, "cycle_id": response.cycle_id,
        "questionnaire": response.questionnaire, "state": response.state,
        "respondent": PersonOut(name=respondent.display_name, email=respondent.email),
        "language": response.language, "started_at": response.started_at,
        "submitted_at": response.submitted_at, "completion": completion,
    }


def _response_detail(response: Response, access: CycleAccess) -> ResponseDetail:
    """The response with every question, its answer and where it stands, as the web's review
    page before submission sees them (evidence counted)."""
    layout = layout_for(response)
    answers = answers_by_slot(response)
    statuses = slot_statuses(layout, answers, evidence_counts(answers.values()))
    locked = lock_for(response, may_edit=may_edit_response(api_user(), response, access))
    editable = editable_keys(response, layout) if locked is None else frozenset()
    items = []
    for status in statuses:
        slot = status.slot
        answer = answers.get(slot.key)
        items.append(ItemOut(
            key=slot.key, item=slot.item_id, framework_node=slot.framework_node,
            type=slot.question.type, page=status.page, required=status.required,
            relevant=status.relevant, complete=status.complete, problem=status.problem,
            editable=editable is None or slot.key in editable,
            answer=None if answer is None else AnswerOut(
                value=answer.value, not_applicable=answer.not_applicable,
                justification=answer.justification, comment=answer.comment,
                carried_over=answer.carried_over, updated_at=answer.updated_at)))
    required = [status for status in statuses if status.required]
    completion = CompletionOut(answered=sum(1 for status in required if status.complete),
                               required=len(required))
    return ResponseDetail(**_response_fields(response, completion), editable=locked is None,
                          locked_reason=locked, items=items)


# --------------------------------------------------------------------------- loading


def _response_for(response_id: int) -> tuple[Response, CycleAccess]:
    """A response whose answers the token's user may read, and their access to its cycle."""
    response = db.session.get(Response, response_id)
    require(response is not None, NO_SUCH_RESPONSE, status=404)
    assert response is not None
    _cycle, access = load_cycle_for(api_user(), response.cycle_id)
    require(may_read_answers(api_user(), response, access), NO_SUCH_RESPONSE, status=404)
    return response, access


def _editable_response(response_id: int) -> tuple[Response, CycleAccess]:
    """A response the token's user may change now: 403 for someone else's, 409 when locked."""
    response, access = _response_for(response_id)
    user = api_user()
    require(response.respondent_id == user.id,
            "Only the respondent changes or submits these answers.")
    locked = lock_for(response, may_edit=may_edit_response(user, response, access))
    if locked:
        raise ApiProblem(409, locked)
    return response, access


# --------------------------------------------------------------------------- operations


@operation("GET", "/me", summary="The token's user, their roles and the token",
           response=MeOut)
def me() -> MeOut:
    """Who the token acts for: the same roles as on the web, unit by unit."""
    token = api_token()
    user = token.user
    return MeOut(
        id=user.id, email=user.email, name=user.display_name,
        language=user.preferred_language,
        memberships=[MembershipOut(role=m.role, unit=_unit(m.unit)) for m in memberships_of(user)],
        token=TokenOut(name=token.name, prefix=token.prefix, created_at=token.created_at,
                       expires_on=expires_on(token)))


@operation("GET", "/cycles", summary="The cycles the token's user can see", response=CyclePage,
           query=CycleQuery, errors={400: "A query parameter is not valid."})
def list_cycles(query: CycleQuery) -> CyclePage:
    """Cycles of every unit the user's roles cover and those they are assigned to, as on the
    web's cycle list: by due date (none last), then newest first."""
    statement = visible_cycles_query(api_user())
    if query.state:
        statement = statement.where(Cycle.state.in_(query.state))
    if query.unit:
        statement = statement.where(Cycle.unit.has(Unit.code == query.unit))
    if query.instrument:
        statement = statement.where(
            Cycle.instrument_version.has(InstrumentVersion.key == query.instrument))
    total = db.session.scalar(
        select(func.count()).select_from(statement.order_by(None).subquery())) or 0
    cycles = db.session.scalars(
        statement.limit(query.per_page).offset((query.page - 1) * query.per_page)).unique()
    return CyclePage(items=[CycleOut(**_cycle_fields(cycle)) for cycle in cycles],
                     page=query.page, per_page=query.per_page, total=total,
                     pages=(total + query.per_page - 1) // query.per_page)


@operation("GET", "/cycles/<int:cycle_id>", summary="One cycle", response=CycleDetail,
           errors=NOT_FOUND)
def get_cycle(cycle_id: int) -> CycleDetail:
    """The cycle, its questionnaires, and what the token's user may do with it now."""
    cycle, access = load_cycle_for(api_user(), cycle_id)
    questionnaires = [QuestionnaireOut(id=q.id, title=localized(q.title, "en"), role=q.role)
                      for q in instrument_of(cycle).questionnaires]
    return CycleDetail(**_cycle_fields(cycle), previous_cycle_id=cycle.previous_cycle_id,
                       questionnaires=questionnaires, permissions=_permissions(access))


@operation("GET", "/cycles/<int:cycle_id>/results", summary="The cycle's scored results",
           response=ResultsOut, errors={
               **NOT_FOUND, 403: "The user's roles do not include reading results.",
               409: "Nothing to score before the answers are submitted, or answers that "
                    "cannot be scored (errors lists why)."})
def get_results(cycle_id: int) -> ResultsOut:
    """The scores of the submitted answers with the cycle's own instrument version, in the
    JSON shape of ``surveyapp score --json`` (docs/scoring.md): preliminary during review,
    final once validated. Read by coordinators, viewers, admins and the cycle's people."""
    cycle, access = load_cycle_for(api_user(), cycle_id)
    require(access.may_see_results, "Your roles do not include reading this cycle's results.")
    kind = report_kind(cycle)
    if kind is None:
        raise ApiProblem(409, "There are no results before the answers are submitted.")
    scored = score_cycle(cycle)
    if scored.scores is None:
        raise ApiProblem(409, "The answers of this cycle cannot be scored yet: see errors.",
                         errors=[FieldError(detail=problem) for problem in scored.problems])
    return ResultsOut(cycle_id=cycle.id, report_kind=kind,
                      scores=ScoreReportOut.model_validate(scored.scores.to_dict()))


def _report(cycle_id: int, extension: str, language: str) -> FlaskResponse:
    cycle, access = load_cycle_for(api_user(), cycle_id)
    require(access.may_see_results, "Your roles do not include reading this cycle's results.")
    report = report_file(cycle, extension, language=language, today=dt.date.today())
    return send_file(io.BytesIO(report.content), mimetype=report.media_type,
                     as_attachment=True, download_name=report.filename)


REPORT_ERRORS = {**NOT_FOUND, 400: "A query parameter is not valid.",
                 403: "The user's roles do not include reading results.",
                 409: "No report before the answers are submitted, or answers that cannot "
                      "be scored yet."}


@operation("GET", "/cycles/<int:cycle_id>/report.pdf", summary="The cycle's report as PDF",
           response=None, media_types=(REPORT_FORMATS["pdf"],), query=ReportQuery,
           errors=REPORT_ERRORS)
def report_pdf(cycle_id: int, query: ReportQuery) -> FlaskResponse:
    """The report of the web's Reports page: preliminary during review, final once
    validated."""
    return _report(cycle_id, "pdf", query.lang.value)


@operation("GET", "/cycles/<int:cycle_id>/report.xlsx",
           summary="The cycle's report as an Excel workbook", response=None,
           media_types=(REPORT_FORMATS["xlsx"],), query=ReportQuery, errors=REPORT_ERRORS)
def report_xlsx(cycle_id: int, query: ReportQuery) -> FlaskResponse:
    """The workbook of the web's Reports page: preliminary during review, final once
    validated."""
    return _report(cycle_id, "xlsx", query.lang.value)


@operation("GET", "/cycles/<int:cycle_id>/responses",
           summary="The responses of the cycle whose answers the token's user may read",
           response=ResponseList, errors=NOT_FOUND)
def list_responses(cycle_id: int) -> ResponseList:
    """The user's own responses (as an assigned focal point), and for the cycle's validators
    and coordinators every submitted focal point response. Partners' answers through
    invitation links are never listed one by one."""
    cycle, access = load_cycle_for(api_user(), cycle_id)
    user = api_user()
    responses = [response for response in db.session.scalars(
        select(Response).where(Response.cycle_id == cycle.id).order_by(Response.id))
        if may_read_answers(user, response, access)]
    completion = completion_by_response(responses)
    return ResponseList(items=[
        ResponseOut(**_response_fields(response, CompletionOut(
            answered=completion[response.id].answered,
            required=completion[response.id].required)))
        for response in responses])


@operation("GET", "/responses/<int:response_id>", summary="A response with its answers",
           response=ResponseDetail, errors=NOT_FOUND)
def get_response(response_id: int) -> ResponseDetail:
    """Every question of the response, its answer and what still keeps it from being
    submitted (skip logic and evidence as on the web's review page)."""
    response, access = _response_for(response_id)
    return _response_detail(response, access)


def _raw(answer: AnswerIn) -> RawAnswer:
    """What the web form would have sent: a part left out stays, null clears it."""
    sent = answer.model_fields_set

    def text(value: Any, name: str) -> str | None:
        if name not in sent:
            return None
        return "" if value is None else str(value)

    criteria = None
    if answer.criteria is not None:
        criteria = {criterion: "" if level is None else str(level)
                    for criterion, level in answer.criteria.items()}
    return RawAnswer(
        value=text(answer.value, "value"), criteria=criteria,
        not_applicable=bool(answer.not_applicable) if "not_applicable" in sent else None,
        justification=text(answer.justification, "justification"),
        comment=text(answer.comment, "comment"))


def _pointer(index: int, part: str) -> str:
    """Where a refused part was sent: ``criteria.extent`` -> ``/answers/3/criteria/extent``."""
    return f"/answers/{index}/" + part.replace(".", "/")


def _sent_answers(body: AnswersIn, layout: Layout) -> tuple[dict[str, RawAnswer], dict[str, int]]:
    """The answers by question key, and where each was in the list; 422 for an unknown or
    repeated question."""
    sent: dict[str, RawAnswer] = {}
    positions: dict[str, int] = {}
    errors = []
    for index, answer in enumerate(body.answers):
        key = slot_key(answer.item, answer.framework_node)
        if layout.slot_by_key(key) is None:
            where = f" for {answer.framework_node}" if answer.framework_node else ""
            errors.append(FieldError(pointer=f"/answers/{index}/item", detail=(
                f"This questionnaire has no question “{answer.item}”{where}.")))
        elif key in sent:
            errors.append(FieldError(pointer=f"/answers/{index}/item", detail=(
                f"“{key}” is answered twice in this request; send it once.")))
        else:
            sent[key] = _raw(answer)
            positions[key] = index
    if errors:
        raise ApiProblem(422, "Some answers name no question of this questionnaire.",
                         errors=errors)
    return sent, positions


@operation("PATCH", "/responses/<int:response_id>/answers",
           summary="Save answers (all or nothing)", response=SaveResult, body=AnswersIn,
           errors={**NOT_FOUND, 400: "The body is not valid JSON.",
                   403: "Someone else's response.",
                   409: "The response is locked (submitted, or the cycle is not open), or "
                        "someone changed it at the same moment.",
                   415: "The body is not JSON.",
                   422: "An answer is refused (errors names each part, by JSON pointer)."})
def save(response_id: int, body: AnswersIn) -> SaveResult:
    """Save some answers of the user's own response, checked as the web questionnaire checks
    them (options, ranges, "not applicable" only where allowed, text lengths; while a
    response is returned, only the returned items). Nothing is saved if any part is
    refused. Required answers are checked on submission, not here."""
    response, access = _editable_response(response_id)
    layout = layout_for(response)
    sent, positions = _sent_answers(body, layout)
    try:
        batch = save_answers(response, sent, api_actor(), layout=layout)
        if batch.errors:
            raise ApiProblem(422, "Some answers were refused, so none was saved: see errors.",
                             errors=[FieldError(pointer=_pointer(positions[key], part),
                                                item=key, detail=message)
                                     for key, parts in batch.errors.items()
                                     for part, message in parts.items()])
        db.session.commit()
    except ServiceError as refused:
        raise ApiProblem(409, str(refused)) from None
    except (StaleDataError, IntegrityError):
        raise ApiProblem(409, CONFLICT) from None
    return SaveResult(saved=batch.saved, response=_response_detail(response, access))


@operation("POST", "/responses/<int:response_id>/submit", summary="Submit a response",
           response=ResponseDetail, errors={
               **NOT_FOUND, 403: "Someone else's response.",
               409: "The response is locked, or someone changed it at the same moment.",
               422: "Questions still need an answer (errors names each one)."})
def submit(response_id: int) -> ResponseDetail:
    """Submit the user's own response, as the web's submit button does: refused while any
    question that applies is missing its answer or evidence; locks the answers; a returned
    response goes back to the validators; the last focal point's submission moves an open
    cycle to submitted."""
    response, access = _editable_response(response_id)
    missing = missing_items(response)
    if missing:
        raise ApiProblem(422, f"{len(missing)} question(s) still need an answer: see errors.",
                         errors=[FieldError(item=status.slot.key, detail=status.problem or "")
                                 for status in missing])
    try:
        submit_response(response, api_actor())
        db.session.commit()
    except ServiceError as refused:
        raise ApiProblem(409, str(refused)) from None
    except StaleDataError:
        raise ApiProblem(409, CONFLICT) from None
    return _response_detail(response, access)
