"""In-app notifications (validation issue): a badge and a list for every hand-over.

NOT01 notify() writes one notice per person, however often they are listed, and only
      links within the site.
NOT02 the layout shows the unread count, in one query; the list shows every notice.
NOT03 opening a notice marks it read and goes where it points; another person's notice
      is not found; "mark all as read" clears the badge.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event, select

from surveyapp.extensions import db
from surveyapp.models import Notification, User
from surveyapp.services.notifications import LayoutFacts, layout_facts, notify


def send(app: Flask, users: list[User], message: str = "“UNDP RBM 2026” has been validated.",
         url: str = "/cycles/1/results") -> None:
    with app.app_context():
        notify([db.session.get_one(User, user.id) for user in users], "validated", message, url,
               None)
        db.session.commit()


def test_one_notice_per_person(app: Flask, make_user: Callable[..., User]) -> None:
    """NOT01."""
    amina, bo = make_user(), make_user()
    send(app, [amina, bo, amina])
    with app.app_context():
        rows = db.session.scalars(select(Notification).order_by(Notification.user_id)).all()
        assert [(row.user_id, row.kind, row.url) for row in rows] == [
            (amina.id, "validated", "/cycles/1/results"), (bo.id, "validated", "/cycles/1/results")]


@pytest.mark.parametrize("url", ["https://evil.example/", "//evil.example/x", "relative/path"])
def test_links_stay_on_the_site(app: Flask, make_user: Callable[..., User], url: str) -> None:
    """NOT01."""
    user = make_user()
    with app.app_context(), pytest.raises(ValueError, match="stay on this site"):
        notify([db.session.get_one(User, user.id)], "validated", "x", url, None)


def test_badge_and_list(
    app: Flask, client: FlaskClient, login: Callable[..., Any], make_user: Callable[..., User],
) -> None:
    """NOT02."""
    user = make_user()
    login(user)
    assert "unread" not in client.get("/").get_data(as_text=True)
    send(app, [user], "Items of “UNDP RBM 2026” were returned to you.", "/review/")
    send(app, [user])
    home = client.get("/").get_data(as_text=True)
    assert '<span class="badge">2 unread</span>' in home
    listing = client.get("/notifications/").get_data(as_text=True)
    assert "Items of “UNDP RBM 2026” were returned to you." in listing
    assert "Validated" in listing and listing.count(">New</strong>") == 2


def test_layout_facts_take_one_query(app: Flask, make_user: Callable[..., User]) -> None:
    """NOT02: the badge costs one query on every page, whatever the number of notices."""
    user = make_user()
    send(app, [user])
    send(app, [user])
    statements: list[str] = []
    with app.app_context():
        person = db.session.get_one(User, user.id)

        def count(_conn: object, _cursor: object, statement: str, *_rest: object) -> None:
            statements.append(statement)

        event.listen(db.engine, "before_cursor_execute", count)
        try:
            assert layout_facts(person) == LayoutFacts(unread=2)
        finally:
            event.remove(db.engine, "before_cursor_execute", count)
    assert len(statements) == 1


def test_opening_marks_read_and_redirects(
    app: Flask, client: FlaskClient, login: Callable[..., Any], make_user: Callable[..., User],
) -> None:
    """NOT03."""
    user, other = make_user(), make_user()
    send(app, [user, other])
    with app.app_context():
        mine, theirs = (db.session.scalar(select(Notification.id).where(
            Notification.user_id == who.id)) for who in (user, other))
    login(user)
    opened = client.get(f"/notifications/{mine}")
    assert opened.status_code == 302 and opened.headers["Location"] == "/cycles/1/results"
    assert client.get(f"/notifications/{theirs}").status_code == 404
    with app.app_context():
        assert db.session.get_one(Notification, mine).read_at is not None
        assert db.session.get_one(Notification, theirs).read_at is None
    assert "unread" not in client.get("/").get_data(as_text=True)


def test_mark_all_read(
    app: Flask, client: FlaskClient, login: Callable[..., Any], make_user: Callable[..., User],
) -> None:
    """NOT03."""
    user = make_user()
    send(app, [user])
    send(app, [user])
    login(user)
    done = client.post("/notifications/read", follow_redirects=True)
    assert "2 notices marked as read." in done.get_data(as_text=True)
    with app.app_context():
        assert layout_facts(db.session.get_one(User, user.id)).unread == 0


def test_notifications_need_sign_in(client: FlaskClient) -> None:
    assert client.get("/notifications/").status_code == 302
    assert client.post("/notifications/read").status_code == 302
