"""Evidence routes: the cycle's list, adding files and links, reuse, versions, downloads.

Every route signs in and loads the cycle through ``services.access``. Changing evidence is
changing an answer: only its respondent, while the response may be edited
(``may_edit_response``); the service refuses, with a message, items that are locked within
an editable response. Files are only ever sent as attachments (or, for validators, PDFs
and images inline), with ``nosniff`` and a sandboxing Content-Security-Policy, so no
uploaded byte is ever run as a page of this site.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from typing import BinaryIO

from flask import (
    Blueprint,
    abort,
    flash,
    g,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import login_required
from sqlalchemy import select
from werkzeug.wrappers import Response as WerkzeugResponse

from surveyapp.auth.sessions import signed_in_user
from surveyapp.auth.views import local_target
from surveyapp.evidence.forms import (
    DATE_MESSAGE,
    AttachForm,
    LinkForm,
    TargetForm,
    UploadForm,
    VersionForm,
)
from surveyapp.extensions import db
from surveyapp.file_types import ACCEPTED_TYPES_TEXT, KIND_BY_EXTENSION, PREVIEWABLE_MEDIA_TYPES
from surveyapp.models import Answer, Cycle, Evidence, EvidenceKind, Response, User
from surveyapp.services import ServiceError
from surveyapp.services.access import (
    ANSWERING_STATES,
    REVIEW_STATES,
    AccessDenied,
    CycleAccess,
    load_cycle_for,
    may_edit_response,
    require,
)
from surveyapp.services.audit import Actor
from surveyapp.services.evidence import (
    add_file,
    add_link,
    all_evidence,
    answer_for_item,
    attach,
    change_refused,
    confirm,
    content_disposition,
    current_evidence,
    detach,
    download_name,
    evidence_for_answers,
    find_item,
    new_version,
    supported_items,
)
from surveyapp.storage import evidence_max_bytes, evidence_store, readable_size

bp = Blueprint("evidence", __name__)

NO_SUCH_EVIDENCE = _l("There is no such evidence.")
NOT_YOURS = (_l("Only the person answering these questions can change their evidence, and only "
                "while the answers are open for them."))
#: Answers change while the cycle is open (drafts) or in review (returned items).
EDITING_STATES = ANSWERING_STATES | REVIEW_STATES
#: Downloads: never rendered by the browser, never allowed to run anything.
DOWNLOAD_POLICY = "sandbox; default-src 'none'"
#: Inline previews may sit in a frame of this site's own review page.
PREVIEW_POLICIES = {
    "application/pdf": "default-src 'none'; frame-ancestors 'self'",
    "image": "sandbox; default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; "
             "frame-ancestors 'self'",
}


# --- Loading and answering ---------------------------------------------------------------


def _load_evidence(evidence_id: int) -> tuple[Evidence, Cycle, CycleAccess]:
    evidence = db.session.get(Evidence, evidence_id)
    if evidence is None:
        raise AccessDenied(NO_SUCH_EVIDENCE, 404)
    cycle, access = load_cycle_for(signed_in_user(), evidence.cycle_id)
    return evidence, cycle, access


def _back(cycle: Cycle, target: str | None) -> WerkzeugResponse:
    """Return to the page the form was on, else the cycle's evidence list."""
    if target:
        return redirect(local_target(target))
    return redirect(url_for("evidence.index", cycle_id=cycle.id))


def _form_problem(form: TargetForm | VersionForm) -> str:
    if "document_date" in form.errors:
        return DATE_MESSAGE
    return " ".join(message for messages in form.errors.values() for message in messages)


def _response_in(cycle: Cycle, response_id: int | None) -> Response:
    response = db.session.get(Response, response_id) if response_id else None
    if response is None or response.cycle_id != cycle.id:
        raise AccessDenied(_l("There is no such questionnaire response in this cycle."), 404)
    return response


def _target_answer(cycle: Cycle, access: CycleAccess, form: TargetForm, user: User) -> Answer:
    """The answer the form names, once the user may edit its response.

    An item not answered yet gets an empty answer, so evidence can come before the answer.
    """
    if form.answer_id.data:
        answer = db.session.get(Answer, form.answer_id.data)
        if answer is None:
            raise AccessDenied(_l("There is no such answer in this cycle."), 404)
        response = _response_in(cycle, answer.response_id)
    elif form.item_id.data:
        response = _response_in(cycle, form.response_id.data)
        answer = None
    else:
        abort(400, description=_("The form does not say which question the evidence is for. "
                                 "Reload the page and try again."))
    require(may_edit_response(user, response, access), NOT_YOURS)
    if answer is not None:
        return answer
    try:
        return answer_for_item(response, form.item_id.data or "",
                               form.framework_node.data or "", Actor.of(user))
    except ServiceError as refused:
        abort(400, description=str(refused))


def _require_editor(access: CycleAccess) -> None:
    """Refuse at once anyone who cannot be answering in this cycle now (the 403 page)."""
    require(access.is_focal_point and access.cycle.state in EDITING_STATES, NOT_YOURS)


def _uploaded(form: UploadForm | VersionForm) -> tuple[BinaryIO, str | None]:
    """The upload's stream and name; no file chosen reads as an empty, unnamed one."""
    chosen = form.file.data
    return (chosen.stream, chosen.filename) if chosen else (io.BytesIO(), None)


def _finish(cycle: Cycle, target: str | None, done: str) -> WerkzeugResponse:
    db.session.commit()
    flash(done, "success")
    return _back(cycle, target)


def _refuse(cycle: Cycle, target: str | None, message: str) -> WerkzeugResponse:
    """Nothing of a refused action is kept: the session's pending rows are dropped."""
    db.session.rollback()
    flash(message, "error")
    return _back(cycle, target)


# --- Adding, reusing, versions -----------------------------------------------------------


@bp.post("/cycles/<int:cycle_id>/evidence/upload")
@login_required
def upload(cycle_id: int) -> WerkzeugResponse:
    user = signed_in_user()
    cycle, access = load_cycle_for(user, cycle_id)
    _require_editor(access)
    form = UploadForm()
    if not form.validate():
        return _refuse(cycle, form.next.data, _form_problem(form))
    answer = _target_answer(cycle, access, form, user)
    stream, filename = _uploaded(form)
    try:
        evidence = add_file(cycle, answer, stream, filename, form.description.data,
                            form.document_date.data, Actor.of(user))
    except ServiceError as refused:
        return _refuse(cycle, form.next.data, str(refused))
    return _finish(cycle, form.next.data, f"“{evidence.original_name}” is attached.")


@bp.post("/cycles/<int:cycle_id>/evidence/link")
@login_required
def link(cycle_id: int) -> WerkzeugResponse:
    user = signed_in_user()
    cycle, access = load_cycle_for(user, cycle_id)
    _require_editor(access)
    form = LinkForm()
    if not form.validate():
        return _refuse(cycle, form.next.data, _form_problem(form))
    answer = _target_answer(cycle, access, form, user)
    try:
        add_link(cycle, answer, form.url.data, form.description.data, form.document_date.data,
                 Actor.of(user))
    except ServiceError as refused:
        return _refuse(cycle, form.next.data, str(refused))
    return _finish(cycle, form.next.data, _("The link is attached."))


@bp.post("/cycles/<int:cycle_id>/evidence/attach")
@login_required
def attach_existing(cycle_id: int) -> WerkzeugResponse:
    user = signed_in_user()
    cycle, access = load_cycle_for(user, cycle_id)
    _require_editor(access)
    form = AttachForm()
    if not form.validate():
        return _refuse(cycle, form.next.data, _form_problem(form))
    evidence = db.session.get(Evidence, form.evidence_id.data)
    if evidence is None or evidence.cycle_id != cycle.id:
        raise AccessDenied(NO_SUCH_EVIDENCE, 404)
    answer = _target_answer(cycle, access, form, user)
    try:
        attach(evidence, answer, Actor.of(user))
    except ServiceError as refused:
        return _refuse(cycle, form.next.data, str(refused))
    return _finish(cycle, form.next.data, _("The evidence now supports this question too."))


def _evidence_and_answer(evidence_id: int, form: TargetForm
                         ) -> tuple[Evidence, Cycle, Answer, User]:
    """For routes acting on one evidence row for one answer the user may edit."""
    user = signed_in_user()
    evidence, cycle, access = _load_evidence(evidence_id)
    _require_editor(access)
    if not form.validate() or not form.answer_id.data:
        abort(400, description=_("The form does not say which question this is about. Reload "
                                 "the page and try again."))
    return evidence, cycle, _target_answer(cycle, access, form, user), user


@bp.post("/evidence/<int:evidence_id>/detach")
@login_required
def detach_from(evidence_id: int) -> WerkzeugResponse:
    form = TargetForm()
    evidence, cycle, answer, user = _evidence_and_answer(evidence_id, form)
    try:
        detach(evidence, answer, Actor.of(user))
    except ServiceError as refused:
        return _refuse(cycle, form.next.data, str(refused))
    return _finish(cycle, form.next.data,
                   _("The evidence no longer supports this question; it stays in the cycle."))


@bp.post("/evidence/<int:evidence_id>/confirm")
@login_required
def confirm_carried(evidence_id: int) -> WerkzeugResponse:
    form = TargetForm()
    evidence, cycle, answer, user = _evidence_and_answer(evidence_id, form)
    try:
        confirm(evidence, answer, Actor.of(user))
    except ServiceError as refused:
        return _refuse(cycle, form.next.data, str(refused))
    return _finish(cycle, form.next.data, _("The evidence is confirmed as still valid."))


@bp.post("/evidence/<int:evidence_id>/version")
@login_required
def version(evidence_id: int) -> WerkzeugResponse:
    user = signed_in_user()
    evidence, cycle, access = _load_evidence(evidence_id)
    _require_editor(access)
    form = VersionForm()
    if not form.validate():
        return _refuse(cycle, form.next.data, _form_problem(form))
    stream, filename = _uploaded(form)
    try:
        newer = new_version(evidence, stream, filename, Actor.of(user),
                            description=form.description.data,
                            document_date=form.document_date.data)
    except ServiceError as refused:
        return _refuse(cycle, form.next.data, str(refused))
    return _finish(cycle, form.next.data,
                   _("“%(original_name)s” replaces the earlier version, which is kept.",
                     original_name=newer.original_name))


# --- Reading -----------------------------------------------------------------------------


def _send_stored(evidence: Evidence, disposition: str, policy: str) -> WerkzeugResponse:
    """Send a stored file under its detected type, with headers that forbid running it."""
    require(evidence.kind is EvidenceKind.file and evidence.sha256 is not None,
            _l("This evidence is a link, not a file: follow the link from the evidence list."),
            status=404)
    path = evidence_store().path_of(evidence.sha256 or "")
    if not path.is_file():
        abort(404, description=_("The stored file is missing from the evidence store. Tell "
                                 "your administrator, who can restore it from a backup."))
    # Werkzeug adds "; charset=utf-8" to text types: text evidence is checked to be UTF-8.
    response = send_file(path, mimetype=evidence.media_type or "application/octet-stream",
                         as_attachment=True, download_name=download_name(evidence),
                         conditional=True, etag=evidence.sha256, max_age=0)
    response.headers["Content-Disposition"] = content_disposition(
        disposition, download_name(evidence))
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = policy
    response.headers["Cache-Control"] = "private, no-cache"
    if disposition == "inline":
        response.headers["X-Frame-Options"] = "SAMEORIGIN"
    return response


@bp.get("/evidence/<int:evidence_id>/download")
@login_required
def download(evidence_id: int) -> WerkzeugResponse:
    evidence, _cycle, access = _load_evidence(evidence_id)
    require(access.may_see_results,
            _l("Only the cycle's people, its coordinators and viewers may open its evidence."))
    return _send_stored(evidence, "attachment", DOWNLOAD_POLICY)


@bp.get("/evidence/<int:evidence_id>/preview")
@login_required
def preview(evidence_id: int) -> WerkzeugResponse:
    evidence, _cycle, access = _load_evidence(evidence_id)
    require(access.is_validator or access.may_manage,
            _l("Only the cycle's validators and coordinators see evidence in the browser; "
               "download it instead."))
    require(evidence.media_type in PREVIEWABLE_MEDIA_TYPES,
            _l("Only PDF documents and images can be shown in the browser; download the file "
               "instead."), status=404)
    media_type = evidence.media_type or ""
    policy = PREVIEW_POLICIES.get(media_type) or PREVIEW_POLICIES["image"]
    return _send_stored(evidence, "inline", policy)


@dataclass
class EvidenceEntry:
    """A document or link as listed: its current version, older versions, what it supports."""

    evidence: Evidence
    older: list[Evidence] = field(default_factory=list)
    supports: list[tuple[str, str]] = field(default_factory=list)


def _entries(cycle: Cycle) -> list[EvidenceEntry]:
    """The current versions with their history and items, in two queries."""
    rows = all_evidence(cycle)
    by_id = {evidence.id: evidence for evidence in rows}
    replaced = {evidence.supersedes_id for evidence in rows if evidence.supersedes_id}
    answers = supported_items(by_id)
    entries = []
    for evidence in rows:
        if evidence.id in replaced:
            continue
        entry = EvidenceEntry(evidence)
        earlier = evidence.supersedes_id
        while earlier is not None and earlier in by_id:
            entry.older.append(by_id[earlier])
            earlier = by_id[earlier].supersedes_id
        for answer in answers.get(evidence.id, []):
            item = find_item(cycle, answer.response.questionnaire, answer.item_id)
            label = item.text["en"] if item else ""
            node = f" ({answer.framework_node})" if answer.framework_node else ""
            entry.supports.append((f"{answer.item_id}{node}", label))
        entries.append(entry)
    return entries


@bp.get("/cycles/<int:cycle_id>/evidence")
@login_required
def index(cycle_id: int) -> str:
    cycle, access = load_cycle_for(signed_in_user(), cycle_id)
    require(access.may_see_results,
            _l("Only the cycle's people, its coordinators and viewers may see its evidence."))
    return render_template("evidence/index.html", cycle=cycle, entries=_entries(cycle))


# --- One item's evidence, for its respondent ----------------------------------------------


def _answer_of(response: Response, item_id: str, framework_node: str) -> Answer | None:
    return db.session.scalar(select(Answer).where(
        Answer.response_id == response.id, Answer.item_id == item_id,
        Answer.framework_node == framework_node))


@bp.get("/cycles/<int:cycle_id>/evidence/item")
@login_required
def item(cycle_id: int) -> str:
    """Everything about one question's evidence on a page of its own, new versions included."""
    user = signed_in_user()
    cycle, access = load_cycle_for(user, cycle_id)
    response = _response_in(cycle, request.args.get("response", type=int))
    require(may_edit_response(user, response, access), NOT_YOURS)
    item_id = request.args.get("item", "")
    framework_node = request.args.get("node", "")
    question = find_item(cycle, response.questionnaire, item_id)
    if question is None:
        raise AccessDenied(_l("The questionnaire has no such question."), 404)
    answer = _answer_of(response, item_id, framework_node)
    attached = evidence_for_answers([answer.id]).get(answer.id, []) if answer else []
    return render_template(
        "evidence/item.html", cycle=cycle, response=response, item=question, answer=answer,
        framework_node=framework_node, evidence_list=attached,
        attachable=[e for e in attachable_evidence(cycle) if e not in attached],
        locked=change_refused(response, item_id, framework_node, Actor.of(user)),
        back=local_target(request.args.get("next")) if request.args.get("next") else None,
        here=request.full_path.removesuffix("?"), rules=evidence_upload_rules())


@bp.app_template_global()
def attachable_evidence(cycle: Cycle) -> list[Evidence]:
    """The cycle's current evidence, queried once per request however many items ask."""
    cache: dict[int, list[Evidence]] = g.setdefault("attachable_evidence", {})
    if cycle.id not in cache:
        cache[cycle.id] = current_evidence(cycle)
    return cache[cycle.id]


@bp.app_template_global()
def evidence_upload_rules() -> dict[str, str]:
    """What the upload form tells people, and the ``accept`` list for the file picker."""
    return {
        "limit": readable_size(evidence_max_bytes()),
        "types": ACCEPTED_TYPES_TEXT,
        "accept": ",".join(f".{extension}" for extension in KIND_BY_EXTENSION),
    }
