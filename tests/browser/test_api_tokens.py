"""A user creates an API token in a real browser at phone width, uses it, then revokes it."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from surveyapp.services.demo import DEMO_PASSWORD

pytestmark = pytest.mark.browser


def _api_status(url: str, token: str) -> tuple[int, dict[str, object]]:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(request) as reply:  # the live server on 127.0.0.1
            return reply.status, json.loads(reply.read())
    except urllib.error.HTTPError as refused:
        return refused.code, json.loads(refused.read())


def test_a_token_is_created_used_and_revoked(live_server: str, page: Page,
                                             tmp_path: Path) -> None:
    page.goto(f"{live_server}/auth/login")
    page.get_by_label("Email").fill("viewer@example.org")
    page.get_by_label("Password", exact=True).fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("link", name="API tokens").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("API tokens")

    page.get_by_label("Name").fill("Dashboard export")
    page.get_by_role("button", name="Create the token").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Dashboard export")
    token = page.get_by_label("Token").input_value()
    assert token.startswith("sa_")
    page.screenshot(path=tmp_path / "token-created.png", full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= 375

    status, body = _api_status(f"{live_server}/api/v1/me", token)
    assert status == 200 and body["email"] == "viewer@example.org"

    page.get_by_role("link", name="Back to your API tokens").click()
    row = page.get_by_role("row").filter(has_text="Dashboard export")
    expect(row).to_contain_text("In use")
    row.get_by_role("button", name="Revoke").click()
    expect(page.get_by_role("status")).to_contain_text("“Dashboard export” is revoked")
    expect(page.get_by_role("row").filter(has_text="Dashboard export")).to_contain_text("Revoked")
    page.screenshot(path=tmp_path / "tokens.png", full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= 375

    status, body = _api_status(f"{live_server}/api/v1/me", token)
    assert status == 401 and "revoked" in str(body["detail"])
