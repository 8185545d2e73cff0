"""How a request finds its user, and what happens when a session has ended.

The session cookie carries the user's ``session_token``, not their id. Signing in,
signing out and changing the password replace the token, which ends every other
session of that user: the next request from one of them finds no user and is sent
to the sign-in page with a message saying why.
"""

from __future__ import annotations

from typing import cast

from flask import Flask, Response, abort, flash, g, redirect, request, session, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_login.signals import session_protected
from sqlalchemy import select

from surveyapp.errors import wants_json
from surveyapp.extensions import db, login_manager
from surveyapp.models import User

SESSION_ENDED_MESSAGE = (
    _l("Your session has ended: you signed out, signed in elsewhere, or your password was "
       "changed. Please sign in again.")
)


def init_app(app: Flask) -> None:
    login_manager.init_app(app)
    session_protected.connect(_note_session_ended, app)


def signed_in_user() -> User:
    """Return the signed-in user itself (not the proxy), for passing to services."""
    return cast(User, current_user._get_current_object())  # type: ignore[attr-defined]


@login_manager.user_loader
def _load_user(session_token: str) -> User | None:
    user = db.session.scalar(select(User).where(User.session_token == session_token))
    if user is None or not user.active:
        _note_session_ended()
        return None
    return user


def _note_session_ended(*_sender: object, **_extra: object) -> None:
    """Remember, for this request, that the cookie named a session that no longer holds."""
    g.session_ended = True


@login_manager.unauthorized_handler
def _send_to_login() -> Response:
    if wants_json():
        abort(401)
    if g.pop("session_ended", False):
        session.clear()
        flash(SESSION_ENDED_MESSAGE, "warning")
    else:
        flash(str(login_manager.login_message), "info")
    # full_path keeps the query string; Werkzeug adds a lone "?" when there is none.
    return redirect(url_for("auth.login", next=request.full_path.removesuffix("?")))
