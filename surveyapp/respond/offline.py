"""Working offline in Excel: download one's own response as a workbook, upload it back.

The routes sit beside the questionnaire's pages, for signed-in focal points and for
partners through their invitation link, and reach the response the same way
(``signed_in_respondent``, ``invited_respondent``): only the respondent downloads and
uploads their own answers. Uploading follows the workflow state as saving a page does
(an open cycle for drafts, review for returned items) and is all or nothing.
"""

from __future__ import annotations

import io

from flask import current_app, flash, redirect, render_template, send_file
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import login_required
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.wrappers import Response as WerkzeugResponse

from surveyapp.extensions import db
from surveyapp.respond.forms import WorkbookForm
from surveyapp.respond.views import (
    CONFLICT_MESSAGE,
    Respondent,
    _invited_or_landing,
    bp,
    signed_in_respondent,
)
from surveyapp.services.answer_workbook import CellProblem, WorkbookRefused
from surveyapp.services.offline_answers import (
    download_workbook,
    upload_workbook,
    workbook_name,
)
from surveyapp.services.questionnaire import localized

XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _render(who: Respondent, form: WorkbookForm | None = None, *,
            problems: tuple[CellProblem, ...] = (), status: int = 200) -> tuple[str, int]:
    return render_template(
        "respond/offline.html", who=who, form=form or WorkbookForm(), problems=problems,
        questionnaire_title=localized(who.layout.questionnaire.title, who.language),
        limit=current_app.config["IMPORT_MAX_BYTES"],
    ), status


def _download(who: Respondent) -> WerkzeugResponse:
    data = download_workbook(who.response, secret=current_app.config["SECRET_KEY"])
    sent = send_file(io.BytesIO(data), mimetype=XLSX_MEDIA_TYPE, as_attachment=True,
                     download_name=workbook_name(who.response), max_age=0)
    sent.headers["Cache-Control"] = "no-store"
    return sent


def _offline(who: Respondent) -> tuple[str, int] | WerkzeugResponse:
    """The page (GET), or an upload (POST): saved and sent to the review, or the problems."""
    form = WorkbookForm()
    if not form.is_submitted():
        return _render(who)
    if not form.validate():
        return _render(who, form, status=400)
    upload = form.workbook.data
    if upload is None or not getattr(upload, "filename", None):
        return _render(who, form, problems=(CellProblem(
            _("Choose the workbook you filled in, then upload it.")),), status=422)
    limit = int(current_app.config["IMPORT_MAX_BYTES"])
    data = upload.stream.read(limit + 1)
    try:
        result = upload_workbook(who.response, data, upload.filename, who.actor,
                                 secret=current_app.config["SECRET_KEY"], max_bytes=limit)
        db.session.commit()
    except WorkbookRefused as refused:
        db.session.rollback()
        return _render(who, form, problems=refused.problems, status=422)
    except (StaleDataError, IntegrityError):
        db.session.rollback()
        return _render(who, form, problems=(CellProblem(CONFLICT_MESSAGE),), status=409)
    flash(ngettext("The workbook was read: %(num)s answer changed and saved.",
                   "The workbook was read: %(num)s answers changed and saved.", result.changed),
          "success")
    if result.not_asked:
        flash(ngettext("%(num)s answer is to questions that do not apply given your other "
                       "answers; they are cleared when you submit.",
                       "%(num)s answers are to questions that do not apply given your other "
                       "answers; they are cleared when you submit.", result.not_asked),
              "warning")
    return redirect(who.url("review"))


@bp.route("/cycles/<int:cycle_id>/respond/<questionnaire>/offline", methods=("GET", "POST"))
@login_required
def offline(cycle_id: int, questionnaire: str) -> tuple[str, int] | WerkzeugResponse:
    return _offline(signed_in_respondent(cycle_id, questionnaire))


@bp.get("/cycles/<int:cycle_id>/respond/<questionnaire>/offline/workbook.xlsx")
@login_required
def workbook(cycle_id: int, questionnaire: str) -> WerkzeugResponse:
    return _download(signed_in_respondent(cycle_id, questionnaire))


@bp.route("/i/<token>/offline", methods=("GET", "POST"))
def invitation_offline(token: str) -> tuple[str, int] | WerkzeugResponse:
    who = _invited_or_landing(token)
    return who if isinstance(who, WerkzeugResponse) else _offline(who)


@bp.get("/i/<token>/offline/workbook.xlsx")
def invitation_workbook(token: str) -> WerkzeugResponse:
    who = _invited_or_landing(token)
    return who if isinstance(who, WerkzeugResponse) else _download(who)
