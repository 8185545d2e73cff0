"""The access-control matrix: every route x every kind of person x every workflow state.

The routes come from ``app.url_map``, so a new route is covered as soon as it exists; its
rule must be declared in ``tests/web/access_rules.py`` (``ACCESS_RULES``) or the first test
fails, naming it. Each route is sent with real ids from the world (``access_world.py``):
routes that name a cycle (or its things) once per cycle state, an instrument version once
per version state, an overlay active and withdrawn, the others once. Each request meets the
world exactly as built: it runs in a transaction rolled back after it, and a signed-in
person comes with a fresh sign-in and nothing else in their session. The JSON API is
called with the person's bearer token and no session. POSTs carry an empty form, except
where a route's access check reads a field of it (the evidence routes name the answer to
change; an overlay names its unit): ``REQUEST_DATA``. The input checks behind the access
checks are tested route by route in the feature tests.

Issue 11: "every route x every role (...) x own unit / other unit x workflow state; the
expected outcome declared in one table; zero unexpected allows".
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import urlsplit

from flask import Flask
from flask.testing import FlaskClient
from werkzeug.routing import Rule as UrlRule
from werkzeug.test import TestResponse

from tests.web.access_rules import ACCESS_RULES, PRINCIPALS, Rule, rule_for
from tests.web.access_world import (
    AccessSite,
    AccessWorld,
    Call,
    access_site,  # noqa: F401 - the module's world (a pytest fixture)
    call_for,
    route_targets,
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


def test_every_route_has_a_declared_rule(access_site: AccessSite) -> None:  # noqa: F811
    app = access_site.app
    missing = undeclared(app)
    assert not missing, "\n".join(missing)
    endpoints = {url_rule.endpoint for url_rule in app.url_map.iter_rules()}
    stale = sorted(set(ACCESS_RULES) - endpoints)
    assert not stale, f"ACCESS_RULES names endpoints the app no longer has: {stale}"


@dataclass(frozen=True)
class Request:
    call: Call
    rule: Rule


def requests_for(app: Flask, world: AccessWorld) -> Iterator[Request]:
    """Every declared route and method, for every principal, in every state it depends on."""
    for url_rule in sorted(app.url_map.iter_rules(), key=lambda r: r.endpoint):
        targets = route_targets(url_rule, world)
        for method in route_methods(url_rule):
            rule = rule_for(url_rule.endpoint, method)
            assert rule is not None, undeclared(app)
            for target in targets:
                for who in PRINCIPALS:
                    yield Request(call_for(url_rule, method, who, target, world), rule)


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


def test_access_matrix(access_site: AccessSite) -> None:  # noqa: F811
    surprises: list[str] = []
    counts = {"requests": 0, "allowed": 0, "refused": 0, "denied": 0, "error": 0}
    for request in requests_for(access_site.app, access_site.world):
        call = request.call
        with access_site.database.rolled_back():
            client = access_site.nobody() if call.api else access_site.client_for(call.who)
            response = access_site.send(client, call)
            response.close()  # streamed answers (CSV exports) end with their request
            got = outcome(client, response)
        counts["requests"] += 1
        expected = request.rule.allows(call.who, call.state)
        counts[got] += 1
        state = f" ({call.state.value} {type(call.target).__name__})" if call.target else ""
        if got == "error":
            surprises.append(f"ERROR {response.status_code}: {call.method} {call.path} "
                             f"as {call.who.key}{state}")
        elif (got == "allowed" and not expected) or (got == "denied" and expected):
            verdict = "UNEXPECTED ALLOW" if got == "allowed" else "unexpected deny"
            surprises.append(
                f"{verdict}: {call.method} {call.path} ({call.endpoint}) as "
                f"{call.who.key}{state} got {response.status_code} "
                f"{response.headers.get('Location', '')}; the rule says "
                f"{'allowed' if expected else 'denied'}: {request.rule.text}")
    print(f"access matrix: {counts}")  # the figure docs/reliability.md reports
    assert not surprises, f"{len(surprises)} of {counts['requests']} requests:\n" + "\n".join(
        sorted(surprises, key=lambda line: not line.startswith("UNEXPECTED"))[:80])
