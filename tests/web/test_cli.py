"""The ``surveyapp`` command line: init, demo, create-user, serve, and the group itself."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy import func, inspect, select

from surveyapp.cli import cli
from surveyapp.commands import serve
from surveyapp.extensions import db
from surveyapp.models import Membership, Role, Unit, UnitKind, User
from surveyapp.services.demo import DEMO_PASSWORD, DEMO_UNITS, DEMO_USERS
from surveyapp.services.users import set_password


def count(app: Flask, model: type[Any]) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model)) or 0


# --- init ----------------------------------------------------------------------------------


def test_init_creates_then_upgrades_the_database(
    make_app: Callable[..., Flask], empty_database_url: str
) -> None:
    app = make_app(empty_database_url)
    runner = app.test_cli_runner()
    first = runner.invoke(args=["init"])
    assert first.exit_code == 0, first.output
    assert "Database ready" in first.output
    with app.app_context():
        assert {"users", "units", "memberships", "alembic_version"} <= set(
            inspect(db.engine).get_table_names()
        )
    again = runner.invoke(args=["init"])
    assert again.exit_code == 0, again.output


def test_init_explains_what_it_cannot_do(runner: FlaskCliRunner) -> None:
    """The test database was made without migrations, so upgrading it must fail, clearly."""
    result = runner.invoke(args=["init"])
    assert result.exit_code == 1
    assert "Could not create or upgrade the database" in result.output
    assert "Traceback" not in result.output


# --- demo ----------------------------------------------------------------------------------


def test_demo_creates_every_role_and_is_idempotent(app: Flask, runner: FlaskCliRunner) -> None:
    first = runner.invoke(args=["demo"])
    assert first.exit_code == 0, first.output
    totals = (count(app, Unit), count(app, User), count(app, Membership))
    assert totals == (len(DEMO_UNITS), len(DEMO_USERS), 12)
    for role in Role:
        assert f" {role.value} " in first.output
    assert DEMO_PASSWORD in first.output
    second = runner.invoke(args=["demo"])
    assert second.exit_code == 0, second.output
    assert second.output == first.output
    assert (count(app, Unit), count(app, User), count(app, Membership)) == totals


def test_demo_gives_back_the_demo_password(
    app: Flask, runner: FlaskCliRunner, login: Callable[..., object]
) -> None:
    runner.invoke(args=["demo"])
    email = DEMO_USERS[0][0]
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == email))
        assert user is not None
        set_password(user, "changed by its owner")
        db.session.commit()
    runner.invoke(args=["demo"])
    login(email, password=DEMO_PASSWORD)


# --- create-user ---------------------------------------------------------------------------


def test_create_user_with_a_role(
    app: Flask,
    runner: FlaskCliRunner,
    make_unit: Callable[..., Unit],
    login: Callable[..., object],
) -> None:
    make_unit("CAR", kind=UnitKind.country)
    result = runner.invoke(
        args=[
            "create-user", "Amina@Example.org", "--name", "Amina Diallo",
            "--password", "long enough pw", "--role", "coordinator", "--unit", "CAR",
            "--language", "fr",
        ]
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "Created user amina@example.org as coordinator of CAR." in result.output
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == "amina@example.org"))
        assert user is not None
        assert user.password_hash.startswith("scrypt:")
        assert user.preferred_language == "fr"
        assert [(m.role, m.unit.code) for m in user.memberships] == [(Role.coordinator, "CAR")]
    login("amina@example.org", password="long enough pw")


def test_create_user_asks_for_the_password(
    runner: FlaskCliRunner, login: Callable[..., object]
) -> None:
    result = runner.invoke(
        args=["create-user", "ask@example.org", "--name", "Asked"],
        input="typed in secret\ntyped in secret\n",
    )
    assert result.exit_code == 0, result.output
    assert "typed in secret" not in result.output  # hidden input
    login("ask@example.org", password="typed in secret")


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--role", "viewer"], "--role and --unit go together"),
        (["--role", "viewer", "--unit", "NOWHERE"], "No unit has the code 'NOWHERE'"),
        (["--password", "short"], "at least 10 characters"),
        (["--role", "boss", "--unit", "CAR"], "'boss' is not one of"),
        (["--language", "xx"], "'xx' is not one of"),
    ],
    ids=["role-without-unit", "unknown-unit", "short-password", "unknown-role", "bad-language"],
)
def test_create_user_refusals_create_nothing(
    app: Flask, runner: FlaskCliRunner, arguments: list[str], message: str
) -> None:
    defaults = {"--password": "long enough pw"}
    given = dict(zip(arguments[::2], arguments[1::2], strict=True))
    options = [part for pair in {**defaults, **given}.items() for part in pair]
    result = runner.invoke(args=["create-user", "new@example.org", "--name", "New", *options])
    assert result.exit_code != 0
    assert message in result.output
    assert "Traceback" not in result.output
    assert count(app, User) == 0


@pytest.mark.parametrize(
    ("email", "message"),
    [("taken@example.org", "already exists"), ("not-an-address", "is not an email address")],
)
def test_create_user_refuses_bad_or_taken_emails(
    runner: FlaskCliRunner, make_user: Callable[..., User], email: str, message: str
) -> None:
    make_user("taken@example.org")
    result = runner.invoke(
        args=["create-user", email, "--name", "Someone", "--password", "long enough pw"]
    )
    assert result.exit_code == 1
    assert message in result.output


# --- serve ---------------------------------------------------------------------------------


def test_serve_runs_flask_threaded_server_and_hints_at_logins(
    app: Flask, runner: FlaskCliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[tuple[Any, ...]] = []
    monkeypatch.setattr(serve, "gunicorn_available", lambda: False)
    monkeypatch.setattr(serve, "run_simple", lambda *args, **kwargs: calls.append((*args, kwargs)))
    before_demo = runner.invoke(args=["serve", "--port", "5099"])
    assert "No demo data: 'surveyapp demo' creates it" in before_demo.output
    runner.invoke(args=["demo"])
    result = runner.invoke(args=["serve", "--host", "0.0.0.0", "--port", "5099"])
    assert result.exit_code == 0, result.output
    assert "surveyapp at http://0.0.0.0:5099/" in result.output
    assert f"Sign in as coordinator@example.org / {DEMO_PASSWORD}" in result.output
    assert calls[-1] == ("0.0.0.0", 5099, app, {"threaded": True})


def test_serve_prefers_gunicorn(runner: FlaskCliRunner, monkeypatch: pytest.MonkeyPatch) -> None:
    executed: list[list[str]] = []

    def fake_execv(path: str, argv: list[str]) -> None:
        executed.append(argv)
        raise SystemExit(0)  # a real exec never returns

    monkeypatch.setattr(serve, "gunicorn_available", lambda: True)
    monkeypatch.setattr(serve.os, "execv", fake_execv)
    result = runner.invoke(args=["serve", "--port", "8000"])
    assert result.exit_code == 0, result.output
    assert executed == [
        [sys.executable, "-m", "gunicorn", "--bind", "127.0.0.1:8000", "--workers", "2",
         "surveyapp:create_app()"]
    ]  # fmt: skip


# --- the command group ---------------------------------------------------------------------


@pytest.mark.usefixtures("clean_environment")
def test_console_script_lists_the_commands(tmp_path: Path) -> None:
    """The installed ``surveyapp`` script works without FLASK_APP or any other setting."""
    script = shutil.which("surveyapp", path=str(Path(sys.executable).parent))
    assert script is not None, "surveyapp is not installed in this environment"
    environment = {
        **os.environ,
        "SURVEYAPP_INSTANCE_PATH": str(tmp_path),
        "SURVEYAPP_SECRET_KEY": "x",
    }
    result = subprocess.run(
        [script, "--help"], capture_output=True, text=True, env=environment, check=False
    )
    assert result.returncode == 0, result.stderr
    for command in ("init", "demo", "create-user", "serve", "db"):
        assert f"  {command} " in result.stdout


@pytest.mark.usefixtures("clean_environment")
def test_missing_secret_key_is_one_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SURVEYAPP_INSTANCE_PATH", str(tmp_path))
    result = CliRunner().invoke(cli, ["init"])
    assert result.exit_code == 2
    assert "Refusing to start: SECRET_KEY is not set" in result.output
    assert "Traceback" not in result.output
