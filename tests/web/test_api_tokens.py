"""Personal API tokens: created and revoked on the account page, stored hashed, audited, and
refused by the API once revoked or expired, or when the account is deactivated.

TOK-1: a new token is shown once (no-store); only its sha256 is stored; audited.
TOK-2: revoking stops the token at once; audited; someone else's token cannot be revoked.
TOK-3: expiry: the token works through its expiry day (UTC) and is refused after it.
TOK-4: refused input is explained; the page needs a sign-in and a CSRF token.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import date, timedelta
from html import unescape
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from surveyapp.extensions import db
from surveyapp.models import ApiToken, AuditEvent, Role, Unit, User
from surveyapp.models.base import now_utc
from tests.conftest import csrf_token_in
from tests.web.api_world import bearer, make_token


@pytest.fixture
def person(make_unit: Callable[..., Unit], make_user: Callable[..., User]) -> User:
    return make_user("amina@example.org", role=Role.viewer, unit=make_unit("CAR"))


def test_a_new_token_is_shown_once_and_stored_hashed(
    app: Flask, client: FlaskClient, login: Callable[..., Any], person: User
) -> None:
    """TOK-1."""
    login(person)
    created = client.post("/account/tokens", data={"name": "  Kobo   sync ", "expires_on": ""})
    assert created.status_code == 201
    assert created.headers["Cache-Control"] == "no-store"
    page = created.get_data(as_text=True)
    secret = page.split('id="new-token" class="link-list" type="text" value="')[1].split('"')[0]
    assert secret.startswith("sa_") and len(secret) > 40
    assert "shown only once" in page and f"Bearer {secret}" in page
    with app.app_context():
        token = db.session.scalars(select(ApiToken)).one()
        assert token.name == "Kobo sync"
        assert token.token_hash == hashlib.sha256(secret.encode()).hexdigest()
        assert token.prefix == secret[:10] and token.expires_at is None
        event = db.session.scalars(select(AuditEvent).where(
            AuditEvent.action == "api_token.created")).one()
        assert event.actor_id == person.id and event.entity_id == str(token.id)
        assert event.after == {"name": "Kobo sync", "prefix": token.prefix, "expires_on": None}
        assert secret not in str(event.after)
    listing = client.get("/account/tokens").get_data(as_text=True)
    assert "Kobo sync" in listing and f"{secret[:10]}…" in listing and secret not in listing
    assert "Until revoked" in listing and "Never" in listing
    assert client.get("/api/v1/me", headers=bearer(secret)).get_json()["email"] == person.email
    assert "UTC" in client.get("/account/tokens").get_data(as_text=True)  # last used now


def test_the_header_links_to_the_tokens_page(
    client: FlaskClient, login: Callable[..., Any], person: User
) -> None:
    login(person)
    assert 'href="/account/tokens"' in client.get("/").get_data(as_text=True)


def test_revoking_stops_the_token_at_once(
    app: Flask, client: FlaskClient, login: Callable[..., Any], person: User,
    make_user: Callable[..., User]
) -> None:
    """TOK-2."""
    secret = make_token(app, person)
    assert client.get("/api/v1/me", headers=bearer(secret)).status_code == 200
    with app.app_context():
        token_id = db.session.scalars(select(ApiToken.id)).one()
    other_client = app.test_client()
    login(make_user("other@example.org"), client=other_client)
    refused = other_client.post(f"/account/tokens/{token_id}/revoke", follow_redirects=True)
    assert "You have no such API token." in refused.get_data(as_text=True)
    assert client.get("/api/v1/me", headers=bearer(secret)).status_code == 200

    login(person)
    done = client.post(f"/account/tokens/{token_id}/revoke", follow_redirects=True)
    assert "“script” is revoked" in done.get_data(as_text=True)
    refused_call = client.get("/api/v1/me", headers=bearer(secret))
    assert refused_call.status_code == 401
    assert refused_call.get_json()["detail"] == "This API token was revoked. Create a new one."
    again = client.post(f"/account/tokens/{token_id}/revoke", follow_redirects=True)
    assert "revoked already" in again.get_data(as_text=True)
    with app.app_context():
        events = db.session.scalars(select(AuditEvent).where(
            AuditEvent.action == "api_token.revoked")).all()
        assert len(events) == 1 and events[0].actor_id == person.id
        assert events[0].before == {"revoked_at": None}


def test_a_token_works_through_its_expiry_day_only(
    app: Flask, client: FlaskClient, person: User
) -> None:
    """TOK-3."""
    secret = make_token(app, person, expires_on=date.today())
    assert client.get("/api/v1/me", headers=bearer(secret)).get_json()["token"][
        "expires_on"] == date.today().isoformat()
    with app.app_context():
        token = db.session.scalars(select(ApiToken)).one()
        token.expires_at = now_utc() - timedelta(seconds=1)
        db.session.commit()
    expired = client.get("/api/v1/me", headers=bearer(secret))
    assert expired.status_code == 401
    assert expired.get_json()["detail"].startswith("This API token expired at the end of ")


def test_a_deactivated_account_stops_its_tokens(
    app: Flask, client: FlaskClient, person: User
) -> None:
    secret = make_token(app, person)
    with app.app_context():
        db.session.get_one(User, person.id).active = False
        db.session.commit()
    refused = client.get("/api/v1/me", headers=bearer(secret))
    assert refused.status_code == 401
    assert "deactivated" in refused.get_json()["detail"]


@pytest.mark.parametrize(("form", "message"), [
    ({"name": "   "}, "Name the token"),
    ({"name": "x" * 101}, "Field cannot be longer than 100 characters."),
    ({"name": "old", "expires_on": "2001-01-01"}, "The expiry date 2001-01-01 has already "
                                                   "passed."),
    ({"name": "far", "expires_on": (date.today() + timedelta(days=400)).isoformat()},
     "at most a year ahead"),
    ({"name": "when", "expires_on": "31/12/2030"}, "Not a valid date value."),
])
def test_refused_tokens_are_explained(
    app: Flask, client: FlaskClient, login: Callable[..., Any], person: User,
    form: dict[str, str], message: str
) -> None:
    """TOK-4."""
    login(person)
    page = client.post("/account/tokens", data=form)
    assert page.status_code == 422
    assert message in page.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalars(select(ApiToken)).all() == []


def test_live_tokens_are_limited(
    app: Flask, client: FlaskClient, login: Callable[..., Any], person: User
) -> None:
    for number in range(20):
        make_token(app, person, name=f"t{number}")
    login(person)
    page = client.post("/account/tokens", data={"name": "one more"})
    assert page.status_code == 422
    assert "You already have 20 tokens in use." in page.get_data(as_text=True)


def test_the_tokens_page_needs_a_sign_in(client: FlaskClient) -> None:
    assert client.get("/account/tokens").status_code == 302
    assert client.post("/account/tokens", data={"name": "x"}).status_code == 302


@pytest.mark.app_config(WTF_CSRF_ENABLED=True)
def test_creating_and_revoking_need_the_csrf_token(
    app: Flask, client: FlaskClient, login: Callable[..., Any], person: User
) -> None:
    login(person)
    assert client.post("/account/tokens", data={"name": "x"}).status_code == 400
    token = csrf_token_in(client.get("/account/tokens"))
    created = client.post("/account/tokens", data={"name": "x", "csrf_token": token})
    assert created.status_code == 201
    with app.app_context():
        token_id = db.session.scalars(select(ApiToken.id)).one()
    assert client.post(f"/account/tokens/{token_id}/revoke").status_code == 400
    assert client.post(f"/account/tokens/{token_id}/revoke",
                       data={"csrf_token": token}).status_code == 302


def test_the_tokens_pages_read_in_french_and_the_api_stays_english(
    app: Flask, client: FlaskClient, login: Callable[..., Any], person: User
) -> None:
    """docs/i18n.md: the account pages follow the page language; problem details of the JSON
    API are in English, like the command line's output."""
    login(person)
    client.post("/language", data={"language": "fr"})
    page = unescape(client.get("/account/tokens").get_data(as_text=True))
    assert "Jetons d'API" in page and "Créer le jeton" in page
    refused = client.post("/account/tokens", data={"name": "old", "expires_on": "2001-01-01"})
    assert "La date d'expiration 2001-01-01 est déjà passée." in unescape(
        refused.get_data(as_text=True))
    created = unescape(client.post("/account/tokens", data={"name": "script"}).get_data(
        as_text=True))
    assert "Copiez le jeton maintenant : il n'est affiché qu'une fois." in created
    call = client.get("/api/v1/me", headers={"Authorization": "Bearer sa_wrong",
                                             "Accept-Language": "fr"})
    assert call.status_code == 401
    assert call.get_json()["detail"].startswith("This is not an API token")
