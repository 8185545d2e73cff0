"""``/notifications``: the user's notices; opening one marks it read."""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import ngettext
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from surveyapp.auth.sessions import signed_in_user
from surveyapp.extensions import db
from surveyapp.review.forms import ConfirmForm
from surveyapp.services import ServiceError
from surveyapp.services.access import AccessDenied
from surveyapp.services.notifications import (
    LayoutFacts,
    kind_label,
    latest,
    layout_facts,
    mark_all_read,
    mark_read,
)

bp = Blueprint("notifications", __name__, url_prefix="/notifications")


@bp.get("/")
@login_required
def index() -> str:
    return render_template("notifications/index.html", notices=latest(signed_in_user()),
                           kind_label=kind_label, form=ConfirmForm())


@bp.get("/<int:notification_id>")
@login_required
def open_notice(notification_id: int) -> Response:
    """Mark the notice read and go where it points (always a path on this site)."""
    try:
        notice = mark_read(signed_in_user(), notification_id)
    except ServiceError as refused:
        raise AccessDenied(str(refused), 404) from None
    db.session.commit()
    return redirect(notice.url)


@bp.post("/read")
@login_required
def read_all() -> Response:
    if ConfirmForm().validate():
        count = mark_all_read(signed_in_user())
        db.session.commit()
        flash(ngettext("%(num)s notice marked as read.", "%(num)s notices marked as read.",
                       count), "success")
    return redirect(url_for("notifications.index"))


@bp.app_context_processor
def inject_layout_facts() -> dict[str, Callable[[], LayoutFacts]]:
    """Offer the layout the unread count and which work links to show (one query, on use)."""

    def facts() -> LayoutFacts:
        return layout_facts(signed_in_user()) if current_user.is_authenticated else LayoutFacts()

    return {"layout_facts": facts}
