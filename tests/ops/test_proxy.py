"""PROXY_COUNT: behind a proxy, the client's address, scheme and host come from X-Forwarded-*.

PRX01 With PROXY_COUNT = 1 the app sees what the proxy received: the client's address, https,
      the public host and the path prefix; redirects and links are built from them.
PRX02 With the default 0 the same headers are ignored: a client talking to the app directly
      cannot pretend to come from elsewhere.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from flask import Flask, request, url_for

FORWARDED = {"X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "https",
             "X-Forwarded-Host": "surveys.example.org", "X-Forwarded-Prefix": "/assess"}


def seen(app: Flask) -> dict[str, str]:
    @app.get("/_what-the-app-sees")
    def probe() -> dict[str, str]:
        return {"address": request.remote_addr or "", "scheme": request.scheme,
                "host": request.host, "login": url_for("auth.login", _external=True)}

    return app.test_client().get("/_what-the-app-sees", headers=FORWARDED).get_json()


def test_proxy_headers_are_trusted_with_proxy_fix(
    make_app: Callable[..., Flask], tmp_path: Path
) -> None:
    """PRX01."""
    app = make_app(f"sqlite:///{tmp_path / 'db.sqlite'}", PROXY_COUNT=1)
    assert seen(app) == {"address": "203.0.113.9", "scheme": "https",
                         "host": "surveys.example.org",
                         "login": "https://surveys.example.org/assess/auth/login"}


def test_proxy_headers_are_ignored_by_default(
    make_app: Callable[..., Flask], tmp_path: Path
) -> None:
    """PRX02."""
    app = make_app(f"sqlite:///{tmp_path / 'db.sqlite'}")
    assert seen(app) == {"address": "127.0.0.1", "scheme": "http", "host": "localhost",
                         "login": "http://localhost/auth/login"}
