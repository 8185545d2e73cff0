"""Previewing an instrument: the respondents' own pages, with test answers that are never real.

Rules (issue "Instrument management in the web", preview; ODK Central's draft testing,
reference/peers.md "Form versioning"):

- PV1 a preview page is the respondent's page: the same questions, fields and skip logic,
      rendered by the same views and templates, in each language of the file
- PV2 test answers are checked exactly as real answers, and kept apart: no response or
      answer row is ever written, nothing is audited
- PV3 the test answers are scored on the spot; submitting scores them and discards them
- PV4 publishing a draft discards every tester's test answers; a tester can discard theirs
- PV5 a language or questionnaire the file does not have is a 404; people without access
      to the library get a 403
- PV6 questionnaires asked per node of a unit's framework are previewed with an example
      framework, so every page shows
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from surveyapp.extensions import db
from surveyapp.models import (
    Answer,
    AuditEvent,
    InstrumentVersion,
    PreviewAnswers,
    Response,
    Role,
    User,
)
from tests.web.cycles_world import (
    MINI,
    MINI_FRAMEWORK,
    World,
    make_cycle,
    version_for,
)
from tests.web.instruments_world import V1, upload

PARTNER = "/instruments/{id}/preview/partner/{lang}"


@pytest.fixture
def admin(make_user: Callable[..., User], world: World) -> User:
    return make_user("admin@example.org", role=Role.admin, unit=world.country)


@pytest.fixture
def draft(client: FlaskClient, login: Callable[..., Any], admin: User, app: Flask) -> int:
    """The worked example uploaded as a draft by the administrator, who stays signed in."""
    login(admin)
    assert upload(client, V1).status_code == 302
    with app.app_context():
        return db.session.scalars(select(InstrumentVersion.id)).one()


def counts(app: Flask) -> tuple[int, int, int, int]:
    with app.app_context():
        return tuple(db.session.scalar(select(func.count(model.id)))  # type: ignore[return-value]
                     for model in (Response, Answer, PreviewAnswers, AuditEvent))


def section(page: str, key: str) -> str:
    """One question's section of a page."""
    match = re.search(rf'<section class="question[^"]*" id="q-{re.escape(key)}".*?</section>',
                      page, re.S)
    assert match, key
    return match.group(0)


def test_a_preview_page_is_the_respondents_page(
    app: Flask, client: FlaskClient, login: Callable[..., Any], world: World, admin: User
) -> None:
    """PV1: question by question, the preview renders what the focal point gets."""
    cycle_id = make_cycle(app, MINI, world.cluster, world.coordinator,
                          focal_points=[world.focal_point], framework=MINI_FRAMEWORK)
    focal = app.test_client()
    login(world.focal_point, client=focal)
    real = focal.get(f"/cycles/{cycle_id}/respond/self/page/1").get_data(as_text=True)
    login(admin)
    with app.app_context():
        version_id = version_for(MINI).id
    preview = client.get(f"/instruments/{version_id}/preview/self/en/page/1")
    assert preview.status_code == 200
    page = preview.get_data(as_text=True)
    for key in ("a_choice", "a_follow", "a_yes"):
        assert section(page, key) == section(real, key)
    assert "Preview." in page and "they never reach a cycle" in page
    assert 'data-autosave="/instruments/' in page
    french = client.get(f"/instruments/{version_id}/preview/self/fr/page/1").get_data(
        as_text=True)
    assert "Auto-évaluation" in french and 'lang="fr"' in french


def test_a_preview_offers_no_offline_workbook(
    app: Flask, client: FlaskClient, login: Callable[..., Any], admin: User
) -> None:
    """PV1: test answers have no workbook to download or upload, so the preview's page and
    review, unlike the respondent's, offer none (and do not fail looking for its address)."""
    login(admin)
    with app.app_context():
        version_id = version_for(MINI).id
        db.session.commit()
    for page in ("page/1", "review"):
        shown = client.get(f"/instruments/{version_id}/preview/self/en/{page}")
        assert shown.status_code == 200, page
        assert "Work offline" not in shown.get_data(as_text=True)


def test_test_answers_are_checked_and_kept_apart(
    app: Flask, client: FlaskClient, draft: int
) -> None:
    """PV2: the same refusals as real answers; no response, answer or audit row."""
    before = counts(app)
    saved = client.post(PARTNER.format(id=draft, lang="fr") + "/autosave", json={"slots": {
        "q11": {"value": "4"}, "q12": {"value": "12"}, "org_type": {"value": "2"}}})
    assert saved.status_code == 200
    body = saved.get_json()
    assert sorted(body["saved"]) == ["org_type", "q11"]
    assert body["errors"] == {"q12": {"value": "Choose one of the answers offered."}}
    assert body["progress"] == {"answered": 2, "required": 2}
    responses, answers, previews, events = counts(app)
    assert (responses, answers, events) == (before[0], before[1], before[3])
    assert previews == before[2] + 1
    page = client.get(PARTNER.format(id=draft, lang="fr") + "/page/2").get_data(as_text=True)
    assert re.search(r'<input checked[^>]*name="q11"[^>]*value="4"', section(page, "q11"))
    assert "Toujours" in page  # the French label of code 4
    form = client.post(PARTNER.format(id=draft, lang="fr") + "/page/2",
                       data={"q12": "3", "action": "save"})
    assert form.status_code == 302
    with app.app_context():
        row = db.session.scalars(select(PreviewAnswers)).one()
        assert row.answers["q12"]["value"] == 3 and row.language == "fr"


def test_test_answers_are_scored_then_discarded_on_submitting(
    app: Flask, client: FlaskClient, draft: int
) -> None:
    """PV3: q11 = 4 and q12 = 3 give Meetings 87.50, good; submitting discards them."""
    base = PARTNER.format(id=draft, lang="fr")
    client.post(base + "/autosave", json={"slots": {"q11": {"value": "4"},
                                                    "q12": {"value": "3"}}})
    score = client.get(base + "/score").get_data(as_text=True)
    assert re.search(r">1</td>\s*<td>Meetings</td>\s*<td><code>87.50  good\s+n=1", score)
    assert "insufficient_data" in score  # function 2 has no answer
    assert "as if one were enough" in score  # the instrument asks for 3 respondents
    assert "scored from your 2 test answers so far" in score.lower()
    review = client.get(base + "/review").get_data(as_text=True)
    assert "Preview." in review and f'action="{base}/submit"' in review
    submitted = client.post(base + "/submit")
    assert submitted.status_code == 200
    text = submitted.get_data(as_text=True)
    assert "then discarded: nothing was stored" in text and "87.50  good" in text
    with app.app_context():
        assert db.session.scalar(select(func.count(PreviewAnswers.id))) == 0


def test_publishing_discards_everybodys_test_answers(
    app: Flask, client: FlaskClient, draft: int, login: Callable[..., Any], world: World
) -> None:
    """PV4."""
    other = app.test_client()
    login(world.coordinator, client=other)
    for tester in (client, other):
        tester.post(PARTNER.format(id=draft, lang="en") + "/autosave",
                    json={"slots": {"q11": {"value": "1"}}})
    with app.app_context():
        assert db.session.scalar(select(func.count(PreviewAnswers.id))) == 2
    other.post(PARTNER.format(id=draft, lang="en") + "/discard")
    with app.app_context():
        assert db.session.scalar(select(func.count(PreviewAnswers.id))) == 1
    client.post(f"/instruments/{draft}/publish", data={"release_notes": "First."})
    with app.app_context():
        assert db.session.scalar(select(func.count(PreviewAnswers.id))) == 0


@pytest.mark.parametrize(("path", "status"), [
    ("/instruments/{id}/preview/partner/es/page/1", 404),
    ("/instruments/{id}/preview/nobody/en/page/1", 404),
    ("/instruments/{id}/preview/partner/en/page/9", 404),
    ("/instruments/999999/preview/partner/en/page/1", 404),
])
def test_what_the_file_does_not_have_is_not_found(
    client: FlaskClient, draft: int, path: str, status: int
) -> None:
    """PV5."""
    assert client.get(path.format(id=draft)).status_code == status


def test_people_outside_the_library_cannot_preview(
    app: Flask, draft: int, login: Callable[..., Any], world: World
) -> None:
    """PV5: a focal point has no access to the instrument library."""
    focal = app.test_client()
    login(world.focal_point, client=focal)
    assert focal.get(PARTNER.format(id=draft, lang="en") + "/page/1").status_code == 403
    saved = focal.post(PARTNER.format(id=draft, lang="en") + "/autosave",
                       json={"slots": {"q11": {"value": "1"}}})
    assert saved.status_code == 403


def test_framework_questionnaires_are_previewed_with_an_example_framework(
    app: Flask, client: FlaskClient, login: Callable[..., Any], admin: User
) -> None:
    """PV6: CPAS RED asks per output, outcome and impact."""
    login(admin)
    with app.app_context():
        version_id = version_for("cpas-red").id
        db.session.commit()
    first = client.get(f"/instruments/{version_id}/preview/red/en/page/1").get_data(
        as_text=True)
    assert "Example output" in first and "Page 1 of 3" in first
    saved = client.post(f"/instruments/{version_id}/preview/red/en/autosave", json={
        "slots": {"red@EX3": {"criteria": {"relevance": "3", "extent": "2",
                                                   "duration": "4"}, "justification": "Seen."}}})
    assert saved.status_code == 200, saved.get_json()
