"""Home page: each role the user holds and the units it covers."""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, render_template
from flask_login import current_user, login_required

from surveyapp.auth.sessions import signed_in_user
from surveyapp.models import Membership, Role
from surveyapp.services.units import count_units, coverage, memberships_of
from surveyapp.services.users import count_users

bp = Blueprint("main", __name__)


@bp.get("/")
@login_required
def home() -> str:
    user = signed_in_user()
    roles = coverage(user)
    site_totals = None
    if any(entry.role is Role.admin for entry in roles):
        site_totals = {"users": count_users(), "units": count_units()}
    return render_template("main/home.html", coverage=roles, site_totals=site_totals)


@bp.app_context_processor
def inject_user_memberships() -> dict[str, Callable[[], list[Membership]]]:
    """Offer the layout the user's memberships, queried only if the layout asks."""

    def user_memberships() -> list[Membership]:
        return memberships_of(signed_in_user()) if current_user.is_authenticated else []

    return {"user_memberships": user_memberships}


