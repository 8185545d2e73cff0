"""The validator's queue and item pages, the return loop, validating and reopening a cycle."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import login_required
from werkzeug.wrappers import Response as WerkzeugResponse

from surveyapp.auth.sessions import signed_in_user
from surveyapp.extensions import db
from surveyapp.file_types import PREVIEWABLE_MEDIA_TYPES
from surveyapp.models import Cycle, EvidenceKind, Response
from surveyapp.review.forms import (
    ConfirmForm,
    DecisionForm,
    MessageForm,
    ReasonForm,
    decision_form,
    decision_of,
)
from surveyapp.services import ServiceError
from surveyapp.services.access import (
    AccessDenied,
    CycleAccess,
    load_cycle_for,
    may_edit_response,
    may_read_answers,
    may_write_in_thread,
    require,
)
from surveyapp.services.answers import layout_for
from surveyapp.services.questionnaire import Layout, display_value
from surveyapp.services.reviews import (
    ItemPage,
    ItemStatus,
    QueueFilter,
    ReviewConflict,
    cycle_progress,
    decide,
    item_page,
    post_message,
    reopen_cycle,
    returned_items,
    validate_cycle,
    validator_queue,
)

bp = Blueprint("review", __name__)

NO_SUCH_ITEM = _l("There is no such item to review.")


def _load_response(response_id: int) -> tuple[Response, CycleAccess]:
    """The response and the user's access to its cycle; 404 unless they may read its answers
    (a draft is its respondent's alone, as in the API)."""
    response = db.session.get(Response, response_id)
    if response is None:
        raise AccessDenied(NO_SUCH_ITEM, 404)
    _cycle, access = load_cycle_for(signed_in_user(), response.cycle_id)
    require(may_read_answers(signed_in_user(), response, access), NO_SUCH_ITEM, status=404)
    return response, access


def _load_item(response: Response, item_id: str, node: str) -> ItemPage:
    try:
        return item_page(response, item_id, node)
    except ServiceError as refused:
        raise AccessDenied(str(refused), 404) from None


def _item_url(page: ItemPage) -> str:
    return url_for("review.item", response_id=page.response.id, item_id=page.unit.item.id,
                   node=page.framework_node or None)


def _shown_answers(page: ItemPage, layout: Layout) -> dict[str, str]:
    """Each given answer of the unit as the respondent read it (option labels, stage titles)."""
    shown: dict[str, str] = {}
    for item_id, answer in page.answers.items():
        slot = layout.slot(item_id, page.framework_node)
        if slot is not None and (answer.not_applicable or answer.value not in (None, "")):
            shown[item_id] = display_value(slot.question, answer.value)
    return shown


def _edit_url(page: ItemPage) -> str:
    """Where the respondent changes a returned item: its place in the questionnaire."""
    return url_for("respond.item", cycle_id=page.cycle.id,
                   questionnaire=page.response.questionnaire, item_id=page.unit.item.id,
                   node=page.framework_node or None)


def _evidence_links(page: ItemPage) -> dict[int, dict[str, Any]]:
    """Download and, for PDF and images, inline preview addresses of the item's evidence."""
    links: dict[int, dict[str, Any]] = {}
    for entry in page.evidence:
        if entry.kind is not EvidenceKind.file:
            links[entry.id] = {}
            continue
        previewable = entry.media_type in PREVIEWABLE_MEDIA_TYPES
        links[entry.id] = {
            "download": url_for("evidence.download", evidence_id=entry.id),
            "preview": url_for("evidence.preview", evidence_id=entry.id) if previewable
            else None,
            "is_pdf": entry.media_type == "application/pdf",
        }
    return links


def _render_item(page: ItemPage, access: CycleAccess, form: DecisionForm | None = None,
                 message_form: MessageForm | None = None, error: str | None = None,
                 status: int = 200) -> tuple[str, int]:
    user = signed_in_user()
    may_decide = access.may_review and page.status is not ItemStatus.returned
    is_respondent = page.response.respondent_id == user.id
    editable = is_respondent and page.status is ItemStatus.returned and may_edit_response(
        user, page.response, access)
    return render_template(
        "review/item.html", page=page, access=access,
        shown=_shown_answers(page, layout_for(page.response)),
        edit_url=_edit_url(page) if editable else None,
        evidence_links=_evidence_links(page),
        form=(form or decision_form(page)) if may_decide else None,
        message_form=(message_form or MessageForm())
        if may_write_in_thread(user, page.response, access) else None,
        is_respondent=is_respondent, error=error,
    ), status


@bp.get("/review/")
@login_required
def queue() -> str:
    filters = QueueFilter(
        status=request.args.get("status", "open"),
        node=request.args.get("node", ""),
        unit_id=request.args.get("unit", type=int),
    )
    return render_template("review/queue.html", queue=validator_queue(signed_in_user(), filters),
                           filters=filters, statuses=list(ItemStatus))


@bp.get("/review/responses/<int:response_id>/items/<item_id>")
@login_required
def item(response_id: int, item_id: str) -> tuple[str, int]:
    response, access = _load_response(response_id)
    page = _load_item(response, item_id, request.args.get("node", ""))
    return _render_item(page, access)


@bp.post("/review/responses/<int:response_id>/items/<item_id>/decision")
@login_required
def decision(response_id: int, item_id: str) -> WerkzeugResponse | tuple[str, int]:
    response, access = _load_response(response_id)
    require(access.is_validator, _l("Only the cycle's validators decide on items."))
    require(access.may_review, _l("Decisions are recorded only while the cycle is under review."))
    node = request.args.get("node", "")
    page = _load_item(response, item_id, node)
    form = decision_form(page)
    if not form.validate():
        return _render_item(page, access, form=form, status=400)
    user = signed_in_user()
    try:
        decide(response, item_id, node, decision_of(form), form.comment.data or "",
               form.validated_value(page), form.evidence_marks(page), user,
               expected_round=form.expected_round.data)
    except ReviewConflict as conflict:
        db.session.rollback()  # then show the item as it now is, with the winning decision
        return _render_item(_load_item(response, item_id, node), access, error=str(conflict),
                            status=409)
    except ServiceError as refused:
        db.session.rollback()
        return _render_item(_load_item(response, item_id, node), access, form=form,
                            error=str(refused), status=400)
    db.session.commit()
    flash(_("Decision recorded for %(item_id)s: %(data)s.",
            item_id=item_id, data=form.decision.data.replace('_', ' ')), "success")
    upcoming = [row for row in cycle_progress(response.cycle).rows
                if row.status.awaits_validator]
    if upcoming:
        row = upcoming[0]
        return redirect(url_for("review.item", response_id=row.response.id,
                                item_id=row.answer.item_id,
                                node=row.answer.framework_node or None))
    return redirect(url_for("review.cycle_validation", cycle_id=response.cycle_id))


@bp.post("/review/responses/<int:response_id>/items/<item_id>/thread")
@login_required
def thread(response_id: int, item_id: str) -> WerkzeugResponse | tuple[str, int]:
    response, access = _load_response(response_id)
    user = signed_in_user()
    require(may_write_in_thread(user, response, access),
            _l("Only the validators and the focal point write in this thread, while the cycle is "
               "under review."))
    node = request.args.get("node", "")
    form = MessageForm()
    if form.validate():
        try:
            post_message(response, item_id, node, form.body.data or "", user)
        except ServiceError as refused:
            db.session.rollback()
            return _render_item(_load_item(response, item_id, node), access,
                                message_form=form, error=str(refused), status=400)
        db.session.commit()
        flash(_("Message sent."), "success")
        return redirect(_item_url(_load_item(response, item_id, node)) + "#thread")
    return _render_item(_load_item(response, item_id, node), access, message_form=form,
                        status=400)


@bp.get("/review/responses/<int:response_id>/returned")
@login_required
def returned(response_id: int) -> str:
    """The focal point's list of what came back, with the validator's comments."""
    response, access = _load_response(response_id)
    pairs = returned_items(response)
    pages = [_load_item(response, item_id, node)
             for item_id, node in sorted(pairs)]
    return render_template("review/returned.html", response=response, access=access,
                           pages=pages)


@bp.get("/cycles/<int:cycle_id>/validation")
@login_required
def cycle_validation(cycle_id: int) -> tuple[str, int]:
    cycle, access = load_cycle_for(signed_in_user(), cycle_id)
    require(access.is_validator or access.may_manage,
            _l("The validation of a cycle is followed by its validators and coordinators."))
    return _render_cycle(cycle, access, status=200)


@bp.post("/cycles/<int:cycle_id>/validate")
@login_required
def validate(cycle_id: int) -> WerkzeugResponse | tuple[str, int]:
    cycle, access = load_cycle_for(signed_in_user(), cycle_id)
    require(access.is_validator, _l("Only the cycle's validators validate it."))
    form = ConfirmForm()
    if form.validate():
        try:
            validate_cycle(cycle, signed_in_user())
        except ServiceError as refused:
            db.session.rollback()
            return _render_cycle(cycle, access, error=str(refused))
        db.session.commit()
        flash(_("“%(cycle)s” is validated: its answers and decisions are locked.",
                cycle=cycle.title), "success")
    return redirect(url_for("review.cycle_validation", cycle_id=cycle_id))


@bp.post("/cycles/<int:cycle_id>/reopen")
@login_required
def reopen(cycle_id: int) -> WerkzeugResponse | tuple[str, int]:
    cycle, access = load_cycle_for(signed_in_user(), cycle_id)
    require(access.may_manage, _l("Only a coordinator reopens a validated cycle."))
    form = ReasonForm()
    if not form.validate():
        return _render_cycle(cycle, access, reason_form=form)
    try:
        reopen_cycle(cycle, form.reason.data or "", signed_in_user())
    except ServiceError as refused:
        db.session.rollback()
        return _render_cycle(cycle, access, reason_form=form, error=str(refused))
    db.session.commit()
    flash(_("“%(cycle)s” is back in review. The validators have been told.", cycle=cycle.title),
          "success")
    return redirect(url_for("review.cycle_validation", cycle_id=cycle_id))


def _render_cycle(cycle: Cycle, access: CycleAccess, *, reason_form: ReasonForm | None = None,
                  error: str | None = None, status: int = 400) -> tuple[str, int]:
    return render_template("review/cycle.html", cycle=cycle, access=access,
                           progress=cycle_progress(cycle), confirm_form=ConfirmForm(),
                           reason_form=reason_form or ReasonForm(), error=error), status
