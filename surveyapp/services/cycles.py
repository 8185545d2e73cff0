"""Assessment cycles: opening one, the people on it, its results framework and its states.

Every change of state goes through :func:`change_state`, which knows the allowed
transitions (DESIGN.md "How work flows"; web contract "Workflow rules"), records the
audit event and tells the people who now have work to do. The validation service
notifies on its own transitions (validated, reopened), so this module does not repeat
those notices.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import joinedload

from instruments.schema import Instrument, Questionnaire
from surveyapp.extensions import db
from surveyapp.models import (
    Cycle,
    CycleParticipant,
    CycleState,
    FrameworkNode,
    InstrumentStatus,
    InstrumentVersion,
    Membership,
    ParticipantRole,
    Response,
    ResponseState,
    Role,
    Unit,
    User,
)
from surveyapp.services import ServiceError
from surveyapp.services.audit import Actor, record
from surveyapp.services.instrument_versions import cycle_instrument, latest_published
from surveyapp.services.notifications import notify, participants
from surveyapp.services.overlays import overlay_for
from surveyapp.services.questionnaire import FOCAL_POINT_ROLES
from surveyapp.services.units import roles_for

TITLE_MAX = 200
#: Framework codes appear in addresses and files: the instrument identifier rule.
CODE_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}$")
#: The transitions of the workflow and the audit action each records.
TRANSITIONS: dict[tuple[CycleState, CycleState], str] = {
    (CycleState.draft, CycleState.open): "cycle.opened",
    (CycleState.open, CycleState.submitted): "cycle.answering_closed",
    (CycleState.submitted, CycleState.in_review): "cycle.review_started",
    (CycleState.in_review, CycleState.validated): "cycle.validated",
    (CycleState.validated, CycleState.in_review): "cycle.reopened",
    (CycleState.validated, CycleState.closed): "cycle.closed",
}
#: When each kind of participant may still be added or removed.
PEOPLE_STATES = {
    ParticipantRole.focal_point: frozenset({CycleState.draft, CycleState.open}),
    ParticipantRole.validator: frozenset(
        {CycleState.draft, CycleState.open, CycleState.submitted, CycleState.in_review}
    ),
}
#: The unit role a person needs before being assigned to a cycle in each capacity.
UNIT_ROLE_FOR = {
    ParticipantRole.focal_point: Role.focal_point,
    ParticipantRole.validator: Role.validator,
}
#: The framework of a unit can be edited until the cycle opens, so pages stay stable.
FRAMEWORK_STATES = frozenset({CycleState.draft})
#: Cycles whose answers and evidence can seed a new cycle.
CARRY_FORWARD_STATES = frozenset({CycleState.validated, CycleState.closed})


def cycle_path(cycle: Cycle) -> str:
    """The cycle's page, for notifications (which store site paths)."""
    return f"/cycles/{cycle.id}"


def instrument_of(cycle: Cycle) -> Instrument:
    return cycle_instrument(cycle).instrument


def focal_point_questionnaires(instrument: Instrument) -> list[Questionnaire]:
    """Questionnaires the cycle's focal points answer (the others go by link or review)."""
    return [q for q in instrument.questionnaires if q.role in FOCAL_POINT_ROLES]


def _audit(actor: Actor, action: str, cycle: Cycle, entity_type: str, entity_id: object, *,
           before: object = None, after: object = None) -> None:
    record(actor, action, entity_type, entity_id, before=before, after=after,
           unit_id=cycle.unit_id, cycle_id=cycle.id)


# --------------------------------------------------------------------------- creating


@dataclass(frozen=True)
class CycleDraft:
    """What a coordinator fills in to open a cycle."""

    unit: Unit
    version: InstrumentVersion
    title: str
    period_start: date
    period_end: date
    due_on: date | None = None
    review_due_on: date | None = None
    anonymous: bool = False
    previous_cycle: Cycle | None = None


def _check_draft(draft: CycleDraft) -> str:
    title = " ".join(draft.title.split())
    if not title:
        raise ServiceError(_("Give the cycle a title, e.g. “Health cluster CCPM 2026”."))
    if len(title) > TITLE_MAX:
        raise ServiceError(_("Keep the title under %(title_max)s characters.",
                             title_max=TITLE_MAX))
    if draft.period_end < draft.period_start:
        raise ServiceError(_("The period ends before it starts: check the two dates."))
    if draft.due_on and draft.review_due_on and draft.review_due_on < draft.due_on:
        raise ServiceError(_("The review cannot be due before the answers are."))
    if draft.version.status is not InstrumentStatus.published:
        raise ServiceError(_("Only a published instrument version can be used for a new cycle."))
    latest = latest_published(draft.version.key)
    if latest is not draft.version:
        raise ServiceError(_("Version %(version)s of this instrument is published: new cycles "
                             "use the latest version.", version=latest.version if latest else "?"))
    previous = draft.previous_cycle
    if previous is not None:
        if previous.unit_id != draft.unit.id:
            raise ServiceError(
                _("Answers can only be carried forward from a cycle of the same unit."))
        if previous.instrument_version.key != draft.version.key:
            raise ServiceError(_("Answers can only be carried forward from a cycle of the same "
                                 "instrument."))
        if previous.state not in CARRY_FORWARD_STATES:
            raise ServiceError(_("Answers are carried forward only from a validated or closed "
                                 "cycle."))
    return title


def create_cycle(draft: CycleDraft, actor: Actor) -> Cycle:
    """Create a cycle in ``draft``, pinned to the exact text of the instrument version and
    of the overlay that adapts it for the unit, if any.

    :raises ServiceError: for a missing title, reversed dates, a version that is not the
        latest published one, or a previous cycle that cannot seed this one.
    """
    title = _check_draft(draft)
    overlay = overlay_for(draft.unit, draft.version)
    cycle = Cycle(
        unit=draft.unit, instrument_version=draft.version, overlay=overlay, title=title,
        period_start=draft.period_start, period_end=draft.period_end, due_on=draft.due_on,
        review_due_on=draft.review_due_on, anonymous=draft.anonymous,
        previous_cycle=draft.previous_cycle, created_by_id=actor.user_id,
    )
    db.session.add(cycle)
    db.session.flush()
    _audit(actor, "cycle.created", cycle, "cycle", cycle.id, after={
        "title": title, "unit": draft.unit.code, "instrument": draft.version.key,
        "version": draft.version.version, "sha256": draft.version.sha256,
        "overlay": overlay.sha256 if overlay else None,
        "period": [draft.period_start.isoformat(), draft.period_end.isoformat()],
        "due_on": draft.due_on.isoformat() if draft.due_on else None,
        "anonymous": draft.anonymous,
        "previous_cycle_id": draft.previous_cycle.id if draft.previous_cycle else None,
    })
    return cycle


# --------------------------------------------------------------------------- people


def candidates(cycle: Cycle, role: ParticipantRole) -> list[User]:
    """Active users whose unit role lets them take ``role`` in the cycle, by name."""
    lineage = Unit.lineage_cte(cycle.unit_id)
    return list(db.session.scalars(
        select(User).join(Membership, Membership.user_id == User.id)
        .where(Membership.unit_id.in_(select(lineage.c.id)),
               Membership.role == UNIT_ROLE_FOR[role], User.active.is_(True))
        .distinct().order_by(User.display_name, User.email)
    ))


def _language_for(user: User, instrument: Instrument) -> str:
    return user.preferred_language if user.preferred_language in instrument.languages else "en"


def _ensure_responses(cycle: Cycle, user: User, actor: Actor) -> None:
    """Give a focal point a draft response to each questionnaire focal points answer."""
    instrument = instrument_of(cycle)
    existing = set(db.session.scalars(select(Response.questionnaire).where(
        Response.cycle_id == cycle.id, Response.respondent_id == user.id)))
    for questionnaire in focal_point_questionnaires(instrument):
        if questionnaire.id in existing:
            continue
        response = Response(cycle=cycle, questionnaire=questionnaire.id, respondent=user,
                            language=_language_for(user, instrument))
        db.session.add(response)
        db.session.flush()
        _audit(actor, "response.created", cycle, "response", response.id,
               after={"questionnaire": questionnaire.id, "respondent": user.email})


def add_participant(cycle: Cycle, user: User, role: ParticipantRole, actor: Actor
                    ) -> CycleParticipant:
    """Assign a focal point or validator; a focal point gets their responses at once.

    :raises ServiceError: in a state where that role no longer changes, for a user without
        the matching unit role, or for someone who would validate their own answers.
    """
    if cycle.state not in PEOPLE_STATES[role]:
        message = (_("Focal points cannot change once the cycle is %(state)s.")
                   if role is ParticipantRole.focal_point else
                   _("Validators cannot change once the cycle is %(state)s."))
        raise ServiceError(message % {"state": cycle.state.label.lower()})
    if not user.active:
        raise ServiceError(_("%(display_name)s's account is inactive.",
                             display_name=user.display_name))
    if UNIT_ROLE_FOR[role] not in roles_for(user, cycle.unit):
        raise ServiceError(
            _("%(display_name)s is not a %(unit_role_for)s of %(code)s: give them that role on "
              "the unit first.",
              display_name=user.display_name,
              unit_role_for=UNIT_ROLE_FOR[role].label.lower(),
              code=cycle.unit.code)
        )
    held = set(db.session.scalars(select(CycleParticipant.role).where(
        CycleParticipant.cycle_id == cycle.id, CycleParticipant.user_id == user.id)))
    if role in held:
        raise ServiceError(_("%(display_name)s is already on this cycle in that role.",
                             display_name=user.display_name))
    if held:
        raise ServiceError(_("%(display_name)s is already on this cycle in another role: nobody "
                             "validates their own answers.", display_name=user.display_name))
    participant = CycleParticipant(cycle=cycle, user=user, role=role)
    db.session.add(participant)
    db.session.flush()
    _audit(actor, "cycle.participant_added", cycle, "cycle_participant", participant.id,
           after={"user": user.email, "role": role.value})
    if role is ParticipantRole.focal_point:
        _ensure_responses(cycle, user, actor)
        if cycle.state is CycleState.open:
            notify([user], "assigned",
                   _l("You are a focal point of “%(cycle)s”.", cycle=cycle.title),
                   cycle_path(cycle), cycle)
    return participant


def remove_participant(cycle: Cycle, participant_id: int, actor: Actor) -> None:
    """Take someone off the cycle; answers they gave stay stored but no longer count.

    :raises ServiceError: for someone not on this cycle, or in a state where that role
        no longer changes.
    """
    participant = db.session.get(CycleParticipant, participant_id)
    if participant is None or participant.cycle_id != cycle.id:
        raise ServiceError(_("That person is not on this cycle."))
    if cycle.state not in PEOPLE_STATES[participant.role]:
        raise ServiceError(_("This cannot change once the cycle is %(state)s.",
                             state=cycle.state.label.lower()))
    _audit(actor, "cycle.participant_removed", cycle, "cycle_participant", participant.id,
           before={"user": participant.user.email, "role": participant.role.value})
    db.session.delete(participant)
    db.session.flush()


# --------------------------------------------------------------------------- framework


@dataclass(frozen=True)
class NodeDraft:
    """A node a coordinator adds to the unit's own results framework (CPAS)."""

    level: str
    code: str
    title: str
    parent_code: str | None = None
    section: str | None = None


def add_framework_node(cycle: Cycle, draft: NodeDraft, actor: Actor) -> FrameworkNode:
    """Add an impact, outcome or output (the instrument's framework levels).

    :raises ServiceError: the instrument has no framework, the cycle is open already, or
        the code, level or parent does not fit.
    """
    framework = instrument_of(cycle).framework
    if framework is None:
        raise ServiceError(_("This instrument has no results framework to define."))
    if cycle.state not in FRAMEWORK_STATES:
        raise ServiceError(_("The results framework can change only before the cycle opens."))
    code, title = draft.code.strip(), " ".join(draft.title.split())
    if not CODE_PATTERN.match(code):
        raise ServiceError(_("Codes use letters, digits, dots, hyphens and underscores, e.g. "
                             "OP1.2 (at most 64 characters)."))
    if not title:
        raise ServiceError(_("Give the node its title."))
    if draft.level not in framework.levels:
        raise ServiceError(_("Choose a level: %(levels)s.", levels=', '.join(framework.levels)))
    nodes = {node.code: node for node in cycle.framework_nodes}
    if code in nodes:
        raise ServiceError(_("The code %(code)s is already used in this framework.", code=code))
    depth = framework.levels.index(draft.level)
    parent_code = (draft.parent_code or "").strip() or None
    if depth == 0 and parent_code:
        raise ServiceError(_("An %(level)s is at the top of the framework: it has no parent.",
                             level=draft.level))
    if depth > 0:
        wanted = framework.levels[depth - 1]
        parent = nodes.get(parent_code or "")
        if parent is None or parent.level != wanted:
            raise ServiceError(_("Choose the %(wanted)s this %(level)s contributes to.",
                                 wanted=wanted, level=draft.level))
    section = " ".join((draft.section or "").split()) or None
    node = FrameworkNode(cycle=cycle, code=code, level=draft.level, parent_code=parent_code,
                         title=title[:500], section=section and section[:200],
                         position=len(nodes))
    db.session.add(node)
    db.session.flush()
    _audit(actor, "framework_node.added", cycle, "framework_node", node.id, after={
        "code": code, "level": draft.level, "parent": parent_code, "title": node.title,
        "section": node.section,
    })
    return node


def remove_framework_node(cycle: Cycle, code: str, actor: Actor) -> None:
    """Remove a node that has nothing under it, before the cycle opens.

    :raises ServiceError: for an unknown node, one with children, or an open cycle.
    """
    if cycle.state not in FRAMEWORK_STATES:
        raise ServiceError(_("The results framework can change only before the cycle opens."))
    node = next((n for n in cycle.framework_nodes if n.code == code), None)
    if node is None:
        raise ServiceError(_("The framework has no node %(code)s.", code=code))
    if any(other.parent_code == code for other in cycle.framework_nodes):
        raise ServiceError(_("Remove what is under %(code)s first.", code=code))
    _audit(actor, "framework_node.removed", cycle, "framework_node", node.id,
           before={"code": node.code, "level": node.level, "title": node.title})
    cycle.framework_nodes.remove(node)
    db.session.flush()


# --------------------------------------------------------------------------- states


def _check_can_open(cycle: Cycle) -> None:
    instrument = instrument_of(cycle)
    answered_by_focal_points = focal_point_questionnaires(instrument)
    if not answered_by_focal_points:
        return  # partners' and senior managers' links need nobody assigned
    focal_points = participants(cycle, ParticipantRole.focal_point)
    if not focal_points:
        raise ServiceError(_("Assign at least one focal point before opening the cycle."))
    levels = {item.per_level for q in answered_by_focal_points for item in q.items
              if item.per_level}
    defined = {node.level for node in cycle.framework_nodes}
    missing = [level for level in (instrument.framework.levels if instrument.framework else ())
               if level in levels and level not in defined]
    if missing:
        raise ServiceError(_("Define the results framework first: it has no %(missing)s yet.",
                             missing=missing[0]))


def change_state(cycle: Cycle, new_state: CycleState, actor: Actor,
                 reason: str | None = None) -> None:
    """Move the cycle along the workflow: the one way any cycle changes state.

    Optimistic locking on ``cycles.version`` makes a concurrent change of the same cycle
    fail with ``StaleDataError`` at flush, instead of one silently undoing the other.

    :raises ServiceError: for a transition the workflow does not have, a reopening
        without a reason, or opening a cycle nobody can answer.
    """
    old_state = cycle.state
    action = TRANSITIONS.get((old_state, new_state))
    if action is None:
        raise ServiceError(_("A cycle that is %(old_state)s cannot become %(new_state)s.",
                             old_state=old_state.label.lower(), new_state=new_state.label.lower()))
    reason = (reason or "").strip() or None
    if action == "cycle.reopened":
        if not reason:
            raise ServiceError(_("Give the reason for reopening the cycle."))
        cycle.reopen_reason = reason
    if new_state is CycleState.open:
        _check_can_open(cycle)
    cycle.state = new_state
    db.session.flush()
    _audit(actor, action, cycle, "cycle", cycle.id, before={"state": old_state.value},
           after={"state": new_state.value, "reason": reason})
    _notify_transition(cycle, new_state)


def _notify_transition(cycle: Cycle, new_state: CycleState) -> None:
    if new_state is CycleState.open:
        opened = (_l("“%(cycle)s” is open for your answers. Answers are due by %(due)s.",
                     cycle=cycle.title, due=cycle.due_on.isoformat()) if cycle.due_on else
                  _l("“%(cycle)s” is open for your answers.", cycle=cycle.title))
        notify(participants(cycle, ParticipantRole.focal_point), "opened", opened,
               cycle_path(cycle), cycle)
    elif new_state is CycleState.submitted:
        notify(participants(cycle, ParticipantRole.validator), "submitted",
               _l("“%(cycle)s” has been submitted and is ready for review.", cycle=cycle.title),
               "/review/", cycle)
    elif new_state is CycleState.closed:
        people = [*participants(cycle, ParticipantRole.focal_point),
                  *participants(cycle, ParticipantRole.validator)]
        notify(people, "closed", _l("“%(cycle)s” is closed.", cycle=cycle.title),
               cycle_path(cycle), cycle)


def focal_points_done(cycle: Cycle) -> bool:
    """Whether there are assigned focal points and all their responses are submitted."""
    states = list(db.session.scalars(
        select(Response.state).join(CycleParticipant, (
            (CycleParticipant.user_id == Response.respondent_id)
            & (CycleParticipant.cycle_id == Response.cycle_id)))
        .where(Response.cycle_id == cycle.id,
               CycleParticipant.role == ParticipantRole.focal_point)))
    return bool(states) and ResponseState.draft not in states


# --------------------------------------------------------------------------- listing


def units_for_new_cycles(user: User) -> list[Unit]:
    """Units the user may open cycles for: those their coordinator or admin roles cover."""
    roots = list(db.session.scalars(select(Membership.unit_id).where(
        Membership.user_id == user.id, Membership.role.in_((Role.coordinator, Role.admin)))))
    if not roots:
        return []
    subtree = Unit.subtree_cte(roots)
    return list(db.session.scalars(
        select(Unit).where(Unit.id.in_(select(subtree.c.id))).order_by(Unit.code)))


def visible_cycles_query(user: User) -> Select[tuple[Cycle]]:
    """The query of :func:`visible_cycles`, for callers that filter or page it further."""
    roots = list(db.session.scalars(select(Membership.unit_id).where(
        Membership.user_id == user.id)))
    assigned = select(CycleParticipant.cycle_id).where(CycleParticipant.user_id == user.id)
    conditions = [Cycle.id.in_(assigned)]
    if roots:
        conditions.append(Cycle.unit_id.in_(select(Unit.subtree_cte(roots).c.id)))
    return (select(Cycle).options(joinedload(Cycle.unit)).where(or_(*conditions))
            .order_by(Cycle.due_on.is_(None), Cycle.due_on, Cycle.id.desc()))


def visible_cycles(user: User) -> list[Cycle]:
    """Cycles of every unit the user's roles cover, and those they are assigned to."""
    return list(db.session.scalars(visible_cycles_query(user)).unique())


def partner_response_counts(cycle_ids: Iterable[int]) -> dict[int, int]:
    """Submitted partner answers (through invitation links, or imported), by cycle, in one
    query: the responses of respondents without an account."""
    ids = list(cycle_ids)
    if not ids:
        return {}
    rows = db.session.execute(
        select(Response.cycle_id, func.count(Response.id))
        .where(Response.cycle_id.in_(ids), Response.respondent_id.is_(None),
               Response.state != ResponseState.draft)
        .group_by(Response.cycle_id))
    return {cycle_id: count for cycle_id, count in rows}
