"""``/cycles/<id>/results``: the JIU stage profile, scored by the scoring engine."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import login_required

from surveyapp.auth.sessions import signed_in_user
from surveyapp.services.access import load_cycle_for, require
from surveyapp.services.reviews import stage_profile

bp = Blueprint("results", __name__)


@bp.get("/cycles/<int:cycle_id>/results")
@login_required
def cycle_results(cycle_id: int) -> str:
    cycle, access = load_cycle_for(signed_in_user(), cycle_id)
    require(access.may_see_results, "Your roles do not include reading this cycle's results.")
    return render_template("results/cycle.html", cycle=cycle, profile=stage_profile(cycle))
