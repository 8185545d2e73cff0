"""An administrator changes an instrument in minutes, on a phone, and no running cycle breaks.

The issue's "Done when" (Instrument management in the web): upload a broken workbook (its
problems listed with their cells), fix it, preview it in French, answer two items and see
the score, publish, open a cycle on it; upload a new version that renames an item without
a crosswalk (publication refused, naming the item), add the crosswalk, publish; the old
cycle still shows the old version.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from surveyapp.services.demo import DEMO_PASSWORD
from tests.browser.axe import assert_no_serious_axe_violations
from tests.browser.conftest import PHONE_VIEWPORT
from tests.web.instruments_world import V2, V2_NO_CROSSWALK, workbook

pytestmark = pytest.mark.browser

SAVED = "All changes saved"
TITLE = "CAR-HEALTH mini coordination survey (browser journey)"
#: How the browser reports a page served with 422, as the refused upload and publication are.
REFUSED = "the server responded with a status of 422"


@pytest.fixture
def phone(browser: Browser) -> Iterator[Page]:
    """A phone-sized page whose console may report the two refusals the journey expects,
    and nothing else."""
    context = browser.new_context(viewport=PHONE_VIEWPORT)
    page = context.new_page()
    errors: list[str] = []
    context.on("console", lambda message: errors.append(message.text)
               if message.type == "error" else None)
    yield page
    context.close()
    unexpected = [error for error in errors if REFUSED not in error]
    assert unexpected == [], f"the browser console reported errors: {unexpected}"
    assert len(errors) - len(unexpected) == 2


def sign_in(page: Page, live_server: str) -> None:
    page.goto(f"{live_server}/auth/login")
    page.get_by_label("Email").fill("admin@example.org")
    page.get_by_label("Password", exact=True).fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Welcome")


def publish(page: Page, notes: str) -> None:
    page.get_by_label("Release notes").fill(notes)
    page.get_by_role("button", name="Publish mini-coordination").click()


def test_an_instrument_is_uploaded_previewed_published_and_versioned(
    live_server: str, phone: Page, tmp_path: Path
) -> None:
    page = phone
    broken, fixed = tmp_path / "mini.xlsx", tmp_path / "fixed" / "mini.xlsx"
    fixed.parent.mkdir()
    broken.write_bytes(workbook(broken=True))
    fixed.write_bytes(workbook())
    renamed, crosswalked = tmp_path / "mini-1.1.yaml", tmp_path / "mini-1.1-crosswalk.yaml"
    renamed.write_text(V2_NO_CROSSWALK, encoding="utf-8")
    crosswalked.write_text(V2, encoding="utf-8")
    sign_in(page, live_server)

    # A broken workbook: every problem with its sheet and cell, nothing stored.
    page.get_by_role("link", name="Instruments").click()
    page.get_by_label("Instrument file").set_input_files(str(broken))
    page.get_by_role("button", name="Check and store as a draft").click()
    problems = page.locator("#upload-problems")
    expect(problems).to_contain_text("The file was not stored: 1 problem to fix")
    expect(problems).to_contain_text(
        "mini.xlsx:items!H4: I012 `required` is a yes/no column: write yes or no, not 'maybe'")
    expect(page.get_by_role("heading", name="Mini coordination survey")).to_have_count(0)
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    page.screenshot(path=tmp_path / "problems.png", full_page=True)
    assert_no_serious_axe_violations(page)

    # Fixed, it becomes a draft.
    page.get_by_label("Instrument file").set_input_files(str(fixed))
    page.get_by_role("button", name="Check and store as a draft").click()
    expect(page.get_by_text("mini-coordination 1.0 was stored as a draft")).to_be_visible()
    draft_url = page.url
    assert_no_serious_axe_violations(page)

    # Preview in French: answer two items on the partner questionnaire, see the score.
    page.get_by_role("link", name="preview in French (Partner questionnaire)").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Questionnaire des partenaires")
    expect(page.get_by_text("Preview.", exact=False).first).to_be_visible()
    assert_no_serious_axe_violations(page)
    page.get_by_role("button", name="Next page").click()
    expect(page.get_by_role("heading", level=2)).to_contain_text("Réunions")
    page.locator('[data-slot="q11"]').get_by_label("Toujours").check()
    page.locator('[data-slot="q12"]').get_by_label("Souvent").check()
    expect(page.locator("[data-save-status]")).to_contain_text(SAVED)
    page.get_by_role("link", name="See the score of these test answers").click()
    score = page.locator("table.preview-score")
    expect(score.locator("tr", has_text="Meetings")).to_contain_text("87.50  good")
    expect(page.get_by_text("Scored from your 2 test answers so far")).to_be_visible()
    page.screenshot(path=tmp_path / "score.png", full_page=True)
    assert_no_serious_axe_violations(page)

    # Publish it, and open a cycle on it.
    page.goto(draft_url)
    publish(page, "First version of the mini coordination survey.")
    expect(page.get_by_text("mini-coordination 1.0 is published")).to_be_visible()
    page.goto(f"{live_server}/cycles/new")
    page.get_by_label("Unit assessed").select_option(label="CAR-HEALTH: Health")
    page.get_by_label("Instrument").select_option(
        label="Mini coordination survey (mini-coordination 1.0)")
    page.get_by_label("Title").fill(TITLE)
    page.get_by_label("Period assessed: from").fill("2025-01-01")
    page.get_by_label("Period assessed: to").fill("2025-12-31")
    page.get_by_role("button", name="Create the cycle").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(TITLE)
    expect(page.locator(".facts")).to_contain_text("Mini coordination survey, version 1.0")
    cycle_url = page.url

    # Version 1.1 renames q21 and says nothing: publication is refused, naming the item.
    page.goto(f"{live_server}/instruments/")
    page.get_by_label("Instrument file").set_input_files(str(renamed))
    page.get_by_role("button", name="Check and store as a draft").click()
    expect(page.get_by_text("mini-coordination 1.1 was stored as a draft")).to_be_visible()
    publish(page, "q21 is now q23.")
    refusal = page.locator(".crosswalk-gaps")
    expect(refusal).to_contain_text("Publication is blocked")
    expect(refusal).to_contain_text("Item partner/q21 of version 1.0")
    expect(refusal).to_contain_text("{questionnaire: partner, from: q21, to: NEW_ID}")
    page.screenshot(path=tmp_path / "refused.png", full_page=True)
    assert_no_serious_axe_violations(page)

    # The crosswalk added, it publishes.
    page.get_by_role("region", name="Change the draft").get_by_label(
        "Instrument file").set_input_files(str(crosswalked))
    page.get_by_role("button", name="Replace the draft with this file").click()
    expect(page.get_by_text("The draft was replaced")).to_be_visible()
    expect(page.get_by_text("The crosswalk covers every item of version 1.0")).to_be_visible()
    publish(page, "q21 is now q23.")
    expect(page.get_by_text("mini-coordination 1.1 is published")).to_be_visible()

    # The old cycle keeps the old version; a new cycle gets the new one.
    page.goto(cycle_url)
    expect(page.locator(".facts")).to_contain_text("Mini coordination survey, version 1.0")
    page.goto(f"{live_server}/cycles/new")
    options = page.get_by_label("Instrument").locator("option")
    expect(options.filter(has_text="mini-coordination 1.1")).to_have_count(1)
    expect(options.filter(has_text="mini-coordination 1.0")).to_have_count(0)

    # The comparison of the two versions.
    page.goto(f"{live_server}/instruments/")
    page.get_by_role("link", name="mini-coordination 1.1").click()
    page.get_by_role("button", name="Show what changed").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("What changed")
    assert_no_serious_axe_violations(page)
