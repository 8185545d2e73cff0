"""An action plan from the final results to the quarterly report, in a real browser at phone
width (action plans issue, "Done when").

The coordinator closes (finalises) a validated CCPM cycle of the WASH cluster, drafts its
plan and edits the first action, naming the WASH focal point responsible; the focal point
records progress for last quarter, the coordinator closes that quarter, the focal point
records progress for this quarter, and the coordinator downloads this quarter's progress
report, read back with pdftotext. The dashboard of the country then shows the three demo
clusters with their ratings.

The cycle is this year's, made for the test; the demo's own cycles are left alone.
"""

from __future__ import annotations

import shutil
import subprocess
from datetime import date
from pathlib import Path

import pytest
from flask import Flask
from playwright.sync_api import Page, expect

from reports.quarters import Quarter
from surveyapp.extensions import db
from surveyapp.models import CycleState, ParticipantRole, Response, ResponseState
from surveyapp.services.audit import Actor
from surveyapp.services.cycles import CycleDraft, add_participant, change_state, create_cycle
from surveyapp.services.demo import DEMO_PASSWORD, demo_answers
from surveyapp.services.instrument_versions import ensure_bundled_versions, loaded_instrument
from surveyapp.services.units import find_unit_by_code
from surveyapp.services.users import find_user_by_email
from tests.browser.axe import assert_no_serious_axe_violations
from tests.browser.conftest import PHONE_VIEWPORT

pytestmark = pytest.mark.browser

COORDINATOR = "coordinator@example.org"
FOCAL_POINT = "focal.wash@example.org"
TITLE = "WASH cluster coordination performance (plan journey)"
#: Answer levels of the blocks of services.demo.DEMO_BLOCK_ITEMS: 1.1 and 5 weak, 3.3 and
#: 4.1 unsatisfactory (each block scores level x 25 %).
LEVELS = (1, 3, 3, 4, 4, 3, 2, 2, 3, 1, 4, 4)
TODAY = date.today()
CURRENT, LAST = Quarter.of(TODAY), Quarter.of(TODAY).previous


@pytest.fixture
def validated_cycle(live_app: Flask) -> int:
    """A validated CCPM cycle of CAR-WASH answered by its focal point and three partners."""
    with live_app.app_context():
        unit = find_unit_by_code("CAR-WASH")
        owner = find_user_by_email(COORDINATOR)
        focal_point = find_user_by_email(FOCAL_POINT)
        assert unit and owner and focal_point, "the demo data is missing"
        actor = Actor.of(owner)
        version = next(v for v in ensure_bundled_versions() if v.key == "ccpm")
        cycle = create_cycle(CycleDraft(unit=unit, version=version, title=TITLE,
                                        period_start=date(TODAY.year, 1, 1),
                                        period_end=date(TODAY.year, 12, 31)), actor)
        add_participant(cycle, focal_point, ParticipantRole.focal_point, actor)
        change_state(cycle, CycleState.open, actor)
        instrument = loaded_instrument(version).instrument
        response = db.session.query(Response).filter_by(cycle_id=cycle.id).one()
        response.answers.extend(demo_answers(instrument, "coordinator", LEVELS, 0))
        response.state = ResponseState.submitted
        for offset in (-1, 0, 1):
            db.session.add(Response(cycle=cycle, questionnaire="partner",
                                    state=ResponseState.submitted,
                                    answers=demo_answers(instrument, "partner", LEVELS, offset)))
        for state in (CycleState.submitted, CycleState.in_review, CycleState.validated):
            change_state(cycle, state, actor)
        db.session.commit()
        return cycle.id


def sign_in(page: Page, base: str, email: str) -> None:
    page.goto(f"{base}/auth/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password", exact=True).fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_text("Signed in as")).to_be_visible()


def sign_out(page: Page) -> None:
    page.get_by_role("button", name="Sign out").click()


def record(page: Page, base: str, cycle_id: int, quarter: Quarter, percent: int, note: str,
           status: str) -> None:
    page.goto(f"{base}/cycles/{cycle_id}/plan")
    page.get_by_role("link", name="Record progress").first.click()
    page.get_by_label("Quarter reported on").select_option(str(quarter))
    page.get_by_label("Progress (percent)").fill(str(percent))
    page.get_by_label("Status").select_option(label=status)
    page.get_by_label("What was done").fill(note)
    assert_no_serious_axe_violations(page)
    page.get_by_role("button", name="Record progress").click()
    expect(page.get_by_text("Progress recorded.")).to_be_visible()


def test_from_final_results_to_the_quarterly_report_and_the_dashboard(
    page: Page, live_server: str, validated_cycle: int, tmp_path: Path, require_tool
) -> None:
    require_tool(shutil.which("pdftotext") is not None, "pdftotext (poppler-utils) is missing")
    base, cycle_id = live_server, validated_cycle

    # the coordinator finalises the cycle and drafts its plan
    sign_in(page, base, COORDINATOR)
    page.goto(f"{base}/cycles/{cycle_id}")
    page.get_by_role("button", name="Close the cycle").click()
    expect(page.get_by_text("The cycle is now closed.")).to_be_visible()
    page.get_by_role("link", name="Action plan").click()
    page.get_by_role("button", name="Draft actions").click()
    expect(page.get_by_text("4 action(s) drafted from the results.")).to_be_visible()
    expect(page.get_by_role("cell", name="Weak, 25.00 %").first).to_be_visible()
    page.screenshot(path=str(tmp_path / "plan.png"), full_page=True)
    assert_no_serious_axe_violations(page)
    # The table scrolls sideways; its visually hidden link words must scroll with it
    # (app.css: .table-wrap is positioned), not widen the page (840 px without).
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE_VIEWPORT["width"]

    # ... and edits the first drafted action
    page.get_by_role("link", name="Edit").first.click()
    assert_no_serious_axe_violations(page)
    page.get_by_label("Action", exact=True).fill("Hold the WASH coordination meeting monthly")
    page.get_by_label("Responsible organisation").fill("UNICEF (cluster lead agency)")
    page.get_by_label("Person who records progress").select_option(
        label=f"Demo WASH cluster focal point ({FOCAL_POINT})")
    page.get_by_label("Due quarter").fill(str(CURRENT.next))
    page.get_by_role("button", name="Save the action").click()
    expect(page.get_by_text("The action was saved.")).to_be_visible()
    expect(page.get_by_role("rowheader", name="Hold the WASH coordination meeting monthly")
           ).to_be_visible()
    sign_out(page)

    # the responsible person records last quarter's progress; the coordinator closes it
    sign_in(page, base, FOCAL_POINT)
    record(page, base, cycle_id, LAST, 40, "Two meetings held", "In progress")
    sign_out(page)
    sign_in(page, base, COORDINATOR)
    page.goto(f"{base}/units/CAR-WASH/progress")
    assert_no_serious_axe_violations(page)
    page.get_by_label("Quarter to close").select_option(str(LAST))
    page.get_by_role("button", name="Close the quarter").click()
    expect(page.get_by_text(f"{LAST} is closed")).to_be_visible()
    sign_out(page)

    # ... then this quarter's
    sign_in(page, base, FOCAL_POINT)
    record(page, base, cycle_id, CURRENT, 80, "Five meetings held, minutes shared", "Delayed")
    sign_out(page)

    # the coordinator downloads this quarter's report
    sign_in(page, base, COORDINATOR)
    page.goto(f"{base}/units/CAR-WASH/progress")
    with page.expect_download() as download:
        page.get_by_role("link", name=f"Progress report {CURRENT} (PDF)").click()
    pdf = tmp_path / "progress.pdf"
    download.value.save_as(pdf)
    text = " ".join(subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True,
                                   check=True).stdout.decode().split())
    assert f"Quarterly progress report, {CURRENT}" in text
    assert "Hold the WASH coordination meeting monthly" in text
    assert "status in progress → delayed; progress 40 % → 80 %" in text
    assert "Five meetings held, minutes shared" in text

    # the dashboard shows the three clusters with their ratings
    page.goto(f"{base}/dashboard/")
    expect(page.get_by_role("heading", name="Dashboard of Central African Republic")
           ).to_be_visible()
    table = page.get_by_role("table", name="Ratings by unit (Cluster Coordination "
                                           "Performance Monitoring (CCPM))")
    for code in ("CAR-EDU", "CAR-HEALTH", "CAR-WASH"):
        expect(table.get_by_role("rowheader", name=code, exact=True)).to_be_visible()
    expect(table.get_by_role("cell", name="Weak (25.00 %)").first).to_be_visible()
    expect(table.get_by_role("cell", name="Good (100.00 %)").first).to_be_visible()
    page.screenshot(path=str(tmp_path / "dashboard.png"), full_page=True)
    assert_no_serious_axe_violations(page)
