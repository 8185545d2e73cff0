"""Who may do what with instruments, and that a published version never changes.

Rules (docs/instruments-web.md "Who may do what"):

- IA1 instruments are shared by every unit: administrators and coordinators of any unit read
      the library; those of a top-level unit upload drafts; only administrators of a
      top-level unit publish and retire; a draft is replaced or deleted by its uploader or
      an administrator
- IA2 overlays belong to a unit: its coordinators and administrators (directly or through
      an ancestor) add and withdraw them, and preview a version as an overlay adapts it
      (``?overlay=``): others who read the library get a 404, as for an overlay of
      another version
- IA3 a published version cannot be changed by any route: replace, delete, publish again
      and a new upload of the same key and version are refused and leave its text, sha256
      and status as they were; retiring changes its status only; the database refuses a
      changed text whatever the code path
- IA4 every changing route needs its CSRF token
"""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from surveyapp.extensions import db
from surveyapp.models import InstrumentOverlay, InstrumentStatus, InstrumentVersion, Unit, User
from surveyapp.models.instruments import PublishedVersionChanged
from tests.conftest import csrf_token_in
from tests.web.instruments_world import V1, V2, People, build_people, upload

OVERLAY = """key: local
version: "1"
instrument: mini-coordination
instrument_version: "1.0"
title: Local questions
hide:
  - {questionnaire: partner, item: q22}
"""


@pytest.fixture
def people(make_unit: Callable[..., Unit], make_user: Callable[..., User]) -> People:
    return build_people(make_unit, make_user)


def _bytes(text: str) -> io.BytesIO:
    return io.BytesIO(text.encode())


def client_of(app: Flask, login: Callable[..., Any], person: User) -> FlaskClient:
    client = app.test_client()
    login(person, client=client)
    return client


def versions(app: Flask) -> list[tuple[str, str, str, InstrumentStatus]]:
    with app.app_context():
        return [(v.version, v.sha256, v.text, v.status) for v in db.session.scalars(
            select(InstrumentVersion).order_by(InstrumentVersion.id))]


def version_ids(app: Flask) -> list[int]:
    with app.app_context():
        return list(db.session.scalars(select(InstrumentVersion.id)))


def first_id(app: Flask) -> int:
    with app.app_context():
        return db.session.scalars(select(InstrumentVersion.id).order_by(
            InstrumentVersion.id)).first()  # type: ignore[return-value]


def test_who_reads_and_uploads(app: Flask, login: Callable[..., Any], people: People) -> None:
    """IA1: reading is for coordinators and administrators; uploading, of top-level units."""
    expected = {
        people.admin: (200, 302), people.coordinator: (200, 302),
        people.other_coordinator: (200, 302), people.cluster_coordinator: (200, 403),
        people.focal_point: (403, 403),
    }
    for number, (person, (read, write)) in enumerate(expected.items()):
        client = client_of(app, login, person)
        assert client.get("/instruments/").status_code == read, person.email
        text = V1.replace('version: "1.0"', f'version: "1.{number}"')
        assert upload(client, text).status_code == write, person.email
    assert app.test_client().get("/instruments/").status_code == 302  # to the sign-in page
    assert len(versions(app)) == 3


def test_only_administrators_publish_and_retire(
    app: Flask, login: Callable[..., Any], people: People
) -> None:
    """IA1."""
    author = client_of(app, login, people.coordinator)
    upload(author, V1)
    version_id = first_id(app)
    others = [client_of(app, login, person) for person in (
        people.cluster_coordinator, people.focal_point, people.other_coordinator)]
    for client in (author, *others):
        refused = client.post(f"/instruments/{version_id}/publish",
                              data={"release_notes": "Go."})
        assert refused.status_code == 403
    admin = client_of(app, login, people.admin)
    assert admin.post(f"/instruments/{version_id}/publish",
                      data={"release_notes": "Go."}).status_code == 302
    assert author.post(f"/instruments/{version_id}/retire").status_code == 403
    assert versions(app)[0][3] is InstrumentStatus.published
    assert admin.post(f"/instruments/{version_id}/retire").status_code == 302
    assert versions(app)[0][3] is InstrumentStatus.retired


def test_a_draft_is_changed_by_its_uploader_or_an_administrator(
    app: Flask, login: Callable[..., Any], people: People
) -> None:
    """IA1: another author may read the draft but not replace or delete it."""
    upload(client_of(app, login, people.coordinator), V1)
    version_id = first_id(app)
    edited = V1.replace("Mini coordination survey", "Edited survey")
    other = client_of(app, login, people.other_coordinator)
    assert other.get(f"/instruments/{version_id}").status_code == 200
    assert upload(other, edited, path=f"/instruments/{version_id}/replace").status_code == 403
    assert other.post(f"/instruments/{version_id}/delete").status_code == 403
    admin = client_of(app, login, people.admin)
    assert upload(admin, edited, path=f"/instruments/{version_id}/replace").status_code == 302
    assert admin.post(f"/instruments/{version_id}/delete").status_code == 302
    assert versions(app) == []


def test_overlays_belong_to_their_unit(
    app: Flask, login: Callable[..., Any], people: People
) -> None:
    """IA2: the cluster's coordinator and the country's adapt the cluster; others cannot."""
    admin = client_of(app, login, people.admin)
    upload(admin, V1)
    version_id = first_id(app)
    admin.post(f"/instruments/{version_id}/publish", data={"release_notes": "Go."})

    def add(person: User, unit: Unit, version: str) -> int:
        client = client_of(app, login, person)
        response = client.post(
            f"/instruments/{version_id}/overlays",
            data={"unit": unit.id, "file": (_bytes(OVERLAY.replace('version: "1"\n',
                                                                   f'version: "{version}"\n')),
                                            "local.yaml")},
            content_type="multipart/form-data")
        return response.status_code

    assert add(people.cluster_coordinator, people.cluster, "1") == 302
    assert add(people.coordinator, people.cluster, "2") == 302
    assert add(people.other_coordinator, people.cluster, "3") == 403
    assert add(people.focal_point, people.cluster, "4") == 403
    assert add(people.cluster_coordinator, people.country, "5") == 403
    with app.app_context():
        overlay_id = db.session.scalars(select(InstrumentOverlay.id)).first()
    outsider = client_of(app, login, people.other_coordinator)
    assert outsider.get(f"/instruments/overlays/{overlay_id}").status_code == 404
    assert outsider.post(f"/instruments/overlays/{overlay_id}/withdraw").status_code == 404
    insider = client_of(app, login, people.cluster_coordinator)
    assert insider.get(f"/instruments/overlays/{overlay_id}").status_code == 200
    assert insider.post(f"/instruments/overlays/{overlay_id}/withdraw").status_code == 302


def test_a_preview_through_an_overlay_is_for_its_units_managers(
    app: Flask, login: Callable[..., Any], people: People
) -> None:
    """IA2: the previews' ``?overlay=`` is checked as the overlay's own pages are (the
    access matrix sends the previews without it)."""
    admin = client_of(app, login, people.admin)
    upload(admin, V1)
    v1 = first_id(app)
    admin.post(f"/instruments/{v1}/publish", data={"release_notes": "Go."})
    upload(admin, V2)
    v2 = max(version_ids(app))
    admin.post(f"/instruments/{v2}/publish", data={"release_notes": "Renamed q21."})
    insider = client_of(app, login, people.cluster_coordinator)
    assert insider.post(f"/instruments/{v1}/overlays", data={
        "unit": people.cluster.id, "file": (_bytes(OVERLAY), "local.yaml")},
        content_type="multipart/form-data").status_code == 302
    with app.app_context():
        overlay_id = db.session.scalars(select(InstrumentOverlay.id)).one()
    preview = f"/instruments/{{version}}/preview/partner/en/{{page}}?overlay={overlay_id}"
    pages = ("", "page/1", "review", "score")
    managers = (insider, client_of(app, login, people.coordinator), admin)
    for page in pages:
        for manager in managers:
            assert manager.get(preview.format(version=v1, page=page)).status_code in (200, 302)
            assert manager.get(preview.format(version=v2, page=page)).status_code == 404
        outsider = client_of(app, login, people.other_coordinator)
        assert outsider.get(preview.format(version=v1, page=page)).status_code == 404
        assert outsider.get(f"/instruments/{v1}/preview/partner/en/{page}").status_code in (
            200, 302)
    assert outsider.post(preview.format(version=v1, page="discard")).status_code == 404
    assert insider.post(preview.format(version=v1, page="discard")).status_code == 302


def test_a_published_version_cannot_be_changed_by_any_route(
    app: Flask, login: Callable[..., Any], people: People
) -> None:
    """IA3: every route that changes versions, tried on a published one by an administrator."""
    admin = client_of(app, login, people.admin)
    upload(admin, V1)
    version_id = first_id(app)
    admin.post(f"/instruments/{version_id}/publish", data={"release_notes": "Go."})
    [published] = versions(app)
    edited = V1.replace("Mini coordination survey", "Edited survey")
    attempts = {
        "replace": upload(admin, edited, path=f"/instruments/{version_id}/replace"),
        "delete": admin.post(f"/instruments/{version_id}/delete"),
        "publish again": admin.post(f"/instruments/{version_id}/publish",
                                    data={"release_notes": "Again."}),
        "upload the same version": upload(admin, edited),
    }
    assert {name: response.status_code for name, response in attempts.items()} == {
        name: 422 for name in attempts}
    assert "a published version never changes" in attempts["replace"].get_data(as_text=True)
    assert "is published and never changes: raise `version:`" in attempts[
        "upload the same version"].get_data(as_text=True)
    assert versions(app) == [published]
    assert admin.post(f"/instruments/{version_id}/retire").status_code == 302
    [retired] = versions(app)
    assert retired[:3] == published[:3] and retired[3] is InstrumentStatus.retired
    for path in ("replace", "delete", "publish", "retire"):
        response = (upload(admin, edited, path=f"/instruments/{version_id}/{path}")
                    if path == "replace" else admin.post(f"/instruments/{version_id}/{path}",
                                                         data={"release_notes": "x"}))
        assert response.status_code == 422, path
    assert versions(app) == [retired]
    with app.app_context():
        version = db.session.get_one(InstrumentVersion, version_id)
        version.text += "# changed behind the application's back\n"
        with pytest.raises(PublishedVersionChanged, match="its text never change"):
            db.session.flush()
        db.session.rollback()
    assert versions(app) == [retired]


@pytest.mark.app_config(WTF_CSRF_ENABLED=True)
def test_changing_routes_need_their_csrf_token(
    app: Flask, login: Callable[..., Any], people: People
) -> None:
    """IA4: without the page's token, nothing is stored or published."""
    admin = client_of(app, login, people.admin)
    assert upload(admin, V1).status_code == 400
    page = admin.get("/instruments/")
    token = csrf_token_in(page)
    assert token
    stored = admin.post("/instruments/upload", data={"file": (_bytes(V2), "v2.yaml"),
                                                     "csrf_token": token},
                        content_type="multipart/form-data")
    assert stored.status_code == 302
    version_id = first_id(app)
    assert admin.post(f"/instruments/{version_id}/publish",
                      data={"release_notes": "Go."}).status_code == 400
    assert versions(app)[0][3] is InstrumentStatus.draft
