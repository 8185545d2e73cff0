"""Rate limits and the sign-in lock-out (issue 11; OWASP ASVS 4.0 2.2.1, 11.1.4).

RAT01 sign-in attempts from one address past LOGIN_RATE_LIMIT get a 429 page (JSON for
      JSON clients) that says when to try again, with Retry-After.
RAT02 LOGIN_FAILURE_LIMIT failed sign-ins lock that email address, even with the right
      password; an unknown address locks the same way, with the same words, status and
      work (password hashes checked: one per attempt until locked, none once locked); a
      successful sign-in clears the count.
RAT03 invitation links: per link, per address, and unusable links per address.
RAT04 with RATELIMIT_STORAGE_URI on Redis, counts are shared by app instances (processes):
      a real redis-server started by the test on 127.0.0.1, as an unprivileged user.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
import redis
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from surveyapp.models import CycleState, Unit, User
from surveyapp.rate_limits import lockout_message
from surveyapp.services.audit import Actor
from surveyapp.services.invitations import create_invitations
from tests.conftest import free_port
from tests.web.cycles_world import MINI, MINI_FRAMEWORK, build_world, get_cycle, make_cycle, user

WRONG = "The email or password is not correct."


def sign_in(client: FlaskClient, email: str, password: str, **headers: str) -> TestResponse:
    return client.post("/auth/login", data={"email": email, "password": password},
                       headers=headers)


@pytest.mark.app_config(LOGIN_RATE_LIMIT="3 per minute", LOGIN_FAILURE_LIMIT="100 per hour")
def test_sign_in_attempts_per_address(client: FlaskClient) -> None:
    """RAT01."""
    for _attempt in range(3):
        assert sign_in(client, "someone@example.org", "wrong password").status_code == 200
    refused = sign_in(client, "someone@example.org", "wrong password")
    assert refused.status_code == 429
    text = refused.get_data(as_text=True)
    assert "Too many requests" in text and "Try again in" in text
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    as_json = sign_in(client, "other@example.org", "x", Accept="application/json")
    assert as_json.status_code == 429
    problem = as_json.get_json()
    assert problem["error"] == 429 and 1 <= problem["retry_after"] <= 60
    assert "Try again in" in problem["message"]
    # Reading the sign-in page is not an attempt.
    assert client.get("/auth/login").status_code == 200


@pytest.mark.app_config(RATELIMIT_ENABLED=False, LOGIN_FAILURE_LIMIT="2 per 15 minutes")
def test_limits_turned_off_turn_the_lockout_off_too(
    client: FlaskClient, make_user: Callable[..., User], test_password: str,
) -> None:
    """RATELIMIT_ENABLED = False (load tests from one address): signing in still works, and
    failures never lock, instead of the sign-in failing on a limiter that is not there."""
    person = make_user("amina@example.org")
    for _attempt in range(4):
        assert sign_in(client, person.email, "wrong password").status_code == 200
    assert sign_in(client, person.email, test_password).status_code == 302


@pytest.mark.app_config(LOGIN_RATE_LIMIT="2 per minute", LOGIN_FAILURE_LIMIT="1 per hour")
def test_the_lock_out_and_the_429_page_read_in_arabic(client: FlaskClient) -> None:
    """docs/i18n.md: signing in is a respondent page, so its refusals have Arabic too."""
    client.post("/language", data={"language": "ar"})
    sign_in(client, "someone@example.org", "wrong password")
    locked = sign_in(client, "someone@example.org", "wrong password")
    assert locked.status_code == 429
    page = locked.get_data(as_text=True)
    assert '<html lang="ar" dir="rtl">' in page
    assert "محاولات تسجيل دخول فاشلة كثيرة جدًا بعنوان البريد الإلكتروني هذا." in page
    limited = sign_in(client, "other@example.org", "x")
    assert limited.status_code == 429
    page = limited.get_data(as_text=True)
    assert '<html lang="ar" dir="rtl">' in page and "طلبات كثيرة جدًا" in page
    assert "لم يُنفَّذ أي شيء منه. حاول مجددًا بعد" in page


@pytest.fixture
def hashes_checked(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Count the password hashes checked: the work that takes the time of a sign-in."""
    from surveyapp.models import users as user_model
    from surveyapp.services import users as user_service

    checked: list[str] = []
    for module in (user_model, user_service):
        real = module.check_password_hash

        def counting(stored: str, password: str, real: Callable[..., bool] = real) -> bool:
            checked.append(password)
            return real(stored, password)

        monkeypatch.setattr(module, "check_password_hash", counting)
    return checked


@pytest.mark.app_config(LOGIN_FAILURE_LIMIT="3 per 15 minutes")
def test_lockout_reveals_nothing_about_accounts(
    client: FlaskClient, make_user: Callable[..., User], test_password: str,
    hashes_checked: list[str],
) -> None:
    """RAT02: a real account and an unknown address go through the very same steps."""
    person = make_user("amina@example.org")
    seen: dict[str, list[tuple[int, str]]] = {}
    for email in (person.email, "nobody@example.org"):
        hashes_checked.clear()
        answers = [sign_in(client, email, "wrong password") for _attempt in range(3)]
        assert len(hashes_checked) == 3
        answers += [sign_in(client, email, test_password), sign_in(client, email.upper(), "x")]
        assert len(hashes_checked) == 3  # locked: no password is checked at all
        seen[email] = [(a.status_code, a.get_data(as_text=True).split("<main")[-1])
                       for a in answers]
        assert [status for status, _page in seen[email]] == [200, 200, 200, 429, 429]
        assert WRONG in seen[email][0][1]
        assert lockout_message(15 * 60) in seen[email][3][1]
        assert answers[3].headers["Retry-After"].isdigit()
    mine, unknown = seen.values()
    assert [re.sub(person.email, "EMAIL", page, flags=re.I) for _status, page in mine] == [
        re.sub("nobody@example.org", "EMAIL", page, flags=re.I) for _status, page in unknown]
    assert client.get("/").status_code == 302  # the right password did not sign in


@pytest.mark.app_config(LOGIN_FAILURE_LIMIT="3 per 15 minutes")
def test_a_successful_sign_in_clears_the_failures(
    client: FlaskClient, make_user: Callable[..., User], test_password: str,
) -> None:
    """RAT02."""
    person = make_user()
    for _attempt in range(2):
        sign_in(client, person.email, "wrong password")
    assert sign_in(client, person.email, test_password).status_code == 302
    client.post("/auth/logout")
    for _attempt in range(2):
        assert sign_in(client, person.email, "wrong password").status_code == 200
    assert sign_in(client, person.email, test_password).status_code == 302


def _partner_link(app: Flask, make_unit: Callable[..., Unit],
                  make_user: Callable[..., User]) -> str:
    world = build_world(make_unit, make_user)
    cycle_id = make_cycle(app, MINI, world.cluster, world.coordinator,
                          focal_points=[world.focal_point], framework=MINI_FRAMEWORK,
                          state=CycleState.open)
    with app.app_context():
        from surveyapp.extensions import db

        (_invitation, token), = create_invitations(
            get_cycle(cycle_id), "partners", count=1, language="en",
            expires_on=date.today() + timedelta(days=9),
            actor=Actor.of(user(world.coordinator.email)))
        db.session.commit()
    return token


@pytest.mark.app_config(LINK_RATE_LIMIT="3 per minute")
def test_requests_per_link(app: Flask, client: FlaskClient, make_unit: Callable[..., Unit],
                           make_user: Callable[..., User]) -> None:
    """RAT03: one link's pages, from any address, share one count."""
    token = _partner_link(app, make_unit, make_user)
    for address in ("192.0.2.1", "192.0.2.2", "192.0.2.3"):
        page = client.get(f"/i/{token}/", environ_base={"REMOTE_ADDR": address})
        assert page.status_code == 200
    refused = client.get(f"/i/{token}/review", environ_base={"REMOTE_ADDR": "192.0.2.4"})
    assert refused.status_code == 429
    assert "Try again in" in refused.get_data(as_text=True)


@pytest.mark.app_config(BAD_LINK_RATE_LIMIT="2 per hour")
def test_guessing_links_stops(app: Flask, client: FlaskClient, make_unit: Callable[..., Unit],
                              make_user: Callable[..., User]) -> None:
    """RAT03: unusable links count per address; good links do not, until the limit."""
    token = _partner_link(app, make_unit, make_user)
    for _attempt in range(3):
        assert client.get(f"/i/{token}/").status_code == 200  # not counted
    for guess in ("A" * 43, "B" * 43):
        assert client.get(f"/i/{guess}/").status_code == 404
    assert client.get(f"/i/{'C' * 43}/").status_code == 429
    assert client.get(f"/i/{token}/").status_code == 429  # this address is stopped
    other = client.get(f"/i/{token}/", environ_base={"REMOTE_ADDR": "192.0.2.9"})
    assert other.status_code == 200


# --- Redis -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def redis_url(require_tool: Callable[[bool, str], None]) -> Iterator[str]:
    """A throwaway redis-server on 127.0.0.1 and a free port, never as root; stopped after."""
    binary = shutil.which("redis-server")
    require_tool(binary is not None, "redis-server not found: apt-get install redis-server")
    assert binary is not None
    root = Path(tempfile.mkdtemp(prefix="surveyapp-redis-"))
    as_user: list[str] = []
    if os.geteuid() == 0:
        as_user = ["runuser", "-u", "nobody", "--"]
        shutil.chown(root, user="nobody")
    port = free_port()
    server = subprocess.Popen(
        [*as_user, binary, "--bind", "127.0.0.1", "--port", str(port), "--dir", str(root),
         "--save", "", "--appendonly", "no", "--protected-mode", "yes"],
        stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    url = f"redis://127.0.0.1:{port}/0"
    try:
        client = redis.Redis.from_url(url)
        for _attempt in range(100):
            try:
                if client.ping():
                    break
            except redis.ConnectionError:
                time.sleep(0.05)
        else:
            pytest.fail("redis-server did not start")
        yield url
    finally:
        server.terminate()
        server.wait(timeout=10)
        shutil.rmtree(root, ignore_errors=True)


def test_redis_server_runs_unprivileged(redis_url: str) -> None:
    info = redis.Redis.from_url(redis_url).info("server")
    owner = subprocess.run(["ps", "-o", "user=", "-p", str(info["process_id"])],
                           capture_output=True, text=True, check=True).stdout.strip()
    assert owner != "root"


def test_counts_are_shared_through_redis(
    database_url: str, make_app: Callable[..., Flask], redis_url: str,
) -> None:
    """RAT04: two app instances, as two processes would be, lock one address together."""
    settings = {"RATELIMIT_STORAGE_URI": redis_url, "LOGIN_FAILURE_LIMIT": "3 per 15 minutes",
                "RATELIMIT_KEY_PREFIX": f"test-{free_port()}"}
    first = make_app(database_url, **settings).test_client()
    for _attempt in range(2):
        assert sign_in(first, "shared@example.org", "wrong").status_code == 200
    second = make_app(database_url, **settings).test_client()
    assert sign_in(second, "shared@example.org", "wrong").status_code == 200
    assert sign_in(second, "shared@example.org", "wrong").status_code == 429
    keys = redis.Redis.from_url(redis_url).keys(f"*{settings['RATELIMIT_KEY_PREFIX']}*")
    assert keys  # the counts are in Redis, not in either process
    # Memory storage, by contrast, is each process's own.
    alone = make_app(database_url, LOGIN_FAILURE_LIMIT="3 per 15 minutes").test_client()
    assert sign_in(alone, "shared@example.org", "wrong").status_code == 200
