"""Errors of the JSON API as problem details (RFC 9457, which obsoletes RFC 7807).

Every error under ``/api/`` (routing errors such as 404 and 405 included) is sent as
``application/problem+json`` with ``type``, ``title``, ``status`` and ``detail``, and
``errors`` naming each refused field. The type is ``about:blank`` and the title the
status's standard phrase: clients dispatch on the status, and ``detail`` says what to do.
"""

from __future__ import annotations

import json
from typing import Any

from flask import Response, request
from werkzeug.exceptions import HTTPException
from werkzeug.http import HTTP_STATUS_CODES

from surveyapp.api.schemas import FieldError, Problem

API_PREFIX = "/api/"
PROBLEM_MEDIA_TYPE = "application/problem+json"
#: RFC 9457 section 4.2.1: no type of our own, so the title is the status's standard phrase.
PROBLEM_TYPE = "about:blank"
#: ``detail`` when the error itself says nothing more useful than Werkzeug's default text.
DEFAULT_DETAILS: dict[int, str] = {
    401: "Send a personal API token: Authorization: Bearer <token>.",
    404: "There is nothing at this address of the API. See /api/v1/openapi.json.",
    405: "This address of the API does not accept that method. See /api/v1/openapi.json.",
    500: "An unexpected error stopped this request, and nothing it was changing was saved. "
         "Try again; if it happens again, tell your administrator the time it happened.",
}


class ApiProblem(Exception):
    """Raised by API views to answer with a problem; ``errors`` name the refused fields."""

    def __init__(self, status: int, detail: str, *, errors: list[FieldError] | None = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.errors = errors
        self.headers = headers or {}


def is_api_request() -> bool:
    return request.path.startswith(API_PREFIX)


def problem_response(status: int, detail: str, *, errors: list[FieldError] | None = None,
                     headers: dict[str, str] | None = None) -> Response:
    problem = Problem(type=PROBLEM_TYPE, title=HTTP_STATUS_CODES.get(status, "Error"),
                      status=status, detail=detail, errors=errors)
    body: dict[str, Any] = problem.model_dump(mode="json", exclude_none=True)
    response = Response(json.dumps(body, ensure_ascii=False), status=status,
                        mimetype=PROBLEM_MEDIA_TYPE)
    response.headers.update(headers or {})
    if status == 401:
        response.headers.setdefault("WWW-Authenticate", 'Bearer realm="surveyapp"')
    return response


def from_api_problem(problem: ApiProblem) -> Response:
    return problem_response(problem.status, problem.detail, errors=problem.errors,
                            headers=problem.headers)


def from_http_error(error: HTTPException, detail: str | None = None) -> Response:
    """Any HTTP error on an API route; a detail given to ``abort`` is kept."""
    status = error.code or 500
    if detail is None:
        described = error.description and error.description != type(error).description
        detail = error.description if described else DEFAULT_DETAILS.get(
            status, type(error).description or HTTP_STATUS_CODES.get(status, "Error"))
    response = problem_response(status, str(detail))
    if status == 405 and error.get_headers():
        response.headers.update({key: value for key, value in error.get_headers()
                                 if key.lower() == "allow"})
    return response
