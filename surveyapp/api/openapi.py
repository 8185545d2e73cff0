"""The OpenAPI 3.1 description of the API, generated from the declared operations.

Paths, parameters, bodies, responses and errors come from the records of
``surveyapp.api.operations.operation`` and the schemas from the pydantic models the views
validate and serialise with (OpenAPI 3.1 uses JSON Schema 2020-12, which pydantic writes).
"""

from __future__ import annotations

import json
import re
from functools import cache
from typing import Any

from flask import Response
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from surveyapp.api.operations import ID_MAX, JSON_MEDIA_TYPE, OPERATIONS, Operation, bp, operation
from surveyapp.api.problems import PROBLEM_MEDIA_TYPE
from surveyapp.api.schemas import Problem

OPENAPI_VERSION = "3.1.0"
API_VERSION = "1.0.0"
REF_TEMPLATE = "#/components/schemas/{model}"
_PATH_VALUE = re.compile(r"<(?:(?P<converter>\w+):)?(?P<name>\w+)>")
SECURITY_SCHEME = "bearerAuth"
DESCRIPTION = (
    "The JSON API of surveyapp: the cycles a user can see, their scored results and reports, "
    "and reading, saving and submitting answers, with exactly the permissions the user has on "
    "the web (role, unit and workflow state). Authenticate every call with a personal API "
    "token, created on the account's API tokens page: `Authorization: Bearer sa_...`. "
    "Errors are problem details (RFC 9457), `application/problem+json`. docs/api.md has "
    "examples."
)


def _path(rule: str) -> tuple[str, list[dict[str, Any]]]:
    """A Flask rule as an OpenAPI path, with its path parameters."""
    parameters = []
    for match in _PATH_VALUE.finditer(rule):
        schema: dict[str, Any] = {"type": "string"}
        if match["converter"] == "int":
            schema = {"type": "integer", "minimum": 1, "maximum": ID_MAX}
        parameters.append({"name": match["name"], "in": "path", "required": True,
                           "schema": schema})
    return bp.url_prefix + _PATH_VALUE.sub(r"{\g<name>}", rule), parameters


def _without_null(schema: dict[str, Any]) -> dict[str, Any]:
    """A query parameter is absent rather than null: drop the null branch of optional fields."""
    branches = schema.get("anyOf")
    if branches is None:
        return schema
    kept = [branch for branch in branches if branch != {"type": "null"}]
    rest = {key: value for key, value in schema.items() if key != "anyOf"}
    return {**rest, **kept[0]} if len(kept) == 1 else {**rest, "anyOf": kept}


def _query_parameters(model: type[BaseModel], schemas: dict[str, Any]) -> list[dict[str, Any]]:
    declared = schemas[model.__name__]
    required = set(declared.get("required", ()))
    parameters = []
    for name, schema in declared["properties"].items():
        schema = _without_null(dict(schema))
        schema.pop("title", None)
        description = schema.pop("description", None)
        parameter: dict[str, Any] = {"name": name, "in": "query", "required": name in required,
                                     "schema": schema}
        if description:
            parameter["description"] = description
        if schema.get("type") == "array":
            parameter |= {"style": "form", "explode": True}
        parameters.append(parameter)
    return parameters


def _problem(description: str, refs: dict[Any, Any]) -> dict[str, Any]:
    return {"description": description,
            "content": {PROBLEM_MEDIA_TYPE: {"schema": refs[(Problem, "serialization")]}}}


def _success(op: Operation, refs: dict[Any, Any]) -> dict[str, Any]:
    content: dict[str, Any] = {}
    for media_type in op.media_types:
        if op.response is not None:
            content[media_type] = {"schema": refs[(op.response, "serialization")]}
        elif media_type == JSON_MEDIA_TYPE:
            content[media_type] = {"schema": {"type": "object"}}
        else:
            content[media_type] = {"schema": {"type": "string", "format": "binary"}}
    return {"description": op.summary, "content": content}


def _operation(op: Operation, refs: dict[Any, Any], schemas: dict[str, Any]
               ) -> tuple[str, dict[str, Any]]:
    path, parameters = _path(op.rule)
    if op.query is not None:
        parameters += _query_parameters(op.query, schemas)
    described: dict[str, Any] = {
        "operationId": op.endpoint.split(".", 1)[1],
        "summary": op.summary,
        "description": op.description,
        "responses": {
            str(op.status): _success(op, refs),
            **{str(status): _problem(text, refs) for status, text in sorted(op.errors.items())},
            "default": _problem("Any other error (such as 405, 413, 429 or 500), as problem "
                                "details.", refs),
        },
    }
    if parameters:
        described["parameters"] = parameters
    if op.body is not None:
        described["requestBody"] = {"required": True, "content": {
            JSON_MEDIA_TYPE: {"schema": refs[(op.body, "validation")]}}}
    if op.public:
        described["security"] = []
    return path, described


@cache
def document() -> dict[str, Any]:
    """The whole description; made once, since the operations are fixed at import."""
    wanted: list[tuple[type[BaseModel], Any]] = [(Problem, "serialization")]
    for op in OPERATIONS:
        if op.response is not None:
            wanted.append((op.response, "serialization"))
        wanted += [(model, "validation") for model in (op.body, op.query) if model is not None]
    refs, definitions = models_json_schema(list(dict.fromkeys(wanted)),
                                           ref_template=REF_TEMPLATE)
    schemas = definitions.get("$defs", {})
    paths: dict[str, dict[str, Any]] = {}
    for op in OPERATIONS:
        path, described = _operation(op, refs, schemas)
        paths.setdefault(path, {})[op.method.lower()] = described
    return {
        "openapi": OPENAPI_VERSION,
        "info": {"title": "surveyapp API", "version": API_VERSION, "description": DESCRIPTION},
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {SECURITY_SCHEME: {
                "type": "http", "scheme": "bearer",
                "description": "A personal API token (`sa_...`) from the account's API "
                               "tokens page."}},
        },
        "security": [{SECURITY_SCHEME: []}],
    }


@operation("GET", "/openapi.json", summary="This description (OpenAPI 3.1)", response=None,
           public=True)
def openapi() -> Response:
    """The OpenAPI description of every operation; needs no token."""
    return Response(json.dumps(document(), ensure_ascii=False, indent=1),
                    mimetype=JSON_MEDIA_TYPE)
