"""CSRF: every state-changing route of the URL map refuses a request without a valid token.

Issue 11: "every state-changing route (enumerated from the URL map) refuses a request
without a valid token". Each route is sent, with CSRF on, by someone its access rule
allows (``access_rules.py``), in the first cycle state where someone is allowed, with the
form the access matrix sends: without a token, and with a wrong one, it gets the 400
"Form expired" page and the database and the evidence store are exactly as before; with
the page's token the same request is not refused for CSRF (so the refusal is the token's).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.test import TestResponse

from surveyapp.errors import CSRF_TEXT
from surveyapp.extensions import db
from surveyapp.models import Unit, User
from tests.web.access_rules import PRINCIPALS, Principal, rule_for
from tests.web.access_world import (
    ARGUMENT_VALUES,
    REQUEST_DATA,
    AccessWorld,
    Target,
    build_access_world,
    sign_in,
)
from tests.web.evidence_world import stored_files

STATE_CHANGING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
#: Routes that take no CSRF token on purpose (``csrf.exempt``), each with the reason, e.g.
#: a JSON API authenticated by a Bearer token rather than the session cookie.
CSRF_EXEMPT: dict[str, str] = {}
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


def first_allowed(endpoint: str, method: str, world: AccessWorld
                  ) -> tuple[Principal, Target] | None:
    rule = rule_for(endpoint, method)
    assert rule is not None, f"{endpoint} has no access rule (test_access_matrix.py)"
    for target in world.targets:
        for who in PRINCIPALS:
            if rule.allows(who, target.state):
                return who, target
    return None


def is_csrf_refusal(response: TestResponse) -> bool:
    return response.status_code == 400 and CSRF_TEXT[0] in response.get_data(as_text=True)


@pytest.mark.app_config(WTF_CSRF_ENABLED=True)
def test_every_state_changing_route_needs_the_token(
    app: Flask, make_unit: Callable[..., Unit], make_user: Callable[..., User],
) -> None:
    world = build_access_world(app, make_unit, make_user)
    checked, problems = [], []
    assert set(CSRF_EXEMPT) <= {url_rule.endpoint for url_rule in app.url_map.iter_rules()}
    for url_rule in sorted(app.url_map.iter_rules(), key=lambda r: r.endpoint):
        if url_rule.endpoint in CSRF_EXEMPT:
            continue
        for method in sorted((url_rule.methods or set()) & STATE_CHANGING):
            found = first_allowed(url_rule.endpoint, method, world)
            if found is None:
                problems.append(f"{url_rule.endpoint} {method}: its rule allows nobody")
                continue
            who, target = found
            client = app.test_client()
            if who.signed_in:
                sign_in(app, client, world.accounts[who.key])
            values = {name: ARGUMENT_VALUES[name](target, who, world)
                      for name in url_rule.arguments}
            path = url_rule.build(values, append_unknown=False)[1]  # type: ignore[index]
            data = REQUEST_DATA.get(url_rule.endpoint, lambda _target: {})
            token = page_token(client, who)
            for label, sent in (("no token", {}), ("a wrong token", {"csrf_token": "x" * 40}),
                                ("another session's token",
                                 {"csrf_token": page_token(app.test_client(), PRINCIPALS[0])})):
                before = database_snapshot(app), stored_files(app)
                response = client.open(path, method=method, data={**data(target), **sent})
                if not is_csrf_refusal(response):
                    problems.append(f"{method} {path} ({url_rule.endpoint}) as {who.key} with "
                                    f"{label}: {response.status_code}, not the CSRF refusal")
                elif (database_snapshot(app), stored_files(app)) != before:
                    problems.append(f"{method} {path} with {label} changed something")
            control = client.open(path, method=method,
                                  data={**data(target), "csrf_token": token},
                                  headers={"X-CSRFToken": token})
            if is_csrf_refusal(control):
                problems.append(f"{method} {path} is refused even with the page's token")
            checked.append(f"{url_rule.endpoint} {method}")
    print(f"CSRF: {len(checked)} state-changing routes checked")
    assert not problems, "\n".join(problems)
    assert len(checked) >= 25
