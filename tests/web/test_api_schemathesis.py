"""Schemathesis against /api/v1/openapi.json, in process through the WSGI app.

Every operation gets requests generated from the description, valid and invalid
(positive and negative modes), with the tokens of people of different roles; path ids
are steered to real cycles and responses half the time, so the checks also run on real
data. No response may be a server error, and each must match the description: its status
is documented, its content type is the documented one, its body fits the schema.

The run is bounded (few examples per operation, fixed seed) to finish in about a minute;
it runs on SQLite only, because the route tests run every operation on both databases.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import Case, GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from surveyapp.models import Unit, User
from tests.web.api_world import bearer, make_token, response_of, submitted_jiu_cycle
from tests.web.cycles_world import MINI, MINI_FRAMEWORK, World, build_world, make_cycle

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance]
#: Examples per operation and mode; report downloads render a whole PDF, so fewer of them.
EXAMPLES = 12
REPORT_EXAMPLES = 3


@pytest.mark.sqlite_only  # bounded fuzzing once; tests/web/test_api.py covers both databases
@pytest.mark.slow
def test_the_api_keeps_to_its_description(
    app: Flask, make_unit: Callable[..., Unit], make_user: Callable[..., User]
) -> None:
    world: World = build_world(make_unit, make_user)
    mini = make_cycle(app, MINI, world.cluster, world.coordinator,
                      focal_points=[world.focal_point], validators=[world.validator],
                      framework=MINI_FRAMEWORK)
    jiu = submitted_jiu_cycle(app, world)
    real_ids = {
        "cycle_id": [mini, jiu],
        "response_id": [response_of(app, mini, world.focal_point),
                        response_of(app, mini, world.focal_point, "rubric"),
                        response_of(app, jiu, world.focal_point, "self_assessment")],
    }
    people = [bearer(make_token(app, person)) for person in (
        world.focal_point, world.coordinator, world.viewer, world.validator, world.stranger)]
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    called = 0
    for found in schema.get_all_operations():
        operation = found.ok()
        examples = REPORT_EXAMPLES if "/report." in operation.path else EXAMPLES
        for mode in GenerationMode:

            @given(case=operation.as_strategy(generation_mode=mode),
                   headers=st.sampled_from(people), steer=st.integers(0, 5))
            @settings(max_examples=examples, deadline=None, database=None, derandomize=True,
                      suppress_health_check=list(HealthCheck))
            def check(case: Case, headers: dict[str, str], steer: int) -> None:
                nonlocal called
                for name, ids in real_ids.items():
                    if name in (case.path_parameters or {}) and steer < len(ids):
                        case.path_parameters[name] = ids[steer]
                response = case.call(headers=headers)
                case.validate_response(response, checks=CHECKS)
                called += 1

            check()
    assert called >= len(list(schema.get_all_operations())) * 2
