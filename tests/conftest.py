"""Shared fixtures: the app on SQLite and on PostgreSQL, clients, factories, a database server.

Every test that uses ``app`` (or ``client``, ``runner``, a factory...) runs once per
database: ``test_x[sqlite]`` and ``test_x[postgresql]``. A test marked ``sqlite_only`` or
``postgres_only`` runs on that database alone, and says why next to the marker. Tables are
created once per worker and database; each test deletes its rows when it ends.

``@pytest.mark.app_config(KEY=value, ...)`` overrides settings of the test's app, e.g.
``WTF_CSRF_ENABLED=True`` for the tests that check CSRF (off by default in tests).

PostgreSQL: each pytest-xdist worker starts its own throwaway server (initdb into a
temporary directory, trust authentication, 127.0.0.1 on a free port, fsync off) and stops
it when the session ends, also after failures. Without the PostgreSQL binaries, the
PostgreSQL tests are skipped on a developer machine and fail when ``CI`` is set.
"""

from __future__ import annotations

import glob
import itertools
import os
import re
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from werkzeug.security import generate_password_hash
from werkzeug.test import TestResponse

from surveyapp import create_app
from surveyapp.extensions import db
from surveyapp.models import Membership, Role, Unit, UnitKind, User

BACKENDS = ("sqlite", "postgresql")
TEST_PASSWORD = "correct horse battery"
TEST_SECRET_KEY = "test-secret-key"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "app_config(**settings): settings of this test's app, over the test defaults"
    )


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Run each database test once per backend its markers allow."""
    if "backend" not in metafunc.fixturenames:
        return
    backends = list(BACKENDS)
    if metafunc.definition.get_closest_marker("sqlite_only"):
        backends = ["sqlite"]
    elif metafunc.definition.get_closest_marker("postgres_only"):
        backends = ["postgresql"]
    metafunc.parametrize("backend", backends, scope="session")


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


@pytest.fixture
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep the developer's own SURVEYAPP_* and FLASK_* settings out of a test."""
    for name in list(os.environ):
        if name.startswith(("SURVEYAPP_", "FLASK_")):
            monkeypatch.delenv(name)


@pytest.fixture(scope="session")
def require_tool() -> Callable[[bool, str], None]:
    """Return a check for a system dependency: skip without it locally, fail under CI."""

    def require(available: bool, problem: str) -> None:
        if available:
            return
        message = f"{problem} ('make test' installs it, as root)"
        if in_ci():
            pytest.fail(message, pytrace=False)
        pytest.skip(message)

    return require


def settings_for(database_url: str, instance_path: Path, **overrides: Any) -> dict[str, Any]:
    """Return the settings of a test app on ``database_url``."""
    return {
        "TESTING": True,
        "SECRET_KEY": TEST_SECRET_KEY,
        "DATABASE_URL": database_url,
        "INSTANCE_PATH": str(instance_path),
        "WTF_CSRF_ENABLED": False,
        **overrides,
    }


# --- PostgreSQL --------------------------------------------------------------------------


def postgres_bindir() -> Path | None:
    """Return the newest Debian PostgreSQL bin directory, else the one on PATH, else None."""
    debian = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"),
        key=lambda path: int(Path(path).parts[-3]) if Path(path).parts[-3].isdigit() else 0,
    )
    initdb = debian[-1] if debian else shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass(frozen=True)
class PostgresServer:
    """A running throwaway PostgreSQL server; the ``postgres`` superuser needs no password."""

    port: int

    def url(self, database: str) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def execute(self, sql: str) -> None:
        """Run one statement as superuser outside a transaction (CREATE/DROP DATABASE)."""
        with psycopg.connect(
            host="127.0.0.1", port=self.port, user="postgres", dbname="postgres", autocommit=True
        ) as connection:
            connection.execute(sql)  # type: ignore[arg-type]

    def create_database(self, name: str) -> str:
        """Create an empty database (replacing one of that name) and return its URL."""
        self.drop_database(name)
        self.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def drop_database(self, name: str) -> None:
        self.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def run_checked(command: list[str], what: str) -> None:
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        pytest.fail(f"{what} failed ({' '.join(command)}):\n{result.stdout}{result.stderr}")


@pytest.fixture(scope="session")
def postgres_server(require_tool: Callable[[bool, str], None]) -> Iterator[PostgresServer]:
    """Start this worker's own PostgreSQL server; stop it and delete its files at the end."""
    bindir = postgres_bindir()
    require_tool(
        bindir is not None,
        "PostgreSQL server binaries (initdb, pg_ctl) not found: apt-get install postgresql",
    )
    assert bindir is not None
    # mkdtemp, not pytest's tmp_path: the postgres user must be able to reach the directory.
    root = Path(tempfile.mkdtemp(prefix="surveyapp-pg-"))
    as_server_user: list[str] = []
    if os.geteuid() == 0:  # PostgreSQL refuses to run as root
        as_server_user = ["runuser", "-u", "postgres", "--"]
        shutil.chown(root, user="postgres")
    data = root / "data"
    pg_ctl = [*as_server_user, str(bindir / "pg_ctl"), "-D", str(data)]
    run_checked(
        [*as_server_user, str(bindir / "initdb"), "-D", str(data), "-U", "postgres",
         "--auth=trust", "--no-sync", "--encoding=UTF8", "--locale=C"],
        "initdb",
    )  # fmt: skip
    try:
        server = _start_postgres(pg_ctl, root)
        yield server
    finally:
        subprocess.run([*pg_ctl, "stop", "-m", "immediate"], capture_output=True, check=False)
        shutil.rmtree(root, ignore_errors=True)


def _start_postgres(pg_ctl: list[str], root: Path) -> PostgresServer:
    """Start the server on a free port, trying again if another process took the port."""
    log = root / "server.log"
    for _attempt in range(3):
        port = free_port()
        options = f"-k {root} -h 127.0.0.1 -p {port} -F -c synchronous_commit=off"
        started = subprocess.run(
            [*pg_ctl, "start", "-w", "-t", "60", "-l", str(log), "-o", options],
            capture_output=True,
            text=True,
            check=False,
        )
        if started.returncode == 0:
            return PostgresServer(port)
    pytest.fail(f"PostgreSQL did not start:\n{started.stderr}\n{log.read_text(errors='replace')}")


# --- The app -----------------------------------------------------------------------------


@pytest.fixture(scope="session")
def database_url(
    backend: str, tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> str:
    """Return this worker's test database for ``backend``, its tables created once."""
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'test.sqlite'}"
    else:
        server: PostgresServer = request.getfixturevalue("postgres_server")
        url = server.create_database("surveyapp_test")
    app = create_app(settings_for(url, tmp_path_factory.mktemp("instance")))
    with app.app_context():
        db.create_all()
        db.engine.dispose()
    return url


@pytest.fixture
def empty_database_url(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[str]:
    """Return a database with no tables at all, for migration and ``init`` tests."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.sqlite'}"
        return
    server: PostgresServer = request.getfixturevalue("postgres_server")
    name = f"empty_{uuid.uuid4().hex[:12]}"
    yield server.create_database(name)
    server.drop_database(name)


@pytest.fixture
def app(database_url: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Flask]:
    """Create the app for one test; delete every row it wrote when the test ends."""
    marker = request.node.get_closest_marker("app_config")
    overrides = marker.kwargs if marker else {}
    app = create_app(settings_for(database_url, tmp_path / "instance", **overrides))
    yield app
    delete_every_row(app)


def delete_every_row(app: Flask) -> None:
    """Empty every table of the app's database (the end of a test that wrote rows)."""
    with app.app_context():
        for table in reversed(db.metadata.sorted_tables):
            db.session.execute(table.delete())
        db.session.commit()
        db.engine.dispose()


@pytest.fixture
def make_app(tmp_path: Path) -> Iterator[Callable[..., Flask]]:
    """Return ``make_app(database_url, **settings) -> Flask`` for tests needing their own app."""
    made: list[Flask] = []

    def make(database_url: str, **overrides: Any) -> Flask:
        instance = tmp_path / f"instance-{len(made)}"
        made.append(create_app(settings_for(database_url, instance, **overrides)))
        return made[-1]

    yield make
    for app in made:
        with app.app_context():
            db.engine.dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> FlaskCliRunner:
    return app.test_cli_runner()


# --- Factories and helpers ---------------------------------------------------------------


@pytest.fixture(scope="session")
def test_password() -> str:
    """The password of every user made by ``make_user``."""
    return TEST_PASSWORD


@pytest.fixture(scope="session")
def test_password_hash() -> str:
    """Hash TEST_PASSWORD once: scrypt takes about 0.1 s a time, by design."""
    return generate_password_hash(TEST_PASSWORD, method="scrypt")


def _save(row: Any) -> Any:
    """Commit ``row`` and hand it back detached, its columns loaded, for use after the context."""
    db.session.add(row)
    db.session.commit()
    db.session.refresh(row)
    db.session.expunge(row)
    return row


def unit_factory(app: Flask) -> Callable[..., Unit]:
    """``make_unit(code=None, *, name=None, kind=country, parent=None) -> Unit`` on ``app``."""
    numbers = itertools.count(1)

    def make(
        code: str | None = None,
        *,
        name: str | None = None,
        kind: UnitKind = UnitKind.country,
        parent: Unit | None = None,
    ) -> Unit:
        code = code or f"UNIT-{next(numbers)}"
        with app.app_context():
            return _save(
                Unit(
                    code=code,
                    name=name or f"Unit {code}",
                    kind=kind,
                    parent_id=parent.id if parent else None,
                )
            )

    return make


def user_factory(app: Flask, password_hash: str) -> Callable[..., User]:
    """``make_user(email=None, *, name=None, role=None, unit=None, active=True) -> User`` on
    ``app``; the user's password is the one ``password_hash`` was made from."""
    numbers = itertools.count(1)

    def make(
        email: str | None = None,
        *,
        name: str | None = None,
        role: Role | None = None,
        unit: Unit | None = None,
        active: bool = True,
    ) -> User:
        assert (role is None) == (unit is None), "give role and unit together"
        number = next(numbers)
        with app.app_context():
            user = User(
                email=email or f"user{number}@example.org",
                display_name=name or f"Test user {number}",
                password_hash=password_hash,
                active=active,
            )
            if role is not None and unit is not None:
                user.memberships.append(Membership(unit_id=unit.id, role=role))
            return _save(user)

    return make


@pytest.fixture
def make_unit(app: Flask) -> Callable[..., Unit]:
    """Return ``make_unit(code=None, *, name=None, kind=country, parent=None) -> Unit``."""
    return unit_factory(app)


@pytest.fixture
def make_user(app: Flask, test_password_hash: str) -> Callable[..., User]:
    """Return ``make_user(email=None, *, name=None, role=None, unit=None, active=True) -> User``.

    The user's password is TEST_PASSWORD; ``role`` and ``unit`` give them one membership.
    """
    return user_factory(app, test_password_hash)


_CSRF_INPUT = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


def csrf_token_in(page: TestResponse) -> str | None:
    match = _CSRF_INPUT.search(page.get_data(as_text=True))
    return match.group(1) if match else None


@pytest.fixture
def login(client: FlaskClient) -> Callable[..., TestResponse]:
    """Return ``login(user_or_email, *, client=client, password=TEST_PASSWORD)``.

    Signs in through the real form (with its CSRF token when CSRF is on) and checks
    that it worked.
    """

    def sign_in(
        who: User | str, *, client: FlaskClient = client, password: str = TEST_PASSWORD
    ) -> TestResponse:
        email = who if isinstance(who, str) else who.email
        form = {"email": email, "password": password}
        token = csrf_token_in(client.get("/auth/login"))
        if token:
            form["csrf_token"] = token
        response = client.post("/auth/login", data=form)
        assert response.status_code == 302, f"signing in as {email} failed"
        return response

    return sign_in
