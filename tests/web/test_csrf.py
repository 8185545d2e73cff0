"""CSRF: every state-changing route of the URL map refuses a request without a valid token.

Issue 11: "every state-changing route (enumerated from the URL map) refuses a request
without a valid token". Each route is sent, with CSRF on, by someone its access rule
allows (``access_rules.py``), to the first target where someone is allowed, with the form
the access matrix sends: without a token, with a wrong one, and with another session's, it
gets the 400 "Form expired" page and the database and the evidence store are exactly as
before; with the page's token the same request is not refused for CSRF (so the refusal is
the token's). Each route's requests run in a transaction rolled back after them, so no
route changes what the next one meets.

The JSON API takes no CSRF token on purpose: it reads only bearer tokens, never the
session cookie. So a signed-in browser's cookie, even with the page's CSRF token, gets
401 on every API write route, and changes nothing.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.routing import Rule as UrlRule
from werkzeug.test import TestResponse

from surveyapp.errors import CSRF_TEXT
from surveyapp.extensions import csrf, db
from tests.web.access_rules import PRINCIPALS, Principal, rule_for
from tests.web.access_world import (
    API_BLUEPRINT,
    AccessSite,
    AccessWorld,
    Target,
    access_site,  # noqa: F401 - the module's world (a pytest fixture)
    call_for,
    route_targets,
)
from tests.web.evidence_world import stored_files

STATE_CHANGING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
#: Blueprints whose routes take no CSRF token on purpose (``csrf.exempt``), with the reason.
CSRF_EXEMPT_BLUEPRINTS: dict[str, str] = {
    API_BLUEPRINT: "the JSON API reads only the Authorization: Bearer header, never the "
                   "session cookie, and a browser never adds that header on its own, so "
                   "another site cannot make a signed-in browser call it (docs/api.md; "
                   "test_api_writes_ignore_the_session_cookie)",
}
META_TOKEN = re.compile(r'<meta name="csrf-token" content="([^"]+)">')


def database_snapshot(app: Flask) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, to compare before and after a request."""
    with app.app_context():
        return {table.name: sorted((tuple(row) for row in db.session.execute(select(table))),
                                   key=repr)
                for table in db.metadata.sorted_tables}


def page_token(client: FlaskClient, who: Principal) -> str:
    """The token a page of the site gives this client (the layout's meta tag)."""
    page = client.get("/notifications/" if who.signed_in else "/auth/login")
    found = META_TOKEN.search(page.get_data(as_text=True))
    assert found, page.status_code
    return found.group(1)


def first_allowed(url_rule: UrlRule, method: str, world: AccessWorld
                  ) -> tuple[Principal, Target | None] | None:
    rule = rule_for(url_rule.endpoint, method)
    assert rule is not None, f"{url_rule.endpoint} has no access rule (test_access_matrix.py)"
    for target in route_targets(url_rule, world):
        for who in PRINCIPALS:
            if rule.allows(who, target.state if target else None):
                return who, target
    return None


def state_changing(app: Flask) -> Iterator[tuple[UrlRule, str]]:
    for url_rule in sorted(app.url_map.iter_rules(), key=lambda r: r.endpoint):
        for method in sorted((url_rule.methods or set()) & STATE_CHANGING):
            yield url_rule, method


def is_exempt(url_rule: UrlRule) -> bool:
    return url_rule.endpoint.split(".")[0] in CSRF_EXEMPT_BLUEPRINTS


def is_csrf_refusal(response: TestResponse) -> bool:
    return response.status_code == 400 and str(CSRF_TEXT[0]) in response.get_data(as_text=True)


@pytest.fixture
def csrf_on(access_site: AccessSite) -> Iterator[AccessSite]:  # noqa: F811
    access_site.app.config["WTF_CSRF_ENABLED"] = True
    yield access_site
    access_site.app.config["WTF_CSRF_ENABLED"] = False


def test_the_exempt_routes_are_those_listed(csrf_on: AccessSite) -> None:
    assert {blueprint.name for blueprint in csrf._exempt_blueprints} == set(
        CSRF_EXEMPT_BLUEPRINTS)
    assert csrf._exempt_views == set()
    assert set(CSRF_EXEMPT_BLUEPRINTS) <= set(csrf_on.app.blueprints)


def test_every_state_changing_route_needs_the_token(csrf_on: AccessSite) -> None:
    site, world = csrf_on, csrf_on.world
    checked, problems = [], []
    for url_rule, method in state_changing(site.app):
        if is_exempt(url_rule):
            continue
        found = first_allowed(url_rule, method, world)
        if found is None:
            problems.append(f"{url_rule.endpoint} {method}: its rule allows nobody")
            continue
        who, target = found
        with site.database.rolled_back():
            client = site.client_for(who)
            token = page_token(client, who)
            elsewhere = page_token(site.app.test_client(), PRINCIPALS[0])
            for label, sent in (("no token", {}), ("a wrong token", {"csrf_token": "x" * 40}),
                                ("another session's token", {"csrf_token": elsewhere})):
                call = call_for(url_rule, method, who, target, world)  # fresh uploads each time
                before = database_snapshot(site.app), stored_files(site.app)
                response = site.send(client, call, data=sent)
                if not is_csrf_refusal(response):
                    problems.append(f"{method} {call.path} ({url_rule.endpoint}) as {who.key} "
                                    f"with {label}: {response.status_code}, not the CSRF refusal")
                elif (database_snapshot(site.app), stored_files(site.app)) != before:
                    problems.append(f"{method} {call.path} with {label} changed something")
            call = call_for(url_rule, method, who, target, world)
            control = site.send(client, call, data={"csrf_token": token},
                                headers={"X-CSRFToken": token})
            if is_csrf_refusal(control):
                problems.append(f"{method} {call.path} is refused even with the page's token")
        checked.append(f"{url_rule.endpoint} {method}")
    print(f"CSRF: {len(checked)} state-changing routes checked")
    assert not problems, "\n".join(problems)
    assert len(checked) >= 25


def test_api_writes_ignore_the_session_cookie(csrf_on: AccessSite) -> None:
    """API-1: the session cookie of someone the route allows, with the page's CSRF token,
    and no bearer token: 401 as a problem, with the Bearer challenge, and nothing changed.
    The same call with the person's bearer token is not refused for want of one."""
    site, world = csrf_on, csrf_on.world
    checked, problems = [], []
    for url_rule, method in state_changing(site.app):
        if not url_rule.endpoint.startswith(f"{API_BLUEPRINT}."):
            continue
        found = first_allowed(url_rule, method, world)
        assert found is not None, url_rule.endpoint
        who, target = found
        call = call_for(url_rule, method, who, target, world)
        with site.database.rolled_back():
            client = site.client_for(who)
            token = page_token(client, who)
            before = database_snapshot(site.app)
            response = client.open(call.path, method=method, json=call.json or {},
                                   headers={"X-CSRFToken": token})
            if (response.status_code, response.mimetype) != (401, "application/problem+json") \
                    or "Bearer" not in response.headers.get("WWW-Authenticate", ""):
                problems.append(f"{method} {call.path} with a session cookie: "
                                f"{response.status_code} {response.mimetype}")
            if database_snapshot(site.app) != before:
                problems.append(f"{method} {call.path} with a session cookie changed something")
            control = site.send(site.nobody(), call)
            if control.status_code == 401:
                problems.append(f"{method} {call.path} is refused even with the bearer token")
        checked.append(f"{url_rule.endpoint} {method}")
    print(f"API: {len(checked)} write routes refuse the session cookie")
    assert not problems, "\n".join(problems)
    assert len(checked) >= 2
