"""The access-control matrix: every route x every kind of person x every workflow state.

The routes come from ``app.url_map``, so a new route is covered as soon as it exists; its
rule must be declared in ``tests/web/access_rules.py`` (``ACCESS_RULES``) or the first test
fails, naming it. Each route is sent with real ids from the world (``access_world.py``):
routes of one cycle once per cycle state, the others once. A signed-in person is signed
in afresh before each request (a route may sign them out). POSTs carry an empty form (so
that an allowed request changes nothing later requests depend on), except the evidence
routes, whose form names the answer to change: their last access check needs it
(``REQUEST_DATA``). The input checks behind the access checks are tested route by route
in the feature tests.

Issue 11: "every route x every role (...) x own unit / other unit x workflow state; the
expected outcome declared in one table; zero unexpected allows".
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from urllib.parse import urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.routing import Rule as UrlRule
from werkzeug.test import TestResponse

from surveyapp.models import CycleState, Unit, User
from tests.web.access_rules import ACCESS_RULES, PRINCIPALS, Principal, Rule, rule_for
from tests.web.access_world import (
    ARGUMENT_VALUES,
    CYCLE_ARGUMENTS,
    REQUEST_DATA,
    AccessWorld,
    Target,
    build_access_world,
    sign_in,
)

#: Methods that every route answers on its own (Flask adds them); not access decisions.
IMPLICIT_METHODS = frozenset({"HEAD", "OPTIONS"})
#: 400 and 422 refuse the form; any other 4xx means "not for you" (or "not in this state",
#: 409/410); anything 5xx is a failure.
REFUSED_STATUSES = frozenset({400, 422})
#: Flash categories of a redirect that reports a refusal.
REFUSAL_FLASHES = frozenset({"error", "warning"})
SIGN_IN_PATH = "/auth/login"


def route_methods(url_rule: UrlRule) -> list[str]:
    return sorted((url_rule.methods or set()) - IMPLICIT_METHODS)


def undeclared(app: Flask) -> list[str]:
    """One line per endpoint and method with no rule in ACCESS_RULES."""
    missing = []
    for url_rule in app.url_map.iter_rules():
        for method in route_methods(url_rule):
            if rule_for(url_rule.endpoint, method) is None:
                missing.append(
                    f"{url_rule.endpoint} ({method} {url_rule.rule}) has no access rule: add "
                    f'the line  "{url_rule.endpoint}": RULE,  to ACCESS_RULES in '
                    "tests/web/access_rules.py, RULE built from the rules defined there "
                    "(e.g. MANAGERS & state_in(\"open\")), or a mapping of method to rule "
                    "when GET and POST differ.")
    return missing


def test_every_route_has_a_declared_rule(app: Flask) -> None:
    missing = undeclared(app)
    assert not missing, "\n".join(missing)
    endpoints = {url_rule.endpoint for url_rule in app.url_map.iter_rules()}
    stale = sorted(set(ACCESS_RULES) - endpoints)
    assert not stale, f"ACCESS_RULES names endpoints the app no longer has: {stale}"


@dataclass(frozen=True)
class Request:
    endpoint: str
    method: str
    path: str
    rule: Rule
    who: Principal
    state: CycleState | None
    data: dict[str, object]


def requests_for(app: Flask, world: AccessWorld) -> Iterator[Request]:
    """Every declared route and method, for every principal, in every state it depends on."""
    for url_rule in sorted(app.url_map.iter_rules(), key=lambda r: r.endpoint):
        unfilled = set(url_rule.arguments) - set(ARGUMENT_VALUES)
        assert not unfilled, (
            f"{url_rule.endpoint}: add a value for {sorted(unfilled)} to ARGUMENT_VALUES in "
            "tests/web/access_world.py (and to the world if it names a new thing)")
        targets: tuple[Target | None, ...] = (
            world.targets if set(url_rule.arguments) & CYCLE_ARGUMENTS else (None,))
        for method in route_methods(url_rule):
            rule = rule_for(url_rule.endpoint, method)
            assert rule is not None, undeclared(app)
            for target in targets:
                for who in PRINCIPALS:
                    values = {name: ARGUMENT_VALUES[name](target, who, world)  # type: ignore[arg-type]
                              for name in url_rule.arguments}
                    built = url_rule.build(values, append_unknown=False)
                    assert built is not None, url_rule.endpoint
                    data = (REQUEST_DATA[url_rule.endpoint](target)
                            if target and url_rule.endpoint in REQUEST_DATA else {})
                    yield Request(url_rule.endpoint, method, built[1], rule, who,
                                  target.state if target else None, data)


def outcome(client: FlaskClient, response: TestResponse) -> str:
    """"error", "denied", "refused" or "allowed" (see access_rules.py)."""
    status = response.status_code
    if status >= 500:
        return "error"
    if status in REFUSED_STATUSES:
        return "refused"
    if 400 <= status < 500:
        return "denied"
    if 300 <= status < 400:
        target = urlsplit(response.headers.get("Location", ""))
        # login_required sends to the sign-in page with ?next=; signing out, without.
        if target.path == SIGN_IN_PATH and "next=" in target.query:
            return "denied"
        with client.session_transaction() as stored:
            flashed = stored.pop("_flashes", [])
        if any(category in REFUSAL_FLASHES for category, _message in flashed):
            return "refused"
    return "allowed"


@pytest.mark.app_config(RATELIMIT_ENABLED=False)  # thousands of requests from one address
def test_access_matrix(app: Flask, make_unit: Callable[..., Unit],
                       make_user: Callable[..., User]) -> None:
    world = build_access_world(app, make_unit, make_user)
    clients = {who.key: app.test_client() for who in PRINCIPALS}
    surprises: list[str] = []
    counts = {"requests": 0, "allowed": 0, "refused": 0, "denied": 0, "error": 0}
    for request in requests_for(app, world):
        client = clients[request.who.key]
        if request.who.signed_in:
            sign_in(app, client, world.accounts[request.who.key])
        if request.method == "GET":
            response = client.get(request.path, query_string=request.data)
        else:
            response = client.open(request.path, method=request.method, data=request.data)
        response.close()  # streamed answers (CSV exports) end with their request
        counts["requests"] += 1
        expected = request.rule.allows(request.who, request.state)
        got = outcome(client, response)
        counts[got] += 1
        state = f" in a {request.state.value} cycle" if request.state else ""
        if got == "error":
            surprises.append(f"ERROR {response.status_code}: {request.method} {request.path} "
                             f"as {request.who.key}{state}")
        elif (got == "allowed" and not expected) or (got == "denied" and expected):
            verdict = "UNEXPECTED ALLOW" if got == "allowed" else "unexpected deny"
            surprises.append(
                f"{verdict}: {request.method} {request.path} ({request.endpoint}) as "
                f"{request.who.key}{state} got {response.status_code} "
                f"{response.headers.get('Location', '')}; the rule says "
                f"{'allowed' if expected else 'denied'}: {request.rule.text}")
    print(f"access matrix: {counts}")  # the figure docs/reliability.md reports
    assert not surprises, f"{len(surprises)} of {counts['requests']} requests:\n" + "\n".join(
        sorted(surprises, key=lambda line: not line.startswith("UNEXPECTED"))[:80])
