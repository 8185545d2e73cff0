"""Sign in, sign out, change password."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required, login_user, logout_user
from werkzeug.wrappers import Response

from surveyapp.auth.forms import LoginForm, PasswordChangeForm, ProfileForm
from surveyapp.auth.sessions import signed_in_user
from surveyapp.extensions import db
from surveyapp.i18n import SESSION_KEY
from surveyapp.rate_limits import (
    clear_failed_sign_ins,
    lockout_message,
    login_limit,
    note_failed_sign_in,
    sign_in_locked_for,
)
from surveyapp.services import ServiceError
from surveyapp.services.audit import Actor
from surveyapp.services.users import (
    authenticate,
    change_password,
    revoke_sessions,
    set_preferred_language,
)

bp = Blueprint("auth", __name__, url_prefix="/auth")

#: The same words for an unknown email and a wrong password, so neither reveals an account.
WRONG_CREDENTIALS = _l("The email or password is not correct.")


def local_target(target: str | None) -> str:
    """Return ``target`` if it is a path on this site, else the home page.

    Refuses absolute and scheme-relative URLs, and backslashes, which browsers read
    as slashes (``/\\evil.example``): no open redirect through ``?next=``.
    """
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc:
            return target
    return url_for("main.home")


@bp.route("/login", methods=("GET", "POST"))
@login_limit
def login() -> Response | str | tuple[str, int, dict[str, str]]:
    if current_user.is_authenticated:
        return redirect(url_for("main.home"))
    form = LoginForm()
    error = None
    if form.validate_on_submit():
        email = form.email.data or ""
        locked_for = sign_in_locked_for(email)
        if locked_for:  # no password is checked, for an account or not: the same answer
            page = render_template("auth/login.html", form=form,
                                   error=lockout_message(locked_for))
            return page, 429, {"Retry-After": str(locked_for)}
        user = authenticate(email, form.password.data or "")
        if user is None:
            note_failed_sign_in(email)
            error = WRONG_CREDENTIALS
        else:
            clear_failed_sign_ins(email)
            revoke_sessions(user)
            db.session.commit()
            language = session.get(SESSION_KEY)
            session.clear()  # a fresh session: only the language chosen carries over
            if language:
                session[SESSION_KEY] = language
            login_user(user)
            return redirect(local_target(request.args.get("next")))
    return render_template("auth/login.html", form=form, error=error)


@bp.post("/logout")
@login_required
def logout() -> Response:
    revoke_sessions(signed_in_user())
    db.session.commit()
    logout_user()
    session.clear()
    flash(_("You have signed out."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/password", methods=("GET", "POST"))
@login_required
def password() -> Response | str:
    form = PasswordChangeForm()
    error = None
    if form.validate_on_submit():
        user = signed_in_user()
        try:
            change_password(user, form.current_password.data or "", form.new_password.data or "")
        except ServiceError as refused:
            error = str(refused)
        else:
            db.session.commit()
            login_user(user)  # this session continues under the new token
            flash(
                _("Your password has been changed. Any other sessions have been signed out."),
                "success",
            )
            return redirect(url_for("main.home"))
    return render_template("auth/password.html", form=form, error=error)


@bp.route("/profile", methods=("GET", "POST"))
@login_required
def profile() -> Response | str:
    """The user's own settings: the language their pages and reports open in."""
    user = signed_in_user()
    form = ProfileForm(language=user.preferred_language)
    if form.validate_on_submit():
        set_preferred_language(user, form.language.data or "", actor=Actor.of(user))
        db.session.commit()
        session.pop(SESSION_KEY, None)  # the profile's language now applies
        flash(_("Your language is saved."), "success")
        return redirect(url_for("auth.profile"))
    return render_template("auth/profile.html", form=form)
