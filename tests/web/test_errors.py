"""Error pages: each status has a page of its own words, never a traceback."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask, abort
from flask.testing import FlaskClient
from werkzeug.wrappers import Response

from surveyapp.extensions import db
from surveyapp.models import Unit, UnitKind, User


def assert_error_page(response: Response, status: int, *phrases: str) -> None:
    page = response.get_data(as_text=True)
    assert response.status_code == status
    assert response.mimetype == "text/html"
    assert f"Error {status}" in page
    assert "Traceback" not in page
    for phrase in phrases:
        assert phrase in page


def test_404_page(client: FlaskClient) -> None:
    assert_error_page(client.get("/no/such/page"), 404, "Page not found")


def test_404_as_json_for_api_clients(client: FlaskClient) -> None:
    response = client.get("/no/such/page", headers={"Accept": "application/json"})
    assert response.status_code == 404
    assert response.get_json() == {
        "error": 404,
        "title": "Page not found",
        "message": "There is no page at this address. Check the link, or start from the home page.",
    }


def test_403_page(app: Flask, client: FlaskClient) -> None:
    app.add_url_rule("/forbidden", "forbidden", lambda: abort(403))
    app.add_url_rule(
        "/forbidden-why",
        "forbidden_why",
        lambda: abort(403, description="Only coordinators of CAR may open cycles."),
    )
    assert_error_page(client.get("/forbidden"), 403, "Not allowed", "Your roles do not give")
    assert_error_page(
        client.get("/forbidden-why"), 403, "Only coordinators of CAR may open cycles."
    )


@pytest.mark.app_config(PROPAGATE_EXCEPTIONS=False)
def test_500_page_and_rollback(app: Flask, client: FlaskClient) -> None:
    pending_after_error: list[object] = []

    def fail_half_way() -> str:
        db.session.add(Unit(code="HALF", name="Half done", kind=UnitKind.country))
        raise RuntimeError("something broke")

    def note_pending(response: Response) -> Response:
        pending_after_error.extend(db.session.new)
        return response

    app.add_url_rule("/fail", "fail", fail_half_way)
    app.after_request(note_pending)  # runs after the error handler
    response = client.get("/fail")
    assert_error_page(response, 500, "Something went wrong", "nothing it was changing was saved")
    assert "something broke" not in response.get_data(as_text=True)
    assert pending_after_error == []


@pytest.mark.app_config(PROPAGATE_EXCEPTIONS=False)
def test_a_write_that_loses_a_race_gets_the_409_page(
    app: Flask, client: FlaskClient, make_unit: Callable[..., Unit]
) -> None:
    """The database refuses the second of two writes of the same row (here a unit code
    taken an instant before): a 409 page saying nothing was saved, not a 500."""
    make_unit("RACE")

    def second_writer() -> str:
        db.session.add(Unit(code="RACE", name="Second", kind=UnitKind.country))
        db.session.commit()
        return "saved"

    app.add_url_rule("/race", "race", second_writer)
    assert_error_page(client.get("/race"), 409, "Changed at the same time",
                      "nothing of yours was saved")
    with app.app_context():
        assert db.session.query(Unit).filter_by(code="RACE").count() == 1


@pytest.mark.app_config(MAX_CONTENT_LENGTH=1024 * 1024)
def test_413_page_names_the_limit(client: FlaskClient) -> None:
    response = client.post("/auth/login", data={"email": "x" * (2 * 1024 * 1024)})
    assert_error_page(response, 413, "Too large", "larger than the 1 MB limit")


def test_default_size_limit_is_25_mb(app: Flask) -> None:
    assert app.config["MAX_CONTENT_LENGTH"] == 25 * 1024 * 1024


@pytest.mark.app_config(WTF_CSRF_ENABLED=True)
def test_csrf_token_missing_gives_400_page(
    client: FlaskClient, make_user: Callable[..., User], test_password: str
) -> None:
    user = make_user()
    response = client.post("/auth/login", data={"email": user.email, "password": test_password})
    assert_error_page(response, 400, "Form expired", "Reload the page and try again.")
    assert client.get("/").status_code == 302  # not signed in


@pytest.mark.app_config(WTF_CSRF_ENABLED=True)
def test_csrf_token_accepted_and_required_for_logout(
    client: FlaskClient, make_user: Callable[..., User], login: Callable[..., object]
) -> None:
    login(make_user())  # fetches the form and sends its token
    assert client.get("/").status_code == 200
    assert_error_page(client.post("/auth/logout"), 400, "Form expired")
    assert client.get("/").status_code == 200  # still signed in
