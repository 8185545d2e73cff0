"""Accounts, passwords and sign-in sessions."""

from __future__ import annotations

import secrets
from functools import cache

from flask_babel import gettext as _
from sqlalchemy import func, select
from werkzeug.security import check_password_hash, generate_password_hash

from surveyapp.extensions import db
from surveyapp.models import User
from surveyapp.models.users import LANGUAGES
from surveyapp.services import ServiceError
from surveyapp.services.audit import SYSTEM, Actor, record

MIN_PASSWORD_LENGTH = 10


def normalise_email(email: str) -> str:
    return email.strip().lower()


def find_user_by_email(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == normalise_email(email)))


def count_users() -> int:
    return db.session.scalar(select(func.count(User.id))) or 0


def check_new_password(password: str) -> None:
    """:raises ServiceError: if the password is too short to be accepted."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ServiceError(_("Passwords must have at least %(min_password_length)s characters.",
                             min_password_length=MIN_PASSWORD_LENGTH))


def create_user(
    email: str,
    display_name: str,
    password: str,
    *,
    preferred_language: str = "en",
    actor: Actor = SYSTEM,
) -> User:
    """Create an active user with a scrypt-hashed password (audited, without the password).

    :raises ServiceError: for an unusable email, name or password, or a taken email.
    """
    email = normalise_email(email)
    local_part, _at, domain = email.partition("@")
    if not local_part or "." not in domain:
        raise ServiceError(_("'%(email)s' is not an email address (expected name@example.org).",
                             email=email))
    if not display_name.strip():
        raise ServiceError(_("A display name is required."))
    if preferred_language not in LANGUAGES:
        raise ServiceError(
            _("Unknown language '%(preferred_language)s': use one of %(languages)s.",
              preferred_language=preferred_language, languages=', '.join(LANGUAGES))
        )
    if find_user_by_email(email) is not None:
        raise ServiceError(_("A user with the email %(email)s already exists.", email=email))
    check_new_password(password)
    user = User(
        email=email, display_name=display_name.strip(), preferred_language=preferred_language
    )
    user.set_password(password)
    db.session.add(user)
    db.session.flush()
    record(actor, "user.created", "user", user.id, after={
        "email": user.email, "display_name": user.display_name,
        "preferred_language": user.preferred_language, "active": user.active,
    })
    return user


@cache
def _unknown_account_hash() -> str:
    """Hash of a random password, checked when no account matches the email."""
    return generate_password_hash(secrets.token_hex(16), method="scrypt")


def authenticate(email: str, password: str) -> User | None:
    """Return the active user with these credentials, or None.

    An unknown email costs the same password check as a wrong password, so response
    times do not reveal which accounts exist.
    """
    user = find_user_by_email(email)
    if user is None:
        check_password_hash(_unknown_account_hash(), password)
        return None
    if not user.check_password(password) or not user.active:
        return None
    return user


def revoke_sessions(user: User) -> None:
    """End every session the user has open (called on sign-in and sign-out too)."""
    user.rotate_session_token()
    db.session.flush()


def set_password(user: User, password: str, *, actor: Actor = SYSTEM) -> None:
    """Replace the password and end every open session (audited, without the password).

    :raises ServiceError: if the password is too short.
    """
    check_new_password(password)
    user.set_password(password)
    revoke_sessions(user)
    record(actor, "user.password_changed", "user", user.id, after={"email": user.email})


def change_password(user: User, current_password: str, new_password: str) -> None:
    """Let a user replace their own password, proving they know the current one.

    :raises ServiceError: if the current password is wrong or the new one too short.
    """
    if not user.check_password(current_password):
        raise ServiceError(_("Your current password is not correct."))
    set_password(user, new_password, actor=Actor.of(user))


def set_preferred_language(user: User, language: str, *, actor: Actor) -> None:
    """Change the language the user's pages and reports open in (audited).

    :raises ServiceError: for a language that is not one of LANGUAGES.
    """
    if language not in LANGUAGES:
        raise ServiceError(
            _("Unknown language “%(language)s”: choose one of the languages listed.",
              language=language))
    if language == user.preferred_language:
        return
    before = user.preferred_language
    user.preferred_language = language
    db.session.flush()
    record(actor, "user.language_changed", "user", user.id,
           before={"preferred_language": before}, after={"preferred_language": language})
