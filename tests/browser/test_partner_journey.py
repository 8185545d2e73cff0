"""A partner answers the CCPM partner questionnaire through an invitation link, on a phone;
unusable links (invalid, expired, already used) each get a page that says why."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from flask import Flask
from playwright.sync_api import Page, expect
from sqlalchemy import select

from surveyapp.extensions import db
from surveyapp.models import CycleState, Invitation, ParticipantRole, Response, Unit, User
from surveyapp.models.base import now_utc
from surveyapp.services.audit import Actor
from surveyapp.services.cycles import CycleDraft, add_participant, change_state, create_cycle
from surveyapp.services.instrument_versions import ensure_bundled_versions
from surveyapp.services.invitations import create_invitations, token_hash

pytestmark = pytest.mark.browser


def partner_links(app: Flask, count: int) -> tuple[int, list[str]]:
    """A fresh, open, anonymous CCPM cycle of the demo Health cluster, and ``count`` links."""
    with app.app_context():
        def person(email: str) -> User:
            found = db.session.scalar(select(User).where(User.email == email))
            assert found is not None
            return found

        actor = Actor.of(person("coordinator@example.org"))
        version = next(v for v in ensure_bundled_versions() if v.key == "ccpm")
        unit = db.session.scalar(select(Unit).where(Unit.code == "CAR-HEALTH"))
        assert unit is not None
        cycle = create_cycle(CycleDraft(unit, version, "Health CCPM (partner journey)",
                                        date(2025, 1, 1), date(2025, 12, 31),
                                        date.today() + timedelta(days=14), anonymous=True),
                             actor)
        add_participant(cycle, person("focal.health@example.org"), ParticipantRole.focal_point,
                        actor)
        change_state(cycle, CycleState.open, actor)
        links = create_invitations(cycle, "partner", count=count, language="en",
                                   expires_on=date.today() + timedelta(days=14), actor=actor)
        db.session.commit()
        return cycle.id, [f"/i/{token}/" for _invitation, token in links]


def fits_the_phone(page: Page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= 375


def test_partner_submits_the_ccpm_questionnaire_on_a_phone(
    live_app: Flask, live_server: str, page: Page
) -> None:
    cycle_id, [link] = partner_links(live_app, 1)
    page.goto(f"{live_server}{link}")
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "CCPM questionnaire for cluster partners")
    fits_the_phone(page)
    page.get_by_label("National NGO", exact=True).check()
    page.get_by_role("button", name="Start").click()

    expect(page.get_by_text("Page 1 of 15")).to_be_visible()
    expect(page.get_by_label("National NGO", exact=True)).to_be_checked()
    page.get_by_role("button", name="Next page").click()

    expect(page.get_by_role("heading", level=2)).to_contain_text("1.1 Providing a platform")
    attendance = page.locator('[data-slot="q112"]')
    page.get_by_label("The cluster has held no meetings").check()
    expect(attendance).to_be_hidden()  # skip logic, in the browser
    page.get_by_label("Fairly satisfied").check()
    expect(attendance).to_be_visible()
    attendance.get_by_label("Often").check()
    page.locator('[data-slot="q116"]').get_by_label("Decisions were taken and most of them "
                                                     "proved useful").check()
    expect(page.locator("[data-save-status]")).to_contain_text("All changes saved")
    fits_the_phone(page)

    page.get_by_text("All pages and what is left on each").click()
    page.get_by_role("button", name="Review what is missing and submit").click()
    expect(page.get_by_text("Everything required is answered.")).to_be_visible()
    fits_the_phone(page)
    page.get_by_role("button", name="Submit my answers").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Thank you")

    with live_app.app_context():
        response = db.session.scalar(select(Response).where(
            Response.cycle_id == cycle_id, Response.invitation_id.is_not(None)))
        assert response is not None
        assert (response.state.value, response.organization_type) == ("submitted", "2")
        assert response.respondent_id is None


def test_unusable_links_each_get_a_clear_page(
    live_app: Flask, live_server: str, problem_page: Page
) -> None:
    page = problem_page
    _cycle_id, [used, expired] = partner_links(live_app, 2)
    with live_app.app_context():
        invitation = db.session.scalar(select(Invitation).where(
            Invitation.token_hash == token_hash(expired.strip("/").split("/")[-1])))
        assert invitation is not None
        invitation.expires_at = now_utc() - timedelta(days=2)
        db.session.commit()

    # Two tabs on the same link's review page: the first submits, the second is refused.
    page.goto(f"{live_server}{used}")
    page.get_by_label("UN agency", exact=True).check()
    page.get_by_role("button", name="Start").click()
    page.goto(f"{live_server}{used}review")
    second_tab = page.context.new_page()
    second_tab.goto(f"{live_server}{used}review")
    page.get_by_role("button", name="Submit my answers").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Thank you")
    second_tab.get_by_role("button", name="Submit my answers").click()
    expect(second_tab.get_by_role("heading", level=1)).to_have_text("Already submitted")
    expect(second_tab.get_by_text("each link can submit only once")).to_be_visible()
    page.goto(f"{live_server}{used}")
    expect(page.get_by_role("heading", level=1)).to_have_text("Already submitted")
    fits_the_phone(page)

    page.goto(f"{live_server}{expired}")
    expect(page.get_by_role("heading", level=1)).to_have_text("Link expired")
    expect(page.get_by_text("ask the coordinator who invited you for a new link")).to_be_visible()

    page.goto(f"{live_server}/i/this-is-not-a-link-anyone-was-given/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Link not valid")
    expect(page.get_by_text("Check that you copied the whole link")).to_be_visible()
    fits_the_phone(page)
