"""Personal API tokens: created and revoked by their owner, checked on every API request.

A token is ``sa_`` and a random secret made as invitation links are made
(``secrets.token_urlsafe``); only its sha256 is stored (``invitations.token_hash``), so
it is shown once, at creation, and a copy of the database opens nothing. A token acts
with exactly the roles of its owner; it stops working when revoked, after its expiry
day (UTC), or when its owner's account is deactivated.
"""

from __future__ import annotations

import re
import secrets
from datetime import date, datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy import func, select

from surveyapp.extensions import db
from surveyapp.models import ApiToken, User
from surveyapp.models.base import now_utc
from surveyapp.services import ServiceError
from surveyapp.services.audit import Actor, record
from surveyapp.services.invitations import TOKEN_BYTES, as_utc, expiry_moment, token_hash

#: What every token starts with, so that a leaked one is recognisable as ours.
TOKEN_PREFIX = "sa_"
#: How much of the secret is kept in clear, to tell tokens apart in the list.
SHOWN_PREFIX_LENGTH = 10
_TOKEN_SHAPE = re.compile(r"^sa_[A-Za-z0-9_-]{20,100}$")
NAME_MAX = 100
#: Live (not revoked, not expired) tokens one user may hold at once.
LIVE_TOKENS_MAX = 20
EXPIRY_MAX_DAYS = 366
#: ``last_used_at`` is updated at most this often, so reading is not a write per request.
LAST_USED_PRECISION = timedelta(minutes=1)


class TokenRefused(Exception):
    """The ``Authorization`` header does not name a token that may be used now."""


def is_live(token: ApiToken, now: datetime) -> bool:
    return token.revoked_at is None and (
        token.expires_at is None or now < as_utc(token.expires_at))


def expires_on(token: ApiToken) -> date | None:
    """The last day the token works, or None for a token without expiry."""
    if token.expires_at is None:
        return None
    return (as_utc(token.expires_at) - timedelta(days=1)).date()


def tokens_of(user: User) -> list[ApiToken]:
    """The user's tokens, newest first, revoked and expired ones included."""
    return list(db.session.scalars(
        select(ApiToken).where(ApiToken.user_id == user.id)
        .order_by(ApiToken.created_at.desc(), ApiToken.id.desc())))


def _live_count(user: User, now: datetime) -> int:
    return db.session.scalar(
        select(func.count(ApiToken.id)).where(
            ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None),
            (ApiToken.expires_at.is_(None)) | (ApiToken.expires_at > now))) or 0


def create_token(user: User, name: str, expires_on: date | None, *, today: date
                 ) -> tuple[ApiToken, str]:
    """Make a token for ``user``; return it with its secret, which exists only here.

    :raises ServiceError: no name or too long a name, an expiry day passed or more than a
        year ahead, or too many live tokens.
    """
    name = " ".join(name.split())
    if not name:
        raise ServiceError(_("Name the token after the program that will use it, e.g. "
                             "“Kobo sync script”."))
    if len(name) > NAME_MAX:
        raise ServiceError(_("Keep the name under %(name_max)s characters.", name_max=NAME_MAX))
    if expires_on is not None and expires_on < today:
        raise ServiceError(_("The expiry date %(day)s has already passed.",
                             day=expires_on.isoformat()))
    if expires_on is not None and expires_on > today + timedelta(days=EXPIRY_MAX_DAYS):
        raise ServiceError(_("A token may expire at most a year ahead; leave the date empty "
                             "for a token that works until it is revoked."))
    if _live_count(user, now_utc()) >= LIVE_TOKENS_MAX:
        raise ServiceError(_("You already have %(count)s tokens in use. Revoke those you no "
                             "longer need first.", count=LIVE_TOKENS_MAX))
    secret = TOKEN_PREFIX + secrets.token_urlsafe(TOKEN_BYTES)
    token = ApiToken(user_id=user.id, name=name, token_hash=token_hash(secret),
                     prefix=secret[:SHOWN_PREFIX_LENGTH],
                     expires_at=expiry_moment(expires_on) if expires_on else None)
    db.session.add(token)
    db.session.flush()
    record(Actor.of(user), "api_token.created", "api_token", token.id, after={
        "name": name, "prefix": token.prefix,
        "expires_on": expires_on.isoformat() if expires_on else None})
    return token, secret


def revoke_token(user: User, token_id: int) -> ApiToken:
    """Revoke one of the user's own tokens.

    :raises ServiceError: the user has no such token, or it was revoked already.
    """
    token = db.session.get(ApiToken, token_id)
    if token is None or token.user_id != user.id:
        raise ServiceError(_("You have no such API token."))
    if token.revoked_at is not None:
        raise ServiceError(_("This token was revoked already."))
    token.revoked_at = now_utc()
    db.session.flush()
    record(Actor.of(user), "api_token.revoked", "api_token", token.id,
           before={"revoked_at": None}, after={"revoked_at": token.revoked_at.isoformat()})
    return token


def authenticate(secret: str) -> ApiToken:
    """The live token ``secret`` names; notes when it was used (flushes, never commits).

    :raises TokenRefused: for a malformed, unknown, revoked or expired token, or one whose
        owner's account is deactivated, with a message saying which.
    """
    if not _TOKEN_SHAPE.match(secret):
        raise TokenRefused("This is not an API token of this site. Tokens start with “sa_”; "
                           "create one on your account's API tokens page.")
    token = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == token_hash(secret)))
    if token is None:
        raise TokenRefused("This API token is not valid. Check that the whole token was "
                           "copied, or create a new one.")
    now = now_utc()
    if token.revoked_at is not None:
        raise TokenRefused("This API token was revoked. Create a new one.")
    if not is_live(token, now):
        day = expires_on(token)
        raise TokenRefused(f"This API token expired at the end of {day} (UTC). "
                           "Create a new one.")
    if not token.user.active:
        raise TokenRefused("The account this API token belongs to is deactivated.")
    if token.last_used_at is None or now - as_utc(token.last_used_at) >= LAST_USED_PRECISION:
        token.last_used_at = now
        db.session.flush()
    return token
