"""How API routes are declared: one declaration registers the route and describes it.

:func:`operation` records, for each view, its method and path, the pydantic models of its
query, body and response, and the errors it answers with; it registers the Flask route,
parses and validates the query and body before the view runs, and serialises what the
view returns through the response model. ``surveyapp.api.openapi`` builds the OpenAPI
description from the same records, so what is described is what runs.

Every operation but the description itself needs a personal API token
(``Authorization: Bearer ...``); the session cookie is never read here, which is why the
blueprint is exempt from CSRF checks: a browser never adds the header to a request on its
own, so another site cannot make a signed-in user's browser call the API.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import wraps
from typing import Any, get_args, get_origin

from flask import Blueprint, Response, g, request
from pydantic import BaseModel, ValidationError

from surveyapp.api.problems import ApiProblem, from_api_problem
from surveyapp.api.schemas import FieldError
from surveyapp.extensions import csrf, db
from surveyapp.models import ApiToken, User
from surveyapp.services.access import AccessDenied
from surveyapp.services.api_tokens import TokenRefused, authenticate
from surveyapp.services.audit import Actor

bp = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)

JSON_MEDIA_TYPE = "application/json"
#: The largest id a path may name: the databases' integer columns hold no more.
ID_MAX = 2**31 - 1


@dataclass(frozen=True)
class Operation:
    """One route of the API, as registered and as described."""

    endpoint: str
    method: str
    #: The Flask rule under the prefix, e.g. ``/cycles/<int:cycle_id>``.
    rule: str
    summary: str
    description: str
    #: The JSON response model, or None for a file download described by ``media_types``.
    response: type[BaseModel] | None
    status: int = 200
    media_types: tuple[str, ...] = (JSON_MEDIA_TYPE,)
    query: type[BaseModel] | None = None
    body: type[BaseModel] | None = None
    #: The error statuses this operation answers with, and when.
    errors: Mapping[int, str] = field(default_factory=dict)
    public: bool = False


OPERATIONS: list[Operation] = []

#: Errors of every operation that needs a token.
AUTH_ERRORS = {401: "No token, or a malformed, unknown, revoked or expired one."}
NOT_FOUND = {404: "No such thing, or one the token's user may not know about."}


def operation(method: str, rule: str, *, summary: str, response: type[BaseModel] | None,
              status: int = 200, media_types: tuple[str, ...] = (JSON_MEDIA_TYPE,),
              query: type[BaseModel] | None = None, body: type[BaseModel] | None = None,
              errors: Mapping[int, str] | None = None, public: bool = False
              ) -> Callable[[Callable[..., Any]], Callable[..., Response]]:
    """Declare, register and describe one API route (see the module docstring).

    The view receives the path values, then ``query`` and ``body`` (validated models) when
    declared; it returns an instance of ``response``, or a finished Flask response for
    downloads.
    """

    def register(view: Callable[..., Any]) -> Callable[..., Response]:
        declared = Operation(
            endpoint=f"{bp.name}.{view.__name__}", method=method, rule=rule, summary=summary,
            description=(view.__doc__ or "").strip(), response=response, status=status,
            media_types=media_types, query=query, body=body,
            errors={**({} if public else AUTH_ERRORS), **(errors or {})}, public=public)
        OPERATIONS.append(declared)

        @wraps(view)
        def run(**path_values: Any) -> Response:
            for name, value in path_values.items():
                if isinstance(value, int) and value > ID_MAX:
                    raise ApiProblem(404, f"There is no {name.removesuffix('_id')} {value}.")
            if query is not None:
                path_values["query"] = parse_query(query)
            if body is not None:
                path_values["body"] = parse_body(body)
            result = view(**path_values)
            if isinstance(result, Response):
                return result
            return json_response(result, status)

        bp.add_url_rule(rule, view.__name__, run, methods=[method])
        return run

    return register


def json_response(model: BaseModel, status: int = 200) -> Response:
    body = model.model_dump(mode="json", by_alias=True)
    return Response(json.dumps(body, ensure_ascii=False, allow_nan=False), status=status,
                    mimetype=JSON_MEDIA_TYPE)


# --------------------------------------------------------------------------- parsing


def _is_list(annotation: Any) -> bool:
    """Whether a query field takes several values (``list[X]`` or ``list[X] | None``)."""
    if get_origin(annotation) is list:
        return True
    return any(get_origin(argument) is list for argument in get_args(annotation))


def parse_query(model: type[BaseModel]) -> BaseModel:
    """The query parameters the model declares, validated; unknown ones are ignored.

    :raises ApiProblem: 400, naming each refused parameter.
    """
    values: dict[str, Any] = {}
    for name, info in model.model_fields.items():
        if name not in request.args:
            continue
        values[name] = (request.args.getlist(name) if _is_list(info.annotation)
                        else request.args[name])
    try:
        return model.model_validate(values)
    except ValidationError as invalid:
        raise ApiProblem(400, "Some query parameters are not valid: see errors.", errors=[
            FieldError(parameter=str(error["loc"][0]), detail=error["msg"])
            for error in invalid.errors()]) from None


def json_pointer(location: tuple[int | str, ...]) -> str:
    """RFC 6901: ``("answers", 0, "value")`` -> ``/answers/0/value``."""
    return "".join("/" + str(part).replace("~", "~0").replace("/", "~1") for part in location)


def parse_body(model: type[BaseModel]) -> BaseModel:
    """The JSON body, validated.

    :raises ApiProblem: 415 for a body that is not declared as JSON, 400 for one that does
        not parse, 422 naming each refused field by JSON pointer.
    """
    if not request.is_json:
        raise ApiProblem(415, "Send the body as JSON, with Content-Type: application/json.")
    payload = request.get_json(silent=True)
    if payload is None:
        raise ApiProblem(400, "The body is not valid JSON.")
    try:
        return model.model_validate(payload)
    except ValidationError as invalid:
        raise ApiProblem(422, "The body does not have the expected shape: see errors.",
                         errors=[FieldError(pointer=json_pointer(error["loc"]),
                                            detail=error["msg"])
                                 for error in invalid.errors()]) from None


# --------------------------------------------------------------------------- tokens


def _public(endpoint: str | None) -> bool:
    return any(op.public for op in OPERATIONS if op.endpoint == endpoint)


@bp.before_request
def authenticate_request() -> None:
    """Find the token's user for every operation but the public ones; 401 otherwise."""
    if _public(request.endpoint):
        return
    scheme, _, secret = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        raise ApiProblem(401, "Send a personal API token in the Authorization header: "
                              "Authorization: Bearer <token>. Create one on your account's "
                              "API tokens page.")
    try:
        token = authenticate(secret.strip())
    except TokenRefused as refused:
        raise ApiProblem(401, str(refused)) from None
    db.session.commit()  # when it was last used
    g.api_token = token


def api_token() -> ApiToken:
    token: ApiToken = g.api_token
    return token


def api_user() -> User:
    return api_token().user


def api_actor() -> Actor:
    """The audit log names the user and the token they acted through."""
    token = api_token()
    return Actor(label=f"{token.user.email} (API token {token.prefix})", user_id=token.user_id)


# --------------------------------------------------------------------------- errors


@bp.errorhandler(ApiProblem)
def _problem(problem: ApiProblem) -> Response:
    db.session.rollback()
    return from_api_problem(problem)


@bp.errorhandler(AccessDenied)
def _access_denied(denied: AccessDenied) -> Response:
    db.session.rollback()
    return from_api_problem(ApiProblem(denied.status, str(denied)))
