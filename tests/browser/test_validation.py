"""The whole validation loop in a real browser, on a phone-sized screen (validation issue).

A focal point submits a JIU self-assessment; the validator returns one component and
accepts the others, lowering one validated stage; the focal point answers in the thread,
changes the returned stage and resubmits; the validator sees the change, accepts and
validates; the results page shows self-assessed and validated stages side by side.

The cycle is made for UNICEF with accounts of its own, so the demo cycles that other
browser tests use are left alone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

import pytest
from flask import Flask
from playwright.sync_api import Page, expect

from surveyapp.extensions import db
from surveyapp.models import CycleState, ParticipantRole, Response, Role
from surveyapp.services.answers import RawAnswer, save_answer
from surveyapp.services.audit import Actor
from surveyapp.services.cycles import CycleDraft, add_participant, change_state, create_cycle
from surveyapp.services.instrument_versions import ensure_bundled_versions
from surveyapp.services.units import find_unit_by_code, grant_role
from surveyapp.services.users import create_user, find_user_by_email

pytestmark = pytest.mark.browser

PASSWORD = "validation journey password"
FOCAL_POINT = "focal.unicef@example.org"
VALIDATOR = "validator.unicef@example.org"
#: The components of JIU/NOTE/2017/1 annex IX as encoded in instruments/library/jiu-rbm.yaml.
COMPONENTS = ("1.1", "1.2", "1.3", "2.1", "2.2", "2.3", "2.4", "2.5", "3.1", "3.2", "3.3",
              "3.4", "4.1", "4.2", "4.3", "5.1", "5.2")


@dataclass(frozen=True)
class Journey:
    cycle_id: int
    title: str


@pytest.fixture
def journey(live_app: Flask) -> Journey:
    """An open UNICEF JIU cycle whose focal point has answered every component at stage 3."""
    title = "UNICEF results-based management 2026 (validation journey)"
    with live_app.app_context():
        unit = find_unit_by_code("UNICEF")
        coordinator = find_user_by_email("admin@example.org")
        assert unit is not None and coordinator is not None, "the demo data is missing"
        people = {}
        for email, name, role in ((FOCAL_POINT, "Amina Focal", Role.focal_point),
                                  (VALIDATOR, "Bo Validator", Role.validator)):
            people[role] = find_user_by_email(email) or create_user(email, name, PASSWORD)
            grant_role(people[role], unit, role)
        actor = Actor.of(coordinator)
        version = next(v for v in ensure_bundled_versions() if v.key == "jiu-rbm")
        cycle = create_cycle(CycleDraft(unit=unit, version=version, title=title,
                                        period_start=date(2026, 1, 1),
                                        period_end=date(2026, 12, 31)), actor)
        add_participant(cycle, people[Role.focal_point], ParticipantRole.focal_point, actor)
        add_participant(cycle, people[Role.validator], ParticipantRole.validator, actor)
        change_state(cycle, CycleState.open, actor)
        response = db.session.query(Response).filter_by(cycle_id=cycle.id).one()
        focal_point = Actor.of(people[Role.focal_point])
        for component in COMPONENTS:
            save_answer(response, component, "", RawAnswer(value="3"), focal_point)
            save_answer(response, f"{component}.rationale", "",
                        RawAnswer(value=f"Component {component} matches the stage 3 text."),
                        focal_point)
            save_answer(response, f"{component}.evidence", "",
                        RawAnswer(value="Interviews with the planning section"), focal_point)
        db.session.commit()
        return Journey(cycle.id, title)


def sign_in(page: Page, base: str, email: str) -> None:
    page.goto(f"{base}/auth/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Welcome")


def sign_out(page: Page) -> None:
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("status")).to_contain_text("You have signed out.")


def fits_the_phone(page: Page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= 375


def decide(page: Page, decision: str, comment: str, stage: int | None = None) -> None:
    page.get_by_role("group", name="Decision").get_by_label(decision, exact=True).check()
    if stage is not None:
        page.get_by_role("group", name="Validated stage").get_by_label(
            re.compile(f"^Stage {stage}:")).check()
    page.get_by_label("Comment").fill(comment)
    page.get_by_role("button", name="Record decision").click()


def test_focal_point_and_validator_complete_the_loop(
    live_server: str, journey: Journey, page: Page,
) -> None:
    base, respond = live_server, f"{live_server}/cycles/{journey.cycle_id}/respond/self_assessment"

    # The focal point submits.
    sign_in(page, base, FOCAL_POINT)
    page.goto(f"{respond}/review")
    expect(page.get_by_text("Everything required is answered")).to_be_visible()
    page.get_by_role("button", name="Submit my answers").click()
    expect(page.get_by_role("status")).to_contain_text("Your answers were submitted")
    sign_out(page)

    # The validator returns 1.1, accepts 1.2 at a lower stage, and accepts the rest as given.
    sign_in(page, base, VALIDATOR)
    page.get_by_role("link", name="Review queue").click()
    expect(page.get_by_role("table")).to_contain_text(journey.title)
    expect(page.get_by_text("17 items")).to_be_visible()
    page.get_by_role("link", name="1.1 Results-based management strategy").click()
    answer = page.get_by_role("region", name="The answer")
    expect(answer).to_contain_text("Stage 3: Integrated strategy in the process to be developed")
    expect(answer).to_contain_text("Component 1.1 matches the stage 3 text.")
    fits_the_phone(page)
    decide(page, "Request changes", "Which document shows the strategy is being integrated?")
    expect(page.get_by_role("status")).to_contain_text("Decision recorded for 1.1")
    expect(page.get_by_role("heading", level=1)).to_contain_text("1.2")
    decide(page, "Accept", "The change plan is a draft only: stage 2.", stage=2)
    for component in COMPONENTS[2:]:
        expect(page.get_by_role("heading", level=1)).to_contain_text(component)
        decide(page, "Accept", f"Evidence for {component} supports stage 3.")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Validation of")
    expect(page.get_by_text("1 of 17 items still needs a decision or changes.")).to_be_visible()
    sign_out(page)

    # The focal point reads the comment, answers in the thread, changes 1.1 and resubmits.
    sign_in(page, base, FOCAL_POINT)
    expect(page.get_by_role("link", name=re.compile("Notifications"))).to_contain_text("unread")
    page.get_by_role("link", name=re.compile("Notifications")).click()
    page.get_by_role("link", name=re.compile("1.1 of .* needs changes")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Items returned to you")
    expect(page.get_by_text("Which document shows the strategy is being integrated?")
           ).to_be_visible()
    page.get_by_role("link", name="Open the item and its thread").click()
    page.get_by_label("Message", exact=True).fill("There is none yet; I lower the stage to 2.")
    page.get_by_role("button", name="Send message").click()
    expect(page.get_by_role("status")).to_contain_text("Message sent.")
    page.get_by_role("link", name="Change your answer").click()
    page.locator('input[name="1.1"][value="2"]').check()
    page.locator('textarea[name="1.1.rationale"]').fill("Only fragments of a strategy exist.")
    page.get_by_role("button", name="Save", exact=True).last.click()
    page.goto(f"{respond}/review")
    page.get_by_role("button", name="Submit the changes").click()
    expect(page.get_by_role("status")).to_contain_text("submitted")
    sign_out(page)

    # The validator sees what changed, accepts, validates; results show both stages.
    sign_in(page, base, VALIDATOR)
    page.get_by_role("link", name="Review queue").click()
    expect(page.get_by_text("1 item", exact=True)).to_be_visible()
    page.get_by_role("link", name="1.1 Results-based management strategy").click()
    expect(page.get_by_text("Changed, awaiting decision")).to_be_visible()
    changes = page.get_by_role("region", name="Changed since the last decision")
    expect(changes.get_by_role("row", name="Answer 3 2")).to_be_visible()
    expect(changes).to_contain_text("Only fragments of a strategy exist.")
    expect(page.get_by_text("There is none yet; I lower the stage to 2.")).to_be_visible()
    decide(page, "Accept", "Stage 2 is right.", stage=2)
    expect(page.get_by_text("Every item has been accepted or rejected.")).to_be_visible()
    page.get_by_role("button", name="Validate the cycle").click()
    expect(page.get_by_role("status")).to_contain_text("is validated")
    page.get_by_role("link", name="Results", exact=True).click()
    profile = page.get_by_role("table", name="Stage profile")
    expect(profile.get_by_role("row", name=re.compile(r"^1\.1 "))).to_contain_text("same")
    lowered = profile.get_by_role("row", name=re.compile(r"^1\.2 "))
    expect(lowered.get_by_role("cell")).to_have_text(["3", "2", "-1 (lower)"])
    fits_the_phone(page)
