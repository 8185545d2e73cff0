"""Page languages (surveyapp/i18n.py, docs/i18n.md): how a request's language is chosen,
Arabic right to left on the respondent pages, instrument text marked where untranslated,
dates per locale, links in the language the coordinator picks.

Sources: ../shared/reference/cpims.md ("reading and entering data in their own language");
issue 10 (English and French throughout, Arabic for respondents).
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from datetime import date

import openpyxl
import pytest
from babel.dates import format_date
from flask import Flask
from flask.testing import FlaskClient
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from surveyapp.extensions import db
from surveyapp.models import (
    AuditEvent,
    CycleState,
    Invitation,
    ResponseState,
    Unit,
    User,
)
from surveyapp.services.notifications import kind_label, notify
from surveyapp.services.users import find_user_by_email
from tests.web.evidence_world import CycleIds, World, build_world, make_cycle
from tests.web.test_invitations import links


@pytest.fixture
def world(make_unit: Callable[..., Unit], make_user: Callable[..., User]) -> World:
    return build_world(make_unit, make_user)


@pytest.fixture
def ccpm(app: Flask, world: World) -> CycleIds:
    """An open CCPM cycle: its partner questionnaire is answered through links."""
    return make_cycle(app, world, key="ccpm", questionnaire="coordinator", title="WASH 2026")


def html_tag(page: str) -> str:
    found = re.search(r"<html[^>]*>", page)
    assert found, page[:200]
    return found.group(0)


def h1(page: str) -> str:
    found = re.search(r"<h1>(.*?)</h1>", page, re.S)
    assert found, page[:500]
    return found.group(1).strip()


@pytest.mark.parametrize(("accept", "tag", "title"), [
    ("en", '<html lang="en" dir="ltr">', "Sign in"),
    ("fr-FR,fr;q=0.9", '<html lang="fr" dir="ltr">', "Se connecter"),
    ("ar", '<html lang="ar" dir="rtl">', "تسجيل الدخول"),
    ("de", '<html lang="en" dir="ltr">', "Sign in"),
])
def test_the_browser_language_is_used_first_time(
    client: FlaskClient, accept: str, tag: str, title: str,
) -> None:
    page = client.get("/auth/login", headers={"Accept-Language": accept}).get_data(as_text=True)
    assert html_tag(page) == tag
    assert h1(page) == title


def test_the_switcher_is_remembered_and_survives_signing_in(
    client: FlaskClient, login: Callable[..., object], world: World,
) -> None:
    answer = client.post("/language", data={"language": "fr", "next": "/auth/login"})
    assert answer.status_code == 302 and answer.headers["Location"] == "/auth/login"
    assert h1(client.get("/auth/login").get_data(as_text=True)) == "Se connecter"
    login(world.coordinator)
    home = client.get("/").get_data(as_text=True)
    assert html_tag(home) == '<html lang="fr" dir="ltr">'
    assert "Cycles d&#39;évaluation" in home or "Cycles d'évaluation" in home
    # Every page offers the switch, as buttons of one form that carries its CSRF token.
    assert 'action="/language"' in home and 'value="en" lang="en"' in home


def test_the_switcher_refuses_other_sites_and_unknown_languages(client: FlaskClient) -> None:
    answer = client.post("/language", data={"language": "xx", "next": "https://evil.example/"})
    assert answer.headers["Location"] == "/"
    page = client.get("/auth/login", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert html_tag(page) == '<html lang="en" dir="ltr">'


def test_the_profile_language_is_saved_audited_and_used(
    app: Flask, client: FlaskClient, login: Callable[..., object], world: World,
) -> None:
    login(world.validator)
    page = client.get("/auth/profile").get_data(as_text=True)
    assert ('<input checked id="language-0" name="language" required type="radio" value="en">'
            in page)
    answer = client.post("/auth/profile", data={"language": "fr"}, follow_redirects=True)
    text = answer.get_data(as_text=True)
    assert "Votre langue est enregistrée." in text and html_tag(text).startswith('<html lang="fr"')
    with app.app_context():
        assert find_user_by_email(world.validator.email).preferred_language == "fr"
        event = db.session.scalars(select(AuditEvent).where(
            AuditEvent.action == "user.language_changed")).one()
        assert (event.before, event.after) == (
            {"preferred_language": "en"}, {"preferred_language": "fr"})
    assert client.post("/auth/profile", data={"language": "xx"}).status_code == 200
    with app.app_context():
        assert find_user_by_email(world.validator.email).preferred_language == "fr"


def test_arabic_covers_the_respondent_pages_and_no_others(
    client: FlaskClient, login: Callable[..., object], world: World, ccpm: CycleIds,
) -> None:
    client.post("/language", data={"language": "ar"})
    assert html_tag(client.get("/auth/login").get_data(as_text=True)) == (
        '<html lang="ar" dir="rtl">')
    login(world.focal_point)
    cycles = client.get("/cycles/").get_data(as_text=True)
    assert html_tag(cycles) == '<html lang="en" dir="ltr">'  # not half translated
    assert 'value="ar"' not in cycles  # the switcher offers Arabic only where it applies
    page = client.get(f"/cycles/{ccpm.cycle}/respond/coordinator/page/1").get_data(as_text=True)
    assert html_tag(page) == '<html lang="ar" dir="rtl">'
    assert "الصفحة 1 من" in page and "احفظ" not in page and "حفظ" in page


def test_a_french_link_opens_in_french_with_the_instruments_french(
    app: Flask, client: FlaskClient, ccpm: CycleIds,
) -> None:
    [(_id, token)] = links(app, ccpm.cycle, language="fr")
    landing = client.get(f"/i/{token}/").get_data(as_text=True)
    assert html_tag(landing) == '<html lang="fr" dir="ltr">'
    assert "Commencer" in landing and "ONG internationale" in landing
    assert "lang-badge" not in landing  # the CCPM partner form is fully translated
    client.post(f"/i/{token}/", data={"organization_type": "1", "language": "fr"})
    page = client.get(f"/i/{token}/page/1").get_data(as_text=True)
    assert "Enregistrer" in page and "Page 1 sur" in page
    assert "lang-badge" not in page


def test_an_arabic_link_reads_right_to_left_and_marks_english_instrument_text(
    app: Flask, client: FlaskClient, ccpm: CycleIds,
) -> None:
    """The CCPM file has no Arabic: its questions show in English, each marked EN."""
    [(_id, token)] = links(app, ccpm.cycle, language="ar")
    landing = client.get(f"/i/{token}/").get_data(as_text=True)
    assert html_tag(landing) == '<html lang="ar" dir="rtl">'
    assert "ابدأ" in landing
    client.post(f"/i/{token}/", data={"organization_type": "1", "language": "ar"})
    page = client.get(f"/i/{token}/page/1").get_data(as_text=True)
    assert html_tag(page) == '<html lang="ar" dir="rtl">'
    assert "تُحفظ إجاباتك أثناء الكتابة." in page
    marked = re.findall(
        r'<span lang="en" dir="ltr">([^<]+)</span> <abbr class="lang-badge" lang="en"', page)
    assert marked, "instrument text without Arabic carries the EN mark"
    assert 'title="لم يُترجم بعد: معروض بالإنكليزية"' in page


def test_the_coordinator_picks_the_links_language(
    app: Flask, client: FlaskClient, login: Callable[..., object], world: World, ccpm: CycleIds,
) -> None:
    login(world.coordinator)
    page = client.get(f"/cycles/{ccpm.cycle}/invitations").get_data(as_text=True)
    assert '<option value="fr">Français</option>' in page
    assert "العربية (pages only: the questions are shown in English)" in page
    client.post(f"/cycles/{ccpm.cycle}/invitations", data={
        "questionnaire": "partner", "mode": "count", "count": "2", "language": "ar",
        "expires_on": date.today().isoformat()})
    with app.app_context():
        languages = db.session.scalars(select(Invitation.language).where(
            Invitation.cycle_id == ccpm.cycle)).all()
    assert languages == ["ar", "ar"]


def test_dates_are_written_in_the_page_language(
    client: FlaskClient, login: Callable[..., object], world: World, ccpm: CycleIds,
) -> None:
    login(world.coordinator)
    start = date(2026, 1, 1)
    for language in ("en", "fr"):
        client.post("/language", data={"language": language})
        page = client.get(f"/cycles/{ccpm.cycle}").get_data(as_text=True)
        assert format_date(start, locale=language) in page, language
    assert "1 janv. 2026" in page


def test_the_report_downloads_in_the_readers_language_by_default(
    app: Flask, client: FlaskClient, login: Callable[..., object], world: World,
) -> None:
    submitted = make_cycle(app, world, key="ccpm", questionnaire="coordinator",
                           state=CycleState.submitted, response_state=ResponseState.submitted)
    login(world.coordinator)
    client.post("/language", data={"language": "fr"})
    page = client.get(f"/cycles/{submitted.cycle}/report").get_data(as_text=True)
    assert page.index('lang="fr">Français') < page.index('lang="en">English')
    workbook = client.get(f"/cycles/{submitted.cycle}/report.xlsx")
    assert workbook.status_code == 200
    assert "-fr.xlsx" in workbook.headers["Content-Disposition"]
    sheets = openpyxl.load_workbook(io.BytesIO(workbook.data)).sheetnames
    assert sheets == ["Réponses", "Notes", "Éléments probants", "Commentaires", "Plan d'action"]


def test_notices_are_written_in_each_recipients_language(app: Flask, world: World) -> None:
    with app.app_context():
        french = db.session.get_one(User, world.validator.id)
        french.preferred_language = "fr"
        english = db.session.get_one(User, world.focal_point.id)
        notices = notify([french, english], "validated",
                         _l("“%(cycle)s” has been validated.", cycle="WASH 2026"),
                         "/cycles/", None)
        assert [notice.message for notice in notices] == [
            "« WASH 2026 » a été validé.", "“WASH 2026” has been validated."]
        with force_locale("fr"):
            assert kind_label("validated") == "Validé"
