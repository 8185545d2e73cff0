"""A focal point answers the JIU self-assessment in a real browser, on a phone.

Two components are completed with a file and a link as evidence. In the middle of the
second one the network drops and the tab is closed; the answer typed meanwhile is found
again in a new tab and saved from this browser's copy.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
from flask import Flask
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select

from surveyapp.extensions import db
from surveyapp.models import Answer, CycleState, ParticipantRole, Response, Unit, User
from surveyapp.services.audit import Actor
from surveyapp.services.cycles import CycleDraft, add_participant, change_state, create_cycle
from surveyapp.services.demo import DEMO_PASSWORD
from surveyapp.services.instrument_versions import ensure_bundled_versions
from tests.browser.conftest import PHONE_VIEWPORT

pytestmark = pytest.mark.browser

FOCAL_POINT = "focal.undp@example.org"
SAVED = "All changes saved"


def open_jiu_cycle(app: Flask, title: str) -> int:
    """A fresh JIU cycle of the demo's UNDP, so the test does not depend on other tests."""
    with app.app_context():
        def person(email: str) -> User:
            found = db.session.scalar(select(User).where(User.email == email))
            assert found is not None
            return found

        actor = Actor.of(person("admin@example.org"))
        version = next(v for v in ensure_bundled_versions() if v.key == "jiu-rbm")
        unit = db.session.scalar(select(Unit).where(Unit.code == "UNDP"))
        assert unit is not None
        cycle = create_cycle(CycleDraft(unit, version, title, date(2025, 1, 1),
                                        date(2025, 12, 31), date.today() + timedelta(days=30)),
                             actor)
        add_participant(cycle, person(FOCAL_POINT), ParticipantRole.focal_point, actor)
        add_participant(cycle, person("validator@example.org"), ParticipantRole.validator, actor)
        change_state(cycle, CycleState.open, actor)
        db.session.commit()
        return cycle.id


def stored_answers(app: Flask, cycle_id: int) -> dict[str, object]:
    with app.app_context():
        rows = db.session.execute(
            select(Answer.item_id, Answer.value).join(Response)
            .where(Response.cycle_id == cycle_id))
        return dict(rows.tuples().all())


def sign_in(page: Page, live_server: str) -> None:
    page.goto(f"{live_server}/auth/login")
    page.get_by_label("Email").fill(FOCAL_POINT)
    page.get_by_label("Password", exact=True).fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Welcome")


def answer_component(page: Page, component: str, stage: int, rationale: str) -> None:
    """Choose the stage, explain it, name the evidence and rate the activities."""
    page.locator(f'[data-slot="{component}"]').get_by_label(f"Stage {stage}").check()
    page.get_by_label("Why does this stage fit").fill(rationale)
    page.get_by_label("List the documented evidence").fill("The strategy and its endorsement.")
    for row in page.locator(f'tr[data-slot^="{component}.a"]').all():
        row.locator('input[value="2"]').check()
    expect(page.locator("[data-save-status]")).to_contain_text(SAVED)


def add_evidence(page: Page, component: str, *, file: Path | None = None,
                 link: str | None = None) -> None:
    section = page.locator(f"#evidence-{component}".replace(".", "\\."))
    section.locator("summary").click()
    if file is not None:
        section.get_by_label("File").set_input_files(str(file))
        section.get_by_role("group", name="Upload a document").get_by_label(
            "Description").fill("Signed results-based management strategy")
        section.get_by_role("button", name="Upload and attach").click()
    else:
        assert link is not None
        section.get_by_label("Web address").fill(link)
        section.get_by_role("group", name="Add a link").get_by_label("Description").fill(
            "Executive board decision endorsing the strategy")
        section.get_by_role("button", name="Add the link").click()


@pytest.fixture
def phone(browser: Browser) -> Iterator[Page]:
    """A phone-sized page whose console may report the requests refused while offline, and
    nothing else."""
    context = browser.new_context(viewport=PHONE_VIEWPORT)
    page = context.new_page()
    errors: list[str] = []
    context.on("console", lambda message: errors.append(message.text)
               if message.type == "error" and "ERR_INTERNET_DISCONNECTED" not in message.text
               else None)
    yield page
    context.close()
    assert errors == [], f"the browser console reported errors: {errors}"


def test_focal_point_completes_two_components_and_finds_answers_after_closing_the_tab(
    live_app: Flask, live_server: str, phone: Page, tmp_path: Path
) -> None:
    page = phone
    cycle_id = open_jiu_cycle(live_app, "UNDP self-assessment (browser journey)")
    strategy = tmp_path / "rbm-strategy.pdf"
    strategy.write_bytes(b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << >>\n%%EOF\n")
    sign_in(page, live_server)

    page.get_by_role("link", name="Assessment cycles").click()
    page.get_by_role("link", name="UNDP self-assessment (browser journey)").click()
    page.get_by_role("link", name="Answer: Self-assessment of the stages of development").click()
    expect(page.get_by_role("heading", level=2)).to_have_text(
        "1.1 Results-based management strategy")
    expect(page.get_by_text("Page 1 of 17")).to_be_visible()

    answer_component(page, "1.1", 2, "A strategy exists and is being piloted in two bureaux.")
    add_evidence(page, "1.1", file=strategy)
    expect(page.get_by_role("link", name="rbm-strategy.pdf")).to_be_visible()
    add_evidence(page, "1.1", link="https://example.org/board/decision-2025-3")
    expect(page.get_by_role("link", name="https://example.org/board/decision-2025-3")).to_be_visible()
    # Back from the evidence forms, the answers are still there.
    expect(page.locator('[data-slot="1.1"]').get_by_label("Stage 2")).to_be_checked()
    assert page.evaluate("document.documentElement.scrollWidth") <= 375

    page.get_by_role("button", name="Next page").click()
    expect(page.get_by_role("heading", level=2)).to_have_text("1.2 Change management framework")
    page.locator('[data-slot="1.2"]').get_by_label("Stage 3").check()
    expect(page.locator("[data-save-status]")).to_contain_text(SAVED)
    # The network drops while the rationale is typed, and the tab is closed halfway.
    page.context.set_offline(True)
    page.get_by_label("Why does this stage fit").fill("Change is managed by a dedicated team")
    expect(page.locator("[data-save-status]")).to_contain_text("Offline")
    page.close()
    page.context.set_offline(False)

    tab = page.context.new_page()
    tab.goto(f"{live_server}/cycles/{cycle_id}/respond/self_assessment/")
    expect(tab.get_by_role("heading", level=2)).to_have_text("1.2 Change management framework")
    expect(tab.locator('[data-slot="1.2"]').get_by_label("Stage 3")).to_be_checked()
    rationale = tab.get_by_label("Why does this stage fit")
    expect(rationale).to_have_value("Change is managed by a dedicated team")
    expect(tab.locator("[data-save-status]")).to_contain_text(SAVED)  # sent from this browser
    assert stored_answers(live_app, cycle_id)["1.2.rationale"] == (
        "Change is managed by a dedicated team")
    rationale.fill("Change is managed by a dedicated team that reports to the director.")
    tab.get_by_label("List the documented evidence").fill("The change plan and its reviews.")
    expect(tab.locator("[data-save-status]")).to_contain_text(SAVED)
    add_evidence(tab, "1.2", link="https://example.org/change-plan")
    expect(tab.get_by_role("link", name="https://example.org/change-plan")).to_be_visible()

    tab.get_by_role("button", name="Next page").click()
    tab.get_by_text("All pages and what is left on each").click()
    tab.get_by_role("button", name="Review what is missing and submit").click()
    expect(tab.get_by_role("heading", level=1)).to_contain_text("review and submit")
    expect(tab.get_by_text("6 of 51 required answers given")).to_be_visible()
    missing = tab.get_by_role("region", name="Still needed before you can submit")
    expect(missing.get_by_role("link", name="1.1 Results-based")).to_have_count(0)
    expect(missing.get_by_role("link", name="1.3 Accountability framework")).to_be_visible()
    tab.screenshot(path=tmp_path / "review.png", full_page=True)

    answers = stored_answers(live_app, cycle_id)
    assert answers["1.1"] == 2 and answers["1.2"] == 3
    assert answers["1.2.rationale"] == (
        "Change is managed by a dedicated team that reports to the director.")
    assert answers["1.1.a1"] == 2
