"""Start a cycle from the previous one: its answers and still-valid evidence, to confirm.

DESIGN.md "How work flows", step 7: "answers and still-valid evidence can be carried
forward". What is copied:

- the answers of the signed-in respondents (focal points, coordinators, working groups;
  never partners' answers), each marked ``carried_over`` until the respondent saves or
  confirms it (``services.answers``);
- the evidence attached to those answers that is still valid: the current version of a
  document (not replaced by a newer one) whose file is still in the store, or a link. The
  copy points at the same stored file and is marked ``carried_over`` as well;
- the unit's own results framework (CPAS), when the new cycle has none yet, since items
  asked per framework node need their nodes.

Items are matched by identifier, through the new instrument version's crosswalk when the
version changed (instruments/README.md section 15). An item that was removed, no longer
exists, changed type or whose old answer is no longer a valid answer is skipped and listed
in the result, so the coordinator can tell the respondents.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select

from instruments.schema import Instrument
from surveyapp.extensions import db
from surveyapp.models import (
    Answer,
    Cycle,
    CycleParticipant,
    CycleState,
    Evidence,
    EvidenceKind,
    EvidenceLink,
    FrameworkNode,
    ParticipantRole,
    Response,
)
from surveyapp.services import ServiceError
from surveyapp.services.answers import layout_for
from surveyapp.services.audit import Actor, record
from surveyapp.services.evidence import evidence_for_answers
from surveyapp.services.instrument_versions import cycle_instrument
from surveyapp.services.questionnaire import (
    FOCAL_POINT_ROLES,
    AnswerRejected,
    Question,
    parse_rubric,
    parse_value,
)
from surveyapp.storage import evidence_store

#: The previous cycle must have its answers in: submitted, reviewed or finished.
SOURCE_STATES = frozenset(
    {CycleState.submitted, CycleState.in_review, CycleState.validated, CycleState.closed}
)
#: The new cycle must not be answered yet in earnest.
TARGET_STATES = frozenset({CycleState.draft, CycleState.open})


@dataclass(frozen=True)
class Skipped:
    """An earlier answer that was not carried, and why."""

    questionnaire: str
    item_id: str
    framework_node: str
    reason: str


@dataclass
class CarryForwardResult:
    answers: int = 0
    evidence: int = 0
    framework_nodes: int = 0
    skipped: list[Skipped] = field(default_factory=list)


def _check_cycles(new_cycle: Cycle, previous_cycle: Cycle) -> None:
    if new_cycle.id == previous_cycle.id:
        raise ServiceError(_("A cycle cannot start from itself."))
    if new_cycle.unit_id != previous_cycle.unit_id:
        raise ServiceError(
            _("Answers can be carried forward only between cycles of the same unit."))
    if new_cycle.instrument_version.key != previous_cycle.instrument_version.key:
        raise ServiceError(
            _("Answers can be carried forward only between cycles of the same instrument "
              "(%(key)s is not %(key2)s).",
              key=previous_cycle.instrument_version.key, key2=new_cycle.instrument_version.key))
    if previous_cycle.state not in SOURCE_STATES:
        raise ServiceError(
            _("“%(previous_cycle)s” is %(state)s: only a cycle whose answers were submitted can "
              "be carried forward.",
              previous_cycle=previous_cycle.title, state=previous_cycle.state.label.lower()))
    if new_cycle.state not in TARGET_STATES:
        raise ServiceError(
            _("“%(new_cycle)s” is %(state)s: answers can be carried into a cycle only while it "
              "is a draft or open.",
              new_cycle=new_cycle.title, state=new_cycle.state.label.lower()))
    if new_cycle.previous_cycle_id not in (None, previous_cycle.id):
        raise ServiceError(_("This cycle already started from another cycle."))


def item_mapping(previous: Instrument, new: Instrument) -> Mapping[tuple[str, str], str | None]:
    """The crosswalk entries from ``previous``'s version: (questionnaire or "", old id) -> new.

    Only entries of renamed or removed items are listed; any other item keeps its id.
    """
    if previous.version == new.version:
        return {}
    mapping: dict[tuple[str, str], str | None] = {}
    for crosswalk in new.crosswalk:
        if crosswalk.from_version == previous.version:
            for entry in crosswalk.entries:
                mapping[(entry.questionnaire or "", entry.from_)] = entry.to
    return mapping


def _new_item_id(mapping: Mapping[tuple[str, str], str | None], questionnaire: str,
                 item_id: str) -> tuple[str | None, str]:
    """The item's id in the new version, or None with the reason it has none."""
    for key in ((questionnaire, item_id), ("", item_id)):
        if key in mapping:
            new_id = mapping[key]
            return new_id, "" if new_id else _("removed in the new instrument version")
    return item_id, ""


def _fits(question: Question, answer: Answer) -> bool:
    """Whether the old answer is still a valid answer to the (possibly reworded) question."""
    value = answer.value
    if answer.not_applicable:
        return question.allows_not_applicable
    if value is None:
        return True
    try:
        if question.type == "rubric":
            if not isinstance(value, Mapping):
                return False
            levels, errors = parse_rubric(
                question, {key: str(level) for key, level in value.items()})
            return not errors and set(levels) == set(value)
        return parse_value(question, str(value)) == value
    except AnswerRejected:
        return False


def _target_respondents(new_cycle: Cycle) -> list[int]:
    return list(db.session.scalars(
        select(CycleParticipant.user_id).where(
            CycleParticipant.cycle_id == new_cycle.id,
            CycleParticipant.role == ParticipantRole.focal_point)
        .order_by(CycleParticipant.id)
    ))


def _target_response(new_cycle: Cycle, questionnaire: str, respondent_id: int) -> Response:
    response = db.session.scalar(select(Response).where(
        Response.cycle_id == new_cycle.id, Response.questionnaire == questionnaire,
        Response.respondent_id == respondent_id))
    if response is None:
        response = Response(cycle=new_cycle, questionnaire=questionnaire,
                            respondent_id=respondent_id)
        db.session.add(response)
        db.session.flush()
    return response


def _copy_framework(new_cycle: Cycle, previous_cycle: Cycle) -> int:
    """Copy the unit's results framework when the new cycle has none of its own yet."""
    if new_cycle.framework_nodes or not previous_cycle.framework_nodes:
        return 0
    for node in previous_cycle.framework_nodes:
        new_cycle.framework_nodes.append(FrameworkNode(
            code=node.code, level=node.level, parent_code=node.parent_code, title=node.title,
            section=node.section, position=node.position))
    db.session.flush()
    return len(previous_cycle.framework_nodes)


def _still_valid(evidence: Evidence, superseded: set[int]) -> bool:
    if evidence.id in superseded:
        return False
    if evidence.kind is EvidenceKind.file:
        return evidence.sha256 is not None and evidence_store().has(evidence.sha256)
    return True


def _superseded_ids(cycle: Cycle) -> set[int]:
    return set(db.session.scalars(
        select(Evidence.supersedes_id).where(
            Evidence.cycle_id == cycle.id, Evidence.supersedes_id.is_not(None))
    ))


def carry_forward(new_cycle: Cycle, previous_cycle: Cycle, actor: Actor) -> CarryForwardResult:
    """Copy the previous cycle's answers and still-valid evidence into ``new_cycle``.

    Answers go to the same respondent when they are a focal point of the new cycle, else to
    its only focal point; with several other focal points they are skipped (assign the
    people first). Answers the new cycle already has are left alone, so running it again
    copies only what is still missing.

    :raises ServiceError: different units or instruments, a previous cycle whose answers
        are not in, or a new cycle past answering.
    """
    _check_cycles(new_cycle, previous_cycle)
    new_cycle.previous_cycle_id = previous_cycle.id
    result = CarryForwardResult(framework_nodes=_copy_framework(new_cycle, previous_cycle))
    previous_instrument = cycle_instrument(previous_cycle).instrument
    new_instrument = cycle_instrument(new_cycle).instrument
    mapping = item_mapping(previous_instrument, new_instrument)
    answering = {q.id for q in new_instrument.questionnaires if q.role in FOCAL_POINT_ROLES}
    focal_points = _target_respondents(new_cycle)
    copies: dict[int, Answer] = {}  # previous answer id -> its copy

    sources = db.session.scalars(
        select(Response).where(Response.cycle_id == previous_cycle.id,
                               Response.respondent_id.is_not(None))
        .order_by(Response.id)
    )
    for source in sources:
        answers = db.session.scalars(
            select(Answer).where(Answer.response_id == source.id).order_by(Answer.id)).all()
        respondent, reason = _respondent_for(source, answering, focal_points)
        if respondent is None:
            result.skipped.extend(
                Skipped(source.questionnaire, a.item_id, a.framework_node, reason)
                for a in answers)
            continue
        target = _target_response(new_cycle, source.questionnaire, respondent)
        copies.update(_copy_answers(source, target, answers, mapping, result))
    result.answers = len(copies)
    result.evidence = _copy_evidence(new_cycle, previous_cycle, copies)
    db.session.flush()
    record(actor, "cycle.carried_forward", "cycle", new_cycle.id, unit_id=new_cycle.unit_id,
           cycle_id=new_cycle.id, after={
               "from_cycle": previous_cycle.id,
               "answers": sorted(answer.id for answer in copies.values()),
               "evidence": result.evidence, "framework_nodes": result.framework_nodes,
               "skipped": [[s.questionnaire, s.item_id, s.framework_node, s.reason]
                           for s in result.skipped]})
    return result


def _respondent_for(source: Response, answering: set[str], focal_points: list[int]
                    ) -> tuple[int | None, str]:
    """Who answers the copy in the new cycle, or None and the reason nobody can."""
    if source.questionnaire not in answering:
        return None, _("the questionnaire is not in the new instrument version")
    if source.respondent_id in focal_points:
        return source.respondent_id, ""
    if len(focal_points) == 1:
        return focal_points[0], ""
    if not focal_points:
        return None, _("the new cycle has no focal point yet; assign the focal points first")
    return None, (_("the respondent is not a focal point of the new cycle, which has several; "
                    "it is not clear who should answer"))


def _copy_answers(
    source: Response, target: Response, answers: list[Answer],
    mapping: Mapping[tuple[str, str], str | None], result: CarryForwardResult,
) -> dict[int, Answer]:
    layout = layout_for(target)
    taken = set(db.session.execute(
        select(Answer.item_id, Answer.framework_node).where(Answer.response_id == target.id)
    ).tuples())
    copies: dict[int, Answer] = {}
    for answer in answers:
        def skip(reason: str, answer: Answer = answer) -> None:
            result.skipped.append(
                Skipped(source.questionnaire, answer.item_id, answer.framework_node, reason))

        item_id, why_not = _new_item_id(mapping, source.questionnaire, answer.item_id)
        slot = layout.slot(item_id, answer.framework_node) if item_id else None
        if item_id is None:
            skip(why_not)
        elif slot is None:
            skip(_("no longer asked in the new instrument version or results framework"))
        elif (item_id, answer.framework_node) in taken:
            skip(_("already answered in the new cycle"))
        elif not _fits(slot.question, answer):
            skip(_("the earlier answer is not one of the new version's answers"))
        else:
            copies[answer.id] = _copy_answer(answer, target, item_id)
    db.session.flush()
    return copies


def _copy_answer(answer: Answer, target: Response, item_id: str) -> Answer:
    copy = Answer(
        response=target, item_id=item_id, framework_node=answer.framework_node,
        value=_plain(answer.value), comment=answer.comment,
        not_applicable=answer.not_applicable, justification=answer.justification,
        carried_over=True, updated_by_id=answer.updated_by_id)
    db.session.add(copy)
    return copy


def _plain(value: Any) -> Any:
    """A copy of a JSON value, so the two answers never share a mutable mapping."""
    return dict(value) if isinstance(value, Mapping) else value


def _copy_evidence(new_cycle: Cycle, previous_cycle: Cycle, copies: dict[int, Answer]) -> int:
    """Copy each still-valid piece of evidence once, attached to every copied answer it
    supported; the file itself is shared through its content address."""
    superseded = _superseded_ids(previous_cycle)
    copied: dict[int, Evidence] = {}
    for old_answer_id, found in evidence_for_answers(list(copies)).items():
        for evidence in found:
            if not _still_valid(evidence, superseded):
                continue
            if evidence.id not in copied:
                copied[evidence.id] = Evidence(
                    cycle_id=new_cycle.id, kind=evidence.kind, sha256=evidence.sha256,
                    size=evidence.size, media_type=evidence.media_type,
                    original_name=evidence.original_name, url=evidence.url,
                    description=evidence.description, document_date=evidence.document_date,
                    carried_over=True, uploaded_by_id=evidence.uploaded_by_id)
                db.session.add(copied[evidence.id])
            copied[evidence.id].links.append(EvidenceLink(answer=copies[old_answer_id]))
    db.session.flush()
    return len(copied)
