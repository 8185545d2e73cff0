"""Validation item by item: the queue, decisions, the return loop, validating and reopening.

What a validator decides on is a *review unit*: one item of a focal point's
questionnaire, shown with the items that only support it at the same node (JIU:
a component's stage with its rationale, evidence note, comments, plans and
activity ratings; CPAS: an output's RED scores and recommendation with their
notes). Items with no headline item at their node are reviewed on their own.

Decisions are rows of ``item_reviews``, one per item and round, never updated:
the latest round is the item's state. Two validators deciding the same item at
once both try to write the same round; the unique constraint lets one win and
the other gets :class:`ReviewConflict`. Items come back from the focal point
when their response is resubmitted after the request for changes (the response's
``submitted_at`` is later than the decision).

Sources: DESIGN.md "How work flows" step 3; the JIU validator records a validated
stage that may differ from the self-assessed one (reference/jiu_framework.md
section 4.3; instrument jiu-rbm, questionnaire ``validation``); peers.md section 7
points 2, 3 and 9 (per-item review with reasons, a loop back to the submitter,
permissions by workflow state).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import contains_eager, defer, lazyload
from sqlalchemy.orm.exc import StaleDataError

from instruments import LoadedInstrument
from instruments.checks import walk_nodes
from instruments.schema import Instrument, Item, Node, Questionnaire, Stage
from scoring import Answer as ScoredAnswer
from scoring import AnswersInvalid, Responses, StageResult, score
from scoring.numbers import natural_key
from surveyapp.extensions import db
from surveyapp.i18n import plain_text
from surveyapp.models import (
    Answer,
    Cycle,
    CycleParticipant,
    CycleState,
    Decision,
    Evidence,
    EvidenceLink,
    EvidenceReview,
    InstrumentVersion,
    ItemReview,
    ParticipantRole,
    Response,
    ResponseState,
    ReviewMessage,
    Unit,
    User,
)
from surveyapp.services import ServiceError
from surveyapp.services.access import REVIEW_STATES
from surveyapp.services.audit import Actor, record
from surveyapp.services.cycles import change_state
from surveyapp.services.evidence import evidence_for_answers
from surveyapp.services.instrument_versions import cycle_instrument
from surveyapp.services.notifications import coordinators, notify, participants

#: Questionnaire roles answered by the cycle's assigned focal points (web contract), and reviewed.
REVIEWED_QUESTIONNAIRE_ROLES = frozenset({"focal_point", "coordinator", "working_group"})
#: Item roles that explain or qualify another item at the same node rather than stand alone.
SUPPORTING_ROLES = frozenset(
    {"rationale", "evidence_note", "comment", "activity", "open_answer", "context", None}
)
#: How the diff names a supporting item's part, by the item's role.
ROLE_LABELS = {"rationale": _l("Rationale"), "evidence_note": _l("Evidence note"),
               "comment": _l("Comments"), "activity": _l("Activity rating"),
               "open_answer": _l("Further answer"), "context": _l("Context")}
#: Item types whose validated value the validator records (DESIGN.md "Users and roles").
VALUED_TYPES = frozenset({"stage", "rubric"})
TEXT_MAX_LENGTH = 5000
REASON_MAX_LENGTH = 1000
#: Response states whose items a validator decides.
UNDER_REVIEW = frozenset({ResponseState.submitted, ResponseState.returned})


class ReviewConflict(ServiceError):
    """Someone else decided the item (or changed its cycle) first; nothing was saved."""


class ItemStatus(StrEnum):
    """Where an item stands, read from its latest decision and its response."""

    pending = "pending"
    #: Changed by the focal point after a request for changes, waiting for a new decision.
    resubmitted = "resubmitted"
    #: Waiting for the focal point to change it.
    returned = "returned"
    accepted = "accepted"
    rejected = "rejected"

    @property
    def label(self) -> str:
        return {
            "pending": _("Awaiting decision"),
            "resubmitted": _("Changed, awaiting decision"),
            "returned": _("Returned to the focal point"),
            "accepted": "Accepted",
            "rejected": "Rejected",
        }[self.value]

    @property
    def awaits_validator(self) -> bool:
        return self in (ItemStatus.pending, ItemStatus.resubmitted)

    @property
    def decided(self) -> bool:
        return self in (ItemStatus.accepted, ItemStatus.rejected)


DECISION_LABELS = {
    Decision.accept: _l("Accept"),
    Decision.request_changes: _l("Request changes"),
    Decision.reject: _l("Reject"),
}


# --------------------------------------------------------------------------- review units


@dataclass(frozen=True)
class ReviewUnit:
    """An item a validator decides on, and the items shown with it."""

    item: Item
    supporting: tuple[Item, ...]
    questionnaire: Questionnaire
    #: The item's place in the questionnaire, to list units in the order they are asked.
    position: int

    @property
    def item_ids(self) -> tuple[str, ...]:
        return (self.item.id, *(item.id for item in self.supporting))


_units_cache: dict[tuple[str, str], dict[str, ReviewUnit]] = {}
_nodes_cache: dict[str, dict[str, Node]] = {}


def _group_key(item: Item) -> str:
    return item.node or item.per_level or ""


def review_units(loaded: LoadedInstrument, questionnaire_id: str) -> dict[str, ReviewUnit]:
    """The review units of a questionnaire by item id, in questionnaire order (cached).

    Empty for a questionnaire that focal points do not answer (partners', validators').
    """
    key = (loaded.fingerprint, questionnaire_id)
    if key not in _units_cache:
        questionnaire = next(
            (q for q in loaded.instrument.questionnaires if q.id == questionnaire_id), None)
        units: dict[str, ReviewUnit] = {}
        if questionnaire is not None and questionnaire.role in REVIEWED_QUESTIONNAIRE_ROLES:
            groups: dict[str, list[Item]] = defaultdict(list)
            for item in questionnaire.items:
                groups[_group_key(item)].append(item)
            for position, item in enumerate(questionnaire.items):
                group = groups[_group_key(item)]
                headline = [entry for entry in group if entry.role not in SUPPORTING_ROLES]
                if item in headline:
                    supporting = tuple(entry for entry in group if entry not in headline)
                    units[item.id] = ReviewUnit(item, supporting, questionnaire, position)
                elif not headline:
                    units[item.id] = ReviewUnit(item, (), questionnaire, position)
        _units_cache[key] = units
    return _units_cache[key]


def nodes_by_id(loaded: LoadedInstrument) -> dict[str, Node]:
    if loaded.sha256 not in _nodes_cache:
        _nodes_cache[loaded.sha256] = {
            node.id: node for node, _ in walk_nodes(loaded.instrument.nodes)}
    return _nodes_cache[loaded.sha256]


def stage_choices(loaded: LoadedInstrument, item: Item) -> tuple[Stage, ...]:
    """The stages a stage item offers: its own, else its node's (JIU annex IX descriptors)."""
    if item.stages:
        return item.stages
    node = nodes_by_id(loaded).get(item.node or "")
    return node.stages if node is not None else ()


def node_title(loaded: LoadedInstrument, item: Item, framework_node: str) -> str:
    """How to name where an item sits: "1.1 Results-based management strategy", or "OP1"."""
    if framework_node:
        return framework_node
    node = nodes_by_id(loaded).get(item.node or "")
    if node is None:
        return ""
    title = (node.short_title or node.title)["en"]
    return f"{node.id} {title}"


def instrument_of(cycle: Cycle) -> LoadedInstrument:
    return cycle_instrument(cycle)


# --------------------------------------------------------------------------- statuses


def as_utc(moment: datetime) -> datetime:
    """SQLite hands back naive times (stored as UTC); compare everything as aware UTC."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def item_status(latest: ItemReview | None, response: Response) -> ItemStatus:
    if latest is None:
        return ItemStatus.pending
    if latest.decision is Decision.accept:
        return ItemStatus.accepted
    if latest.decision is Decision.reject:
        return ItemStatus.rejected
    resubmitted = response.submitted_at is not None and (
        as_utc(response.submitted_at) > as_utc(latest.created_at))
    return ItemStatus.resubmitted if resubmitted else ItemStatus.returned


def _latest_round() -> Any:
    """The latest round of the item of the outer query's answer (a correlated subquery)."""
    earlier = db.aliased(ItemReview)
    return (
        select(func.max(earlier.round))
        .where(earlier.response_id == Answer.response_id, earlier.item_id == Answer.item_id,
               earlier.framework_node == Answer.framework_node)
        .correlate(Answer)
        .scalar_subquery()
    )


def latest_reviews(response_ids: Iterable[int]) -> dict[tuple[int, str, str], ItemReview]:
    """The latest decision of every decided item of these responses, in one query."""
    ids = list(response_ids)
    if not ids:
        return {}
    rounds = (
        select(ItemReview.response_id, ItemReview.item_id, ItemReview.framework_node,
               func.max(ItemReview.round).label("round"))
        .where(ItemReview.response_id.in_(ids))
        .group_by(ItemReview.response_id, ItemReview.item_id, ItemReview.framework_node)
        .subquery()
    )
    latest = db.session.scalars(
        select(ItemReview).join(rounds, and_(
            ItemReview.response_id == rounds.c.response_id,
            ItemReview.item_id == rounds.c.item_id,
            ItemReview.framework_node == rounds.c.framework_node,
            ItemReview.round == rounds.c.round,
        ))
    ).unique()
    return {(r.response_id, r.item_id, r.framework_node): r for r in latest}


def returned_items(response: Response) -> set[tuple[str, str]]:
    """The (item id, framework node) pairs the focal point may change in a returned response."""
    if response.state is not ResponseState.returned:
        return set()
    return {
        (item_id, node) for (_, item_id, node), review in latest_reviews([response.id]).items()
        if item_status(review, response) is ItemStatus.returned
    }


# --------------------------------------------------------------------------- the queue


@dataclass(frozen=True)
class ReviewRow:
    """One answered item to decide, with where it stands."""

    cycle: Cycle
    response: Response
    answer: Answer
    unit: ReviewUnit
    latest: ItemReview | None
    status: ItemStatus
    node_label: str
    evidence_count: int = 0

    @property
    def node_key(self) -> str:
        """What the node filter matches: the framework node, else the instrument node."""
        return self.answer.framework_node or self.unit.item.node or ""


@dataclass(frozen=True)
class QueueFilter:
    status: str = ""
    node: str = ""
    unit_id: int | None = None


@dataclass(frozen=True)
class Queue:
    rows: list[ReviewRow]
    #: Before filtering: what the filters can choose from, and counts by status.
    units: list[Unit]
    nodes: list[tuple[str, str]]
    counts: Counter[ItemStatus] = field(default_factory=Counter)


def _review_rows(*conditions: Any) -> list[ReviewRow]:
    """Answered review units of submitted focal-point responses matching ``conditions``.

    Three queries whatever the size: the rows with their latest decision, the instrument
    versions (texts deferred: parsed instruments are cached by sha256), and the evidence
    counts.
    """
    latest = db.aliased(ItemReview)
    statement = (
        select(Answer, Response, Cycle, latest)
        .join(Response, Answer.response_id == Response.id)
        .join(Cycle, Response.cycle_id == Cycle.id)
        .join(Unit, Cycle.unit_id == Unit.id)
        .outerjoin(latest, and_(
            latest.response_id == Answer.response_id, latest.item_id == Answer.item_id,
            latest.framework_node == Answer.framework_node, latest.round == _latest_round()))
        .where(Response.state.in_(UNDER_REVIEW | {ResponseState.validated}),
               Response.respondent_id.is_not(None), *conditions)
        .options(contains_eager(Cycle.unit), lazyload(Cycle.instrument_version))
    )
    fetched = db.session.execute(statement).unique().all()
    version_ids = {cycle.instrument_version_id for _, _, cycle, _ in fetched}
    if version_ids:
        # Fills the identity map, so cycle.instrument_version below needs no query.
        db.session.scalars(select(InstrumentVersion).where(InstrumentVersion.id.in_(version_ids))
                           .options(defer(InstrumentVersion.text))).all()
    rows: list[ReviewRow] = []
    order: dict[int, tuple[Any, ...]] = {}
    for answer, response, cycle, review in fetched:
        loaded = instrument_of(cycle)
        unit = review_units(loaded, response.questionnaire).get(answer.item_id)
        if unit is None:
            continue
        rows.append(ReviewRow(cycle, response, answer, unit, review,
                              item_status(review, response),
                              node_title(loaded, unit.item, answer.framework_node)))
        order[answer.id] = (cycle.id, response.id, unit.position,
                            natural_key(answer.framework_node))
    rows.sort(key=lambda row: order[row.answer.id])
    if rows:
        counts = dict(db.session.execute(
            select(EvidenceLink.answer_id, func.count(EvidenceLink.id))
            .where(EvidenceLink.answer_id.in_([row.answer.id for row in rows]))
            .group_by(EvidenceLink.answer_id)
        ).tuples().all())
        rows = [replace(row, evidence_count=counts.get(row.answer.id, 0)) for row in rows]
    return rows


def validator_queue(validator: User, filters: QueueFilter) -> Queue:
    """Items of the cycles the user validates that are under review, filtered."""
    assigned = select(CycleParticipant.cycle_id).where(
        CycleParticipant.user_id == validator.id,
        CycleParticipant.role == ParticipantRole.validator)
    rows = _review_rows(Cycle.id.in_(assigned), Cycle.state.in_(REVIEW_STATES),
                        Response.state.in_(UNDER_REVIEW))
    units = sorted({row.cycle.unit.id: row.cycle.unit for row in rows}.values(),
                   key=lambda unit: unit.code)
    nodes = sorted({(row.node_key, row.node_label or row.node_key) for row in rows},
                   key=lambda pair: natural_key(pair[0]))
    counts = Counter(row.status for row in rows)

    def wanted(row: ReviewRow) -> bool:
        if filters.status == "open" and not row.status.awaits_validator:
            return False
        if filters.status not in ("", "open") and row.status.value != filters.status:
            return False
        if filters.node and row.node_key != filters.node:
            return False
        return filters.unit_id is None or row.cycle.unit_id == filters.unit_id

    return Queue([row for row in rows if wanted(row)], units, nodes, counts)


# --------------------------------------------------------------------------- one item


@dataclass(frozen=True)
class Change:
    """One difference between what was last reviewed and what is there now."""

    what: str
    before: str
    after: str


@dataclass(frozen=True)
class ThreadEntry:
    """A decision or a message, in the order they happened."""

    at: datetime
    author: User
    body: str
    review: ItemReview | None = None


@dataclass(frozen=True)
class PreviousValue:
    """The same item in the cycle this one follows."""

    cycle: Cycle
    value: Any
    validated_value: Any


@dataclass(frozen=True)
class ItemPage:
    """Everything the item page shows."""

    cycle: Cycle
    response: Response
    loaded: LoadedInstrument
    unit: ReviewUnit
    framework_node: str
    node_label: str
    answers: dict[str, Answer]
    evidence: list[Evidence]
    reviews: list[ItemReview]
    status: ItemStatus
    thread: list[ThreadEntry]
    changes: list[Change]
    previous: PreviousValue | None

    @property
    def answer(self) -> Answer | None:
        return self.answers.get(self.unit.item.id)

    @property
    def latest(self) -> ItemReview | None:
        return self.reviews[-1] if self.reviews else None

    @property
    def next_round(self) -> int:
        return self.latest.round + 1 if self.latest else 1

    @property
    def stages(self) -> tuple[Stage, ...]:
        return stage_choices(self.loaded, self.unit.item) if self.unit.item.type == "stage" else ()


def unit_for(response: Response, item_id: str) -> tuple[LoadedInstrument, ReviewUnit]:
    """:raises ServiceError: if the item is not one a validator decides in this response."""
    loaded = instrument_of(response.cycle)
    unit = review_units(loaded, response.questionnaire).get(item_id)
    if unit is None:
        raise ServiceError(_("Item %(item_id)s is not an item to review in this questionnaire.",
                             item_id=item_id))
    return loaded, unit


def _unit_answers(response: Response, unit: ReviewUnit, framework_node: str) -> dict[str, Answer]:
    return {
        answer.item_id: answer for answer in db.session.scalars(
            select(Answer).where(Answer.response_id == response.id,
                                 Answer.item_id.in_(unit.item_ids),
                                 Answer.framework_node == framework_node))
    }


def _unit_evidence(answers: Iterable[Answer]) -> list[Evidence]:
    """The evidence attached to any answer of the unit, each once, oldest first."""
    found = evidence_for_answers([answer.id for answer in answers])
    unique = {entry.id: entry for entries in found.values() for entry in entries}
    return sorted(unique.values(), key=lambda entry: entry.id)


def _reviews_of(response: Response, item_id: str, framework_node: str) -> list[ItemReview]:
    return list(db.session.scalars(
        select(ItemReview).where(ItemReview.response_id == response.id,
                                 ItemReview.item_id == item_id,
                                 ItemReview.framework_node == framework_node)
        .order_by(ItemReview.round)
    ).unique())


def _messages_of(response: Response, item_id: str, framework_node: str) -> list[ReviewMessage]:
    return list(db.session.scalars(
        select(ReviewMessage).where(ReviewMessage.response_id == response.id,
                                    ReviewMessage.item_id == item_id,
                                    ReviewMessage.framework_node == framework_node)
        .order_by(ReviewMessage.id)
    ).unique())


def _evidence_label(evidence: Evidence) -> str:
    name = evidence.original_name or evidence.url or f"evidence {evidence.id}"
    return f"{name} ({evidence.description})" if evidence.description else name


def snapshot(unit: ReviewUnit, answers: Mapping[str, Answer],
             evidence: Sequence[Evidence]) -> dict[str, Any]:
    """What the validator saw when deciding: the unit's answers and its evidence."""
    return {
        "answers": {
            item_id: {"value": answer.value, "not_applicable": answer.not_applicable,
                      "justification": answer.justification, "comment": answer.comment}
            for item_id in unit.item_ids if (answer := answers.get(item_id)) is not None
        },
        "evidence": {str(entry.id): _evidence_label(entry) for entry in evidence},
    }


def _shown(value: Any) -> str:
    if value is None or value == "":
        return "(blank)"
    if isinstance(value, dict):
        return ", ".join(f"{key} {level}" for key, level in value.items())
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def changes_since(unit: ReviewUnit, before: Mapping[str, Any] | None,
                  now: Mapping[str, Any]) -> list[Change]:
    """The differences between the snapshot of the last decision and the answers now."""
    if before is None:
        return []
    changes: list[Change] = []
    labels = {unit.item.id: "Answer", **{item.id: f"{ROLE_LABELS.get(item.role, 'Answer')} "
                                                  f"({item.id})" for item in unit.supporting}}
    for item_id in unit.item_ids:
        old = before.get("answers", {}).get(item_id, {})
        new = now["answers"].get(item_id, {})
        for part in ("value", "not_applicable", "justification", "comment"):
            if old.get(part) != new.get(part):
                what = labels[item_id] if part == "value" else f"{labels[item_id]}: {part}"
                changes.append(Change(what.replace("_", " "), _shown(old.get(part)),
                                      _shown(new.get(part))))
    old_evidence, new_evidence = before.get("evidence", {}), now["evidence"]
    changes += [Change(_("Evidence added"), "", label)
                for key, label in new_evidence.items() if key not in old_evidence]
    changes += [Change(_("Evidence removed"), label, "")
                for key, label in old_evidence.items() if key not in new_evidence]
    return changes


def _previous_value(cycle: Cycle, response: Response, item_id: str,
                    framework_node: str) -> PreviousValue | None:
    """The item's answer and validated value in the previous cycle, if it had one."""
    if cycle.previous_cycle_id is None:
        return None
    found = db.session.execute(
        select(Answer, Response).join(Response, Answer.response_id == Response.id)
        .where(Response.cycle_id == cycle.previous_cycle_id,
               Response.questionnaire == response.questionnaire,
               Response.respondent_id.is_not(None),
               Answer.item_id == item_id, Answer.framework_node == framework_node)
        .order_by((Response.respondent_id == response.respondent_id).desc(), Response.id)
        .limit(1)
    ).first()
    if found is None:
        return None
    answer, earlier = found
    latest = latest_reviews([earlier.id]).get((earlier.id, item_id, framework_node))
    decided = latest is not None and latest.decision is not Decision.request_changes
    return PreviousValue(earlier.cycle, answer.value, latest.validated_value if decided else None)


def item_page(response: Response, item_id: str, framework_node: str) -> ItemPage:
    """Gather the item page; :raises ServiceError: for an item not reviewed here."""
    loaded, unit = unit_for(response, item_id)
    answers = _unit_answers(response, unit, framework_node)
    if unit.item.id not in answers:
        raise ServiceError(_("Item %(item_id)s was not answered, so there is nothing to review.",
                             item_id=item_id))
    evidence = _unit_evidence(answers.values())
    reviews = _reviews_of(response, item_id, framework_node)
    messages = _messages_of(response, item_id, framework_node)
    thread = sorted(
        [ThreadEntry(review.created_at, review.reviewer, review.comment, review)
         for review in reviews]
        + [ThreadEntry(message.created_at, message.author, message.body) for message in messages],
        key=lambda entry: as_utc(entry.at),
    )
    latest = reviews[-1] if reviews else None
    return ItemPage(
        cycle=response.cycle, response=response, loaded=loaded, unit=unit,
        framework_node=framework_node,
        node_label=node_title(loaded, unit.item, framework_node),
        answers=answers, evidence=evidence, reviews=reviews,
        status=item_status(latest, response), thread=thread,
        changes=changes_since(unit, latest.answer_snapshot if latest else None,
                              snapshot(unit, answers, evidence)),
        previous=_previous_value(response.cycle, response, item_id, framework_node),
    )


# --------------------------------------------------------------------------- deciding


def _checked_value(loaded: LoadedInstrument, item: Item, decision: Decision,
                   value: Any) -> Any:
    """The validated value to store: required for stage and rubric items unless returned."""
    if item.type not in VALUED_TYPES or decision is Decision.request_changes:
        return None
    if item.type == "stage":
        allowed = [stage.stage for stage in stage_choices(loaded, item)]
        if value not in allowed:
            raise ServiceError(
                _("Choose the validated stage: the stage the evidence supports (%(stages)s).",
                  stages=", ".join(map(str, allowed))))
        return value
    if not isinstance(value, Mapping):
        raise ServiceError(_("Give the validated level of every criterion."))
    levels: dict[str, int] = {}
    for criterion in item.criteria:
        allowed = [level.level for level in criterion.levels]
        if value.get(criterion.id) not in allowed:
            raise ServiceError(
                _("Choose the validated level of %(criterion)s (%(levels)s).",
                  criterion=plain_text(criterion.label), levels=", ".join(map(str, allowed))))
        levels[criterion.id] = value[criterion.id]
    return levels


def _conflict(response: Response, item_id: str, framework_node: str) -> ReviewConflict:
    reviews = _reviews_of(response, item_id, framework_node)
    if not reviews:
        return ReviewConflict(_("Someone else changed this item at the same moment. Your decision "
                                "was not saved: reload the page and decide again."))
    winner = reviews[-1]
    return ReviewConflict(
        _("%(display_name)s recorded a decision on this item (%(decision_labels)s) while you "
          "were deciding. Your decision was not saved: read theirs and decide again if you "
          "disagree.",
          display_name=winner.reviewer.display_name,
          decision_labels=DECISION_LABELS[winner.decision]))


def decide(
    response: Response,
    item_id: str,
    framework_node: str,
    decision: Decision,
    comment: str,
    validated_value: Any,
    evidence_marks: Mapping[int, bool],
    reviewer: User,
    *,
    expected_round: int | None = None,
) -> ItemReview:
    """Record a validator's decision on one item: accept, request changes, or reject.

    :param evidence_marks: evidence id -> sufficient, for evidence of this item (any subset).
    :param expected_round: the round the validator's page was showing; a decision made
        since then turns this one into a conflict instead of silently replacing it.
    :raises ReviewConflict: when another decision on the item got there first.
    :raises ServiceError: for a missing comment or validated value, or the wrong state.
    """
    cycle = response.cycle
    if cycle.state not in REVIEW_STATES:
        raise ServiceError(_("This cycle is %(state)s: decisions are recorded only while it is "
                             "submitted or in review.", state=cycle.state.label.lower()))
    if response.state not in UNDER_REVIEW:
        raise ServiceError(_("This response is not waiting for review."))
    loaded, unit = unit_for(response, item_id)
    answers = _unit_answers(response, unit, framework_node)
    if item_id not in answers:
        raise ServiceError(_("Item %(item_id)s was not answered, so there is nothing to decide.",
                             item_id=item_id))
    reviews = _reviews_of(response, item_id, framework_node)
    latest = reviews[-1] if reviews else None
    next_round = latest.round + 1 if latest else 1
    if expected_round is not None and expected_round != next_round:
        raise _conflict(response, item_id, framework_node)
    if item_status(latest, response) is ItemStatus.returned:
        raise ServiceError(_("This item is with the focal point for changes: decide it again "
                             "once they resubmit."))
    comment = comment.strip()
    if not comment:
        raise ServiceError(_("A comment is required with every decision: say what you checked "
                             "and why you decided so."))
    if len(comment) > TEXT_MAX_LENGTH:
        raise ServiceError(_("Keep the comment under %(text_max_length)s characters.",
                             text_max_length=TEXT_MAX_LENGTH))
    value = _checked_value(loaded, unit.item, decision, validated_value)
    evidence = _unit_evidence(answers.values())
    known = {entry.id for entry in evidence}
    unknown = sorted(set(evidence_marks) - known)
    if unknown:
        raise ServiceError(_("Evidence %(numbers)s is not attached to this item; reload the page.",
                             numbers=", ".join(map(str, unknown))))
    review = ItemReview(
        response_id=response.id, item_id=item_id, framework_node=framework_node,
        round=next_round, decision=decision, comment=comment, validated_value=value,
        answer_snapshot=snapshot(unit, answers, evidence), reviewer_id=reviewer.id,
        evidence_reviews=[EvidenceReview(evidence_id=evidence_id, sufficient=sufficient)
                          for evidence_id, sufficient in sorted(evidence_marks.items())],
    )
    try:
        with db.session.begin_nested():
            db.session.add(review)
    except IntegrityError:
        raise _conflict(response, item_id, framework_node) from None
    actor = Actor.of(reviewer)
    try:
        if decision is Decision.request_changes:
            _return_response(response)
        _start_review(cycle, actor)
    except StaleDataError:
        # SQLite only: PostgreSQL queues on the row locks taken above instead.
        raise ReviewConflict(_("Someone else changed this cycle at the same moment. Your decision "
                               "was not saved: reload the page and decide again.")) from None
    record(actor, "review.decided", "item_review", review.id,
           before=_decision_summary(latest) if latest else None,
           after={**_decision_summary(review), "response_state": response.state.value},
           unit_id=cycle.unit_id, cycle_id=cycle.id)
    if decision is Decision.request_changes and response.respondent is not None:
        notify([response.respondent], "returned",
               _l("%(item)s of “%(cycle)s” needs changes: %(comment)s",
                  item=item_id, cycle=cycle.title, comment=comment[:200]),
               f"/review/responses/{response.id}/returned", cycle)
    return review


def _lock_and_reload(row: Cycle | Response) -> None:
    """Lock the row until commit (others wait here) and read its state and version again."""
    model = type(row)
    db.session.execute(select(model.id).where(model.id == row.id).with_for_update())
    db.session.refresh(row, attribute_names=["state", "version"])


def _return_response(response: Response) -> None:
    """Put the response in ``returned`` (the focal point may then change returned items).

    The row is locked first, so validators returning items of one response at once take
    turns instead of failing on its version counter.
    """
    if response.state is ResponseState.returned:
        return
    _lock_and_reload(response)
    if response.state is not ResponseState.returned:
        response.state = ResponseState.returned
        db.session.flush()


def _start_review(cycle: Cycle, actor: Actor) -> None:
    """The first decision moves a submitted cycle into review (web contract, workflow rules)."""
    if cycle.state is not CycleState.submitted:
        return
    _lock_and_reload(cycle)
    if cycle.state is CycleState.submitted:
        change_state(cycle, CycleState.in_review, actor)


def _decision_summary(review: ItemReview) -> dict[str, Any]:
    return {
        "response_id": review.response_id, "item_id": review.item_id,
        "framework_node": review.framework_node, "round": review.round,
        "decision": review.decision.value, "comment": review.comment,
        "validated_value": review.validated_value,
        "evidence": {str(mark.evidence_id): "sufficient" if mark.sufficient else "insufficient"
                     for mark in review.evidence_reviews},
    }


# --------------------------------------------------------------------------- threads


def post_message(response: Response, item_id: str, framework_node: str, body: str,
                 author: User) -> ReviewMessage:
    """Add a message to an item's thread and tell the other side.

    :raises ServiceError: for an empty message, an item not reviewed, or a closed review.
    """
    cycle = response.cycle
    if cycle.state not in REVIEW_STATES:
        raise ServiceError(_("This cycle is %(state)s: its review threads are closed.",
                             state=cycle.state.label.lower()))
    unit_for(response, item_id)
    body = body.strip()
    if not body:
        raise ServiceError(_("Write a message before sending it."))
    if len(body) > TEXT_MAX_LENGTH:
        raise ServiceError(_("Keep the message under %(text_max_length)s characters.",
                             text_max_length=TEXT_MAX_LENGTH))
    message = ReviewMessage(response_id=response.id, item_id=item_id,
                            framework_node=framework_node, author_id=author.id, body=body)
    db.session.add(message)
    db.session.flush()
    record(Actor.of(author), "review.message", "review_message", message.id,
           after={"response_id": response.id, "item_id": item_id,
                  "framework_node": framework_node, "body": body},
           unit_id=cycle.unit_id, cycle_id=cycle.id)
    node_query = f"?node={framework_node}" if framework_node else ""
    url = f"/review/responses/{response.id}/items/{item_id}{node_query}"
    if author.id == response.respondent_id:
        others = participants(cycle, ParticipantRole.validator)
    else:
        others = [response.respondent] if response.respondent is not None else []
    notify([user for user in others if user.id != author.id], "message",
           _l("%(author)s wrote about %(item)s of “%(cycle)s”: %(message)s",
              author=author.display_name, item=item_id, cycle=cycle.title,
              message=body[:200]),
           url, cycle)
    return message


# --------------------------------------------------------------------------- the cycle


@dataclass(frozen=True)
class CycleProgress:
    """How far the review of a cycle has come."""

    rows: list[ReviewRow]
    counts: Counter[ItemStatus]

    @property
    def undecided(self) -> int:
        return sum(count for status, count in self.counts.items() if not status.decided)

    @property
    def ready_to_validate(self) -> bool:
        return bool(self.rows) and self.undecided == 0


def cycle_progress(cycle: Cycle) -> CycleProgress:
    rows = _review_rows(Cycle.id == cycle.id)
    return CycleProgress(rows, Counter(row.status for row in rows))


def validate_cycle(cycle: Cycle, validator: User) -> None:
    """Lock the cycle once every item is accepted or rejected.

    :raises ServiceError: in the wrong state, or while any item awaits a decision or changes.
    """
    if cycle.state is not CycleState.in_review:
        raise ServiceError(_("Only a cycle in review can be validated; this one is %(state)s.",
                             state=cycle.state.label.lower()))
    progress = cycle_progress(cycle)
    if not progress.rows:
        raise ServiceError(
            _("No submitted item has been reviewed, so there is nothing to validate."))
    if progress.undecided:
        waiting = ", ".join(f"{count} {status.label.lower()}"
                            for status, count in sorted(progress.counts.items())
                            if not status.decided)
        raise ServiceError(_("%(undecided)s item(s) still need a decision (%(waiting)s): every "
                             "item must be accepted or rejected first.",
                             undecided=progress.undecided, waiting=waiting))
    for response in {row.response.id: row.response for row in progress.rows}.values():
        response.state = ResponseState.validated
    change_state(cycle, CycleState.validated, Actor.of(validator))
    notify([*participants(cycle, ParticipantRole.focal_point), *coordinators(cycle)], "validated",
           _l("“%(cycle)s” has been validated.", cycle=cycle.title),
           f"/cycles/{cycle.id}/results", cycle)


def reopen_cycle(cycle: Cycle, reason: str, coordinator: User) -> None:
    """Take a validated cycle back into review, for a stated reason.

    :raises ServiceError: without a reason, or unless the cycle is validated.
    """
    reason = reason.strip()
    if not reason:
        raise ServiceError(_("Give the reason for reopening: it is kept with the cycle and in "
                             "the audit log."))
    if len(reason) > REASON_MAX_LENGTH:
        raise ServiceError(_("Keep the reason under %(reason_max_length)s characters.",
                             reason_max_length=REASON_MAX_LENGTH))
    if cycle.state is not CycleState.validated:
        raise ServiceError(_("Only a validated cycle can be reopened; this one is %(state)s.",
                             state=cycle.state.label.lower()))
    for response in cycle.responses:
        if response.state is ResponseState.validated:
            response.state = ResponseState.submitted
    change_state(cycle, CycleState.in_review, Actor.of(coordinator), reason=reason)
    notify(participants(cycle, ParticipantRole.validator), "reopened",
           _l("“%(cycle)s” was reopened for review: %(reason)s", cycle=cycle.title,
              reason=reason), "/review/", cycle)


# --------------------------------------------------------------------------- results


def validated_values(cycle: Cycle) -> dict[tuple[int, str, str], Any]:
    """(response id, item id, framework node) -> validated value, of decided items."""
    responses = [response.id for response in cycle.responses]
    return {
        key: review.validated_value
        for key, review in latest_reviews(responses).items()
        if review.decision is not Decision.request_changes and review.validated_value is not None
    }


def validated_stage_answers(cycle: Cycle, instrument: Instrument) -> list[ScoredAnswer]:
    """Validators' stages as answers to the instrument's validator questionnaire (JIU).

    The scoring engine reads validated stages from the ``validated_stage`` item of the
    same node in the validator questionnaire; this turns the review decisions into them.
    """
    by_node = {
        item.node: (questionnaire.id, item.id)
        for questionnaire in instrument.questionnaires if questionnaire.role == "validator"
        for item in questionnaire.items if item.role == "validated_stage"
    }
    stage_nodes = {
        item.id: item.node
        for questionnaire in instrument.questionnaires
        if questionnaire.role in REVIEWED_QUESTIONNAIRE_ROLES
        for item in questionnaire.items if item.role == "stage"
    }
    answers = []
    for (_response_id, item_id, _node), value in sorted(validated_values(cycle).items()):
        target = by_node.get(stage_nodes.get(item_id))
        if target is not None and isinstance(value, int):
            answers.append(ScoredAnswer("validation", target[0], target[1], value))
    return answers


@dataclass(frozen=True)
class StageRow:
    node: Node
    self_stage: int | None
    validated_stage: int | None
    difference: int | None


@dataclass(frozen=True)
class StageProfile:
    """Self-assessed and validated stages side by side (JIU/NOTE/2017/1 paras 67-68)."""

    rows: list[StageRow]
    problems: list[str]


def stage_profile(cycle: Cycle) -> StageProfile | None:
    """Score the cycle's stages with the scoring engine; None if the instrument has none.

    Self-assessed stages are the focal points' stage answers; validated stages are the
    validators' validated values, given to the engine as the instrument's validator
    questionnaire answers for the same node.
    """
    loaded = instrument_of(cycle)
    instrument = loaded.instrument
    self_items = {
        item.id: (questionnaire.id, item)
        for questionnaire in instrument.questionnaires
        if questionnaire.role in REVIEWED_QUESTIONNAIRE_ROLES
        for item in questionnaire.items if item.role == "stage"
    }
    if not self_items:
        return None
    answers: list[ScoredAnswer] = []
    for answer, response in db.session.execute(
        select(Answer, Response).join(Response, Answer.response_id == Response.id)
        .where(Response.cycle_id == cycle.id, Response.respondent_id.is_not(None),
               Answer.item_id.in_(list(self_items)), Answer.not_applicable.is_(False))
    ).tuples():
        questionnaire_id, _item = self_items[answer.item_id]
        if response.questionnaire == questionnaire_id and isinstance(answer.value, int):
            answers.append(ScoredAnswer(f"response-{response.id}", questionnaire_id,
                                        answer.item_id, answer.value))
    answers.extend(validated_stage_answers(cycle, instrument))
    try:
        report = score(instrument, Responses.of(answers), sha256=loaded.sha256)
    except AnswersInvalid as invalid:
        return StageProfile([], [problem.format() for problem in invalid.problems])
    nodes = nodes_by_id(loaded)
    return StageProfile(
        [StageRow(nodes[result.node], result.self_stage, result.validated_stage,
                  result.difference)
         for result in report.results if isinstance(result, StageResult)],
        [],
    )
