"""Administrators read the audit log; no route alters it (validation issue, audit part).

ADM01 filters: action, entity, user, cycle, dates; newest first, paged.
ADM02 CSV export of the filtered events, oldest first, safe to open in a spreadsheet.
ADM03 only administrators, and only for the units they administer (plus events tied to no
      unit); bad filter values get a message, not a traceback.
ADM04 no route writes: every admin route is GET-only, and using the pages leaves the
      chain intact (``surveyapp audit verify``).
ADM05 accounts and memberships are audited: creating a user, changing a password, granting
      a role, with who did it and never a password or its hash.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import select, update

from surveyapp.extensions import db
from surveyapp.models import AuditEvent, Role, Unit, UnitKind, User
from surveyapp.services import audit_search
from surveyapp.services.audit import SYSTEM, Actor, record
from surveyapp.services.units import grant_role
from surveyapp.services.users import create_user


@pytest.fixture
def units(make_unit: Callable[..., Unit]) -> dict[str, Unit]:
    car = make_unit("CAR")
    return {
        "CAR": car,
        "CAR-HEALTH": make_unit("CAR-HEALTH", kind=UnitKind.cluster, parent=car),
        "UN": make_unit("UN", kind=UnitKind.un_system),
    }


def add_events(app: Flask, units: dict[str, Unit]) -> None:
    """Four events: an answer in the Health cluster, a cycle, one in UN, an account."""
    with app.app_context():
        record(Actor("fp@example.org", None), "answer.saved", "answer", 11,
               before={"value": 2}, after={"value": 3}, unit_id=units["CAR-HEALTH"].id,
               cycle_id=5)
        record(Actor("coord@example.org", None), "cycle.opened", "cycle", 5,
               before={"state": "draft"}, after={"state": "open"},
               unit_id=units["CAR-HEALTH"].id, cycle_id=5)
        record(Actor("=HYPERLINK(\"http://evil\")", None), "answer.saved", "answer", 12,
               after={"value": "=1+1"}, unit_id=units["UN"].id, cycle_id=9)
        record(SYSTEM, "user.created", "user", 3, after={"email": "new@example.org"})
        db.session.commit()


@pytest.fixture
def admin(make_user: Callable[..., User], units: dict[str, Unit]) -> User:
    return make_user("admin@example.org", role=Role.admin, unit=units["CAR"])


def shown_actions(page: str) -> list[str]:
    return [line.strip()[4:-5] for line in page.splitlines()
            if line.strip().startswith("<td>") and "." in line and line.strip()[4:-5] in {
                "answer.saved", "cycle.opened", "user.created"}]


def test_admin_sees_and_filters_the_events_of_their_units(
    app: Flask, client: FlaskClient, login: Callable[..., Any], admin: User,
    units: dict[str, Unit],
) -> None:
    """ADM01, ADM03: the UN event is outside this admin's units."""
    add_events(app, units)
    login(admin)
    everything = client.get("/admin/audit").get_data(as_text=True)
    assert shown_actions(everything) == ["user.created", "cycle.opened", "answer.saved"]
    assert "HYPERLINK" not in everything
    assert "&#34;value&#34;: 3" in everything or '{"value": 3}' in everything

    assert shown_actions(client.get("/admin/audit?action=answer.saved").get_data(
        as_text=True)) == ["answer.saved"]
    assert shown_actions(client.get("/admin/audit?actor=COORD").get_data(
        as_text=True)) == ["cycle.opened"]
    assert shown_actions(client.get("/admin/audit?entity_type=answer&entity_id=11").get_data(
        as_text=True)) == ["answer.saved"]
    assert shown_actions(client.get("/admin/audit?cycle=5").get_data(
        as_text=True)) == ["cycle.opened", "answer.saved"]
    today = datetime.now(UTC).date().isoformat()
    assert len(shown_actions(client.get(f"/admin/audit?since={today}&until={today}").get_data(
        as_text=True))) == 3
    assert shown_actions(client.get("/admin/audit?until=2000-01-01").get_data(
        as_text=True)) == []


def test_actor_filter_treats_wildcards_as_text(
    app: Flask, client: FlaskClient, login: Callable[..., Any], admin: User,
    units: dict[str, Unit],
) -> None:
    """ADM01: "%" typed in the user filter matches a percent sign, not everything."""
    add_events(app, units)
    login(admin)
    assert shown_actions(client.get("/admin/audit?actor=%25").get_data(as_text=True)) == []


def test_pages_of_events(
    app: Flask, client: FlaskClient, login: Callable[..., Any], admin: User,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """ADM01: newest first, then "Older events"."""
    monkeypatch.setattr(audit_search, "PAGE_SIZE", 2)
    monkeypatch.setattr("surveyapp.admin.views.PAGE_SIZE", 2)
    with app.app_context():
        ids = [record(SYSTEM, "user.created", "user", n).id for n in range(3)]
        db.session.commit()
    login(admin)
    first = client.get("/admin/audit").get_data(as_text=True)
    assert f"?older_than={ids[1]}" in first
    older = client.get(f"/admin/audit?older_than={ids[1]}").get_data(as_text=True)
    assert "<td>user 0</td>" in older and "<td>user 2</td>" not in older
    assert "Older events" not in older


def test_csv_export(
    app: Flask, client: FlaskClient, login: Callable[..., Any], make_user: Callable[..., User],
    units: dict[str, Unit],
) -> None:
    """ADM02: every column, oldest first; a cell a spreadsheet would run as a formula is
    written as text."""
    add_events(app, units)
    login(make_user(role=Role.admin, unit=units["UN"]))
    export = client.get("/admin/audit.csv?action=answer.saved")
    assert export.status_code == 200
    assert export.mimetype == "text/csv"
    assert export.headers["Content-Disposition"] == 'attachment; filename="audit-log.csv"'
    rows = list(csv.DictReader(io.StringIO(export.get_data(as_text=True))))
    assert [row["entity_id"] for row in rows] == ["12"]
    [row] = rows
    assert list(row) == list(audit_search.CSV_COLUMNS)
    assert row["actor_label"] == "'=HYPERLINK(\"http://evil\")"
    assert row["after"] == '{"value": "=1+1"}'
    assert len(row["hash"]) == 64


@pytest.mark.parametrize(("who", "path", "status"), [
    ("anonymous", "/admin/audit", 302),
    ("coordinator", "/admin/audit", 403),
    ("coordinator", "/admin/audit.csv", 403),
    ("admin", "/admin/audit?since=yesterday", 400),
    ("admin", "/admin/audit.csv?cycle=five", 400),
])
def test_refusals(
    app: Flask, login: Callable[..., Any], make_user: Callable[..., User], admin: User,
    units: dict[str, Unit], who: str, path: str, status: int,
) -> None:
    """ADM03."""
    client = app.test_client()
    if who == "coordinator":
        login(make_user(role=Role.coordinator, unit=units["CAR"]), client=client)
    elif who == "admin":
        login(admin, client=client)
    answer = client.get(path)
    assert answer.status_code == status
    if status == 400:
        assert "write it as YYYY-MM-DD" in answer.get_data(as_text=True) or (
            "is not a cycle number" in answer.get_data(as_text=True))


def test_no_admin_route_writes(app: Flask) -> None:
    """ADM04: the blueprint has no route that accepts anything but reading."""
    rules = [rule for rule in app.url_map.iter_rules() if rule.endpoint.startswith("admin.")]
    assert {rule.rule for rule in rules} == {"/admin/audit", "/admin/audit.csv"}
    for rule in rules:
        assert rule.methods is not None and rule.methods <= {"GET", "HEAD", "OPTIONS"}


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
def test_writing_methods_are_refused(
    app: Flask, client: FlaskClient, login: Callable[..., Any], admin: User,
    units: dict[str, Unit], method: str,
) -> None:
    """ADM04."""
    add_events(app, units)
    login(admin)
    assert client.open("/admin/audit", method=method).status_code == 405
    with app.app_context():
        assert len(db.session.scalars(select(AuditEvent)).all()) == 4


def test_reading_keeps_the_chain_intact(
    app: Flask, client: FlaskClient, runner: FlaskCliRunner, login: Callable[..., Any],
    admin: User, units: dict[str, Unit],
) -> None:
    """ADM04, and the done-when: an event altered behind the app's back is named."""
    add_events(app, units)
    login(admin)
    client.get("/admin/audit")
    client.get("/admin/audit.csv")
    assert runner.invoke(args=["audit", "verify"]).exit_code == 0
    with app.app_context():
        first = db.session.scalars(select(AuditEvent.id).order_by(AuditEvent.id)).first()
        db.session.execute(update(AuditEvent).where(AuditEvent.id == first)
                           .values(actor_label="someone else"))
        db.session.commit()
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1
    assert f"audit event {first}: its content does not match its hash" in result.output


def test_accounts_and_memberships_are_audited(
    app: Flask, client: FlaskClient, login: Callable[..., Any], units: dict[str, Unit],
    test_password: str,
) -> None:
    """ADM05."""
    with app.app_context():
        creator = Actor("admin@example.org", None)
        user = create_user("Amina@Example.org", "Amina Diallo", test_password, actor=creator)
        grant_role(user, db.session.get_one(Unit, units["CAR"].id), Role.focal_point,
                   actor=creator)
        grant_role(user, db.session.get_one(Unit, units["CAR"].id), Role.focal_point,
                   actor=creator)  # already held: nothing changes, nothing is recorded
        db.session.commit()
    login("amina@example.org")
    changed = client.post("/auth/password", data={
        "current_password": test_password, "new_password": "a brand new passphrase",
        "confirm_password": "a brand new passphrase"})
    assert changed.status_code == 302
    with app.app_context():
        events = db.session.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
        assert [(e.action, e.actor_label) for e in events] == [
            ("user.created", "admin@example.org"),
            ("membership.granted", "admin@example.org"),
            ("user.password_changed", "amina@example.org"),
        ]
        assert events[0].after == {"email": "amina@example.org", "display_name": "Amina Diallo",
                                   "preferred_language": "en", "active": True}
        assert events[1].after == {"user": "amina@example.org", "unit": "CAR",
                                   "role": "focal_point"}
        assert events[1].unit_id == units["CAR"].id
        password_hash = db.session.scalars(select(User.password_hash)).one()
        for event_ in events:
            text = f"{event_.before} {event_.after}"
            assert "password_hash" not in text and password_hash not in text
            assert test_password not in text and "a brand new passphrase" not in text


def test_layout_links_the_log_for_administrators_only(
    app: Flask, login: Callable[..., Any], make_user: Callable[..., User], admin: User,
    units: dict[str, Unit],
) -> None:
    """ADM03."""
    for who, linked in ((admin, True), (make_user(role=Role.coordinator, unit=units["CAR"]),
                                        False)):
        client = app.test_client()
        login(who, client=client)
        assert ('href="/admin/audit"' in client.get("/").get_data(as_text=True)) is linked
