"""Who may do what with a cycle: one place for every route to ask.

A user's reach comes from two sources: roles held on the cycle's unit or an
ancestor (``roles_for``), and the cycle's own assignment of focal points and
validators. ``cycle_access`` gathers both in two queries; the ``may_*``
properties then answer, with the workflow state, the questions views ask.
Views call :func:`require` and get a 403 or 404 with a reason, never a
silent allow.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from surveyapp.extensions import db
from surveyapp.models import (
    Action,
    Cycle,
    CycleParticipant,
    CycleState,
    ParticipantRole,
    Response,
    ResponseState,
    Role,
    User,
)
from surveyapp.services.units import roles_for

#: States in which focal points may still change their answers.
ANSWERING_STATES = frozenset({CycleState.open})
#: States in which validators work through submitted items.
REVIEW_STATES = frozenset({CycleState.submitted, CycleState.in_review})
#: Response states whose answers the respondent may edit (returned: only returned items).
EDITABLE_RESPONSE_STATES = frozenset({ResponseState.draft, ResponseState.returned})
#: States whose results are final: reports are final, and the cycle has an action plan.
FINAL_STATES = frozenset({CycleState.validated, CycleState.closed})
#: Unit roles of leadership, who decide recommendations (DESIGN.md, "Users and roles").
LEADERSHIP_ROLES = frozenset({Role.viewer, Role.coordinator})


class AccessDenied(Exception):
    """The user may not do this; ``status`` is 404 when they may not even know it exists."""

    def __init__(self, message: str, status: int = 403) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class CycleAccess:
    """What one user may do with one cycle in its current state."""

    cycle: Cycle
    unit_roles: frozenset[Role]
    assignments: frozenset[ParticipantRole]

    @property
    def is_coordinator(self) -> bool:
        return Role.coordinator in self.unit_roles

    @property
    def is_focal_point(self) -> bool:
        return ParticipantRole.focal_point in self.assignments

    @property
    def is_validator(self) -> bool:
        return ParticipantRole.validator in self.assignments

    @property
    def may_see(self) -> bool:
        """Anyone with a role on the unit, or assigned to the cycle, knows the cycle exists."""
        return bool(self.unit_roles or self.assignments)

    @property
    def may_manage(self) -> bool:
        """Coordinators (and admins) set the cycle up, invite partners and move its state."""
        return self.is_coordinator or Role.admin in self.unit_roles

    @property
    def may_answer(self) -> bool:
        return self.is_focal_point and self.cycle.state in ANSWERING_STATES

    @property
    def may_review(self) -> bool:
        return self.is_validator and self.cycle.state in REVIEW_STATES

    @property
    def may_edit_plan(self) -> bool:
        """Coordinators draft and change the action plan once the results are final."""
        return self.may_manage and self.cycle.state in FINAL_STATES

    @property
    def may_decide_recommendations(self) -> bool:
        """Leadership (viewers and coordinators of the unit) decide once results are final."""
        return bool(self.unit_roles & LEADERSHIP_ROLES) and self.cycle.state in FINAL_STATES

    @property
    def may_see_results(self) -> bool:
        """Results and reports: coordinators, viewers, admins, and the cycle's own people."""
        return bool(self.unit_roles & {Role.coordinator, Role.viewer, Role.admin}
                    or self.assignments)


def cycle_access(user: User, cycle: Cycle) -> CycleAccess:
    """Gather the user's roles on the cycle's unit and assignments in the cycle."""
    assignments = frozenset(db.session.scalars(
        select(CycleParticipant.role).where(
            CycleParticipant.cycle_id == cycle.id, CycleParticipant.user_id == user.id)
    ))
    return CycleAccess(cycle, roles_for(user, cycle.unit), assignments)


def may_edit_response(user: User, response: Response, access: CycleAccess) -> bool:
    """Only the respondent: a draft while the cycle is open, a returned response during review.

    In a returned response only the returned items may change (``reviews.returned_items``).
    """
    if not access.is_focal_point or response.respondent_id != user.id:
        return False
    if response.state is ResponseState.returned:
        return access.cycle.state in REVIEW_STATES
    return access.may_answer and response.state in EDITABLE_RESPONSE_STATES


def may_read_answers(user: User, response: Response, access: CycleAccess) -> bool:
    """A response's answers one by one: its respondent (an assigned focal point) always; the
    cycle's validators and managers once it is submitted. The review pages (an item, its
    thread and decisions, what came back) and the API both ask this.

    Answers given through invitation links are never shown one by one, so an anonymous
    partner stays anonymous: they count only in the scored results.
    """
    if response.respondent_id is None:
        return False
    if response.respondent_id == user.id:
        return access.is_focal_point
    return (access.is_validator or access.may_manage) and (
        response.state is not ResponseState.draft)


def may_record_progress(user: User, action: Action, access: CycleAccess) -> bool:
    """The action's responsible person, or a coordinator, while the plan is open."""
    return access.cycle.state in FINAL_STATES and (
        access.may_manage or action.responsible_user_id == user.id)


def may_write_in_thread(user: User, response: Response, access: CycleAccess) -> bool:
    """Validators and the respondent talk about an item while the cycle is under review."""
    return (access.is_validator or response.respondent_id == user.id) and (
        access.cycle.state in REVIEW_STATES)


def require(allowed: bool, message: str, *, status: int = 403) -> None:
    """Raise :class:`AccessDenied` unless ``allowed``; views turn it into an error page."""
    if not allowed:
        raise AccessDenied(message, status)


def load_cycle_for(user: User, cycle_id: int) -> tuple[Cycle, CycleAccess]:
    """The cycle and the user's access to it; 404 for a cycle the user may not know about."""
    cycle = db.session.get(Cycle, cycle_id)
    if cycle is None:
        raise AccessDenied(_l("There is no such assessment cycle."), 404)
    access = cycle_access(user, cycle)
    require(access.may_see, _l("There is no such assessment cycle."), status=404)
    return cycle, access
