"""A coordinator imports a Kobo or ODK export of partner submissions into a cycle.

Upload, read the report of what would be taken and refused (nothing is imported yet),
then confirm. Only the cycle's coordinators (and administrators) of its unit may, and
only while the cycle is open for answers; ``services.submission_import`` holds the rules.
"""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import login_required
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.wrappers import Response as WerkzeugResponse
from wtforms.fields.choices import SelectChoice

from surveyapp.auth.sessions import signed_in_user
from surveyapp.extensions import db
from surveyapp.imports.forms import ConfirmForm, ImportForm
from surveyapp.models import Cycle, SubmissionImport, User
from surveyapp.services import ServiceError
from surveyapp.services.access import ANSWERING_STATES, load_cycle_for, require
from surveyapp.services.audit import Actor
from surveyapp.services.invitations import organisation_types
from surveyapp.services.questionnaire import localized
from surveyapp.services.submission_import import (
    ImportRefused,
    ImportRow,
    import_submissions,
    importable_questionnaires,
    imports_of,
    preview,
    report_of,
)

bp = Blueprint("imports", __name__)


def _managed_cycle(cycle_id: int) -> tuple[Cycle, User]:
    user = signed_in_user()
    cycle, access = load_cycle_for(user, cycle_id)
    require(access.may_manage, _l("Only the cycle's coordinators import submissions."))
    return cycle, user


def _form(cycle: Cycle) -> ImportForm:
    form = ImportForm()
    form.questionnaire.choices = [SelectChoice(q.id, localized(q.title))
                                  for q in importable_questionnaires(cycle)]
    return form


def _index(cycle: Cycle, form: ImportForm, *, error: str | None = None, status: int = 200
           ) -> tuple[str, int]:
    rows = [ImportRow(batch, report_of(batch)) for batch in imports_of(cycle)]
    return render_template(
        "imports/index.html", cycle=cycle, form=form, error=error, rows=rows,
        may_import=cycle.state in ANSWERING_STATES and bool(form.questionnaire.choices),
        limit=current_app.config["IMPORT_MAX_BYTES"],
        titles={q.id: localized(q.title) for q in importable_questionnaires(cycle)},
    ), status


@bp.route("/cycles/<int:cycle_id>/imports", methods=("GET", "POST"))
@login_required
def index(cycle_id: int) -> tuple[str, int] | WerkzeugResponse:
    cycle, user = _managed_cycle(cycle_id)
    form = _form(cycle)
    if not form.is_submitted():
        return _index(cycle, form)
    if not form.validate():
        return _index(cycle, form, status=422)
    upload = form.export.data
    if upload is None or not getattr(upload, "filename", None):
        return _index(cycle, form, error=_("Choose the export file to import."), status=422)
    limit = int(current_app.config["IMPORT_MAX_BYTES"])
    try:
        batch = preview(cycle, form.questionnaire.data, upload.stream.read(limit + 1),
                        upload.filename, user, max_bytes=limit)
        db.session.commit()
    except ServiceError as refused:
        db.session.rollback()
        return _index(cycle, _form(cycle), error=str(refused), status=422)
    return redirect(url_for("imports.report", cycle_id=cycle_id, import_id=batch.id))


def _batch(cycle: Cycle, import_id: int) -> SubmissionImport:
    batch = db.session.get(SubmissionImport, import_id)
    if batch is None or batch.cycle_id != cycle.id:
        abort(404, description=_("This cycle has no such import."))
    return batch


@bp.get("/cycles/<int:cycle_id>/imports/<int:import_id>")
@login_required
def report(cycle_id: int, import_id: int) -> str:
    cycle, _user = _managed_cycle(cycle_id)
    batch = _batch(cycle, import_id)
    titles = {q.id: localized(q.title) for q in importable_questionnaires(cycle)}
    types = dict(organisation_types(cycle, batch.questionnaire)) if batch.questionnaire in \
        titles else {}
    return render_template(
        "imports/report.html", cycle=cycle, batch=batch, report=report_of(batch),
        title=titles.get(batch.questionnaire, batch.questionnaire), types=types,
        may_confirm=batch.imported_at is None and cycle.state in ANSWERING_STATES,
        confirm_form=ConfirmForm())


@bp.post("/cycles/<int:cycle_id>/imports/<int:import_id>/confirm")
@login_required
def confirm(cycle_id: int, import_id: int) -> WerkzeugResponse:
    cycle, user = _managed_cycle(cycle_id)
    batch = _batch(cycle, import_id)
    if not ConfirmForm().validate():
        abort(400)
    try:
        done = import_submissions(batch, Actor.of(user))
        db.session.commit()
    except ImportRefused as refused:
        db.session.rollback()
        batch = _batch(cycle, import_id)
        batch.report = refused.report.to_json()
        db.session.commit()
        flash(_("%(refused)s: the file changed meaning since the preview (the cycle's answers "
                "changed meanwhile). Read the report below.", refused=refused), "warning")
    except (IntegrityError, StaleDataError):
        db.session.rollback()
        flash(_("Some of these submissions were imported at the same moment by someone else: "
                "nothing was imported. Upload the file again to see what is left."), "warning")
    except ServiceError as refused:
        db.session.rollback()
        flash(str(refused), "warning")
    else:
        count = len(done.taken)
        flash(ngettext("%(num)s submission imported as a submitted partner response.",
                       "%(num)s submissions imported as submitted partner responses.", count),
              "success")
    return redirect(url_for("imports.report", cycle_id=cycle_id, import_id=import_id))
