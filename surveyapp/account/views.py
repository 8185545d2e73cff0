"""Personal API tokens: the list, creating one (shown once) and revoking one.

Like invitation links, a new token is shown only on the page that answers the form, sent
with ``no-store``: the site keeps only its sha256.
"""

from __future__ import annotations

from datetime import date

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import login_required
from werkzeug.wrappers import Response as WerkzeugResponse

from surveyapp.account.forms import TokenForm
from surveyapp.auth.sessions import signed_in_user
from surveyapp.extensions import db
from surveyapp.models.base import now_utc
from surveyapp.services import ServiceError
from surveyapp.services.api_tokens import create_token, expires_on, is_live, revoke_token, tokens_of

bp = Blueprint("account", __name__, url_prefix="/account")


def _tokens_page(form: TokenForm, *, error: str | None = None, status: int = 200
                 ) -> tuple[str, int]:
    return render_template("account/tokens.html", form=form, error=error,
                           tokens=tokens_of(signed_in_user()), now=now_utc(), is_live=is_live,
                           expires_on=expires_on), status


@bp.route("/tokens", methods=("GET", "POST"))
@login_required
def tokens() -> tuple[str, int] | tuple[str, int, dict[str, str]]:
    form = TokenForm()
    if request.method == "GET":
        return _tokens_page(form)
    if not form.validate():
        return _tokens_page(form, error=_("Correct the fields marked below."), status=422)
    try:
        token, secret = create_token(signed_in_user(), form.name.data or "",
                                     form.expires_on.data, today=date.today())
    except ServiceError as refused:
        db.session.rollback()
        return _tokens_page(form, error=str(refused), status=422)
    db.session.commit()
    page = render_template("account/token_created.html", token=token, secret=secret,
                           expires_on=expires_on(token),
                           api_root=url_for("api.openapi", _external=True).rsplit("/", 1)[0])
    # The secret exists nowhere else: no cache, proxy or back button may keep this page.
    return page, 201, {"Cache-Control": "no-store"}


@bp.post("/tokens/<int:token_id>/revoke")
@login_required
def revoke(token_id: int) -> WerkzeugResponse:
    try:
        token = revoke_token(signed_in_user(), token_id)
    except ServiceError as refused:
        db.session.rollback()
        flash(str(refused), "error")
    else:
        db.session.commit()
        flash(_("“%(name)s” is revoked: programs using it are refused from now on.",
                name=token.name), "success")
    return redirect(url_for("account.tokens"))
