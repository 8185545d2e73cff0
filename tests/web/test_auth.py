"""Signing in and out, password changes, and sessions that end."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from surveyapp.auth.sessions import SESSION_ENDED_MESSAGE
from surveyapp.auth.views import WRONG_CREDENTIALS
from surveyapp.extensions import db
from surveyapp.models import User

pytestmark = pytest.mark.usefixtures("app")


def stored_token(app: Flask, user: User) -> str:
    with app.app_context():
        return db.session.scalar(select(User.session_token).where(User.id == user.id)) or ""


def test_login(client: FlaskClient, make_user: Callable[..., User], test_password: str) -> None:
    make_user("amina@example.org", name="Amina Diallo")
    response = client.post(
        "/auth/login", data={"email": " Amina@Example.org ", "password": test_password}
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    home = client.get("/")
    assert home.status_code == 200
    assert "Welcome, Amina Diallo" in home.get_data(as_text=True)


@pytest.mark.parametrize(
    ("email", "right_password"),
    [("amina@example.org", False), ("nobody@example.org", True)],
    ids=["wrong-password", "unknown-email"],
)
def test_login_refused_with_the_same_message(
    client: FlaskClient,
    make_user: Callable[..., User],
    test_password: str,
    email: str,
    right_password: bool,
) -> None:
    make_user("amina@example.org")
    password = test_password if right_password else "not the password"
    response = client.post("/auth/login", data={"email": email, "password": password})
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert str(WRONG_CREDENTIALS) in page
    assert 'role="alert"' in page
    assert client.get("/").status_code == 302  # still signed out


def test_inactive_user_cannot_sign_in(
    client: FlaskClient, make_user: Callable[..., User], test_password: str
) -> None:
    user = make_user(active=False)
    response = client.post("/auth/login", data={"email": user.email, "password": test_password})
    assert str(WRONG_CREDENTIALS) in response.get_data(as_text=True)


def test_anonymous_visitor_is_sent_to_login_and_back(
    client: FlaskClient,
    make_user: Callable[..., User],
    test_password: str,
) -> None:
    user = make_user()
    response = client.get("/auth/password")
    assert response.status_code == 302
    assert response.headers["Location"] == "/auth/login?next=/auth/password"
    assert "Please sign in to see this page." in client.get("/auth/login").get_data(as_text=True)
    signed_in = client.post(
        "/auth/login?next=/auth/password", data={"email": user.email, "password": test_password}
    )
    assert signed_in.headers["Location"] == "/auth/password"


@pytest.mark.parametrize(
    "target",
    ["https://evil.example/", "//evil.example/", "/\\evil.example", "javascript:alert(1)", ""],
)
def test_next_never_leaves_the_site(
    client: FlaskClient,
    make_user: Callable[..., User],
    target: str,
    test_password: str,
) -> None:
    user = make_user()
    response = client.post(
        "/auth/login",
        query_string={"next": target},
        data={"email": user.email, "password": test_password},
    )
    assert response.headers["Location"] == "/"


def test_signed_in_user_skips_the_login_page(
    client: FlaskClient, make_user: Callable[..., User], login: Callable[..., object]
) -> None:
    login(make_user())
    response = client.get("/auth/login")
    assert response.status_code == 302
    assert response.headers["Location"] == "/"


def test_unauthenticated_json_request_gets_401(client: FlaskClient) -> None:
    response = client.get("/", headers={"Accept": "application/json"})
    assert response.status_code == 401
    assert response.get_json()["error"] == 401


def test_logout(
    client: FlaskClient, make_user: Callable[..., User], login: Callable[..., object]
) -> None:
    login(make_user())
    assert client.get("/auth/logout").status_code == 405  # signing out is POST only
    response = client.post("/auth/logout", follow_redirects=True)
    assert response.request.path == "/auth/login"
    assert "You have signed out." in response.get_data(as_text=True)
    assert client.get("/").status_code == 302


def test_logout_ends_the_session_even_for_a_copied_cookie(
    app: Flask, client: FlaskClient, make_user: Callable[..., User], login: Callable[..., object]
) -> None:
    login(make_user())
    copied = client.get_cookie("session")
    assert copied is not None
    client.post("/auth/logout")
    replay = app.test_client()
    replay.set_cookie("session", copied.value)
    response = replay.get("/", follow_redirects=True)
    assert response.request.path == "/auth/login"
    assert str(SESSION_ENDED_MESSAGE) in response.get_data(as_text=True)


def test_signing_in_again_ends_the_older_session(
    app: Flask, client: FlaskClient, make_user: Callable[..., User], login: Callable[..., object]
) -> None:
    user = make_user()
    login(user)
    other_device = app.test_client()
    login(user, client=other_device)
    assert other_device.get("/").status_code == 200
    assert client.get("/").headers["Location"] == "/auth/login?next=/"


def test_password_change(
    app: Flask,
    client: FlaskClient,
    make_user: Callable[..., User],
    login: Callable[..., object],
    test_password: str,
) -> None:
    user = make_user()
    login(user)
    token_before = stored_token(app, user)
    response = client.post(
        "/auth/password",
        data={
            "current_password": test_password,
            "new_password": "a much longer one",
            "confirm_password": "a much longer one",
        },
        follow_redirects=True,
    )
    assert response.request.path == "/"
    assert "Your password has been changed." in response.get_data(as_text=True)
    assert stored_token(app, user) != token_before
    assert client.get("/").status_code == 200  # this session carries on
    client.post("/auth/logout")
    login(user, password="a much longer one")


@pytest.mark.parametrize(
    ("current", "new", "confirm", "message"),
    [
        ("not my password", "a much longer one", "a much longer one", "current password is not"),
        (None, "short", "short", "Use at least 10 characters."),
        (None, "a much longer one", "a much longer two", "are not the same"),
    ],
    ids=["wrong-current", "too-short", "mismatch"],
)
def test_password_change_refused(
    app: Flask,
    client: FlaskClient,
    make_user: Callable[..., User],
    login: Callable[..., object],
    test_password: str,
    current: str | None,
    new: str,
    confirm: str,
    message: str,
) -> None:
    """``current`` None stands for the right current password."""
    user = make_user()
    login(user)
    token = stored_token(app, user)
    response = client.post(
        "/auth/password",
        data={
            "current_password": current or test_password,
            "new_password": new,
            "confirm_password": confirm,
        },
    )
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    assert stored_token(app, user) == token


def test_session_ends_after_password_change_elsewhere(
    app: Flask,
    client: FlaskClient,
    make_user: Callable[..., User],
    login: Callable[..., object],
    test_password: str,
) -> None:
    user = make_user()
    login(user)
    # The same session on a second device: a copy of the cookie.
    other_device = app.test_client()
    other_device.set_cookie("session", client.get_cookie("session").value)  # type: ignore[union-attr]
    assert other_device.get("/").status_code == 200
    client.post(
        "/auth/password",
        data={
            "current_password": test_password,
            "new_password": "a much longer one",
            "confirm_password": "a much longer one",
        },
    )
    response = other_device.get("/", follow_redirects=True)
    assert response.request.path == "/auth/login"
    assert str(SESSION_ENDED_MESSAGE) in response.get_data(as_text=True)
    assert client.get("/").status_code == 200


def test_expired_session_is_sent_to_login(
    app: Flask, client: FlaskClient, make_user: Callable[..., User], login: Callable[..., object]
) -> None:
    login(make_user())
    lifetime = app.config["PERMANENT_SESSION_LIFETIME"]
    # The sign-in cookie is now older than the lifetime, as after twelve hours.
    app.config["PERMANENT_SESSION_LIFETIME"] = timedelta(seconds=-1)
    response = client.get("/")
    assert response.headers["Location"] == "/auth/login?next=/"
    app.config["PERMANENT_SESSION_LIFETIME"] = lifetime  # cookies set from now on are fresh
    assert "Please sign in to see this page." in client.get("/auth/login").get_data(as_text=True)


def test_session_from_another_browser_is_dropped(
    client: FlaskClient, make_user: Callable[..., User], login: Callable[..., object]
) -> None:
    """Strong session protection: a cookie replayed from another user agent is refused."""
    login(make_user())
    response = client.get("/", headers={"User-Agent": "another browser"}, follow_redirects=True)
    assert response.request.path == "/auth/login"
    assert str(SESSION_ENDED_MESSAGE) in response.get_data(as_text=True)
