"""Cycle pages: the list with completion, a new cycle, one cycle, its people, state and framework.

Views are thin: they check access (``services.access``), call one service, commit and
redirect. Every rule about what may change when lives in ``services.cycles``.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import login_required
from sqlalchemy import select
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import MethodNotAllowed, NotFound
from werkzeug.wrappers import Response as WerkzeugResponse
from wtforms.fields.choices import SelectChoice

from surveyapp.auth.sessions import signed_in_user
from surveyapp.cycles.forms import (
    FrameworkNodeForm,
    NewCycleForm,
    PersonForm,
    RemoveNodeForm,
    RemovePersonForm,
    StateForm,
)
from surveyapp.extensions import db
from surveyapp.models import (
    Cycle,
    CycleParticipant,
    CycleState,
    InstrumentVersion,
    Membership,
    ParticipantRole,
    Response,
    Unit,
    User,
)
from surveyapp.services import ServiceError
from surveyapp.services.access import FINAL_STATES, CycleAccess, load_cycle_for, require
from surveyapp.services.answers import Completion, completion_by_response
from surveyapp.services.audit import Actor
from surveyapp.services.carry_forward import carry_forward
from surveyapp.services.cycles import (
    CARRY_FORWARD_STATES,
    PEOPLE_STATES,
    UNIT_ROLE_FOR,
    CycleDraft,
    NodeDraft,
    add_framework_node,
    add_participant,
    candidates,
    change_state,
    create_cycle,
    focal_point_questionnaires,
    instrument_of,
    partner_response_counts,
    remove_framework_node,
    remove_participant,
    units_for_new_cycles,
    visible_cycles,
)
from surveyapp.services.instrument_versions import published_versions
from surveyapp.services.invitations import invitation_questionnaires, invitation_summary
from surveyapp.services.questionnaire import localized

bp = Blueprint("cycles", __name__, url_prefix="/cycles")

#: The state changes a coordinator makes from the cycle page, with their button text.
#: Validation and reopening have their own pages (the review blueprint).
MANUAL_TRANSITIONS: dict[tuple[CycleState, CycleState], str] = {
    (CycleState.draft, CycleState.open): _l("Open the cycle for answers"),
    (CycleState.open, CycleState.submitted): _l("Close answering now"),
    (CycleState.validated, CycleState.closed): _l("Close the cycle"),
}


def routed(path: str) -> bool:
    """Whether this site serves ``path`` with GET (pages other blueprints may provide)."""
    try:
        current_app.url_map.bind("").match(path, method="GET")
    except (NotFound, MethodNotAllowed):
        return False
    return True


# --------------------------------------------------------------------------- list


@dataclass(frozen=True)
class CycleRow:
    cycle: Cycle
    completion: Completion
    partner_responses: int


def focal_point_responses(cycles: list[Cycle]) -> list[Response]:
    """The responses of the cycles' assigned focal points, in one query."""
    if not cycles:
        return []
    return list(db.session.scalars(
        select(Response).join(CycleParticipant, (
            (CycleParticipant.cycle_id == Response.cycle_id)
            & (CycleParticipant.user_id == Response.respondent_id)))
        .where(Response.cycle_id.in_([cycle.id for cycle in cycles]),
               CycleParticipant.role == ParticipantRole.focal_point)
        .order_by(Response.id)
    ))


@bp.get("/")
@login_required
def index() -> str:
    cycles = visible_cycles(signed_in_user())
    responses = focal_point_responses(cycles)
    completion = completion_by_response(responses)
    by_cycle: dict[int, Completion] = {cycle.id: Completion() for cycle in cycles}
    for response in responses:
        by_cycle[response.cycle_id] += completion[response.id]
    partners = partner_response_counts(by_cycle)
    rows = [CycleRow(cycle, by_cycle[cycle.id], partners.get(cycle.id, 0)) for cycle in cycles]
    may_create = bool(units_for_new_cycles(signed_in_user()))
    return render_template("cycles/index.html", rows=rows, may_create=may_create)


# --------------------------------------------------------------------------- new


def _person_choices(units: list[Unit], role: ParticipantRole) -> list[SelectChoice]:
    """People holding the unit role for ``role`` on these units or above them."""
    unit_ids = {unit.id for unit in units}
    for unit in units:
        unit_ids.update(ancestor.id for ancestor in unit.ancestors())
    rows = db.session.execute(
        select(User, Unit.code).join(Membership, Membership.user_id == User.id)
        .join(Unit, Unit.id == Membership.unit_id)
        .where(Membership.unit_id.in_(unit_ids), Membership.role == UNIT_ROLE_FOR[role],
               User.active.is_(True))
        .order_by(User.display_name, Unit.code)
    )
    codes: dict[User, list[str]] = {}
    for user, code in rows:
        codes.setdefault(user, []).append(code)
    label = UNIT_ROLE_FOR[role].label.lower()
    return [SelectChoice(user.id, _("%(display_name)s (%(label)s of %(unit_codes)s)",
                                    display_name=user.display_name,
                                    label=label,
                                    unit_codes=', '.join(unit_codes)))
            for user, unit_codes in codes.items()]


def _fill_new_cycle_choices(form: NewCycleForm, units: list[Unit]) -> None:
    form.unit.choices = [SelectChoice(unit.id, f"{unit.code}: {unit.name}") for unit in units]
    form.instrument.choices = [
        SelectChoice(version.id, f"{version.title} ({version.key} {version.version})")
        for version in published_versions()
    ]
    form.focal_point_ids.choices = _person_choices(units, ParticipantRole.focal_point)
    form.validator_ids.choices = _person_choices(units, ParticipantRole.validator)
    earlier = db.session.scalars(
        select(Cycle).where(Cycle.unit_id.in_([unit.id for unit in units]),
                            Cycle.state.in_(CARRY_FORWARD_STATES))
        .order_by(Cycle.period_end.desc())
    )
    form.previous_cycle.choices = [SelectChoice(0, _("No: start with empty answers"))] + [
        SelectChoice(cycle.id, f"{cycle.title} ({cycle.unit.code}, {cycle.period_start.year}"
                   f"-{cycle.period_end.year})")
        for cycle in earlier
    ]


def _create_from(form: NewCycleForm, user: User) -> Cycle:
    """Create the cycle, its people and its carried-forward answers in one transaction."""
    actor = Actor.of(user)
    unit = db.session.get_one(Unit, form.unit.data)
    previous = db.session.get(Cycle, form.previous_cycle.data) if form.previous_cycle.data else None
    cycle = create_cycle(CycleDraft(
        unit=unit, version=db.session.get_one(InstrumentVersion, form.instrument.data),
        title=form.title.data or "", period_start=form.period_start.data,
        period_end=form.period_end.data, due_on=form.due_on.data,
        review_due_on=form.review_due_on.data, anonymous=form.anonymous.data,
        previous_cycle=previous,
    ), actor)
    for role, ids in ((ParticipantRole.focal_point, form.focal_point_ids.data),
                      (ParticipantRole.validator, form.validator_ids.data)):
        for user_id in ids or ():
            add_participant(cycle, db.session.get_one(User, user_id), role, actor)
    if previous is not None:
        carry_forward(cycle, previous, actor)
    return cycle


@bp.route("/new", methods=("GET", "POST"))
@login_required
def new() -> str | WerkzeugResponse | tuple[str, int]:
    user = signed_in_user()
    units = units_for_new_cycles(user)
    require(bool(units), _l("Only coordinators open assessment cycles."))
    form = NewCycleForm()
    _fill_new_cycle_choices(form, units)
    error = None
    if form.validate_on_submit():
        require(form.unit.data in {unit.id for unit in units},
                _l("You do not coordinate that unit."))
        try:
            cycle = _create_from(form, user)
        except ServiceError as refused:
            db.session.rollback()
            error = str(refused)
        else:
            db.session.commit()
            flash(_("“%(cycle)s” was created as a draft. Check its people, then open it.",
                    cycle=cycle.title),
                  "success")
            return redirect(url_for("cycles.detail", cycle_id=cycle.id))
    status = 422 if form.is_submitted() else 200
    return render_template("cycles/new.html", form=form, error=error), status


# --------------------------------------------------------------------------- one cycle


@dataclass(frozen=True)
class ResponseRow:
    response: Response
    title: str
    completion: Completion


def _response_rows(cycle: Cycle) -> list[ResponseRow]:
    responses = focal_point_responses([cycle])
    completion = completion_by_response(responses)
    titles = {q.id: localized(q.title, "en") for q in instrument_of(cycle).questionnaires}
    return [ResponseRow(r, titles.get(r.questionnaire, r.questionnaire), completion[r.id])
            for r in responses]


def _links(cycle: Cycle, access: CycleAccess) -> dict[str, str]:
    """Pages about this cycle that exist on this site and that the user may open."""
    wanted = {
        "invitations": access.may_manage and bool(invitation_questionnaires(cycle)),
        "imports": access.may_manage and bool(invitation_questionnaires(cycle)),
        "evidence": access.may_see,
        "validation": (access.is_validator or access.may_manage)
        and cycle.state not in (CycleState.draft, CycleState.open),
        "results": access.may_see_results,
        "report": access.may_see_results,
        "plan": access.may_see and cycle.state in FINAL_STATES,
    }
    links = {}
    for name, allowed in wanted.items():
        path = f"/cycles/{cycle.id}/{name}"
        if allowed and routed(path):
            links[name] = path
    return links


@bp.get("/<int:cycle_id>")
@login_required
def detail(cycle_id: int) -> str:
    user = signed_in_user()
    cycle, access = load_cycle_for(user, cycle_id)
    instrument = instrument_of(cycle)
    rows = _response_rows(cycle)
    transitions = [
        (target, label) for (source, target), label in MANUAL_TRANSITIONS.items()
        if source is cycle.state
    ] if access.may_manage else []
    summary = invitation_summary(cycle) if access.may_manage or access.may_see_results else None
    partner_types = {
        str(option.code): localized(option.label, "en")
        for q in instrument.questionnaires for item in q.items
        if item.role == "organisation_type" for option in item.options
    }
    return render_template(
        "cycles/detail.html", cycle=cycle, access=access, instrument=instrument, rows=rows,
        my_rows=[row for row in rows if row.response.respondent_id == user.id],
        transitions=transitions, summary=summary,
        partner_types=partner_types, links=_links(cycle, access),
        participants=sorted(cycle.participants, key=lambda p: (p.role, p.user.display_name)),
        answered_by_focal_points=bool(focal_point_questionnaires(instrument)),
    )


@bp.post("/<int:cycle_id>/state")
@login_required
def state(cycle_id: int) -> WerkzeugResponse:
    user = signed_in_user()
    cycle, access = load_cycle_for(user, cycle_id)
    require(access.may_manage, _l("Only the cycle's coordinators change its state."))
    form = StateForm()
    target = CycleState.__members__.get(form.target.data or "") if form.validate() else None
    if target is None or (cycle.state, target) not in MANUAL_TRANSITIONS:
        abort(400, description=_("A cycle that is %(state)s cannot be moved that way from this "
                                 "page. Reload the cycle's page to see what can be done now.",
                                 state=cycle.state.label.lower()))
    try:
        change_state(cycle, target, Actor.of(user))
        db.session.commit()
    except ServiceError as refused:
        db.session.rollback()
        flash(str(refused), "warning")
    except StaleDataError:
        db.session.rollback()
        flash(_("Someone changed this cycle at the same moment: check its state and try again."),
              "warning")
    else:
        flash(_("The cycle is now %(target)s.", target=target.label.lower()), "success")
    return redirect(url_for("cycles.detail", cycle_id=cycle_id))


# --------------------------------------------------------------------------- people


def _people_page(cycle: Cycle, access: CycleAccess, *, error: str | None = None,
                 status: int = 200) -> tuple[str, int]:
    forms = {role: _person_form(cycle, role) for role in ParticipantRole}
    return render_template(
        "cycles/people.html", cycle=cycle, access=access, forms=forms,
        error=error, people_states=PEOPLE_STATES,
        participants={role: sorted((p for p in cycle.participants if p.role is role),
                                   key=lambda p: p.user.display_name)
                      for role in ParticipantRole},
    ), status


def _person_form(cycle: Cycle, role: ParticipantRole) -> PersonForm:
    """The form adding someone in ``role``, offering those who may take it and are not in it."""
    assigned = {p.user_id for p in cycle.participants if p.role is role}
    form = PersonForm(prefix=role.value)
    form.user.choices = [SelectChoice(user.id, f"{user.display_name} ({user.email})")
                         for user in candidates(cycle, role) if user.id not in assigned]
    return form


def _managed_cycle(cycle_id: int) -> tuple[Cycle, CycleAccess, User]:
    user = signed_in_user()
    cycle, access = load_cycle_for(user, cycle_id)
    require(access.may_manage, _l("Only the cycle's coordinators change who takes part."))
    return cycle, access, user


@bp.get("/<int:cycle_id>/people")
@login_required
def people(cycle_id: int) -> tuple[str, int]:
    cycle, access, _user = _managed_cycle(cycle_id)
    return _people_page(cycle, access)


@bp.post("/<int:cycle_id>/people")
@login_required
def add_person(cycle_id: int) -> WerkzeugResponse | tuple[str, int]:
    cycle, access, user = _managed_cycle(cycle_id)
    role = ParticipantRole.__members__.get(request.form.get("role", ""))
    if role is None:
        abort(400, description=_("Say in which role to add the person."))
    form = _person_form(cycle, role)
    if not form.validate():
        return _people_page(cycle, access, error=_("Choose a person from the list."), status=422)
    try:
        add_participant(cycle, db.session.get_one(User, form.user.data), role, Actor.of(user))
    except ServiceError as refused:
        db.session.rollback()
        return _people_page(cycle, access, error=str(refused), status=422)
    db.session.commit()
    flash(_("Added."), "success")
    return redirect(url_for("cycles.people", cycle_id=cycle_id))


@bp.post("/<int:cycle_id>/people/remove")
@login_required
def remove_person(cycle_id: int) -> WerkzeugResponse | tuple[str, int]:
    cycle, access, user = _managed_cycle(cycle_id)
    form = RemovePersonForm()
    participant_id = int(form.participant.data) if (form.participant.data or "").isdigit() else 0
    try:
        remove_participant(cycle, participant_id, Actor.of(user))
    except ServiceError as refused:
        db.session.rollback()
        return _people_page(cycle, access, error=str(refused), status=422)
    db.session.commit()
    flash(_("Removed from the cycle."), "success")
    return redirect(url_for("cycles.people", cycle_id=cycle_id))


# --------------------------------------------------------------------------- framework


def _framework_choices(cycle: Cycle, form: FrameworkNodeForm) -> FrameworkNodeForm:
    framework = instrument_of(cycle).framework
    assert framework is not None
    form.level.choices = [SelectChoice(level, level.capitalize()) for level in framework.levels]
    form.parent.choices = [SelectChoice("", _("Nothing: a top-level node"))] + [
        SelectChoice(node.code, f"{node.code} {node.title[:80]} ({node.level})")
        for node in cycle.framework_nodes if node.level != framework.levels[-1]
    ]
    return form


def _framework_page(cycle: Cycle, access: CycleAccess, form: FrameworkNodeForm | None = None,
                    *, error: str | None = None, status: int = 200) -> tuple[str, int]:
    return render_template(
        "cycles/framework.html", cycle=cycle, access=access,
        framework=instrument_of(cycle).framework,
        form=_framework_choices(cycle, form or FrameworkNodeForm()),
        error=error, editable=cycle.state is CycleState.draft,
        children={code: [n for n in cycle.framework_nodes if n.parent_code == code]
                  for code in [None, *(n.code for n in cycle.framework_nodes)]},
    ), status


def _framework_cycle(cycle_id: int) -> tuple[Cycle, CycleAccess, User]:
    user = signed_in_user()
    cycle, access = load_cycle_for(user, cycle_id)
    require(instrument_of(cycle).framework is not None,
            _l("This cycle's instrument has no results framework."), status=404)
    return cycle, access, user


@bp.get("/<int:cycle_id>/framework")
@login_required
def framework(cycle_id: int) -> tuple[str, int]:
    cycle, access, _user = _framework_cycle(cycle_id)
    return _framework_page(cycle, access)


@bp.post("/<int:cycle_id>/framework")
@login_required
def add_node(cycle_id: int) -> WerkzeugResponse | tuple[str, int]:
    cycle, access, user = _framework_cycle(cycle_id)
    require(access.may_manage, _l("Only the cycle's coordinators define its results framework."))
    form = _framework_choices(cycle, FrameworkNodeForm())
    if not form.validate():
        return _framework_page(cycle, access, form, status=422)
    try:
        add_framework_node(cycle, NodeDraft(
            level=form.level.data or "", code=form.code.data or "", title=form.title.data or "",
            parent_code=form.parent.data or None, section=form.section.data or None,
        ), Actor.of(user))
    except ServiceError as refused:
        db.session.rollback()
        return _framework_page(cycle, access, form, error=str(refused), status=422)
    db.session.commit()
    flash(_("%(data)s was added.", data=form.code.data), "success")
    return redirect(url_for("cycles.framework", cycle_id=cycle_id))


@bp.post("/<int:cycle_id>/framework/remove")
@login_required
def remove_node(cycle_id: int) -> WerkzeugResponse | tuple[str, int]:
    cycle, access, user = _framework_cycle(cycle_id)
    require(access.may_manage, _l("Only the cycle's coordinators define its results framework."))
    form = RemoveNodeForm()
    try:
        remove_framework_node(cycle, form.code.data or "", Actor.of(user))
    except ServiceError as refused:
        db.session.rollback()
        return _framework_page(cycle, access, error=str(refused), status=422)
    db.session.commit()
    flash(_("%(data)s was removed.", data=form.code.data), "success")
    return redirect(url_for("cycles.framework", cycle_id=cycle_id))
