"""Saving answers one item at a time, what is still missing, and submitting.

The page form and autosave both call :func:`save_answer`, so the same input is
accepted or refused whichever way it arrives. A refused part (a number that is not
a number) is reported by field and left as stored; the other parts of the same item
are saved. Required answers are not enforced while saving (a respondent fills a
questionnaire over several sittings): :func:`missing_items` lists what is still
needed, and :func:`submit_response` refuses until nothing is.

Rules (DESIGN.md "How work flows", steps 2-3; web contract "Workflow rules"):
"not applicable" only where the item allows it and always with a justification;
rubric scores with their required justification; items that do not apply under the
skip logic are neither required nor kept at submission (as XLSForm does); submission
locks the answers; a returned response reopens only the items the validator returned.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from sqlalchemy import select

from surveyapp.extensions import db
from surveyapp.models import (
    Answer,
    CycleState,
    ParticipantRole,
    Response,
    ResponseState,
)
from surveyapp.models.base import now_utc
from surveyapp.services import ServiceError
from surveyapp.services.access import REVIEW_STATES
from surveyapp.services.audit import Actor, record
from surveyapp.services.cycles import change_state, focal_points_done
from surveyapp.services.evidence import evidence_for_answers
from surveyapp.services.instrument_versions import cycle_instrument
from surveyapp.services.invitations import mark_used
from surveyapp.services.notifications import notify, participants
from surveyapp.services.questionnaire import (
    AnswerRejected,
    FrameworkEntry,
    Layout,
    Question,
    Slot,
    cached_layout,
    check_text_length,
    localized,
    parse_rubric,
    parse_value,
    slot_key,
    slot_relevance,
)
from surveyapp.services.reviews import returned_items, review_units


@dataclass(frozen=True)
class RawAnswer:
    """What a browser sent for one item; a part left None was not sent and stays as stored."""

    value: str | None = None
    criteria: Mapping[str, str] | None = None
    not_applicable: bool | None = None
    justification: str | None = None
    comment: str | None = None


@dataclass
class SavedAnswer:
    """The outcome of one save: the answer row (None if nothing was ever given) and the
    message for each part that was refused (``value``, ``criteria.<id>``, ``not_applicable``,
    ``justification``, ``comment``)."""

    answer: Answer | None
    errors: dict[str, str] = field(default_factory=dict)
    changed: bool = False


# --------------------------------------------------------------------------- reading


def framework_entries(response: Response) -> tuple[FrameworkEntry, ...]:
    """The cycle's own results framework, for instruments that have one (no query otherwise)."""
    cycle = response.cycle
    if cycle_instrument(cycle).instrument.framework is None:
        return ()
    return tuple(
        FrameworkEntry(node.code, node.level, node.title, node.parent_code, node.section)
        for node in cycle.framework_nodes
    )


def layout_for(response: Response) -> Layout:
    loaded = cycle_instrument(response.cycle)
    return cached_layout(
        loaded.fingerprint, loaded.instrument, response.questionnaire,
        framework_entries(response)
    )


def answers_by_slot(response: Response) -> dict[str, Answer]:
    """Every answer of the response, in one query, keyed like :attr:`Slot.key`."""
    answers = db.session.scalars(select(Answer).where(Answer.response_id == response.id))
    return {slot_key(answer.item_id, answer.framework_node): answer for answer in answers}


def editable_keys(response: Response, layout: Layout) -> frozenset[str] | None:
    """The slots the respondent may still change: None for all, else only these.

    A returned response reopens each returned item with the items shown with it to the
    validator (its review unit: a JIU stage with its rationale, evidence note and
    activities).
    """
    if response.state is ResponseState.draft:
        return None
    if response.state is not ResponseState.returned:
        return frozenset()
    units = review_units(cycle_instrument(response.cycle),
                         response.questionnaire)
    keys: set[str] = set()
    for item_id, framework_node in returned_items(response):
        unit = units.get(item_id)
        for member in unit.item_ids if unit else (item_id,):
            slot = layout.slot(member, framework_node)
            if slot is not None:
                keys.add(slot.key)
    return frozenset(keys)


def locked_reason(response: Response) -> str | None:
    """Why the response's answers cannot change now, or None while they can."""
    state = response.cycle.state
    if response.state is ResponseState.draft:
        if state is CycleState.open:
            return None
        if state is CycleState.draft:
            return _("This cycle has not been opened for answers yet.")
        return _("Answering is closed for this cycle.")
    if response.state is ResponseState.returned:
        return None if state in REVIEW_STATES else _("This cycle is no longer in review.")
    return (
        _("These answers have been submitted and are locked; only the items a validator "
          "returns can change again.")
    )


def lock_for(response: Response, *, may_edit: bool) -> str | None:
    """Why this person cannot change the response now (not theirs to change, or locked by
    the workflow), or None while they can."""
    reason = locked_reason(response)
    return reason if may_edit else (reason or "You cannot change these answers.")


def _values(answers: Iterable[Answer]) -> dict[tuple[str, str], Any]:
    return {(a.item_id, a.framework_node): None if a.not_applicable else a.value for a in answers}


# --------------------------------------------------------------------------- saving


def _snapshot(answer: Answer | None) -> dict[str, Any] | None:
    if answer is None:
        return None
    return {
        "value": answer.value,
        "not_applicable": answer.not_applicable,
        "justification": answer.justification,
        "comment": answer.comment,
    }


def _free_text(text: str | None, errors: dict[str, str], part: str) -> str | None:
    cleaned = (text or "").strip()
    try:
        check_text_length(cleaned)
    except AnswerRejected as refused:
        errors[part] = str(refused)
        return None
    return cleaned or None


#: The parts of an item nobody has answered yet.
BLANK_PARTS: Mapping[str, Any] = MappingProxyType(
    {"value": None, "not_applicable": False, "justification": None, "comment": None})


def new_parts(
    question: Question, raw: RawAnswer, stored: Mapping[str, Any]
) -> tuple[dict[str, Any], dict[str, str]]:
    """The answer's parts after applying ``raw`` to ``stored``, and the refused parts.

    Pure: saving here and saving a preview's test answers accept the same input."""
    parts = dict(stored)
    errors: dict[str, str] = {}
    item = question.item
    if question.type == "rubric" and raw.criteria is not None:
        parsed, refused = parse_rubric(question, raw.criteria)
        levels = dict(stored["value"]) if isinstance(stored["value"], Mapping) else {}
        for criterion_id in raw.criteria:  # a level sent blank is taken back
            if criterion_id not in refused:
                levels.pop(criterion_id, None)
        levels.update(parsed)
        errors.update((f"criteria.{c}", message) for c, message in refused.items())
        parts["value"] = levels or None
    elif question.type != "rubric" and raw.value is not None:
        try:
            parts["value"] = parse_value(question, raw.value)
        except AnswerRejected as refused:
            errors["value"] = str(refused)
    if raw.not_applicable is not None:
        if raw.not_applicable and not question.allows_not_applicable:
            errors["not_applicable"] = _("This question cannot be answered “not applicable”.")
        else:
            parts["not_applicable"] = raw.not_applicable
    if raw.justification is not None and question.asks_justification:
        text = _free_text(raw.justification, errors, "justification")
        if "justification" not in errors:
            parts["justification"] = text
    if raw.comment is not None and item.comment:
        text = _free_text(raw.comment, errors, "comment")
        if "comment" not in errors:
            parts["comment"] = text
    if parts["not_applicable"]:
        parts["value"] = None  # "not applicable" replaces the answer, it does not add to it
    return parts, errors


def save_answer(
    response: Response,
    item_id: str,
    framework_node: str,
    raw: RawAnswer,
    actor: Actor,
    *,
    layout: Layout | None = None,
    answers: Mapping[str, Answer] | None = None,
    editable: frozenset[str] | None = None,
) -> SavedAnswer:
    """Validate and store one item's answer; audited when anything changed.

    ``layout``, ``answers`` (from :func:`answers_by_slot`) and ``editable`` (from
    :func:`editable_keys`) may be passed by a caller saving many items at once, to
    query them once.

    :raises ServiceError: the question does not exist here, or may not change now.
    """
    layout = layout or layout_for(response)
    slot = layout.slot(item_id, framework_node)
    if slot is None:
        where = f" for {framework_node}" if framework_node else ""
        raise ServiceError(_("This questionnaire has no question “%(item_id)s”%(where)s.",
                             item_id=item_id, where=where))
    reason = locked_reason(response)
    if reason:
        raise ServiceError(reason)
    editable = editable if editable is not None else editable_keys(response, layout)
    if editable is not None and slot.key not in editable:
        raise ServiceError(
            _("Only the items the validator returned can change; this one was not returned.")
        )
    if answers is None:
        answer = db.session.scalar(select(Answer).where(
            Answer.response_id == response.id, Answer.item_id == item_id,
            Answer.framework_node == framework_node))
    else:
        answer = answers.get(slot.key)
    stored = _snapshot(answer) or dict(BLANK_PARTS)
    parts, errors = new_parts(slot.question, raw, stored)
    if parts == stored:
        return SavedAnswer(answer, errors)
    if answer is None:
        answer = Answer(response=response, item_id=item_id, framework_node=framework_node)
        db.session.add(answer)
    before = _snapshot(answer) if answer.id else None
    answer.value = parts["value"]
    answer.not_applicable = parts["not_applicable"]
    answer.justification = parts["justification"]
    answer.comment = parts["comment"]
    answer.carried_over = False
    answer.updated_by_id = actor.user_id
    if slot.question.item.role == "organisation_type":
        response.organization_type = None if parts["value"] is None else str(parts["value"])
    db.session.flush()
    record(actor, "answer.saved", "answer", answer.id, before=before, after=_snapshot(answer),
           unit_id=response.cycle.unit_id, cycle_id=response.cycle_id)
    return SavedAnswer(answer, errors, changed=True)


@dataclass
class BatchSave:
    """The outcome of saving several items: the keys that changed, the refused parts by key
    (as :attr:`SavedAnswer.errors`, or ``value`` for an item that may not change), and every
    answer of the response after the save, keyed like :attr:`Slot.key`."""

    saved: list[str]
    errors: dict[str, dict[str, str]]
    answers: dict[str, Answer]


#: Saves one slot's answer given the answers so far: the real store, or a preview's.
SaveOne = Callable[[Slot, RawAnswer, Mapping[str, Answer]], SavedAnswer]


def save_in_order(
    layout: Layout,
    sent: Mapping[str, RawAnswer],
    answers: dict[str, Answer],
    editable: frozenset[str] | None,
    save_one: SaveOne,
) -> BatchSave:
    """Save the items ``sent`` (keyed like :attr:`Slot.key`) in questionnaire order, so the
    skip logic sees earlier answers; items not in ``editable`` (None: all) are refused.

    Keys that name no question of the layout are ignored: callers check them first.
    """
    saved: list[str] = []
    errors: dict[str, dict[str, str]] = {}
    for slot in layout.slots:
        if slot.key not in sent:
            continue
        if editable is not None and slot.key not in editable:
            errors[slot.key] = {"value": "This question can no longer change."}
            continue
        result = save_one(slot, sent[slot.key], answers)
        if result.answer is not None:
            answers[slot.key] = result.answer
        if result.changed:
            saved.append(slot.key)
        if result.errors:
            errors[slot.key] = result.errors
    return BatchSave(saved, errors, answers)


def save_answers(
    response: Response,
    sent: Mapping[str, RawAnswer],
    actor: Actor,
    *,
    layout: Layout | None = None,
    editable: frozenset[str] | None = None,
) -> BatchSave:
    """Save many items of a stored response at once (:func:`save_in_order`).

    :raises ServiceError: as :func:`save_answer`, when the response is locked.
    """
    layout = layout or layout_for(response)
    editable = editable if editable is not None else editable_keys(response, layout)

    def save_one(slot: Slot, raw: RawAnswer, answers: Mapping[str, Answer]) -> SavedAnswer:
        return save_answer(response, slot.item_id, slot.framework_node, raw, actor,
                           layout=layout, answers=answers, editable=editable)

    return save_in_order(layout, sent, answers_by_slot(response), editable, save_one)


def confirm_carried_over(
    response: Response, slot_keys: Iterable[str], actor: Actor
) -> list[Answer]:
    """Confirm answers carried over from the previous cycle as still true, unchanged."""
    reason = locked_reason(response)
    if reason:
        raise ServiceError(reason)
    wanted = set(slot_keys)
    confirmed = [
        answer for key, answer in answers_by_slot(response).items()
        if key in wanted and answer.carried_over
    ]
    for answer in confirmed:
        answer.carried_over = False
        record(actor, "answer.confirmed", "answer", answer.id,
               before={"carried_over": True}, after={"carried_over": False},
               unit_id=response.cycle.unit_id, cycle_id=response.cycle_id)
    db.session.flush()
    return confirmed


# --------------------------------------------------------------------------- missing


@dataclass(frozen=True)
class SlotStatus:
    """Where one slot stands: whether it applies, is complete, and what it still needs."""

    slot: Slot
    page: int
    relevant: bool
    required: bool
    complete: bool
    problem: str | None = None


def _evidence_alternative_given(
    slot: Slot, layout: Layout, answers: Mapping[str, Answer]
) -> bool:
    """Evidence may be replaced by what the item's ``alternative`` names (JIU: the people
    who made the judgement), written in an ``evidence_note`` item of the same node."""
    evidence = slot.question.item.evidence
    if evidence is None or evidence.alternative is None:
        return False
    for other in layout.slots:
        item = other.question.item
        if (item.role == "evidence_note" and item.node == slot.question.item.node
                and other.framework_node == slot.framework_node):
            answer = answers.get(other.key)
            if answer is not None and answer.value:
                return True
    return False


def _problem(
    slot: Slot,
    answer: Answer | None,
    evidence_count: int | None,
    layout: Layout,
    answers: Mapping[str, Answer],
) -> str | None:
    question = slot.question
    item = question.item
    if answer is not None and answer.not_applicable:
        return None if answer.justification else _("Explain why this question does not apply.")
    value = answer.value if answer is not None else None
    if question.type == "rubric" and isinstance(value, Mapping):
        unscored = [localized(c.label, "en") for c in item.criteria if c.id not in value]
        if unscored:
            return _("Score %(unscored)s as well.", unscored=', '.join(unscored))
        if item.justification_required and not (answer and answer.justification):
            return _("Write the justification of these scores.")
    elif value is None:
        return _("Answer this question.") if item.required else None
    if (evidence_count is not None and question.evidence_required and evidence_count == 0
            and not _evidence_alternative_given(slot, layout, answers)):
        return _("Attach at least one piece of evidence.")
    return None


def slot_statuses(
    layout: Layout,
    answers: Mapping[str, Answer],
    evidence_counts: Mapping[int, int] | None = None,
) -> list[SlotStatus]:
    """Every slot's status; evidence is checked only when ``evidence_counts`` is given."""
    relevance = slot_relevance(layout, _values(answers.values()))
    statuses = []
    for page in layout.pages:
        for slot in page.slots:
            answer = answers.get(slot.key)
            relevant = relevance[slot.key]
            problem = None
            if relevant:
                count = None
                if evidence_counts is not None:
                    count = evidence_counts.get(answer.id, 0) if answer is not None else 0
                problem = _problem(slot, answer, count, layout, answers)
            answered = answer is not None and (answer.not_applicable or answer.value is not None)
            statuses.append(SlotStatus(
                slot=slot, page=page.number, relevant=relevant,
                required=relevant and slot.question.item.required,
                complete=relevant and answered and problem is None, problem=problem,
            ))
    return statuses


def evidence_counts(answers: Iterable[Answer]) -> dict[int, int]:
    ids = [answer.id for answer in answers]
    return {answer_id: len(found) for answer_id, found in evidence_for_answers(ids).items()}


def missing_items(response: Response) -> list[SlotStatus]:
    """What still stops the response from being submitted, in questionnaire order."""
    layout = layout_for(response)
    answers = answers_by_slot(response)
    statuses = slot_statuses(layout, answers, evidence_counts(answers.values()))
    return [status for status in statuses if status.problem]


# --------------------------------------------------------------------------- submitting


def _clear_irrelevant(
    response: Response, statuses: Iterable[SlotStatus], answers: Mapping[str, Answer],
    actor: Actor,
) -> None:
    """Blank the answers of items the skip logic rules out, as XLSForm does on submission."""
    for status in statuses:
        answer = answers.get(status.slot.key)
        if status.relevant or answer is None or (answer.value is None
                                                 and not answer.not_applicable):
            continue
        before = _snapshot(answer)
        answer.value = None
        answer.not_applicable = False
        record(actor, "answer.cleared_by_skip_logic", "answer", answer.id, before=before,
               after=_snapshot(answer), unit_id=response.cycle.unit_id,
               cycle_id=response.cycle_id)


def submit_response(response: Response, actor: Actor) -> None:
    """Lock the response for validation, or hand a returned response back.

    For a partner's response the invitation link is used up. When the last assigned
    focal point submits, an open cycle moves to ``submitted`` on its own.

    :raises ServiceError: while anything is missing, or when the response is locked.
    """
    reason = locked_reason(response)
    if reason:
        raise ServiceError(reason)
    layout = layout_for(response)
    answers = answers_by_slot(response)
    statuses = slot_statuses(layout, answers, evidence_counts(answers.values()))
    missing = [status for status in statuses if status.problem]
    if missing:
        raise ServiceError(
            ngettext("%(num)s question still needs an answer: see the list below.",
                     "%(num)s questions still need an answer: see the list below.",
                     len(missing))
        )
    _clear_irrelevant(response, statuses, answers, actor)
    returned = response.state is ResponseState.returned
    response.state = ResponseState.submitted
    response.submitted_at = now_utc()
    db.session.flush()
    cycle = response.cycle
    record(actor, "response.resubmitted" if returned else "response.submitted", "response",
           response.id, before={"state": "returned" if returned else "draft"},
           after={"state": "submitted"}, unit_id=cycle.unit_id, cycle_id=cycle.id)
    if response.invitation is not None:
        mark_used(response.invitation)
    if returned:
        notify(participants(cycle, ParticipantRole.validator), "resubmitted",
               _l("Changes to “%(cycle)s” were resubmitted for review.", cycle=cycle.title),
               "/review/", cycle)
    elif cycle.state is CycleState.open and focal_points_done(cycle):
        change_state(cycle, CycleState.submitted, actor,
                     reason="every assigned focal point has submitted")



# --------------------------------------------------------------------------- completion


@dataclass(frozen=True)
class Completion:
    """Required questions answered, out of the required questions that apply."""

    answered: int = 0
    required: int = 0

    def __add__(self, other: Completion) -> Completion:
        return Completion(self.answered + other.answered, self.required + other.required)

    @property
    def percent(self) -> int | None:
        return round(100 * self.answered / self.required) if self.required else None


def completion_by_response(responses: Iterable[Response]) -> dict[int, Completion]:
    """Each response's completion, with one query for all their answers.

    Evidence is not counted here (the review page before submission lists it).
    """
    responses = list(responses)
    by_response: dict[int, dict[str, Answer]] = {response.id: {} for response in responses}
    if responses:
        for answer in db.session.scalars(
            select(Answer).where(Answer.response_id.in_(list(by_response)))
        ):
            key = slot_key(answer.item_id, answer.framework_node)
            by_response[answer.response_id][key] = answer
    completion = {}
    for response in responses:
        statuses = slot_statuses(layout_for(response), by_response[response.id])
        required = [status for status in statuses if status.required]
        completion[response.id] = Completion(
            answered=sum(1 for status in required if status.complete), required=len(required))
    return completion
