"""A cycle's results: the JIU stage profile, and the reports to download (PDF, Excel).

Reports are preliminary while the cycle is in review and final once it is
validated (DESIGN.md, "How work flows" step 5); before answers are submitted
there is nothing to report.
"""

from __future__ import annotations

import datetime as dt
import io

from flask import Blueprint, render_template, request, send_file
from flask_babel import lazy_gettext as _l
from flask_login import login_required
from werkzeug.wrappers import Response as WerkzeugResponse

from reports.i18n import LANGUAGES
from surveyapp.auth.sessions import signed_in_user
from surveyapp.i18n import current_language
from surveyapp.models import Cycle
from surveyapp.services.access import load_cycle_for, require
from surveyapp.services.reporting import (
    REPORT_FORMATS,
    CycleReport,
    cycle_report,
    report_file,
    report_kind,
)
from surveyapp.services.reviews import stage_profile

bp = Blueprint("results", __name__)


@bp.get("/cycles/<int:cycle_id>/results")
@login_required
def cycle_results(cycle_id: int) -> str:
    cycle = _cycle_with_results(cycle_id)
    return render_template("results/cycle.html", cycle=cycle, profile=stage_profile(cycle),
                           report_kind=report_kind(cycle))


@bp.get("/cycles/<int:cycle_id>/report")
@login_required
def report_page(cycle_id: int) -> str:
    cycle = _cycle_with_results(cycle_id)
    kind = report_kind(cycle)
    problems = _report(cycle, "en").problems if kind else []
    return render_template("results/report.html", cycle=cycle, kind=kind, problems=problems,
                           languages=reader_first(LANGUAGES), formats=REPORT_FORMATS)


@bp.get("/cycles/<int:cycle_id>/report.<any(pdf, xlsx):extension>")
@login_required
def download_report(cycle_id: int, extension: str) -> WerkzeugResponse:
    cycle = _cycle_with_results(cycle_id)
    report = report_file(cycle, extension, language=request.args.get("lang") or report_language(),
                         today=dt.date.today())
    return send_file(io.BytesIO(report.content), mimetype=report.media_type, as_attachment=True,
                     download_name=report.filename)


def report_language() -> str:
    """The reader's language when reports are written in it, else English."""
    language = current_language()
    return language if language in LANGUAGES else "en"


def reader_first(languages: tuple[str, ...]) -> list[str]:
    """The report languages with the reader's own first: the page offers it first."""
    return sorted(languages, key=lambda language: language != report_language())


def _cycle_with_results(cycle_id: int) -> Cycle:
    cycle, access = load_cycle_for(signed_in_user(), cycle_id)
    require(access.may_see_results, _l("Your roles do not include reading this cycle's results."))
    return cycle


def _report(cycle: Cycle, language: str) -> CycleReport:
    return cycle_report(cycle, language=language, today=dt.date.today())
