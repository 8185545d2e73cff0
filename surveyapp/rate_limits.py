"""Rate limits on signing in and on invitation links, and the sign-in lock-out.

Flask-Limiter counts in ``RATELIMIT_STORAGE_URI``: memory by default (one process), Redis
when several app processes serve the site (``redis://host:6379/0``), so that every
process sees the same counts. Limits are settings (strings such as ``"20 per minute"``):

- ``LOGIN_RATE_LIMIT``: sign-in attempts (POST) from one client address;
- ``LOGIN_FAILURE_LIMIT``: failed sign-ins for one email address; once reached, that
  address is locked until the window has passed, whatever the password. The lock is kept
  for any email typed, whether an account has it or not, with the same words and the
  same work, so it reveals nothing about which accounts exist (OWASP ASVS 4.0 2.2.1);
- ``LINK_RATE_LIMIT``: requests through one invitation link (pages and autosaves);
- ``LINK_ADDRESS_RATE_LIMIT``: requests through any link from one client address;
- ``BAD_LINK_RATE_LIMIT``: requests with an unusable link from one client address
  (guessing links stops there).

Past a limit the client gets a 429 page, or JSON, saying when to try again
(``errors.py``), with a ``Retry-After`` header.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any, TypeVar

from flask import Flask, current_app, request
from flask_babel import ngettext
from flask_limiter import RateLimitExceeded
from limits import parse
from werkzeug.wrappers import Response

from surveyapp.extensions import limiter
from surveyapp.services.invitations import token_hash
from surveyapp.services.users import normalise_email

View = TypeVar("View", bound=Callable[..., Any])

#: The statuses of a link that cannot be used (services.invitations.PROBLEM_STATUS).
BAD_LINK_STATUSES = frozenset({404, 409, 410})
LOCKOUT_SCOPE = "login-failures"


def _setting(name: str) -> Callable[[], str]:
    return lambda: str(current_app.config[name])


def _link_key() -> str:
    """The link's hash, never the token itself: the counts' store holds no usable link."""
    return "link:" + token_hash(str((request.view_args or {}).get("token", "")))


login_limit = limiter.limit(_setting("LOGIN_RATE_LIMIT"), methods=["POST"])
_per_link = limiter.shared_limit(_setting("LINK_RATE_LIMIT"), scope="invitation-link",
                                 key_func=_link_key)
_per_address = limiter.shared_limit(_setting("LINK_ADDRESS_RATE_LIMIT"),
                                    scope="invitation-address")
_bad_links = limiter.shared_limit(
    _setting("BAD_LINK_RATE_LIMIT"), scope="bad-invitation-links",
    deduct_when=lambda response: response.status_code in BAD_LINK_STATUSES)


def invitation_link_limits(view: View) -> View:
    """Every route that opens an invitation link: per link, per address, bad links."""
    return _bad_links(_per_address(_per_link(view)))


# --- Lock-out -----------------------------------------------------------------------------


def _failures(email: str) -> tuple[Any, str, str, str]:
    """The failure limit and the count's identifiers (under this site's key prefix)."""
    return (parse(current_app.config["LOGIN_FAILURE_LIMIT"]),
            current_app.config["RATELIMIT_KEY_PREFIX"], LOCKOUT_SCOPE, normalise_email(email))


def _lockout_enabled() -> bool:
    """``RATELIMIT_ENABLED = False`` turns the lock-out off with the limits (load tests)."""
    return bool(current_app.config.get("RATELIMIT_ENABLED", True))


def sign_in_locked_for(email: str) -> int:
    """Seconds until this email address may try again; 0 when it is not locked."""
    if not _lockout_enabled() or limiter.limiter.test(*_failures(email)):
        return 0
    reset_at = limiter.limiter.get_window_stats(*_failures(email)).reset_time
    return max(1, math.ceil(reset_at - time.time()))


def note_failed_sign_in(email: str) -> None:
    if _lockout_enabled():
        limiter.limiter.hit(*_failures(email))


def clear_failed_sign_ins(email: str) -> None:
    if _lockout_enabled():
        limiter.limiter.clear(*_failures(email))


def lockout_message(seconds: int) -> str:
    """The same words whether or not an account has this address."""
    minutes = max(1, math.ceil(seconds / 60))
    return ngettext("Too many failed sign-ins with this email address. Wait %(num)s minute and "
                    "try again, or ask an administrator to reset your password.",
                    "Too many failed sign-ins with this email address. Wait %(num)s minutes and "
                    "try again, or ask an administrator to reset your password.", minutes)


# --- Past a limit -------------------------------------------------------------------------


def retry_after(error: Exception) -> int | None:
    """Seconds the client should wait after a breached limit (None if not a limit)."""
    if not isinstance(error, RateLimitExceeded):
        return None
    breached = limiter.current_limit
    if breached is None:
        return None
    # reset_at is a whole second, so rounding up may pass the window by one: never say more
    return max(1, min(math.ceil(breached.reset_at - time.time()), breached.limit.get_expiry()))


def with_retry_after(response: Response, seconds: int | None) -> Response:
    if seconds:
        response.headers["Retry-After"] = str(seconds)
    return response


def init_app(app: Flask) -> None:
    limiter.init_app(app)
