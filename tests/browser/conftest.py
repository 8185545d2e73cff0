"""A live server and a real browser: Debian's chromium driven by Playwright.

The server runs the app in a thread on a file-based SQLite database (an in-memory one
would not be shared between the server's threads), set up the way ``make run`` does it:
``surveyapp init`` then ``surveyapp demo``. CSRF protection stays on, as in production.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from flask import Flask
from playwright.sync_api import Browser, Page, sync_playwright
from werkzeug.serving import make_server

from surveyapp import create_app
from surveyapp.extensions import db

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
#: A small phone: every page must be usable at this width.
PHONE_VIEWPORT = {"width": 375, "height": 812}


@pytest.fixture(scope="session")
def live_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    """The app ``live_server`` serves, with the demo data; tests may prepare data through it."""
    instance = tmp_path_factory.mktemp("live-instance")
    app = create_app({"TESTING": True, "SECRET_KEY": "browser-tests", "INSTANCE_PATH": instance})
    runner = app.test_cli_runner()
    for command in ("init", "demo"):
        result = runner.invoke(args=[command])
        assert result.exit_code == 0, result.output
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture(scope="session")
def live_server(live_app: Flask) -> Iterator[str]:
    """Serve the app with the demo data on 127.0.0.1; return its base URL."""
    app = live_app
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)


@pytest.fixture(scope="session")
def browser(require_tool: Callable[[bool, str], None]) -> Iterator[Browser]:
    require_tool(CHROMIUM.exists(), f"Chromium not found at {CHROMIUM}: apt-get install chromium")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A fresh browser context (no cookies) the size of a phone, failing on console errors."""
    context = browser.new_context(viewport=PHONE_VIEWPORT)
    page = context.new_page()
    errors: list[str] = []
    page.on(
        "console", lambda message: errors.append(message.text) if message.type == "error" else None
    )
    yield page
    context.close()
    assert errors == [], f"the browser console reported errors: {errors}"


@pytest.fixture
def problem_page(browser: Browser) -> Iterator[Page]:
    """A phone-sized page that expects error statuses: Chromium reports each 4xx document as
    a console error, so only the other console errors fail the test."""
    context = browser.new_context(viewport=PHONE_VIEWPORT)
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text)
            if message.type == "error" and "status of 4" not in message.text else None)
    yield page
    context.close()
    assert errors == [], f"the browser console reported errors: {errors}"
