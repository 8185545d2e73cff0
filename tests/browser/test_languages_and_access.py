"""Languages and accessibility in a real browser (issue 10; WCAG 2.1 AA).

A partner answers the CCPM partner questionnaire in French, and another in Arabic, right to
left; a focal point completes a JIU page with the keyboard alone; axe-core finds no serious
or critical violation on the sign-in, questionnaire, review and report pages.
Source of the need: ../shared/reference/cpims.md ("reading and entering data in their own
language").
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date, timedelta

import pytest
from flask import Flask
from playwright.sync_api import Page, expect
from sqlalchemy import select

from surveyapp.extensions import db
from surveyapp.models import (
    Answer,
    Cycle,
    CycleState,
    ParticipantRole,
    Response,
    ResponseState,
    Unit,
    User,
)
from surveyapp.services.audit import Actor
from surveyapp.services.cycles import CycleDraft, add_participant, change_state, create_cycle
from surveyapp.services.demo import DEMO_PASSWORD
from surveyapp.services.instrument_versions import ensure_bundled_versions
from surveyapp.services.invitations import create_invitations
from tests.browser.axe import assert_no_serious_axe_violations

pytestmark = pytest.mark.browser

ARABIC = re.compile(r"[\u0600-\u06FF]")
FOCAL_POINT = "focal.undp@example.org"
JIU_COMPONENTS = ["1.1", "1.2", "1.3", "2.1", "2.2", "2.3", "2.4", "2.5", "3.1", "3.2",
                  "3.3", "3.4", "4.1", "4.2", "4.3", "5.1", "5.2"]


def person(email: str) -> User:
    found = db.session.scalar(select(User).where(User.email == email))
    assert found is not None
    return found


def new_cycle(key: str, unit_code: str, title: str, focal_point: str,
              validator: str | None = None) -> int:
    """A fresh open cycle of a demo unit (call inside an app context; the caller commits)."""
    actor = Actor.of(person("admin@example.org"))
    version = next(v for v in ensure_bundled_versions() if v.key == key)
    unit = db.session.scalar(select(Unit).where(Unit.code == unit_code))
    assert unit is not None
    cycle = create_cycle(CycleDraft(unit, version, title, date(2025, 1, 1), date(2025, 12, 31),
                                    date.today() + timedelta(days=30)), actor)
    add_participant(cycle, person(focal_point), ParticipantRole.focal_point, actor)
    if validator:
        add_participant(cycle, person(validator), ParticipantRole.validator, actor)
    change_state(cycle, CycleState.open, actor)
    return cycle.id


def partner_link(app: Flask, language: str) -> tuple[int, str]:
    with app.app_context():
        cycle_id = new_cycle("ccpm", "CAR-HEALTH", f"Health CCPM ({language})",
                             "focal.health@example.org")
        [(_invitation, token)] = create_invitations(
            db.session.get_one(Cycle, cycle_id), "partner",
            count=1, language=language, expires_on=date.today() + timedelta(days=14),
            actor=Actor(label="test"))
        db.session.commit()
        return cycle_id, f"/i/{token}/"


def submitted_response(app: Flask, cycle_id: int) -> Response:
    with app.app_context():
        response = db.session.scalar(select(Response).where(
            Response.cycle_id == cycle_id, Response.invitation_id.is_not(None)))
        assert response is not None
        db.session.expunge(response)
        return response


def answer_a_page_of_the_partner_form(page: Page) -> None:
    """Give each question shown its highest rating (which hides no other question)."""
    keys = page.locator('section.question[data-type="single_choice"]').evaluate_all(
        "sections => sections.map(section => section.dataset.slot)")
    for key in keys:
        question = page.locator(f'section.question[data-slot="{key}"]')
        if question.is_visible():
            question.locator('fieldset > .options input[type="radio"]').last.check()


def test_partner_answers_the_ccpm_questionnaire_in_french(
    live_app: Flask, live_server: str, page: Page,
) -> None:
    cycle_id, link = partner_link(live_app, "fr")
    page.goto(f"{live_server}{link}")
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Questionnaire CCPM des partenaires du cluster")
    page.get_by_label("ONG nationale", exact=True).check()
    page.get_by_role("button", name="Commencer").click()

    expect(page.get_by_text("Page 1 sur 15")).to_be_visible()
    page.get_by_role("button", name="Page suivante").click()
    expect(page.get_by_role("heading", level=2)).to_contain_text("1.1")
    answer_a_page_of_the_partner_form(page)
    expect(page.locator("[data-save-status]")).to_contain_text(
        "Toutes les modifications enregistrées")
    assert page.locator(".lang-badge").count() == 0  # the CCPM file has every French text
    assert_no_serious_axe_violations(page)

    page.get_by_text("Toutes les pages et ce qui reste à faire sur chacune").click()
    page.get_by_role("button", name="Voir ce qui manque et envoyer").click()
    expect(page.get_by_text("Toutes les réponses obligatoires sont données.")).to_be_visible()
    assert_no_serious_axe_violations(page)
    page.get_by_role("button", name="Envoyer mes réponses").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Merci")

    response = submitted_response(live_app, cycle_id)
    assert (response.state, response.language, response.organization_type) == (
        ResponseState.submitted, "fr", "2")


def test_partner_answers_the_ccpm_questionnaire_in_arabic_right_to_left(
    live_app: Flask, live_server: str, page: Page,
) -> None:
    cycle_id, link = partner_link(live_app, "ar")
    page.goto(f"{live_server}{link}")
    html = page.locator("html")
    expect(html).to_have_attribute("dir", "rtl")
    expect(html).to_have_attribute("lang", "ar")
    assert page.evaluate("getComputedStyle(document.body).direction") == "rtl"
    page.locator('input[name="organization_type"][value="1"]').check()
    page.get_by_role("button", name="ابدأ").click()

    expect(page.get_by_text("الصفحة 1 من 15")).to_be_visible()
    page.get_by_role("button", name="الصفحة التالية").click()
    answer_a_page_of_the_partner_form(page)
    expect(page.locator("[data-save-status]")).to_contain_text("حُفظت جميع التغييرات")
    # The page's own words are Arabic; the questions, which the file has in English and
    # French only, are in English, each marked EN and set lang="en".
    assert len(ARABIC.findall(page.locator("main").inner_text())) > 100
    badge = page.locator(".lang-badge").first
    expect(badge).to_have_text("EN")
    expect(badge).to_have_attribute("lang", "en")
    # Right to left: the header starts at the right edge, the questions' text aligns right.
    brand = page.locator(".brand").bounding_box()
    assert brand is not None and brand["x"] > 375 / 2
    assert page.evaluate(
        "getComputedStyle(document.querySelector('.question legend')).textAlign") in (
        "start", "right")
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    assert_no_serious_axe_violations(page)

    page.get_by_text("جميع الصفحات وما تبقّى في كل منها").click()
    page.get_by_role("button", name="مراجعة ما ينقص والإرسال").click()
    expect(page.get_by_text("أُجيب عن كل ما هو مطلوب.")).to_be_visible()
    assert_no_serious_axe_violations(page)
    page.get_by_role("button", name="إرسال إجاباتي").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("شكرًا لك")
    expect(html).to_have_attribute("dir", "rtl")

    response = submitted_response(live_app, cycle_id)
    assert (response.state, response.language, response.organization_type) == (
        ResponseState.submitted, "ar", "1")


def tab_to(page: Page, selector: str, limit: int = 400) -> None:
    """Press Tab until ``selector`` has the focus, as a keyboard user would."""
    target = page.locator(selector).first
    for _press in range(limit):
        if target.evaluate("element => element === document.activeElement"):
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"Tab never reached {selector}")


def has_visible_focus(page: Page) -> bool:
    """The focused control draws an outline (app.css :focus-visible), not only a colour."""
    style = page.evaluate("""() => {
        const style = getComputedStyle(document.activeElement);
        return [style.outlineStyle, parseFloat(style.outlineWidth)];
    }""")
    return style[0] != "none" and style[1] >= 2


def test_focal_point_completes_a_jiu_page_with_the_keyboard_only(
    live_app: Flask, live_server: str, page: Page,
) -> None:
    with live_app.app_context():
        cycle_id = new_cycle("jiu-rbm", "UNDP", "UNDP RBM (keyboard)", FOCAL_POINT)
        db.session.commit()
    page.goto(f"{live_server}/auth/login")
    tab_to(page, "#email")
    assert has_visible_focus(page)
    page.keyboard.type(FOCAL_POINT)
    page.keyboard.press("Tab")
    page.keyboard.type(DEMO_PASSWORD)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Welcome")

    page.goto(f"{live_server}/cycles/{cycle_id}/respond/self_assessment/page/1")
    expect(page.get_by_role("heading", level=2)).to_have_text(
        "1.1 Results-based management strategy")
    tab_to(page, '[data-slot="1.1"] input[type="radio"]')
    assert has_visible_focus(page)
    page.keyboard.press("Space")  # stage 1
    page.keyboard.press("ArrowDown")  # the arrow moves the choice in a radio group: stage 2
    expect(page.locator('[data-slot="1.1"]').get_by_label("Stage 2")).to_be_checked()
    tab_to(page, 'textarea[name="1.1.rationale"]')
    page.keyboard.type("A strategy exists and is piloted in two bureaux.")
    tab_to(page, 'textarea[name="1.1.evidence"]')
    page.keyboard.type("The strategy and its endorsement by the board.")
    for row in page.locator('tr[data-slot^="1.1.a"]').all():
        key = row.get_attribute("data-slot")
        tab_to(page, f'tr[data-slot="{key}"] input[value="1"]')
        page.keyboard.press("Space")
        page.keyboard.press("ArrowRight")  # from "1" to "2"
    expect(page.locator("[data-save-status]")).to_contain_text("All changes saved")
    tab_to(page, 'button[value="next"]')
    assert has_visible_focus(page)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=2)).to_have_text("1.2 Change management framework")

    with live_app.app_context():
        answers = dict(db.session.execute(
            select(Answer.item_id, Answer.value).join(Response)
            .where(Response.cycle_id == cycle_id)).tuples().all())
    assert answers["1.1"] == 2
    assert answers["1.1.rationale"] == "A strategy exists and is piloted in two bureaux."
    activities = {key: value for key, value in answers.items() if key.startswith("1.1.a")}
    assert activities and set(activities.values()) == {2}


def submitted_jiu_cycle(app: Flask) -> int:
    """A JIU cycle of UNDP whose answers are submitted and in review: reports and review."""
    with app.app_context():
        cycle_id = new_cycle("jiu-rbm", "UNDP", "UNDP RBM (accessibility)", FOCAL_POINT,
                             "validator@example.org")
        response = db.session.scalar(select(Response).where(Response.cycle_id == cycle_id))
        assert response is not None
        response.answers.extend(Answer(item_id=component, value=1 + n % 5)
                                for n, component in enumerate(JIU_COMPONENTS))
        response.state = ResponseState.submitted
        cycle = response.cycle
        change_state(cycle, CycleState.submitted, Actor(label="test"))
        change_state(cycle, CycleState.in_review, Actor(label="test"))
        db.session.commit()
        return cycle_id


def sign_in(page: Page, live_server: str, email: str) -> None:
    page.goto(f"{live_server}/auth/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password", exact=True).fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Welcome")


@pytest.mark.parametrize("language", ["en", "fr", "ar"])
def test_sign_in_page_passes_axe(live_server: str, page: Page, language: str) -> None:
    page.goto(f"{live_server}/auth/login")
    if language != "en":
        page.locator(f'.language-switcher button[value="{language}"]').click()
    expect(page.locator("html")).to_have_attribute("lang", language)
    assert_no_serious_axe_violations(page)


def test_review_report_and_home_pages_pass_axe(
    live_app: Flask, live_server: str, page: Page,
) -> None:
    cycle_id = submitted_jiu_cycle(live_app)
    sign_in(page, live_server, "validator@example.org")
    assert_no_serious_axe_violations(page)  # the home page
    page.goto(f"{live_server}/review/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Review queue")
    assert_no_serious_axe_violations(page)
    page.goto(f"{live_server}/cycles/{cycle_id}/validation")
    assert_no_serious_axe_violations(page)
    page.locator("table a").first.click()
    expect(page.get_by_role("heading", level=2, name="Your decision")).to_be_visible()
    assert_no_serious_axe_violations(page)
    page.goto(f"{live_server}/cycles/{cycle_id}/report")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Report of")
    assert_no_serious_axe_violations(page)
    page.goto(f"{live_server}/cycles/{cycle_id}/results")
    assert_no_serious_axe_violations(page)
    page.goto(f"{live_server}/cycles/{cycle_id}")
    assert_no_serious_axe_violations(page)


@pytest.fixture
def focal_point_language_restored(live_app: Flask) -> Iterator[None]:
    """The demo focal point is shared by the browser tests: put back the language they had
    after a test saves another one on the profile page."""
    with live_app.app_context():
        language = db.session.scalars(
            select(User.preferred_language).filter_by(email=FOCAL_POINT)).one()
    yield
    with live_app.app_context():
        focal_point = db.session.scalars(select(User).filter_by(email=FOCAL_POINT)).one()
        focal_point.preferred_language = language
        db.session.commit()


@pytest.mark.usefixtures("focal_point_language_restored")
def test_evidence_and_profile_pages_pass_axe_in_arabic_and_french(
    live_app: Flask, live_server: str, page: Page,
) -> None:
    cycle_id = submitted_jiu_cycle(live_app)
    sign_in(page, live_server, FOCAL_POINT)
    assert page.locator('.language-switcher button[value="ar"]').count() == 0  # home: no Arabic
    page.goto(f"{live_server}/cycles/{cycle_id}/evidence")
    page.locator('.language-switcher button[value="ar"]').click()
    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    expect(page.get_by_role("heading", level=1)).to_contain_text("أدلة")
    assert_no_serious_axe_violations(page)
    page.goto(f"{live_server}/auth/profile")
    expect(page.locator("html")).to_have_attribute("lang", "en")  # Arabic covers no profile
    page.get_by_label("Français").check()
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Votre langue est enregistrée.")).to_be_visible()
    assert_no_serious_axe_violations(page)
