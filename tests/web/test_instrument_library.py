"""The instrument library in the web: upload, lint, replace, publish, retire, delete, compare.

Rules (issue "Instrument management in the web"; reference/cpims.md section 6, items 1-2):

- IL1 the library lists every instrument with its versions: key, version, sha256, status,
      who published it and when, how many cycles use it
- IL2 an uploaded YAML file or workbook with problems is refused with the problems printed
      exactly as `surveyapp instruments validate` / `from-excel` print them; nothing is
      stored
- IL3 a valid upload is stored as a draft, audited; a draft can be replaced (audited, its
      test answers discarded); it cannot be replaced by another version's file
- IL4 publishing needs release notes, is audited, and refuses while the crosswalk leaves
      an item of the previous published version uncovered, naming it and what to add
- IL5 new cycles get the latest published version; cycles keep the version they were
      opened with; a retired version opens no cycle but stays
- IL6 a draft nothing uses can be deleted; published versions never are
- IL7 the compare page shows `surveyapp instruments diff`'s changes
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from html import unescape
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from markupsafe import escape
from sqlalchemy import func, select

from instruments.errors import InstrumentInvalid
from instruments.loader import parse_instrument
from surveyapp.commands.instruments import command as instruments_command
from surveyapp.commands.interop import from_excel
from surveyapp.extensions import db
from surveyapp.models import (
    AuditEvent,
    Cycle,
    InstrumentStatus,
    InstrumentVersion,
    PreviewAnswers,
    Unit,
    User,
)
from surveyapp.services import ServiceError
from surveyapp.services.audit import Actor
from surveyapp.services.cycles import CycleDraft, create_cycle
from surveyapp.services.instrument_versions import published_versions
from tests.web.instruments_world import (
    CROSSWALK,
    V1,
    V2,
    V2_NO_CROSSWALK,
    People,
    build_people,
    upload,
    workbook,
)


@pytest.fixture
def people(make_unit: Callable[..., Unit], make_user: Callable[..., User]) -> People:
    return build_people(make_unit, make_user)


def code_line(line: str) -> str:
    """A problem line as the page shows it."""
    return f"<code>{escape(line)}</code>"


def stored(app: Flask, key: str = "mini-coordination") -> list[InstrumentVersion]:
    with app.app_context():
        versions = list(db.session.scalars(select(InstrumentVersion).where(
            InstrumentVersion.key == key).order_by(InstrumentVersion.id)))
        db.session.expunge_all()
        return versions


def actions(app: Flask) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


def publish(client: FlaskClient, version_id: int, notes: str = "First version.") -> str:
    response = client.post(f"/instruments/{version_id}/publish", data={"release_notes": notes})
    assert response.status_code in (302, 422), response.status_code
    return response.get_data(as_text=True)


def open_cycle(app: Flask, people: People, version_id: int, title: str = "Cycle") -> int:
    with app.app_context():
        cycle = create_cycle(CycleDraft(
            unit=db.session.get_one(Unit, people.cluster.id),
            version=db.session.get_one(InstrumentVersion, version_id), title=title,
            period_start=date(2025, 1, 1), period_end=date(2025, 12, 31),
        ), Actor.of(db.session.get_one(User, people.coordinator.id)))
        db.session.commit()
        return cycle.id


def test_a_broken_yaml_file_is_refused_with_the_validate_lines(
    app: Flask, client: FlaskClient, login: Callable[..., object], people: People,
    tmp_path: Path,
) -> None:
    """IL2: the page lists the same lines as `surveyapp instruments validate`."""
    broken = V1.replace("    required: true\n", "    requried: true\n", 1).replace(
        "scale: frequency", "scale: frequncy", 1)
    login(people.coordinator)
    response = upload(client, broken, "mini.yaml")
    assert response.status_code == 422
    (tmp_path / "mini.yaml").write_text(broken, encoding="utf-8")
    cli = app.test_cli_runner().invoke(instruments_command,
                                       ["validate", str(tmp_path / "mini.yaml")])
    expected = [line.replace(str(tmp_path / "mini.yaml"), "mini.yaml")
                for line in cli.output.splitlines()]
    assert cli.exit_code == 1 and expected
    page = response.get_data(as_text=True)
    assert [line for line in expected if code_line(line) not in page] == []
    assert "I010 unknown key `requried`" in expected[0]
    assert stored(app) == []


def test_the_library_reads_in_french_and_problem_lines_stay_as_the_command_prints_them(
    client: FlaskClient, login: Callable[..., object], people: People
) -> None:
    """docs/i18n.md: the pages are in French; the located problem lines are the command
    line's own, in English."""
    login(people.coordinator)
    client.post("/language", data={"language": "fr"})
    assert "Toutes les unités partagent ces instruments." in client.get(
        "/instruments/").get_data(as_text=True)
    broken = V1.replace("    required: true\n", "    requried: true\n", 1)
    page = unescape(upload(client, broken, "mini.yaml").get_data(as_text=True))
    assert "Le fichier n'a pas été enregistré : 1 problème à corriger." in page
    assert "I010 unknown key `requried`" in page and '<ul lang="en">' in page


def test_a_broken_workbook_is_refused_with_its_cells(
    app: Flask, client: FlaskClient, login: Callable[..., object], people: People,
    tmp_path: Path,
) -> None:
    """IL2: located by sheet and cell, exactly as `from-excel` prints it."""
    data = workbook(broken=True)
    (tmp_path / "mini.xlsx").write_bytes(data)
    cli = app.test_cli_runner().invoke(
        from_excel, [str(tmp_path / "mini.xlsx"), "-o", str(tmp_path / "out.yaml")])
    [expected] = [line.replace(str(tmp_path / "mini.xlsx"), "mini.xlsx")
                  for line in cli.output.splitlines()]
    assert expected == ("mini.xlsx:items!H4: I012 `required` is a yes/no column: write yes or "
                        "no, not 'maybe'")
    login(people.coordinator)
    response = upload(client, data, "mini.xlsx")
    assert response.status_code == 422
    assert code_line(expected) in response.get_data(as_text=True)
    assert stored(app) == []
    assert not (tmp_path / "out.yaml").exists()


def test_a_valid_workbook_becomes_a_draft_and_is_listed(
    app: Flask, client: FlaskClient, login: Callable[..., object], people: People,
) -> None:
    """IL1, IL3: stored as the YAML `from-excel` writes, audited, listed with its facts."""
    login(people.coordinator)
    response = upload(client, workbook(), "mini.xlsx")
    assert response.status_code == 302
    [version] = stored(app)
    assert version.status is InstrumentStatus.draft
    assert version.text.startswith("# Written by `surveyapp instruments from-excel` from "
                                   "mini.xlsx.\nkey: mini-coordination\n")
    assert version.created_by_id == people.coordinator.id
    assert parse_instrument(version.text.encode(), "x").instrument == parse_instrument(
        V1.encode(), "y").instrument
    assert "instrument.uploaded" in actions(app)
    page = client.get("/instruments/").get_data(as_text=True)
    assert "mini-coordination 1.0" in page
    assert version.sha256[:12] in page
    assert ">Draft<" in page
    download = client.get(f"/instruments/{version.id}/instrument.yaml")
    assert download.get_data(as_text=True) == version.text
    assert download.headers["Content-Disposition"] == (
        'attachment; filename="mini-coordination-1.0.yaml"')


def test_a_draft_is_replaced_and_its_test_answers_go(
    app: Flask, client: FlaskClient, login: Callable[..., object], people: People,
) -> None:
    """IL3."""
    login(people.coordinator)
    upload(client, V1)
    [version] = stored(app)
    client.post(f"/instruments/{version.id}/preview/partner/en/autosave",
                json={"slots": {"q11": {"value": "3"}}})
    edited = V1.replace("Mini coordination survey", "Small coordination survey")
    response = upload(client, edited, path=f"/instruments/{version.id}/replace")
    assert response.status_code == 302
    [replaced] = stored(app)
    assert replaced.title == "Small coordination survey" and replaced.sha256 != version.sha256
    with app.app_context():
        assert db.session.scalar(select(func.count(PreviewAnswers.id))) == 0
    assert actions(app)[-1] == "instrument.replaced"
    refused = upload(client, V2, path=f"/instruments/{version.id}/replace")
    assert refused.status_code == 422
    assert "This file is mini-coordination 1.1, not the draft mini-coordination 1.0" in (
        refused.get_data(as_text=True))
    again = upload(client, V1)
    assert "A draft of mini-coordination 1.0 exists: replace it from its page" in (
        again.get_data(as_text=True))


def test_publishing_checks_the_crosswalk_and_new_cycles_take_the_latest(
    app: Flask, client: FlaskClient, login: Callable[..., object], people: People,
) -> None:
    """IL4, IL5."""
    login(people.admin)
    upload(client, V1)
    [first] = stored(app)
    assert "Write the release notes" in publish(client, first.id, notes="  ")
    publish(client, first.id, notes="First version.")
    [first] = stored(app)
    assert first.status is InstrumentStatus.published
    assert first.published_by_id == people.admin.id and first.release_notes == "First version."
    old_cycle = open_cycle(app, people, first.id, "On 1.0")

    upload(client, V2_NO_CROSSWALK, "v2.yaml")
    second = stored(app)[-1]
    page = client.get(f"/instruments/{second.id}").get_data(as_text=True)
    assert "Publication is blocked" in page and "Item partner/q21 of version 1.0" in page
    refused = publish(client, second.id, notes="Renumbered q21.")
    assert "1 item of version 1.0 is not covered by the crosswalk" in refused
    assert str(escape("Add `{questionnaire: partner, from: q21, to: NEW_ID}` to the entries of "
                      '`crosswalk: - from_version: "1.0"`')) in refused
    assert stored(app)[-1].status is InstrumentStatus.draft

    assert upload(client, V2_NO_CROSSWALK + CROSSWALK, "v2.yaml",
                  path=f"/instruments/{second.id}/replace").status_code == 302
    publish(client, second.id, notes="Renumbered q21.")
    assert stored(app)[-1].status is InstrumentStatus.published
    with app.app_context():
        assert [v.version for v in published_versions() if v.key == "mini-coordination"] == [
            "1.1"]
        new_page = client.get("/cycles/new").get_data(as_text=True)
        assert "mini-coordination 1.1" in new_page and "mini-coordination 1.0" not in new_page
        assert db.session.get_one(Cycle, old_cycle).instrument_version.version == "1.0"
    with pytest.raises(ServiceError, match=r"Version 1\.1 of this instrument is published"):
        open_cycle(app, people, first.id)
    assert actions(app).count("instrument.published") == 2


def test_a_retired_version_opens_no_cycle_and_stays(
    app: Flask, client: FlaskClient, login: Callable[..., object], people: People,
) -> None:
    """IL5, IL6."""
    login(people.admin)
    upload(client, V1)
    [version] = stored(app)
    publish(client, version.id)
    cycle_id = open_cycle(app, people, version.id)
    assert client.post(f"/instruments/{version.id}/retire").status_code == 302
    [retired] = stored(app)
    assert retired.status is InstrumentStatus.retired and retired.sha256 == version.sha256
    with pytest.raises(ServiceError, match="Only a published instrument version"):
        open_cycle(app, people, version.id)
    deleted = client.post(f"/instruments/{version.id}/delete")
    assert deleted.status_code == 422
    assert "it is kept for good, since cycles and reports cite it" in deleted.get_data(
        as_text=True)
    with app.app_context():
        assert db.session.get_one(Cycle, cycle_id).instrument_version_id == version.id
    assert "instrument.retired" in actions(app)


def test_an_unused_draft_is_deleted(
    app: Flask, client: FlaskClient, login: Callable[..., object], people: People,
) -> None:
    """IL6."""
    login(people.coordinator)
    upload(client, V1)
    [version] = stored(app)
    client.post(f"/instruments/{version.id}/preview/partner/en/autosave",
                json={"slots": {"q11": {"value": "3"}}})
    response = client.post(f"/instruments/{version.id}/delete")
    assert response.status_code == 302
    assert stored(app) == []
    assert actions(app)[-1] == "instrument.deleted"


def test_the_compare_page_shows_the_diff(
    app: Flask, client: FlaskClient, login: Callable[..., object], people: People,
    tmp_path: Path,
) -> None:
    """IL7: the lines of `surveyapp instruments diff`."""
    login(people.coordinator)
    upload(client, V1)
    upload(client, V2, "v2.yaml")
    first, second = stored(app)
    (tmp_path / "v1.yaml").write_text(V1)
    (tmp_path / "v2.yaml").write_text(V2)
    cli = app.test_cli_runner().invoke(
        instruments_command, ["diff", str(tmp_path / "v1.yaml"), str(tmp_path / "v2.yaml")])
    page = client.get(f"/instruments/compare?old={first.id}&new={second.id}").get_data(
        as_text=True)
    assert cli.output.splitlines()[0] == "mini-coordination 1.0 -> mini-coordination 1.1"
    assert [line for line in cli.output.splitlines() if str(escape(line)) not in page] == []
    assert "renamed  item partner/q21: now q23" in page


def test_the_upload_service_stores_nothing_for_a_broken_file(app: Flask, people: People) -> None:
    """IL2, at the service: the problems are the loader's own objects."""
    from surveyapp.services.instrument_library import upload_version

    with app.app_context():
        user = db.session.get_one(User, people.admin.id)
        with pytest.raises(InstrumentInvalid) as raised:
            upload_version(user, b"key: x\n", "x.yaml")
        assert [p.format() for p in raised.value.problems] == [
            p.format() for p in _problems(b"key: x\n")]
        assert db.session.scalar(select(func.count(InstrumentVersion.id))) == 0


def _problems(data: bytes) -> list[object]:
    with pytest.raises(InstrumentInvalid) as raised:
        parse_instrument(data, "x.yaml")
    return raised.value.problems  # type: ignore[return-value]
