"""Answering a questionnaire: signed-in focal points, and partners through invitation links.

Both kinds of respondent use the same machinery (a :class:`Respondent` says whose
response it is and how to build its addresses): paged forms built from the instrument,
an autosave endpoint used while typing, a review page listing what is missing, and the
submission. Every answer goes through ``services.answers.save_answer``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from flask import (
    Blueprint,
    abort,
    flash,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import refresh
from flask_login import login_required
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.wrappers import Response as WerkzeugResponse

from instruments.expressions import references
from instruments.schema import RubricCriterion
from surveyapp.auth.sessions import signed_in_user
from surveyapp.extensions import db
from surveyapp.i18n import SESSION_KEY, current_language
from surveyapp.i18n import localized as marked
from surveyapp.models import Answer, Cycle, Evidence, Response, ResponseState
from surveyapp.rate_limits import invitation_link_limits
from surveyapp.respond.forms import LandingForm, SubmitForm
from surveyapp.services import ServiceError
from surveyapp.services.access import load_cycle_for, may_edit_response, require
from surveyapp.services.answers import (
    RawAnswer,
    SavedAnswer,
    SlotStatus,
    answers_by_slot,
    confirm_carried_over,
    editable_keys,
    evidence_counts,
    layout_for,
    lock_for,
    save_answer,
    save_in_order,
    slot_statuses,
    submit_response,
)
from surveyapp.services.audit import Actor
from surveyapp.services.cycles import instrument_of
from surveyapp.services.evidence import evidence_for_answers
from surveyapp.services.invitations import (
    InvitationProblem,
    invitation_actor,
    invitation_language,
    resolve_invitation,
    response_for_invitation,
)
from surveyapp.services.questionnaire import (
    Layout,
    Page,
    PageForm,
    Question,
    Slot,
    display_value,
    expression_json,
    form_data,
    localized,
    page_form_class,
    slot_key,
)

bp = Blueprint("respond", __name__)

CONFLICT_MESSAGE = (
    _l("These answers were changed in another window at the same moment. Reload the page to see "
       "the latest answers; what you typed is kept in this browser until it is saved.")
)


def script_messages() -> dict[str, str]:
    """What the page's script says while saving, in the page's language ({name}: a value)."""
    return {
        "progress": _("{answered} of {required} required answers given"),
        "total": _("Total: {total}"),
        "pending": _("Unsaved changes…"),
        "saving": _("Saving…"),
        "saved": _("All changes saved at {time}."),
        "refused_one": _("1 answer could not be saved: see the message next to the question."),
        "refused_many": _("{count} answers could not be saved: see the message next to each "
                          "question."),
        "offline": _("Offline — your answers are kept in this browser and will be sent when "
                     "the connection returns."),
        "server_down": _("The server could not save just now; your answers are kept in this "
                         "browser and will be sent again."),
        "failed": _("Your answers could not be saved. Reload the page."),
    }


@dataclass
class Respondent:
    """Whose response is being answered, in what language, and what of it may change."""

    response: Response
    layout: Layout
    actor: Actor
    #: ``respond.`` (signed in) or ``respond.invitation_``, and the values of the addresses.
    endpoint_prefix: str
    url_values: dict[str, Any]
    #: Slots that may change: None for all of them, an empty set when the response is locked.
    editable: frozenset[str] | None
    locked: str | None = None

    @property
    def cycle(self) -> Cycle:
        return self.response.cycle

    @property
    def language(self) -> str:
        """The page's language: instrument text missing in it is shown in English, marked."""
        return current_language()

    #: A preview of an instrument (``instrument_admin.preview``) shows its banner on the pages.
    preview: ClassVar[bool] = False

    def url(self, name: str, **values: Any) -> str:
        return url_for(f"{self.endpoint_prefix}{name}", **self.url_values, **values)

    def may_change(self, slot: Slot) -> bool:
        return self.editable is None or slot.key in self.editable

    @property
    def storage_key(self) -> str:
        """Where the page's script keeps unsaved answers in the browser."""
        return f"surveyapp-response-{self.response.id}"

    def answers(self) -> dict[str, Answer]:
        return answers_by_slot(self.response)

    def evidence(self, answers: Iterable[Answer]) -> dict[int, list[Evidence]]:
        return evidence_for_answers([answer.id for answer in answers])

    def evidence_counts(self, answers: Iterable[Answer]) -> dict[int, int] | None:
        """Evidence attached per answer, which the review checks; None checks none."""
        return evidence_counts(answers)

    def save(self, slot: Slot, raw: RawAnswer, answers: Mapping[str, Answer]) -> SavedAnswer:
        return save_answer(self.response, slot.item_id, slot.framework_node, raw, self.actor,
                           layout=self.layout, answers=answers, editable=self.editable)

    def confirm(self, keys: list[str]) -> list[Answer]:
        """Confirm carried-over answers as still true."""
        return confirm_carried_over(self.response, keys, self.actor)


def _respondent(response: Response, actor: Actor, *, may_edit: bool, endpoint_prefix: str,
                url_values: dict[str, Any]) -> Respondent:
    layout = layout_for(response)
    locked = lock_for(response, may_edit=may_edit)
    editable = editable_keys(response, layout) if locked is None else frozenset()
    return Respondent(response, layout, actor, endpoint_prefix, url_values, editable, locked)


def signed_in_respondent(cycle_id: int, questionnaire: str) -> Respondent:
    """The signed-in user's own response to ``questionnaire``; 404 if they have none."""
    user = signed_in_user()
    cycle, access = load_cycle_for(user, cycle_id)
    response = db.session.scalar(select(Response).where(
        Response.cycle_id == cycle.id, Response.questionnaire == questionnaire,
        Response.respondent_id == user.id))
    require(response is not None and access.is_focal_point,
            _l("You have no questionnaire of that name to answer in this cycle."), status=404)
    assert response is not None
    return _respondent(response, Actor.of(user), may_edit=may_edit_response(user, response, access),
                       endpoint_prefix="respond.",
                       url_values={"cycle_id": cycle_id, "questionnaire": questionnaire})


def invited_respondent(token: str) -> Respondent | None:
    """The response of a valid invitation link; None before the landing page was filled.

    :raises InvitationProblem: for an invalid, expired, used, revoked or closed link.
    """
    invitation = resolve_invitation(token)
    if invitation.response is None:
        return None
    return _respondent(invitation.response, invitation_actor(invitation),
                       may_edit=invitation.response.state is ResponseState.draft,
                       endpoint_prefix="respond.invitation_", url_values={"token": token})


@bp.before_request
def open_in_invitation_language() -> None:
    """The pages of an invitation link open in the link's language (surveyapp/i18n.py)."""
    token = (request.view_args or {}).get("token")
    if token:
        g.page_language = invitation_language(token)
    elif request.endpoint == "respond.invitation_thanks":
        g.page_language = request.args.get("lang")


@bp.app_errorhandler(InvitationProblem)
def invitation_problem(problem: InvitationProblem) -> tuple[str, int]:
    """An unusable link gets a page saying why and what to do, never a bare error."""
    db.session.rollback()
    g.page_language = problem.language
    refresh()  # the language may have been chosen before the link was read
    return render_template("invitations/problem.html", problem=problem), problem.status


# --------------------------------------------------------------------------- page model


@dataclass
class SlotView:
    """Everything the page template needs to show one slot."""

    slot: Slot
    answer: Answer | None
    form: PageForm
    relevant: bool
    editable: bool
    errors: dict[str, str] = field(default_factory=dict)
    problem: str | None = None
    evidence: list[Evidence] = field(default_factory=list)

    @property
    def question(self) -> Question:
        return self.slot.question

    @property
    def key(self) -> str:
        return self.slot.key

    @property
    def value_field(self) -> Any:
        return self.form._fields.get(self.key)

    def part(self, name: str) -> Any:
        return self.form._fields.get(self.slot.part(name))

    @property
    def criteria(self) -> list[tuple[RubricCriterion, Any]]:
        return [(c, self.form[self.slot.part(c.id)]) for c in self.question.item.criteria]

    @property
    def relevance_json(self) -> dict[str, Any] | None:
        expression = self.question.relevance
        return expression_json(expression) if expression is not None else None


@dataclass(frozen=True)
class Block:
    """Slots shown together: one question, or a table of activities rated on one scale."""

    kind: str
    views: list[SlotView]


def _blocks(views: list[SlotView]) -> list[Block]:
    """Consecutive activity ratings on the same scale become one compact table (JIU Q.2)."""
    blocks: list[Block] = []
    for view in views:
        item = view.question.item
        if item.role == "activity" and item.type == "single_choice" and blocks:
            last = blocks[-1]
            first = last.views[0].question
            if last.kind == "matrix" and first.options == view.question.options:
                last.views.append(view)
                continue
        kind = "matrix" if item.role == "activity" and item.type == "single_choice" else "single"
        blocks.append(Block(kind, [view]))
    return blocks


def _context_values(
    page: Page, layout: Layout, answers: Mapping[str, Answer]
) -> dict[str, Any]:
    """Stored answers that this page's skip logic reads from other pages, for the browser."""
    on_page = {slot.item_id for slot in page.slots}
    node = page.framework_entry.code if page.framework_entry else ""
    values: dict[str, Any] = {}
    for slot in page.slots:
        if slot.question.relevance is None:
            continue
        for name in references(slot.question.relevance):
            if name in on_page or name in values:
                continue
            answer = answers.get(slot_key(name, node)) or answers.get(name)
            values[name] = None if answer is None or answer.not_applicable else answer.value
    return values


@dataclass(frozen=True)
class PageProgress:
    number: int
    label: str
    required: int
    complete: int
    problems: int


def _progress(layout: Layout, statuses: list[SlotStatus], language: str) -> list[PageProgress]:
    progress = []
    for page in layout.pages:
        mine = [status for status in statuses if status.page == page.number]
        required = [status for status in mine if status.required]
        progress.append(PageProgress(
            number=page.number, label=page.label(language), required=len(required),
            complete=sum(1 for status in required if status.complete),
            problems=sum(1 for status in mine if status.problem),
        ))
    return progress


def _render_page(who: Respondent, page: Page, form: PageForm | None = None, *,
                 errors: Mapping[str, dict[str, str]] | None = None, status: int = 200
                 ) -> tuple[str, int]:
    answers = who.answers()
    statuses = slot_statuses(who.layout, answers)
    by_key = {status.slot.key: status for status in statuses}
    if form is None:
        form = page_form_class(page, who.language, who.editable)(data=form_data(page, answers))
    evidence = who.evidence(answers[s.key] for s in page.slots if s.key in answers)
    views = []
    for slot in page.slots:
        answer = answers.get(slot.key)
        views.append(SlotView(
            slot=slot, answer=answer, form=form, relevant=by_key[slot.key].relevant,
            editable=who.may_change(slot), errors=dict((errors or {}).get(slot.key, {})),
            problem=by_key[slot.key].problem,
            evidence=evidence.get(answer.id, []) if answer is not None else [],
        ))
    required = [s for s in statuses if s.required]
    return render_template(
        "respond/page.html", who=who, page=page, form=form, blocks=_blocks(views),
        views=views, errors=errors or {}, pages=_progress(who.layout, statuses, who.language),
        answered=sum(1 for s in required if s.complete), required=len(required),
        context_values=_context_values(page, who.layout, answers),
        carried=[view.key for view in views if view.answer and view.answer.carried_over
                 and view.editable],
        localized=marked, display_value=display_value, script_messages=script_messages(),
        questionnaire_title=localized(who.layout.questionnaire.title, who.language),
    ), status


# --------------------------------------------------------------------------- saving a page


def _raw_from_form(form: PageForm, slot: Slot) -> RawAnswer:
    """The slot's parts as posted; a text or choice the request did not carry stays as it is
    (an unticked "not applicable" box is never sent, so its absence means no)."""

    def sent(name: str) -> str | None:
        found = form._fields.get(name)
        return found.raw_data[0] if found is not None and found.raw_data else None

    question = slot.question
    not_applicable = form._fields.get(slot.part("na"))
    criteria = {c.id: sent(slot.part(c.id)) for c in question.item.criteria}
    return RawAnswer(
        value=None if question.type == "rubric" else sent(slot.key),
        criteria={key: level for key, level in criteria.items() if level is not None}
        if question.type == "rubric" else None,
        not_applicable=not_applicable.data if not_applicable is not None else None,
        justification=sent(slot.part("justification")),
        comment=sent(slot.part("comment")),
    )


def _save_page(who: Respondent, page: Page, form: PageForm) -> dict[str, dict[str, str]]:
    """Save every changeable slot of the page; the refused parts by slot key."""
    answers = who.answers()
    errors = {}
    for slot in page.slots:
        if not who.may_change(slot):
            continue
        saved = who.save(slot, _raw_from_form(form, slot), answers)
        if saved.errors:
            errors[slot.key] = saved.errors
    return errors


def _after_save(who: Respondent, page: Page, action: str) -> str:
    """Where the page's buttons lead: next, previous, a page of the list, or the review."""
    last = len(who.layout.pages)
    if action == "next":
        return who.url("review") if page.number >= last else who.url("page", number=page.number + 1)
    if action == "previous":
        return who.url("page", number=max(1, page.number - 1))
    if action == "review":
        return who.url("review")
    if action.startswith("page-") and action[5:].isdigit():
        return who.url("page", number=min(max(1, int(action[5:])), last))
    if action.startswith("confirm-"):
        return who.url("page", number=page.number) + f"#q-{action[8:]}"
    return who.url("page", number=page.number)


def answer_page(who: Respondent, number: int) -> tuple[str, int] | WerkzeugResponse:
    """Show one page of the questionnaire, or save it and go where its button leads."""
    page = who.layout.page(number)
    if page is None:
        abort(404, description=_("This questionnaire has %(count)s pages.",
                                 count=len(who.layout.pages)))
    if request.method == "GET":
        return _render_page(who, page)
    form = page_form_class(page, who.language, who.editable)()
    if not form.validate():
        abort(400)
    action = request.form.get("action", "save")
    if who.locked:  # read-only pages still page through
        return redirect(_after_save(who, page, action))
    try:
        errors = _save_page(who, page, form)
        if action.startswith("confirm-"):
            keys = [slot.key for slot in page.slots if who.may_change(slot)]
            wanted = keys if action == "confirm-page" else [action[8:]]
            who.confirm([key for key in wanted if key in keys])
        db.session.commit()
    except (StaleDataError, IntegrityError):
        db.session.rollback()
        flash(CONFLICT_MESSAGE, "warning")
        return redirect(who.url("page", number=number))
    except ServiceError as refused:
        db.session.rollback()
        flash(str(refused), "warning")
        return redirect(who.url("review"))
    if errors:
        return _render_page(who, page, form, errors=errors, status=422)
    return redirect(_after_save(who, page, action))


# --------------------------------------------------------------------------- autosave


class PayloadError(ValueError):
    """An autosave request that is not shaped as the page's script sends it."""


def _raw_from_json(slot: Slot, parts: Any) -> RawAnswer:
    if not isinstance(parts, dict):
        raise PayloadError(f"{slot.key}: expected an object")

    def text(name: str) -> str | None:
        value = parts.get(name)
        if value is not None and not isinstance(value, str):
            raise PayloadError(f"{slot.key}.{name}: expected text")
        return value

    criteria = parts.get("criteria")
    if criteria is not None and not (
        isinstance(criteria, dict) and all(isinstance(v, str) for v in criteria.values())
    ):
        raise PayloadError(f"{slot.key}.criteria: expected an object of texts")
    not_applicable = parts.get("not_applicable")
    if not_applicable is not None and not isinstance(not_applicable, bool):
        raise PayloadError(f"{slot.key}.not_applicable: expected true or false")
    return RawAnswer(value=text("value"), criteria=criteria, not_applicable=not_applicable,
                     justification=text("justification"), comment=text("comment"))


def _slot_by_key(layout: Layout, key: str) -> Slot:
    slot = layout.slot_by_key(key)
    if slot is None:
        raise PayloadError(f"{key}: no such question in this questionnaire")
    return slot


def autosave_answers(who: Respondent) -> tuple[WerkzeugResponse, int]:
    """Save what the page's script sends: ``{"slots": {key: parts}, "confirm": [keys]}``."""
    if who.locked:
        return jsonify(error=who.locked, locked=True), 409
    payload = request.get_json(silent=True)
    try:
        if not isinstance(payload, dict) or not isinstance(payload.get("slots", {}), dict):
            raise PayloadError("expected {\"slots\": {...}}")
        confirm = payload.get("confirm", [])
        if not isinstance(confirm, list) or not all(isinstance(k, str) for k in confirm):
            raise PayloadError("confirm: expected a list of question keys")
        sent = {key: _raw_from_json(_slot_by_key(who.layout, key), parts)
                for key, parts in payload.get("slots", {}).items()}
    except PayloadError as problem:
        return jsonify(error=_("This save request cannot be read (%(problem)s).",
                                 problem=problem)), 400
    try:
        batch = save_in_order(who.layout, sent, who.answers(), who.editable, who.save)
        confirmed = who.confirm(confirm) if confirm else []
        db.session.commit()
    except (StaleDataError, IntegrityError):
        db.session.rollback()
        return jsonify(error=CONFLICT_MESSAGE, conflict=True), 409
    except ServiceError as refused:
        db.session.rollback()
        return jsonify(error=str(refused), locked=True), 409
    statuses = slot_statuses(who.layout, batch.answers)
    required = [status for status in statuses if status.required]
    return jsonify(
        saved=batch.saved, errors=batch.errors,
        confirmed=[slot_key(a.item_id, a.framework_node) for a in confirmed],
        problems={s.slot.key: s.problem for s in statuses if s.slot.key in sent and s.problem},
        relevance={s.slot.key: s.relevant for s in statuses},
        progress={"answered": sum(1 for s in required if s.complete), "required": len(required)},
    ), 200


# --------------------------------------------------------------------------- review, submit


def render_review(who: Respondent, *, error: str | None = None, status: int = 200
                  ) -> tuple[str, int]:
    """What is still missing before submitting, page by page, and the submit button."""
    answers = who.answers()
    statuses = slot_statuses(who.layout, answers, who.evidence_counts(answers.values()))
    missing = [status for status in statuses if status.problem]
    required = [status for status in statuses if status.required]
    return render_template(
        "respond/review.html", who=who, missing=missing, error=error,
        pages=_progress(who.layout, statuses, who.language), submit_form=SubmitForm(),
        answered=sum(1 for s in required if s.complete), required=len(required),
        localized=marked,
        questionnaire_title=localized(who.layout.questionnaire.title, who.language),
    ), status


def first_page_needing_work(who: Respondent) -> str:
    """The first page with something to answer; for a returned response, the first
    returned item; the review page when nothing is left."""
    if who.editable:
        first = next(slot for slot in who.layout.slots if slot.key in who.editable)
        return who.url("page", number=who.layout.page_of(first.key)) + f"#q-{first.key}"
    statuses = slot_statuses(who.layout, who.answers())
    waiting = next((status.page for status in statuses
                    if status.problem and who.may_change(status.slot)), None)
    if waiting is None or who.locked:
        return who.url("review")
    return who.url("page", number=waiting)


def _submit(who: Respondent) -> tuple[str, int] | None:
    """Submit; on refusal, the review page to show with the reason (None on success)."""
    if not SubmitForm().validate():
        abort(400)
    try:
        submit_response(who.response, who.actor)
        db.session.commit()
    except StaleDataError:
        db.session.rollback()
        return render_review(who, error=CONFLICT_MESSAGE, status=409)
    except ServiceError as refused:
        db.session.rollback()
        return render_review(who, error=str(refused), status=422)
    return None


# --------------------------------------------------------------------------- signed in


@bp.get("/cycles/<int:cycle_id>/respond/<questionnaire>/")
@login_required
def resume(cycle_id: int, questionnaire: str) -> WerkzeugResponse:
    """Continue where work is waiting: the first page with something to answer."""
    return redirect(first_page_needing_work(signed_in_respondent(cycle_id, questionnaire)))


@bp.route("/cycles/<int:cycle_id>/respond/<questionnaire>/page/<int:number>",
          methods=("GET", "POST"))
@login_required
def page(cycle_id: int, questionnaire: str, number: int) -> tuple[str, int] | WerkzeugResponse:
    return answer_page(signed_in_respondent(cycle_id, questionnaire), number)


@bp.post("/cycles/<int:cycle_id>/respond/<questionnaire>/autosave")
@login_required
def autosave(cycle_id: int, questionnaire: str) -> tuple[WerkzeugResponse, int]:
    return autosave_answers(signed_in_respondent(cycle_id, questionnaire))


@bp.get("/cycles/<int:cycle_id>/respond/<questionnaire>/review")
@login_required
def review(cycle_id: int, questionnaire: str) -> tuple[str, int]:
    return render_review(signed_in_respondent(cycle_id, questionnaire))


@bp.post("/cycles/<int:cycle_id>/respond/<questionnaire>/submit")
@login_required
def submit(cycle_id: int, questionnaire: str) -> tuple[str, int] | WerkzeugResponse:
    who = signed_in_respondent(cycle_id, questionnaire)
    refused = _submit(who)
    if refused is not None:
        return refused
    flash(_("Your answers were submitted and are now locked for validation. Thank you."),
          "success")
    return redirect(url_for("cycles.detail", cycle_id=cycle_id))


@bp.get("/cycles/<int:cycle_id>/respond/<questionnaire>/item/<item_id>")
@login_required
def item(cycle_id: int, questionnaire: str, item_id: str) -> WerkzeugResponse:
    """The page of one item, scrolled to it (used by links from the validation pages)."""
    who = signed_in_respondent(cycle_id, questionnaire)
    slot = who.layout.slot(item_id, request.args.get("node", ""))
    if slot is None:
        abort(404, description=_("This questionnaire has no such question."))
    number = who.layout.page_of(slot.key)
    return redirect(who.url("page", number=number) + f"#q-{slot.key}")


# --------------------------------------------------------------------------- invitations


def _invited_or_landing(token: str) -> Respondent | WerkzeugResponse:
    who = invited_respondent(token)
    if who is None:
        return redirect(url_for("respond.invitation_landing", token=token))
    return who


@bp.route("/i/<token>/", methods=("GET", "POST"))
@invitation_link_limits
def invitation_landing(token: str) -> tuple[str, int] | WerkzeugResponse:
    """First visit: the partner's organisation type and language, then the questionnaire."""
    invitation = resolve_invitation(token)
    if invitation.response is not None and request.method == "GET":
        who = invited_respondent(token)
        assert who is not None
        return redirect(first_page_needing_work(who))
    cycle = db.session.get_one(Cycle, invitation.cycle_id)
    questionnaire = next(
        q for q in instrument_of(cycle).questionnaires if q.id == invitation.questionnaire)
    form = LandingForm.for_invitation(invitation, questionnaire)
    if form.validate_on_submit():
        organization_type = form.organization_type.data if "organization_type" in form else None
        try:
            response_for_invitation(invitation, organization_type=organization_type,
                                    language=form.language.data or None)
        except ServiceError as refused:
            db.session.rollback()
            form.form_errors.append(str(refused))
        else:
            db.session.commit()
            if form.language.data and form.language.data != current_language():
                session[SESSION_KEY] = form.language.data  # the pages follow the change
            return redirect(url_for("respond.invitation_page", token=token, number=1))
    return render_template(
        "respond/landing.html", form=form, cycle=cycle, questionnaire=questionnaire,
        language=current_language(),
    ), 422 if form.is_submitted() else 200


@bp.route("/i/<token>/page/<int:number>", methods=("GET", "POST"))
@invitation_link_limits
def invitation_page(token: str, number: int) -> tuple[str, int] | WerkzeugResponse:
    who = _invited_or_landing(token)
    return who if isinstance(who, WerkzeugResponse) else answer_page(who, number)


@bp.post("/i/<token>/autosave")
@invitation_link_limits
def invitation_autosave(token: str) -> tuple[WerkzeugResponse, int]:
    who = invited_respondent(token)
    if who is None:
        return jsonify(error=_("Start from the invitation link first.")), 409
    return autosave_answers(who)


@bp.get("/i/<token>/review")
@invitation_link_limits
def invitation_review(token: str) -> tuple[str, int] | WerkzeugResponse:
    who = _invited_or_landing(token)
    return who if isinstance(who, WerkzeugResponse) else render_review(who)


@bp.post("/i/<token>/submit")
@invitation_link_limits
def invitation_submit(token: str) -> tuple[str, int] | WerkzeugResponse:
    who = _invited_or_landing(token)
    if isinstance(who, WerkzeugResponse):
        return who
    refused = _submit(who)
    if refused is not None:
        return refused
    return redirect(url_for("respond.invitation_thanks", lang=who.language))


@bp.get("/i/thanks")
def invitation_thanks() -> str:
    """After submission the link is used up, so the thanks page does not need it."""
    return render_template("respond/thanks.html", language=request.args.get("lang", "en"))
