"""Configuration: load order, database URL, instance folder, production safety, headers."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from surveyapp import create_app
from surveyapp.config import DEVELOPMENT_SECRET_KEY, ConfigurationError, database_uri
from surveyapp.security import CONTENT_SECURITY_POLICY

pytestmark = pytest.mark.usefixtures("clean_environment")


@pytest.mark.parametrize("secret_key", [None, "", DEVELOPMENT_SECRET_KEY])
def test_production_refuses_to_start_without_a_secret_key(
    tmp_path: Path, secret_key: str | None
) -> None:
    config = {"INSTANCE_PATH": str(tmp_path)}
    if secret_key is not None:
        config["SECRET_KEY"] = secret_key
    with pytest.raises(ConfigurationError) as refused:
        create_app(config)
    assert "SURVEYAPP_SECRET_KEY" in str(refused.value)
    assert str(tmp_path / "config.py") in str(refused.value)


def test_production_starts_with_a_secret_key_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SURVEYAPP_SECRET_KEY", "a real secret")
    app = create_app({"INSTANCE_PATH": str(tmp_path)})
    assert not app.debug and not app.testing
    assert app.config["SECRET_KEY"] == "a real secret"


@pytest.mark.parametrize("mode", ["TESTING", "DEBUG"])
def test_debug_and_testing_accept_the_development_key(tmp_path: Path, mode: str) -> None:
    app = create_app({"INSTANCE_PATH": str(tmp_path), mode: True})
    assert app.config["SECRET_KEY"] == DEVELOPMENT_SECRET_KEY


def test_load_order_defaults_instance_environment_mapping(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "config.py").write_text(
        "PERMANENT_SESSION_LIFETIME = 60\nMAX_FORM_PARTS = 10\nMAX_CONTENT_LENGTH = 100\n"
    )
    monkeypatch.setenv("SURVEYAPP_MAX_FORM_PARTS", "20")
    monkeypatch.setenv("SURVEYAPP_MAX_CONTENT_LENGTH", "200")
    app = create_app({"INSTANCE_PATH": str(tmp_path), "TESTING": True, "MAX_CONTENT_LENGTH": 300})
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"  # default only
    assert app.config["PERMANENT_SESSION_LIFETIME"] == 60  # instance over default
    assert app.config["MAX_FORM_PARTS"] == 20  # environment over instance
    assert app.config["MAX_CONTENT_LENGTH"] == 300  # mapping over environment


def test_embedded_sqlite_and_uploads_default_to_the_instance_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    instance = tmp_path / "somewhere" / "instance"
    monkeypatch.setenv("SURVEYAPP_INSTANCE_PATH", str(instance))
    app = create_app({"TESTING": True})
    assert app.instance_path == str(instance)
    assert instance.is_dir()
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{instance / 'surveyapp.sqlite'}"
    assert app.config["UPLOAD_DIR"] == str(instance / "uploads")


def test_database_url_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SURVEYAPP_DATABASE_URL", "postgresql+psycopg://survey:pw@db.internal/s")
    app = create_app({"INSTANCE_PATH": str(tmp_path), "TESTING": True})
    assert app.config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://survey:pw@db.internal/s"


@pytest.mark.parametrize(
    ("url", "uri"),
    [
        ("postgresql://u:p@h/db", "postgresql+psycopg://u:p@h/db"),
        ("postgres://u:p@h:5433/db", "postgresql+psycopg://u:p@h:5433/db"),
        ("postgresql+psycopg://u@h/db", "postgresql+psycopg://u@h/db"),
        ("sqlite:////srv/survey.sqlite", "sqlite:////srv/survey.sqlite"),
        (None, "sqlite:////srv/instance/surveyapp.sqlite"),
        ("", "sqlite:////srv/instance/surveyapp.sqlite"),
    ],
)
def test_database_uri(url: str | None, uri: str) -> None:
    assert database_uri(url, "/srv/instance") == uri


def test_session_cookie_is_httponly_and_samesite(tmp_path: Path) -> None:
    app = create_app({"INSTANCE_PATH": str(tmp_path), "TESTING": True})
    cookie = app.test_client().get("/").headers["Set-Cookie"]  # the sign-in flash
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # http://127.0.0.1 must work out of the box


def test_secure_cookie_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SURVEYAPP_SESSION_COOKIE_SECURE", "true")
    app = create_app({"INSTANCE_PATH": str(tmp_path), "TESTING": True})
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert "Secure" in app.test_client().get("/").headers["Set-Cookie"]


def test_templates_are_found_in_the_templates_package(tmp_path: Path) -> None:
    app = create_app({"INSTANCE_PATH": str(tmp_path), "TESTING": True})
    assert app.template_folder == str(resources.files("templates"))


def test_security_headers(client: FlaskClient) -> None:
    response = client.get("/auth/login")
    assert response.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"


def test_pages_use_only_local_assets(client: FlaskClient) -> None:
    page = client.get("/auth/login").get_data(as_text=True)
    assert "http://" not in page and "https://" not in page
    assert "<script>" not in page and "style=" not in page
    assert client.get("/static/css/app.css").status_code == 200
    assert client.get("/static/js/app.js").status_code == 200
