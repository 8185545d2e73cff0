"""Security headers, cookies and sessions (issue 11, "Security headers"; OWASP ASVS 4.0 V3, V14.4).

SEC01 every page: a CSP allowing only this site's scripts (no inline script, no
      'unsafe-inline'), never framed, nosniff, same-origin referrer, Permissions-Policy,
      no-store; no template holds an inline script, event handler or style attribute.
SEC02 HSTS only over HTTPS: directly, or behind a proxy believed through PROXY_COUNT.
SEC03 session cookies are HttpOnly, SameSite=Lax, and Secure when configured.
SEC04 signing in starts a fresh session: nothing of the session before carries over, a
      copy of the pre-sign-in cookie stays signed out, and the session token changes.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from surveyapp.extensions import db
from surveyapp.models import User
from surveyapp.security import PERMISSIONS_POLICY

TEMPLATES = Path(__file__).parents[2] / "templates"
ONE_YEAR = 365 * 24 * 3600


def directives(policy: str) -> dict[str, list[str]]:
    parsed = {}
    for part in policy.split(";"):
        name, *values = part.split()
        parsed[name] = values
    return parsed


@pytest.mark.parametrize("path", ["/auth/login", "/i/thanks", "/no-such-page"])
def test_every_page_carries_the_policy(client: FlaskClient, path: str) -> None:
    """SEC01, on a form, a public page and an error page."""
    headers = client.get(path).headers
    policy = directives(headers["Content-Security-Policy"])
    assert policy["script-src"] == ["'self'"]
    assert policy["style-src"] == ["'self'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["object-src"] == ["'none'"]
    assert not any("unsafe" in value for values in policy.values() for value in values)
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Referrer-Policy"] == "same-origin"
    assert headers["Permissions-Policy"] == PERMISSIONS_POLICY
    assert "camera=()" in headers["Permissions-Policy"]
    assert headers["Cross-Origin-Opener-Policy"] == "same-origin"
    assert headers["Cache-Control"] == "no-store"
    assert "Strict-Transport-Security" not in headers  # plain http


def test_static_files_may_be_cached(client: FlaskClient) -> None:
    response = client.get("/static/js/app.js")
    assert response.status_code == 200
    assert "no-store" not in response.headers.get("Cache-Control", "")
    assert response.headers["X-Content-Type-Options"] == "nosniff"


INLINE_CODE = re.compile(
    r"<script(?![^>]*\bsrc=)[^>]*>|\son[a-z]+\s*=|\sstyle\s*=|javascript:", re.IGNORECASE)


def test_no_template_holds_inline_script_or_style() -> None:
    """SEC01: what the CSP forbids is not written anywhere (report templates are PDF only)."""
    pages = [path for path in TEMPLATES.rglob("*.html") if "reports" not in path.parts]
    assert len(pages) > 20
    offenders = [f"{path.relative_to(TEMPLATES)}: {match.group(0)!r}"
                 for path in pages for match in INLINE_CODE.finditer(path.read_text())]
    assert offenders == []


def test_hsts_over_https_only(client: FlaskClient) -> None:
    """SEC02."""
    assert "Strict-Transport-Security" not in client.get("/auth/login").headers
    secure = client.get("/auth/login", base_url="https://surveys.example.org")
    assert secure.headers["Strict-Transport-Security"] == (
        f"max-age={ONE_YEAR}; includeSubDomains")


def test_forwarded_proto_is_ignored_without_a_trusted_proxy(client: FlaskClient) -> None:
    """SEC02: anyone can send X-Forwarded-Proto; only a declared proxy is believed."""
    response = client.get("/auth/login", headers={"X-Forwarded-Proto": "https"})
    assert "Strict-Transport-Security" not in response.headers


@pytest.mark.app_config(PROXY_COUNT=1)
def test_hsts_and_client_address_behind_a_trusted_proxy(app: Flask, client: FlaskClient) -> None:
    """SEC02: behind one proxy that ends TLS, its forwarded scheme and address are used."""
    seen: list[str | None] = []

    @app.get("/test-remote-address")
    def remote_address() -> str:
        from flask import request

        seen.append(request.remote_addr)
        return "ok"

    response = client.get("/test-remote-address", headers={
        "X-Forwarded-Proto": "https", "X-Forwarded-For": "198.51.100.7"})
    assert response.headers["Strict-Transport-Security"].startswith(f"max-age={ONE_YEAR}")
    assert seen == ["198.51.100.7"]


@pytest.mark.app_config(HSTS_MAX_AGE=0)
def test_hsts_can_be_turned_off(client: FlaskClient) -> None:
    secure = client.get("/auth/login", base_url="https://surveys.example.org")
    assert "Strict-Transport-Security" not in secure.headers


def session_cookie(response_headers: list[str]) -> str:
    found = [header for header in response_headers if header.startswith("session=")]
    assert found, response_headers
    return found[-1]


@pytest.mark.app_config(SESSION_COOKIE_SECURE=True)
def test_session_cookie_flags_after_sign_in(
    client: FlaskClient, make_user: Callable[..., User], test_password: str,
) -> None:
    """SEC03: the cookie that carries a sign-in."""
    person = make_user()
    response = client.post("/auth/login", data={"email": person.email,
                                                "password": test_password},
                           base_url="https://surveys.example.org")
    assert response.status_code == 302
    cookie = session_cookie(response.headers.getlist("Set-Cookie"))
    assert "; Secure" in cookie
    assert "; HttpOnly" in cookie
    assert "; SameSite=Lax" in cookie


def test_sign_in_starts_a_fresh_session(
    app: Flask, client: FlaskClient, make_user: Callable[..., User], test_password: str,
) -> None:
    """SEC04: no session fixation: what was in the session before signing in is gone."""
    person = make_user()
    with client.session_transaction() as before:
        before["planted"] = "by someone else"
    planted_cookie = client.get_cookie("session")
    assert planted_cookie is not None
    client.post("/auth/login", data={"email": person.email, "password": test_password})
    with client.session_transaction() as after:
        assert "planted" not in after
        assert after["_user_id"] != person.session_token  # rotated on sign-in
    with app.app_context():
        token = db.session.scalar(select(User.session_token).where(User.id == person.id))
    assert token != person.session_token
    # The cookie from before signing in, replayed, is still signed out.
    other = app.test_client()
    other.set_cookie("session", planted_cookie.value)
    assert other.get("/").status_code == 302
