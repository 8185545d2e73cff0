"""Action plan pages: a cycle's plan, one action, its stock-takes, recommendations, quarters.

Views are thin: they check access (``services.access``), call one service, commit and
redirect; the rules (what may change when) live in ``services.plans`` and
``services.recommendations``. The plan is open once the cycle's results are final.
"""

from __future__ import annotations

import datetime as dt
import io

from flask import Blueprint, abort, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import login_required
from sqlalchemy import select
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.wrappers import Response as WerkzeugResponse
from wtforms.fields.choices import SelectChoice

from reports.i18n import LANGUAGES
from reports.progress import write_progress_pdf, write_progress_workbook
from reports.quarters import Quarter
from surveyapp.auth.sessions import signed_in_user
from surveyapp.extensions import db
from surveyapp.models import (
    Action,
    ActionStatus,
    Cycle,
    Evidence,
    Recommendation,
    RecommendationKind,
    RecommendationStatus,
    Role,
    Unit,
    User,
)
from surveyapp.plans.forms import (
    ActionForm,
    ConfirmForm,
    DecisionForm,
    MergeForm,
    ProgressForm,
    QuarterForm,
    RecommendationForm,
    TargetForm,
)
from surveyapp.results.views import report_language
from surveyapp.services import ServiceError
from surveyapp.services.access import (
    AccessDenied,
    CycleAccess,
    load_cycle_for,
    may_record_progress,
    require,
)
from surveyapp.services.audit import Actor
from surveyapp.services.plans import (
    ActionDraft,
    EarlierAction,
    Stocktake,
    add_action,
    close_quarter,
    closed_quarters,
    delete_action,
    draft_actions,
    earlier_actions,
    edit_action,
    final_scores,
    latest_percent,
    merge_actions,
    node_choices,
    open_quarters,
    plan_of,
    record_progress,
    responsible_candidates,
    set_target_stage,
    stage_nodes,
    targets_of,
)
from surveyapp.services.progress import progress_report
from surveyapp.services.questionnaire import Page
from surveyapp.services.recommendations import (
    RecommendationDraft,
    decide,
    import_recommendations,
    recommendable_nodes,
    recommendation_items,
    recommendations_of,
    record_recommendation,
)
from surveyapp.services.units import find_unit_by_code, roles_for
from surveyapp.storage import UploadRefused

bp = Blueprint("plans", __name__)

FORMATS = {
    "pdf": "application/pdf",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
#: Unit roles that read a unit's quarterly progress; coordinators and admins also close quarters.
PROGRESS_READERS = frozenset({Role.coordinator, Role.viewer, Role.admin})
PROGRESS_CLOSERS = frozenset({Role.coordinator, Role.admin})


def _today() -> dt.date:
    return dt.date.today()


def _cycle(cycle_id: int) -> tuple[Cycle, CycleAccess, User]:
    user = signed_in_user()
    cycle, access = load_cycle_for(user, cycle_id)
    return cycle, access, user


def _editable(cycle_id: int) -> tuple[Cycle, CycleAccess, User]:
    cycle, access, user = _cycle(cycle_id)
    require(access.may_manage, _l("Only the unit's coordinators change its action plan."))
    require(access.may_edit_plan, _l("The action plan starts once the results are final: "
                                     "validate the cycle first."), status=409)
    return cycle, access, user


def _action(cycle: Cycle, action_id: int) -> Action:
    action = db.session.get(Action, action_id)
    if action is None or action.cycle_id != cycle.id:
        raise AccessDenied(_l("This plan has no such action."), 404)
    return action


def _commit_or_flash(done: str) -> bool:
    """Commit; on a concurrent change, roll back and say so. True when committed."""
    try:
        db.session.commit()
    except StaleDataError:
        db.session.rollback()
        flash(_("Someone changed this at the same moment: check it and try again."), "warning")
        return False
    flash(done, "success")
    return True


# --------------------------------------------------------------------------- the next cycle


@bp.app_template_global()
def page_earlier_actions(cycle: Cycle, page: Page) -> list[EarlierAction]:
    """The earlier cycles' actions about a questionnaire page's nodes (its node, its items'
    nodes, the framework nodes it asks about)."""
    nodes = {page.node.id} if page.node is not None else set()
    for slot in page.slots:
        nodes.update(slot.question.item.node_ids)
        if slot.framework_node:
            nodes.add(slot.framework_node)
    return earlier_actions(cycle, nodes)


# --------------------------------------------------------------------------- the plan


@bp.get("/cycles/<int:cycle_id>/plan")
@login_required
def plan(cycle_id: int) -> str:
    cycle, access, user = _cycle(cycle_id)
    actions = plan_of(cycle)
    recordable = {action.id for action in actions if may_record_progress(user, action, access)}
    merge = MergeForm()
    merge.actions.choices = [SelectChoice(action.id, action.title) for action in actions]
    nodes = stage_nodes(cycle) if access.may_edit_plan else []
    return render_template(
        "plans/plan.html", cycle=cycle, access=access, actions=actions,
        percents=latest_percent(actions), recordable=recordable, merge=merge,
        confirm=ConfirmForm(), target_form=_target_form(nodes) if nodes else None,
        targets=targets_of(cycle), has_recommendations=bool(recommendation_items(cycle)),
        may_read_progress=bool(roles_for(user, cycle.unit) & PROGRESS_READERS))


def _target_form(nodes: list[tuple[str, str, int]]) -> TargetForm:
    form = TargetForm()
    form.node.choices = [SelectChoice("", _("Every component"))] + [
        SelectChoice(node, f"{node} {title}") for node, title, _top in nodes]
    top = max(top for _node, _title, top in nodes)
    form.stage.choices = [SelectChoice("", _("No target"))] + [
        SelectChoice(str(stage), _("Stage %(stage)s", stage=stage)) for stage in range(1, top + 1)]
    return form


@bp.post("/cycles/<int:cycle_id>/plan/draft")
@login_required
def draft(cycle_id: int) -> WerkzeugResponse:
    cycle, _access, user = _editable(cycle_id)
    actor = Actor.of(user)
    try:
        scored = final_scores(cycle)
        added = draft_actions(cycle, scored, actor, report_language())
        sent = import_recommendations(cycle, scored, actor)
    except ServiceError as refused:
        db.session.rollback()
        flash(str(refused), "warning")
    else:
        db.session.commit()
        words = _("%(num)s action(s) drafted from the results.", num=len(added))
        if sent:
            words += " " + _("%(num)s recommendation(s) sent to leadership for a decision.",
                             num=sent)
        flash(words, "success")
    return redirect(url_for("plans.plan", cycle_id=cycle_id))


@bp.post("/cycles/<int:cycle_id>/plan/targets")
@login_required
def targets(cycle_id: int) -> WerkzeugResponse:
    cycle, _access, user = _editable(cycle_id)
    form = _target_form(stage_nodes(cycle) or [("", "", 1)])
    if not form.validate():
        abort(400, description=_("Choose a component and a stage from the lists."))
    try:
        set_target_stage(cycle, form.node.data or "", int(form.stage.data)
                         if form.stage.data else None, Actor.of(user))
    except ServiceError as refused:
        db.session.rollback()
        flash(str(refused), "warning")
    else:
        _commit_or_flash(_("Target saved. Draft again to add actions for the components now "
                           "below it."))
    return redirect(url_for("plans.plan", cycle_id=cycle_id))


@bp.post("/cycles/<int:cycle_id>/plan/merge")
@login_required
def merge(cycle_id: int) -> WerkzeugResponse:
    cycle, _access, user = _editable(cycle_id)
    form = MergeForm()
    form.actions.choices = [SelectChoice(action.id, action.title) for action in plan_of(cycle)]
    if not form.validate():
        abort(400, description=_("Choose the actions to merge from the plan's list."))
    try:
        kept = merge_actions(cycle, form.actions.data or [], Actor.of(user))
    except ServiceError as refused:
        db.session.rollback()
        flash(str(refused), "warning")
        return redirect(url_for("plans.plan", cycle_id=cycle_id))
    if _commit_or_flash(_("Merged. Check the merged action's title and description.")):
        return redirect(url_for("plans.edit", cycle_id=cycle_id, action_id=kept.id))
    return redirect(url_for("plans.plan", cycle_id=cycle_id))


# --------------------------------------------------------------------------- one action


def _action_form(cycle: Cycle, action: Action | None = None) -> ActionForm:
    form = ActionForm(obj=action) if request.method == "GET" and action else ActionForm()
    form.nodes.choices = [SelectChoice(code, label) for code, label in node_choices(cycle)]
    form.responsible_user.choices = [SelectChoice(0, _("Nobody named yet"))] + [
        SelectChoice(person.id, f"{person.display_name} ({person.email})")
        for person in responsible_candidates(cycle.unit)]
    if request.method == "GET" and action is not None:
        form.nodes.data = list(action.nodes)
        form.responsible_user.data = action.responsible_user_id or 0
        form.status.data = action.status.value
    return form


def _draft_from(form: ActionForm) -> ActionDraft:
    person = db.session.get(User, form.responsible_user.data) if form.responsible_user.data \
        else None
    return ActionDraft(
        title=form.title.data or "", description=form.description.data or "",
        nodes=tuple(form.nodes.data or ()),
        responsible_organisation=form.responsible_organisation.data or "",
        responsible_user=person, support_required=form.support_required.data or "",
        support_from=form.support_from.data or "", start_quarter=form.start_quarter.data,
        due_quarter=form.due_quarter.data, status=ActionStatus(form.status.data),
        status_reason=form.status_reason.data or "",
        completion_indicator=form.completion_indicator.data or "")


def _action_page(cycle: Cycle, form: ActionForm, action: Action | None, error: str | None,
                 status: int) -> tuple[str, int]:
    return render_template("plans/action.html", cycle=cycle, form=form, action=action,
                           error=error, confirm=ConfirmForm()), status


@bp.route("/cycles/<int:cycle_id>/plan/new", methods=("GET", "POST"))
@login_required
def new(cycle_id: int) -> tuple[str, int] | WerkzeugResponse:
    cycle, _access, user = _editable(cycle_id)
    form = _action_form(cycle)
    error = None
    if form.validate_on_submit():
        try:
            add_action(cycle, _draft_from(form), Actor.of(user))
        except ServiceError as refused:
            db.session.rollback()
            error = str(refused)
        else:
            db.session.commit()
            flash(_("The action was added to the plan."), "success")
            return redirect(url_for("plans.plan", cycle_id=cycle_id))
    return _action_page(cycle, form, None, error, 422 if form.is_submitted() else 200)


@bp.route("/cycles/<int:cycle_id>/plan/<int:action_id>/edit", methods=("GET", "POST"))
@login_required
def edit(cycle_id: int, action_id: int) -> tuple[str, int] | WerkzeugResponse:
    cycle, _access, user = _editable(cycle_id)
    action = _action(cycle, action_id)
    form = _action_form(cycle, action)
    error = None
    if form.validate_on_submit():
        try:
            edit_action(action, cycle, _draft_from(form), Actor.of(user))
        except ServiceError as refused:
            db.session.rollback()
            error = str(refused)
        else:
            _commit_or_flash(_("The action was saved."))
            return redirect(url_for("plans.plan", cycle_id=cycle_id))
    return _action_page(cycle, form, action, error, 422 if form.is_submitted() else 200)


@bp.post("/cycles/<int:cycle_id>/plan/<int:action_id>/delete")
@login_required
def delete(cycle_id: int, action_id: int) -> WerkzeugResponse:
    cycle, _access, user = _editable(cycle_id)
    action = _action(cycle, action_id)
    if not ConfirmForm().validate():
        abort(400, description=_("Reload the page and try again."))
    delete_action(action, cycle, Actor.of(user))
    db.session.commit()
    flash(_("The action was deleted from the plan."), "success")
    return redirect(url_for("plans.plan", cycle_id=cycle_id))


# --------------------------------------------------------------------------- progress


@bp.route("/cycles/<int:cycle_id>/plan/<int:action_id>/progress", methods=("GET", "POST"))
@login_required
def progress(cycle_id: int, action_id: int) -> tuple[str, int] | WerkzeugResponse:
    cycle, access, user = _cycle(cycle_id)
    action = _action(cycle, action_id)
    allowed = may_record_progress(user, action, access)
    if request.method == "POST":
        require(allowed, _l("Only the person responsible for this action, or a coordinator, "
                            "records its progress."))
    form = ProgressForm()
    form.quarter.choices = [SelectChoice(q, q) for q in open_quarters(cycle.unit, _today())]
    error = None
    if request.method == "POST" and form.validate_on_submit():
        upload = form.document.data
        try:
            record_progress(action, cycle, Stocktake(
                quarter=form.quarter.data or "", percent=form.percent.data or 0,
                note=form.note.data or "", link=form.link.data or "",
                status=ActionStatus(form.status.data) if form.status.data else None,
                document=upload.stream if upload and upload.filename else None,
                filename=upload.filename if upload else None), Actor.of(user), _today())
        except (ServiceError, UploadRefused) as refused:
            db.session.rollback()
            error = str(refused)
        else:
            if _commit_or_flash(_("Progress recorded.")):
                return redirect(url_for("plans.plan", cycle_id=cycle_id))
    elif request.method == "GET":
        form.percent.data = latest_percent([action]).get(action.id)
    evidence = {entry.evidence_id: db.session.get(Evidence, entry.evidence_id)
                for entry in action.progress if entry.evidence_id}
    status = 422 if request.method == "POST" else 200
    return render_template("plans/progress.html", cycle=cycle, action=action, form=form,
                           allowed=allowed, error=error, evidence=evidence), status


# --------------------------------------------------------------------------- recommendations


def _recommendation_form(cycle: Cycle) -> RecommendationForm:
    form = RecommendationForm()
    form.node.choices = [SelectChoice(code, f"{code} {title}")
                         for code, title in recommendable_nodes(cycle)]
    return form


def _recommendations_page(cycle: Cycle, access: CycleAccess, form: RecommendationForm,
                          error: str | None = None, status: int = 200) -> tuple[str, int]:
    found = recommendations_of(cycle)
    titles = dict(recommendable_nodes(cycle))
    return render_template(
        "plans/recommendations.html", cycle=cycle, access=access, form=form,
        recommendations=found, titles=titles, decision_form=DecisionForm(), error=error,
        pending=[r for r in found if r.status is RecommendationStatus.pending]), status


@bp.route("/cycles/<int:cycle_id>/recommendations", methods=("GET", "POST"))
@login_required
def recommendations(cycle_id: int) -> tuple[str, int] | WerkzeugResponse:
    cycle, access, user = _cycle(cycle_id)
    require(bool(recommendation_items(cycle)),
            _l("This cycle's instrument makes no recommendations."), status=404)
    require(access.may_see_results or access.may_decide_recommendations,
            _l("Your roles do not include reading this cycle's recommendations."))
    form = _recommendation_form(cycle)
    if request.method == "POST":
        require(access.may_edit_plan, _l("Only the unit's coordinators record "
                                         "recommendations, once the results are final."))
        if not form.validate_on_submit():
            return _recommendations_page(cycle, access, form, status=422)
        try:
            record_recommendation(cycle, RecommendationDraft(
                node=form.node.data or "", kind=RecommendationKind(form.kind.data),
                text=form.text.data or "", owner=form.owner.data or "",
                timeline=form.timeline.data or ""), Actor.of(user))
        except ServiceError as refused:
            db.session.rollback()
            return _recommendations_page(cycle, access, form, str(refused), 422)
        db.session.commit()
        flash(_("The recommendation was sent to leadership for a decision."), "success")
        return redirect(url_for("plans.recommendations", cycle_id=cycle_id))
    return _recommendations_page(cycle, access, form)


@bp.post("/cycles/<int:cycle_id>/recommendations/<int:recommendation_id>/decision")
@login_required
def decision(cycle_id: int, recommendation_id: int) -> tuple[str, int] | WerkzeugResponse:
    cycle, access, user = _cycle(cycle_id)
    require(access.may_decide_recommendations,
            _l("Only the mission's leadership (its viewers and coordinators) decide "
               "recommendations, once the results are final."))
    found = db.session.get(Recommendation, recommendation_id)
    if found is None or found.cycle_id != cycle.id:
        raise AccessDenied(_l("There is no such recommendation."), 404)
    form = DecisionForm()
    if not form.validate_on_submit():
        return _recommendations_page(cycle, access, _recommendation_form(cycle),
                                     _("Approve or reject, and give the reason."), 422)
    try:
        decide(found, cycle, approve=form.decision.data == "approve",
               reason=form.reason.data or "", decider=user)
    except ServiceError as refused:
        db.session.rollback()
        return _recommendations_page(cycle, access, _recommendation_form(cycle), str(refused),
                                     422)
    _commit_or_flash(_("The recommendation about %(node)s was approved.", node=found.node)
                     if found.status is RecommendationStatus.approved else
                     _("The recommendation about %(node)s was rejected.", node=found.node))
    return redirect(url_for("plans.recommendations", cycle_id=cycle_id))


# --------------------------------------------------------------------------- quarters


def _unit(code: str, roles: frozenset[Role]) -> tuple[Unit, User]:
    user = signed_in_user()
    unit = find_unit_by_code(code)
    if unit is None or not roles_for(user, unit):
        raise AccessDenied(_l("There is no such unit."), 404)
    require(bool(roles_for(user, unit) & roles),
            _l("Only the unit's coordinators, viewers and administrators follow its progress."))
    return unit, user


def _quarter_form(unit: Unit) -> QuarterForm:
    """The form closing a quarter, offering the unit's open quarters."""
    form = QuarterForm()
    form.quarter.choices = [SelectChoice(q, q) for q in open_quarters(unit, _today())]
    return form


@bp.get("/units/<code>/progress")
@login_required
def unit_progress(code: str) -> str:
    unit, user = _unit(code, PROGRESS_READERS)
    form = _quarter_form(unit)
    closed = closed_quarters(unit)
    reports = sorted({*closed, str(Quarter.of(_today()))}, reverse=True)
    return render_template(
        "plans/unit_progress.html", unit=unit, form=form, closed=closed, reports=reports,
        may_close=bool(roles_for(user, unit) & PROGRESS_CLOSERS), formats=FORMATS,
        cycles=list(db.session.scalars(select(Cycle).where(Cycle.unit_id == unit.id)
                                       .order_by(Cycle.period_end.desc()))))


@bp.post("/units/<code>/progress/close")
@login_required
def close(code: str) -> WerkzeugResponse:
    unit, user = _unit(code, PROGRESS_CLOSERS)
    form = _quarter_form(unit)
    if not form.validate():
        flash(_("Choose one of the open quarters to close."), "warning")
        return redirect(url_for("plans.unit_progress", code=code))
    try:
        close_quarter(unit, form.quarter.data or "", Actor.of(user), _today())
    except ServiceError as refused:
        db.session.rollback()
        flash(str(refused), "warning")
    else:
        db.session.commit()
        flash(_("%(quarter)s is closed; its quarterly report is final.", quarter=form.quarter.data),
              "success")
    return redirect(url_for("plans.unit_progress", code=code))


@bp.get("/units/<code>/progress/<quarter>.<any(pdf, xlsx):extension>")
@login_required
def progress_download(code: str, quarter: str, extension: str) -> WerkzeugResponse:
    unit, _user = _unit(code, PROGRESS_READERS)
    try:
        parsed = Quarter.parse(quarter)
    except ValueError as wrong:
        raise AccessDenied(str(wrong), 404) from None
    require(parsed <= Quarter.of(_today()), _("%(quarter)s has not started yet.", quarter=parsed),
            status=404)
    language = request.args.get("lang") or report_language()
    require(language in LANGUAGES, _("Reports are written in %(languages)s.",
                                     languages=", ".join(LANGUAGES)), status=400)
    data = progress_report(unit, str(parsed), today=_today(), language=language)
    buffer = io.BytesIO()
    if extension == "pdf":
        buffer.write(write_progress_pdf(data))
    else:
        write_progress_workbook(data, buffer)
    buffer.seek(0)
    return send_file(buffer, mimetype=FORMATS[extension], as_attachment=True,
                     download_name=f"{unit.code}-progress-{parsed}.{extension}")
