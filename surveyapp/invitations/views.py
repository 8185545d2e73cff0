"""The coordinator's invitation page and revoking links.

(Routes that open a link, under ``/i/<token>/``, belong to the respond blueprint, which
renders ``invitations/problem.html`` for any :class:`InvitationProblem`.)

New links are shown once, on the page that answers the form: only their sha256 is
stored, so they can never be shown again (that page is sent with ``no-store``). With a mail
server configured, links made for e-mail addresses are sent instead, and only those that
could not be sent are shown.
"""

from __future__ import annotations

from datetime import date

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import login_required
from werkzeug.datastructures import FileStorage
from werkzeug.wrappers import Response as WerkzeugResponse
from wtforms.fields.choices import SelectChoice

from surveyapp.auth.sessions import signed_in_user
from surveyapp.extensions import db
from surveyapp.i18n import LANGUAGE_NAMES, plain_text, respondent_languages
from surveyapp.invitations.forms import InvitationForm
from surveyapp.mail import mail_configured
from surveyapp.models import Cycle, CycleState, Invitation
from surveyapp.services import ServiceError
from surveyapp.services.access import AccessDenied, load_cycle_for, require
from surveyapp.services.audit import Actor
from surveyapp.services.invitations import (
    INVITING_STATES,
    create_invitations,
    default_expiry,
    email_invitations,
    expires_on,
    instrument_of,
    invitation_link,
    invitation_questionnaires,
    invitation_summary,
    organisation_types,
    parse_email_list,
    revoke,
)

bp = Blueprint("invitations", __name__)

#: An uploaded address list larger than this is not a list of addresses.
EMAIL_FILE_MAX_BYTES = 200 * 1024
ONLY_COORDINATORS = _l("Only the cycle's coordinators can manage its invitation links.")


def _managed_cycle(cycle_id: int) -> Cycle:
    cycle, access = load_cycle_for(signed_in_user(), cycle_id)
    require(access.may_manage, ONLY_COORDINATORS)
    return cycle


def _site_root() -> str:
    """Where partners reach the site: PUBLIC_URL when set, else this request's address."""
    return current_app.config.get("PUBLIC_URL") or request.url_root


def _uploaded_list(upload: FileStorage | None) -> str:
    if upload is None or not upload.filename:
        return ""
    data = upload.stream.read(EMAIL_FILE_MAX_BYTES + 1)
    if len(data) > EMAIL_FILE_MAX_BYTES:
        raise ServiceError(_("The uploaded list is too large for a list of e-mail addresses."))
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ServiceError(
            _("The uploaded list is not UTF-8 text. Save it as “CSV UTF-8” or plain text and "
              "upload it again.")) from None


def language_choice(code: str, instrument_languages: tuple[str, ...]) -> str:
    """A language as the coordinator picks it, saying when the questions stay in English."""
    name = LANGUAGE_NAMES.get(code, code)
    if code in instrument_languages:
        return name
    return _("%(language)s (pages only: the questions are shown in English)", language=name)


def _form_for(cycle: Cycle) -> InvitationForm:
    form = InvitationForm()
    instrument = instrument_of(cycle)
    form.questionnaire.choices = [
        SelectChoice(q.id, plain_text(q.title)) for q in invitation_questionnaires(cycle)]
    form.language.choices = [
        SelectChoice(code, language_choice(code, instrument.languages))
        for code in respondent_languages(instrument.languages)]
    if request.method == "GET":
        form.expires_on.data = default_expiry(cycle, date.today())
    return form


def _organisation_labels(cycle: Cycle) -> dict[str, str]:
    labels: dict[str, str] = {}
    for questionnaire in invitation_questionnaires(cycle):
        labels.update(organisation_types(cycle, questionnaire.id))
    return labels


@bp.route("/cycles/<int:cycle_id>/invitations", methods=("GET", "POST"))
@login_required
def manage(cycle_id: int) -> str | tuple[str, int, dict[str, str]]:
    cycle = _managed_cycle(cycle_id)
    form = _form_for(cycle)
    error = None
    if request.method == "POST":
        require(cycle.state in INVITING_STATES,
                _l("Links can be made only while the cycle is a draft or open."))
        if form.validate():
            try:
                return _make_links(cycle, form)
            except ServiceError as refused:
                db.session.rollback()
                error = str(refused)
        else:
            error = _("Correct the fields marked below.")
    return render_template(
        "invitations/manage.html", cycle=cycle, form=form, error=error,
        summary=invitation_summary(cycle), labels=_organisation_labels(cycle),
        may_invite=cycle.state in INVITING_STATES and bool(form.questionnaire.choices),
        mail_ready=mail_configured(), expires_on=expires_on)


def _make_links(cycle: Cycle, form: InvitationForm) -> tuple[str, int, dict[str, str]]:
    """Create the links, send those that have an address, show the rest once."""
    emails = None
    if form.mode.data == "emails":
        emails = parse_email_list(form.emails.data or "", _uploaded_list(form.email_file.data))
    elif not form.count.data:
        raise ServiceError(_("Say how many links to make."))
    created = create_invitations(
        cycle, form.questionnaire.data or "", emails=emails,
        count=None if emails else form.count.data, language=form.language.data or "en",
        expires_on=form.expires_on.data or date.today(), actor=Actor.of(signed_in_user()))
    db.session.commit()
    mailed = bool(emails) and mail_configured()
    shown = created
    if mailed:
        shown = email_invitations(cycle, created,
                                  lambda token: invitation_link(token, _site_root()))
    page = render_template(
        "invitations/created.html", cycle=cycle, sent=len(created) - len(shown), mailed=mailed,
        links=[(invitation, invitation_link(token, _site_root())) for invitation, token in shown],
        expires_on=expires_on)
    # The links exist nowhere else: no cache, proxy or back button may keep this page.
    return page, 200, {"Cache-Control": "no-store"}


@bp.post("/cycles/<int:cycle_id>/invitations/<int:invitation_id>/revoke")
@login_required
def revoke_link(cycle_id: int, invitation_id: int) -> WerkzeugResponse:
    cycle = _managed_cycle(cycle_id)
    require(cycle.state is not CycleState.closed,
            _l("The cycle is closed; its links no longer work anyway."))
    invitation = db.session.get(Invitation, invitation_id)
    if invitation is None or invitation.cycle_id != cycle.id:
        raise AccessDenied(_l("There is no such invitation link in this cycle."), 404)
    try:
        revoke(invitation, Actor.of(signed_in_user()))
    except ServiceError as refused:
        db.session.rollback()
        flash(str(refused), "error")
    else:
        db.session.commit()
        flash(_("The link is revoked: it no longer opens the questionnaire. Answers already "
                "submitted through it still count."), "success")
    return redirect(url_for("invitations.manage", cycle_id=cycle.id))
