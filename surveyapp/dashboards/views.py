"""Dashboard pages: choose a unit, then see every unit under it (``services.dashboard``).

A GET may store the results of a cycle that became final since they were last needed
(``services.stored_results``), so the view commits: one cycle scored once, not on every view.
"""

from __future__ import annotations

import datetime as dt

from flask import Blueprint, redirect, render_template, url_for
from flask_babel import lazy_gettext as _l
from flask_login import login_required
from werkzeug.wrappers import Response as WerkzeugResponse

from reports.i18n import Translator
from reports.progress import STANDING_COLOURS, STANDINGS
from surveyapp.auth.sessions import signed_in_user
from surveyapp.extensions import db
from surveyapp.results.views import report_language
from surveyapp.services.access import AccessDenied, require
from surveyapp.services.dashboard import DASHBOARD_ROLES, build_dashboard, dashboard_units
from surveyapp.services.units import find_unit_by_code, roles_for

bp = Blueprint("dashboards", __name__, url_prefix="/dashboard")



@bp.get("/")
@login_required
def index() -> str | WerkzeugResponse:
    units = dashboard_units(signed_in_user())
    require(bool(units), _l("Dashboards are for coordinators, viewers and administrators of "
                            "units."))
    if len(units) == 1:
        return redirect(url_for("dashboards.unit", code=units[0].code))
    return render_template("dashboards/index.html", units=units)


@bp.get("/<code>")
@login_required
def unit(code: str) -> str:
    user = signed_in_user()
    found = find_unit_by_code(code)
    roles = roles_for(user, found) if found is not None else frozenset()
    if found is None or not roles:
        raise AccessDenied(_l("There is no such unit."), 404)
    require(bool(roles & DASHBOARD_ROLES),
            _l("Dashboards are for the unit's coordinators, viewers and administrators."))
    language = report_language()
    dashboard = build_dashboard(found, dt.date.today(), language)
    t = Translator(language)
    page = render_template("dashboards/unit.html", dashboard=dashboard, standings=[
        (name, colour, t(f"progress.standing.{name}"))
        for name, colour in zip(STANDINGS, STANDING_COLOURS, strict=True)])
    db.session.commit()  # after rendering: committing expires what the page reads
    return page
