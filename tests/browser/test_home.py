"""Demo users sign in through a real browser and see their role's home page."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from surveyapp.services.demo import DEMO_PASSWORD

pytestmark = pytest.mark.browser


@pytest.mark.parametrize(
    ("email", "role_heading", "covered_units"),
    [
        ("coordinator@example.org", "Coordinator", ["CAR", "CAR-EDU", "CAR-HEALTH", "CAR-WASH"]),
        ("focal.health@example.org", "Focal point", ["CAR-HEALTH"]),
        ("validator@example.org", "Validator", ["UN", "UNDP", "UNICEF"]),
        ("viewer@example.org", "Viewer", ["CAR", "MINUSCA"]),
        ("admin@example.org", "Admin", ["CAR", "UN", "MINUSCA"]),
    ],
)
def test_demo_user_sees_their_home_page(
    live_server: str,
    page: Page,
    tmp_path: Path,
    email: str,
    role_heading: str,
    covered_units: list[str],
) -> None:
    page.goto(f"{live_server}/")
    expect(page).to_have_url(f"{live_server}/auth/login?next=/")
    expect(page.get_by_role("status")).to_contain_text("Please sign in to see this page.")

    page.get_by_label("Email").fill(email)
    password = page.get_by_label("Password", exact=True)
    password.fill(DEMO_PASSWORD)
    page.get_by_label("Show password").check()  # the page's script ran, despite the strict CSP
    expect(password).to_have_attribute("type", "text")
    page.get_by_role("button", name="Sign in").click()

    expect(page).to_have_url(f"{live_server}/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Welcome, Demo")
    section = page.get_by_role("region", name=role_heading, exact=True)
    expect(section).to_be_visible()
    for code in covered_units:
        expect(section.get_by_role("cell", name=code, exact=True)).to_be_visible()
    expect(page.get_by_role("list", name="Your roles")).to_contain_text(role_heading)
    # Usable on a phone: nothing wider than the screen.
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    page.screenshot(path=tmp_path / "home.png", full_page=True)

    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(f"{live_server}/auth/login")
    expect(page.get_by_role("status")).to_contain_text("You have signed out.")


def test_keyboard_user_can_skip_to_the_content(live_server: str, page: Page) -> None:
    page.goto(f"{live_server}/auth/login")
    page.keyboard.press("Tab")
    skip_link = page.get_by_role("link", name="Skip to main content")
    expect(skip_link).to_be_focused()
    expect(skip_link).to_be_in_viewport()
    page.keyboard.press("Enter")
    expect(page.locator("main")).to_be_focused()
