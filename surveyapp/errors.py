"""Error pages (HTML, or JSON for clients that ask for it), never a traceback."""

from __future__ import annotations

from flask import Flask, current_app, jsonify, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException, default_exceptions
from werkzeug.wrappers import Response

from surveyapp.api import problems
from surveyapp.api.problems import is_api_request
from surveyapp.extensions import db
from surveyapp.rate_limits import retry_after, with_retry_after
from surveyapp.services.access import AccessDenied

#: Title and explanation for each status we expect; others use Werkzeug's own text.
ERROR_TEXTS: dict[int, tuple[str, str]] = {
    400: (
        _l("Bad request"),
        _l("The request could not be understood. Go back, reload the page and try again."),
    ),
    401: (_l("Sign-in required"), _l("Sign in to use this address.")),
    403: (
        _l("Not allowed"),
        _l("Your roles do not give you access to this page. If you need it, ask a coordinator "
           "or an administrator of the unit."),
    ),
    404: (
        _l("Page not found"),
        _l("There is no page at this address. Check the link, or start from the home page."),
    ),
    405: (_l("Not allowed here"), _l("This address does not accept that kind of request.")),
    409: (
        _l("Changed at the same time"),
        _l("Someone else changed this at the same moment, so nothing of yours was saved. "
           "Reload the page to see their change, and try again."),
    ),
    429: (_l("Too many requests"), _l("Too many requests came in a short time, so this one "
                                      "was turned away.")),
    500: (
        _l("Something went wrong"),
        _l("An unexpected error stopped this request, and nothing it was changing was saved. "
           "Try again; if it happens again, tell your administrator the time it happened."),
    ),
}

CSRF_TEXT = (
    _l("Form expired"),
    _l("This form has expired or lost its security token, so it was not accepted. Reload the "
       "page and try again."),
)


def wants_json() -> bool:
    """Tell whether the client prefers JSON to HTML (browsers and ``*/*`` get HTML)."""
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json"


def size_limit_text() -> tuple[str, str]:
    limit = current_app.config.get("MAX_CONTENT_LENGTH")
    if not limit:
        return (_("Too large"), _("The request is too large for this server."))
    megabytes = f"{limit / (1024 * 1024):.3g}"
    return (
        _("Too large"),
        _("The request is larger than the %(megabytes)s MB limit. Send a smaller file, or split "
          "it into several.", megabytes=megabytes),
    )


def retry_text(seconds: int) -> str:
    minutes, rest = divmod(seconds, 60)
    if minutes and not rest:
        return ngettext("Nothing of it was done. Try again in %(num)s minute.",
                        "Nothing of it was done. Try again in %(num)s minutes.", minutes)
    return ngettext("Nothing of it was done. Try again in %(num)s second.",
                    "Nothing of it was done. Try again in %(num)s seconds.", seconds)


def explain(error: HTTPException) -> tuple[str, str]:
    """Return the title and message for an error; a custom ``abort`` description wins."""
    code = error.code or 500
    if isinstance(error, CSRFError):
        return CSRF_TEXT
    if code == 413:
        return size_limit_text()
    if code == 429:
        title, message = ERROR_TEXTS[429]
        seconds = retry_after(error)
        return title, f"{message} {retry_text(seconds)}" if seconds else message
    title, message = ERROR_TEXTS.get(code, (error.name, type(error).description or ""))
    if error.description and error.description != type(error).description:
        message = error.description
    return title, message


def handle_http_error(error: HTTPException) -> Response | HTTPException | tuple[str, int]:
    if error.code is None or error.code < 400:
        return error  # routing redirects are HTTPExceptions too
    if error.code >= 500:
        db.session.rollback()
    if is_api_request():
        detail = size_limit_text()[1] if error.code == 413 else None
        return problems.from_http_error(error, detail)
    title, message = explain(error)
    seconds = retry_after(error)
    if wants_json():
        response = jsonify(error=error.code, title=title, message=message,
                           **({"retry_after": seconds} if seconds else {}))
        response.status_code = error.code
        return with_retry_after(response, seconds)
    page = render_template(
        "errors/error.html",
        code=error.code,
        title=title,
        message=message,
        # The layout then skips the user's roles, which need the database.
        plain_layout=error.code >= 500,
    )
    return with_retry_after(Response(page, error.code, mimetype="text/html"), seconds)


def handle_access_denied(error: AccessDenied) -> Response | HTTPException | tuple[str, int]:
    """A rule of ``services.access`` refused: the same page as any 403 or 404, with the reason."""
    db.session.rollback()
    http_error = default_exceptions[error.status](description=str(error))
    return handle_http_error(http_error)


def handle_write_conflict(
    error: IntegrityError | StaleDataError,
) -> Response | HTTPException | tuple[str, int]:
    """Two requests wrote the same rows at once and the database kept one (a unique
    constraint, or optimistic locking): the loser gets the 409 page, not a 500.

    Views that expect a conflict answer it themselves (autosave says so in its JSON);
    this catches the others, such as two first uploads to the same unanswered question.
    """
    db.session.rollback()
    current_app.logger.warning("write conflict, refused with 409: %s", error)
    return handle_http_error(default_exceptions[409]())


def register_error_handlers(app: Flask) -> None:
    """Route every HTTP error, and every unhandled exception (as a 500), to one handler."""
    app.register_error_handler(HTTPException, handle_http_error)
    app.register_error_handler(AccessDenied, handle_access_denied)
    app.register_error_handler(IntegrityError, handle_write_conflict)
    app.register_error_handler(StaleDataError, handle_write_conflict)
