"""Partner invitations (cycles issue, "Partner invitations", CCPM).

INV01 a coordinator generates N links, or one per pasted or uploaded e-mail address; a link
      is shown once: only the sha256 of its token is stored.
INV02 links are personal and need no account: the partner states their organisation type,
      which is saved on the response and as the answer to the organisation-type item.
INV03 a link expires at the end of its expiry day, can submit once, and can be revoked; an
      invalid, expired, used, revoked or closed link gets a clear page of its own.
INV04 the coordinator sees counts by status and by organisation type and the response rate;
      in an anonymous cycle, never which link (which partner) answered.
INV05 with a mail server, links for addresses are e-mailed; those that fail are shown.
INV06 every route refuses the wrong role, the wrong unit and the wrong state.
"""

from __future__ import annotations

import hashlib
import io
import re
import socket
import socketserver
import threading
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage

import pytest
from babel.dates import format_date
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from surveyapp.extensions import db
from surveyapp.models import (
    Answer,
    AuditEvent,
    Cycle,
    CycleState,
    Invitation,
    ResponseState,
    Unit,
    User,
)
from surveyapp.models.base import now_utc
from surveyapp.services import ServiceError
from surveyapp.services.audit import Actor
from surveyapp.services.invitations import (
    InvitationProblem,
    InvitationStatus,
    create_invitations,
    invitation_summary,
    mark_used,
    parse_email_list,
    resolve_invitation,
    response_for_invitation,
    revoke,
)
from tests.web.evidence_world import CycleIds, World, build_world, make_cycle, set_cycle_state


@pytest.fixture
def world(make_unit: Callable[..., Unit], make_user: Callable[..., User]) -> World:
    return build_world(make_unit, make_user)


@pytest.fixture
def ids(app: Flask, world: World) -> CycleIds:
    """A CCPM cycle, open, whose coordinator questionnaire is answered by the focal point."""
    return make_cycle(app, world, key="ccpm", questionnaire="coordinator", title="WASH 2026")


def links(app: Flask, cycle_id: int, count: int = 1, *, emails: list[str] | None = None,
          expires_on: date | None = None, questionnaire: str = "partner",
          language: str = "en") -> list[tuple[int, str]]:
    """Make links through the service: (invitation id, token)."""
    with app.app_context():
        cycle = db.session.get_one(Cycle, cycle_id)
        created = create_invitations(
            cycle, questionnaire, emails=emails, count=None if emails else count,
            language=language, expires_on=expires_on or date.today() + timedelta(days=10),
            actor=Actor(label="test"))
        db.session.commit()
        return [(invitation.id, token) for invitation, token in created]


def sign_in(app: Flask, login: Callable[..., object], user: User) -> FlaskClient:
    client = app.test_client()
    login(user, client=client)
    return client


# --- INV01: making links -----------------------------------------------------------------


def test_generate_links_shows_them_once_and_stores_only_hashes(
    app: Flask, login: Callable[..., object], world: World, ids: CycleIds,
) -> None:
    """INV01."""
    client = sign_in(app, login, world.coordinator)
    page = client.post(f"/cycles/{ids.cycle}/invitations", data={
        "questionnaire": "partner", "mode": "count", "count": "3", "language": "fr",
        "expires_on": (date.today() + timedelta(days=5)).isoformat()})
    assert page.status_code == 200
    assert page.headers["Cache-Control"] == "no-store"
    text = page.get_data(as_text=True)
    assert "they are shown only once" in text
    shown = sorted(set(_links_in(text)))
    assert len(shown) == 3
    with app.app_context():
        rows = list(db.session.scalars(select(Invitation).order_by(Invitation.id)))
        tokens = [link.rstrip("/").rsplit("/", 1)[1] for link in shown]
        assert sorted(row.token_hash for row in rows) == sorted(
            hashlib.sha256(token.encode()).hexdigest() for token in tokens)
        assert all(row.language == "fr" and row.email is None for row in rows)
        stored = " ".join(str(value) for row in rows for value in vars(row).values())
        events = " ".join(str(event.after) for event in db.session.scalars(select(AuditEvent)))
        assert not any(token in stored or token in events for token in tokens)
        assert db.session.scalars(select(AuditEvent.action)).all() == ["invitations.created"]
    again = client.get(f"/cycles/{ids.cycle}/invitations").get_data(as_text=True)
    assert not any(token in again for token in tokens)


def _links_in(page: str) -> list[str]:
    return re.findall(r"http://localhost/i/[A-Za-z0-9_-]{40,}/", page)


def test_links_for_pasted_and_uploaded_addresses(
    app: Flask, login: Callable[..., object], world: World, ids: CycleIds,
) -> None:
    """INV01: no mail server, so the links are shown with their addresses."""
    client = sign_in(app, login, world.coordinator)
    page = client.post(f"/cycles/{ids.cycle}/invitations", data={
        "questionnaire": "partner", "mode": "emails", "language": "en",
        "emails": "Amina@NGO.example.org, b@un.example.org\nb@un.example.org",
        "email_file": (io.BytesIO(b"email\nc@donor.example.org\n"), "list.csv"),
        "expires_on": date.today().isoformat()}, content_type="multipart/form-data")
    text = page.get_data(as_text=True)
    assert len(set(_links_in(text))) == 3
    with app.app_context():
        assert sorted(db.session.scalars(select(Invitation.email))) == [
            "amina@ngo.example.org", "b@un.example.org", "c@donor.example.org"]
    duplicate = client.post(f"/cycles/{ids.cycle}/invitations", data={
        "questionnaire": "partner", "mode": "emails", "language": "en",
        "emails": "b@un.example.org", "expires_on": date.today().isoformat()})
    assert "already have a link for this questionnaire: b@un.example.org" in (
        duplicate.get_data(as_text=True))


@pytest.mark.parametrize(("text", "message"), [
    ("a@example.org\nnot an address\n", "not e-mail addresses: not, an, address"),
    ("a@example.org; b@", "not e-mail addresses: b@"),
    ("emails only\n", "No e-mail address was found"),
])
def test_email_list_problems_are_named(text: str, message: str) -> None:
    with pytest.raises(ServiceError, match=message):
        parse_email_list(text)


def test_email_list_skips_a_heading_and_duplicates() -> None:
    assert parse_email_list("Email address\n<x@a.org>;X@A.org, 'y@b.org'\n") == [
        "x@a.org", "y@b.org"]


@pytest.mark.parametrize(("change", "message"), [
    ({"questionnaire": "coordinator"}, "not a questionnaire of this cycle that is answered"),
    ({"language": "es"}, "available in en, fr, ar, not “es”"),
    ({"expires_on": date.today() - timedelta(days=1)}, "has already passed"),
    ({"expires_on": date.today() + timedelta(days=400)}, "may not last more than a year"),
    ({"count": 0}, "between 1 and 500"),
    ({"count": 501}, "between 1 and 500"),
])
def test_link_requests_are_checked(
    app: Flask, ids: CycleIds, change: dict[str, object], message: str,
) -> None:
    arguments: dict[str, object] = {"questionnaire": "partner", "count": 2, "language": "en",
                                    "expires_on": date.today()}
    arguments.update(change)
    with app.app_context(), pytest.raises(ServiceError, match=message):
        create_invitations(db.session.get_one(Cycle, ids.cycle),
                           str(arguments.pop("questionnaire")), actor=Actor(label="test"),
                           **arguments)  # type: ignore[arg-type]


def test_form_errors_are_shown_beside_the_fields(
    app: Flask, login: Callable[..., object], world: World, ids: CycleIds,
) -> None:
    client = sign_in(app, login, world.coordinator)
    page = client.post(f"/cycles/{ids.cycle}/invitations", data={
        "questionnaire": "partner", "mode": "count", "count": "2", "language": "en",
        "expires_on": ""})
    text = page.get_data(as_text=True)
    assert "Correct the fields marked below." in text
    assert "Enter the last day the links work" in text
    with app.app_context():
        assert db.session.scalars(select(Invitation)).all() == []


# --- INV02/INV03: using a link -----------------------------------------------------------


def test_partner_states_organisation_type(app: Flask, ids: CycleIds) -> None:
    """INV02."""
    [(invitation_id, token)] = links(app, ids.cycle)
    with app.app_context():
        invitation = resolve_invitation(token)
        with pytest.raises(ServiceError, match="Choose the type of organisation"):
            response_for_invitation(invitation)
        with pytest.raises(ServiceError, match="one of the listed types"):
            response_for_invitation(invitation, organization_type="99")
        response = response_for_invitation(invitation, organization_type="2", language="fr")
        db.session.commit()
        assert (response.organization_type, response.language, response.respondent_id) == (
            "2", "fr", None)
        answer = db.session.scalars(select(Answer).where(Answer.item_id == "q012")).one()
        assert answer.value == 2
        assert response_for_invitation(invitation) is response
        event = db.session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc())).first()
        assert event is not None
        assert (event.action, event.actor_label, event.actor_id) == (
            "response.started", f"invitation {invitation_id}", None)


def _expire(app: Flask, invitation_id: int, moment_offset: timedelta) -> None:
    with app.app_context():
        db.session.get_one(Invitation, invitation_id).expires_at = now_utc() + moment_offset
        db.session.commit()


def test_expiry_day_is_inclusive(app: Flask, ids: CycleIds) -> None:
    """INV03: a link made to expire today still works today."""
    [(_, token)] = links(app, ids.cycle, expires_on=date.today())
    with app.app_context():
        invitation = resolve_invitation(token)
        assert invitation.expires_at.date() == date.today() + timedelta(days=1)


@pytest.mark.parametrize(("setup", "kind", "status", "phrase"), [
    ("garbage", "invalid", 404, "Link not valid"),
    ("unknown", "invalid", 404, "Link not valid"),
    ("expired", "expired", 410, "This link expired at the end of"),
    ("used", "used", 409, "Already submitted"),
    ("revoked", "revoked", 410, "Link withdrawn"),
    ("closed", "closed", 410, "Survey closed"),
    ("draft", "closed", 410, "Survey not open yet"),
])
def test_unusable_links_get_a_clear_page(
    app: Flask, client: FlaskClient, ids: CycleIds, setup: str, kind: str, status: int,
    phrase: str,
) -> None:
    """INV03: through the service, and through the partner's address /i/<token>/."""
    [(invitation_id, token)] = links(app, ids.cycle)
    with app.app_context():
        invitation = db.session.get_one(Invitation, invitation_id)
        if setup == "garbage":
            token = "not-a-token"
        elif setup == "unknown":
            token = "A" * 43
        elif setup == "expired":
            invitation.expires_at = now_utc() - timedelta(minutes=1)
        elif setup == "used":
            mark_used(invitation)
        elif setup == "revoked":
            revoke(invitation, Actor(label="test"))
        db.session.commit()
    if setup in ("closed", "draft"):
        set_cycle_state(app, ids.cycle, CycleState.closed if setup == "closed"
                        else CycleState.draft)
    with app.app_context(), pytest.raises(InvitationProblem) as problem:
        resolve_invitation(token)
    assert problem.value.kind == kind
    page = client.get(f"/i/{token}/")
    assert page.status_code == status
    text = page.get_data(as_text=True)
    assert phrase in text and "Traceback" not in text


def test_problem_page_speaks_the_links_language(
    app: Flask, client: FlaskClient, ids: CycleIds,
) -> None:
    [(invitation_id, token)] = links(app, ids.cycle, language="fr")
    _expire(app, invitation_id, -timedelta(minutes=1))
    page = client.get(f"/i/{token}/").get_data(as_text=True)
    assert 'lang="fr"' in page and "Lien expiré" in page


def test_one_link_submits_once(app: Flask, client: FlaskClient, ids: CycleIds) -> None:
    """INV03: the partner's journey; the second submission gets the "already submitted" page."""
    [(invitation_id, token)] = links(app, ids.cycle)
    landing = client.post(f"/i/{token}/", data={"organization_type": "3", "language": "en"})
    assert landing.status_code == 302
    first = client.post(f"/i/{token}/submit")
    assert first.status_code == 302, first.get_data(as_text=True)
    second = client.post(f"/i/{token}/submit")
    assert second.status_code == 409
    assert "Already submitted" in second.get_data(as_text=True)
    with app.app_context():
        invitation = db.session.get_one(Invitation, invitation_id)
        assert invitation.used_at is not None
        assert invitation.response is not None
        assert invitation.response.state is ResponseState.submitted


def test_a_stale_submission_cannot_use_a_link_twice(app: Flask, ids: CycleIds) -> None:
    """INV03: the conditional update refuses a second use even from an out-of-date copy."""
    [(invitation_id, _)] = links(app, ids.cycle)
    with app.app_context():
        stale = db.session.get_one(Invitation, invitation_id)
        assert stale.used_at is None
        with app.app_context():  # another request, in its own session
            mark_used(db.session.get_one(Invitation, invitation_id))
            db.session.commit()
        with pytest.raises(InvitationProblem) as problem:
            mark_used(stale)
        assert problem.value.kind == "used"


def test_revoking_twice_is_refused(app: Flask, ids: CycleIds) -> None:
    [(invitation_id, _)] = links(app, ids.cycle)
    with app.app_context():
        invitation = db.session.get_one(Invitation, invitation_id)
        revoke(invitation, Actor(label="test"))
        with pytest.raises(ServiceError, match="revoked already"):
            revoke(invitation, Actor(label="test"))


# --- INV04: what the coordinator sees ----------------------------------------------------


def _five_links_in_every_state(app: Flask, cycle_id: int, emails: bool = False) -> None:
    """Unused, started, submitted (organisation type 2), expired, revoked."""
    addresses = [f"partner{n}@example.org" for n in range(5)] if emails else None
    made = links(app, cycle_id, 5, emails=addresses)
    with app.app_context():
        invitations = [db.session.get_one(Invitation, invitation_id) for invitation_id, _ in made]
        response_for_invitation(invitations[1], organization_type="1")
        submitted = response_for_invitation(invitations[2], organization_type="2")
        submitted.state = ResponseState.submitted
        mark_used(invitations[2])
        invitations[3].expires_at = now_utc() - timedelta(days=1)
        revoke(invitations[4], Actor(label="test"))
        db.session.commit()


def test_counts_by_status_and_organisation_type(app: Flask, ids: CycleIds) -> None:
    """INV04."""
    _five_links_in_every_state(app, ids.cycle)
    with app.app_context():
        summary = invitation_summary(db.session.get_one(Cycle, ids.cycle))
    assert summary.by_status == {status: 1 for status in InvitationStatus}
    assert [row.status for row in summary.rows] == [
        InvitationStatus.unused, InvitationStatus.started, InvitationStatus.submitted,
        InvitationStatus.expired, InvitationStatus.revoked]
    assert summary.by_organisation_type == {"2": 1}
    assert (summary.invited, summary.submitted, summary.response_rate) == (4, 1, 0.25)


def test_a_link_revoked_after_submission_still_counts(app: Flask, ids: CycleIds) -> None:
    [(invitation_id, _)] = links(app, ids.cycle)
    with app.app_context():
        invitation = db.session.get_one(Invitation, invitation_id)
        response_for_invitation(invitation, organization_type="4").state = (
            ResponseState.submitted)
        mark_used(invitation)
        revoke(invitation, Actor(label="test"))
        summary = invitation_summary(db.session.get_one(Cycle, ids.cycle))
    assert summary.by_status[InvitationStatus.submitted] == 1
    assert summary.by_organisation_type == {"4": 1}


@pytest.mark.parametrize("anonymous", [False, True])
def test_page_shows_counts_and_hides_who_answered_when_anonymous(
    app: Flask, login: Callable[..., object], world: World, anonymous: bool,
) -> None:
    """INV04."""
    ids = make_cycle(app, world, key="ccpm", questionnaire="coordinator", anonymous=anonymous)
    _five_links_in_every_state(app, ids.cycle, emails=True)
    page = sign_in(app, login, world.coordinator).get(
        f"/cycles/{ids.cycle}/invitations").get_data(as_text=True)
    assert "Response rate:" in page and "<strong>25%</strong>" in page  # as English writes it
    assert "National NGO</td><td>1</td>" in page
    assert "partner2@example.org" in page
    per_link = [">Submitted<", ">Started<", ">Expired<", ">Unused<"]
    if anonymous:
        assert "Status is not shown link by link" in page
        assert all(page.count(status) == 1 for status in per_link)  # the counts' headings only
    else:
        assert all(page.count(status) == 2 for status in per_link)


# --- INV05: e-mail -----------------------------------------------------------------------


class SmtpSink(socketserver.ThreadingTCPServer):
    """Just enough SMTP on 127.0.0.1 to receive messages in a test."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _SmtpHandler)
        self.messages: list[EmailMessage] = []

    @property
    def port(self) -> int:
        return int(self.server_address[1])


class _SmtpHandler(socketserver.StreamRequestHandler):
    server: SmtpSink

    def reply(self, line: bytes) -> None:
        self.wfile.write(line + b"\r\n")

    def handle(self) -> None:
        self.reply(b"220 sink ready")
        body: list[bytes] | None = None
        while line := self.rfile.readline():
            if body is not None:
                if line.rstrip(b"\r\n") == b".":
                    message = message_from_bytes(b"".join(body), policy=policy.default)
                    self.server.messages.append(message)  # type: ignore[arg-type]
                    body = None
                    self.reply(b"250 queued")
                else:
                    body.append(line[1:] if line.startswith(b"..") else line)
                continue
            verb = line[:4].upper()
            if verb == b"DATA":
                body = []
                self.reply(b"354 go on")
            elif verb == b"QUIT":
                self.reply(b"221 bye")
                return
            else:
                self.reply(b"250 ok")


@pytest.fixture
def smtp_sink() -> Iterator[SmtpSink]:
    sink = SmtpSink()
    thread = threading.Thread(target=sink.serve_forever, daemon=True)
    thread.start()
    yield sink
    sink.shutdown()
    sink.server_close()


def test_links_are_emailed_when_a_mail_server_is_set(
    app: Flask, login: Callable[..., object], world: World, smtp_sink: SmtpSink,
) -> None:
    """INV05."""
    ids = make_cycle(app, world, key="ccpm", questionnaire="coordinator", anonymous=True,
                     title="WASH 2026")
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=smtp_sink.port)
    client = sign_in(app, login, world.coordinator)
    expiry = date.today() + timedelta(days=7)
    page = client.post(f"/cycles/{ids.cycle}/invitations", data={
        "questionnaire": "partner", "mode": "emails", "language": "fr",
        "emails": "a@ngo.example.org\nb@ngo.example.org", "expires_on": expiry.isoformat()})
    text = page.get_data(as_text=True)
    assert "2 invitations were sent by e-mail." in text
    assert _links_in(text) == []
    assert sorted(message["To"] for message in smtp_sink.messages) == [
        "a@ngo.example.org", "b@ngo.example.org"]
    message = smtp_sink.messages[0]
    body = message.get_content()
    assert message["Subject"] == "Invitation à répondre : WASH 2026"
    # The expiry day is written out in the link's language ("9 décembre 2026").
    assert f"jusqu'à la fin du {format_date(expiry, 'long', locale='fr')}" in body
    assert "Vos réponses sont anonymes" in body
    assert len(_links_in(body)) == 1


def test_links_that_cannot_be_sent_are_shown(
    app: Flask, login: Callable[..., object], world: World, ids: CycleIds,
) -> None:
    """INV05: a mail server that does not answer: the links are shown to copy instead."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=closed_port, MAIL_TIMEOUT=2)
    client = sign_in(app, login, world.coordinator)
    text = client.post(f"/cycles/{ids.cycle}/invitations", data={
        "questionnaire": "partner", "mode": "emails", "language": "en",
        "emails": "a@ngo.example.org", "expires_on": date.today().isoformat()},
    ).get_data(as_text=True)
    assert "1 invitation could not be sent by e-mail" in text
    assert len(_links_in(text)) >= 1


# --- INV06: who may do what, where and when ----------------------------------------------


#: (route, who, cycle state, expected status).
ACCESS = [
    ("page", "coordinator", CycleState.open, 200),
    ("page", "coordinator", CycleState.closed, 200),
    ("make", "coordinator", CycleState.open, 200),
    ("make", "coordinator", CycleState.draft, 200),
    ("revoke", "coordinator", CycleState.open, 302),
    ("revoke", "coordinator", CycleState.validated, 302),
    *[(route, who, CycleState.open, 403)
      for route in ("page", "make", "revoke")
      for who in ("focal_point", "validator", "viewer")],
    *[(route, who, CycleState.open, 404)
      for route in ("page", "make", "revoke")
      for who in ("stranger_coordinator", "stranger_focal_point")],
    *[("make", "coordinator", state, 403)
      for state in (CycleState.submitted, CycleState.in_review, CycleState.validated,
                    CycleState.closed)],
    ("revoke", "coordinator", CycleState.closed, 403),
]


@pytest.mark.parametrize(("route", "who", "state", "status"), ACCESS,
                         ids=[f"{r}-{w}-{s}-{c}" for r, w, s, c in ACCESS])
def test_route_access(
    app: Flask, login: Callable[..., object], world: World, ids: CycleIds,
    route: str, who: str, state: CycleState, status: int,
) -> None:
    """INV06."""
    [(invitation_id, _)] = links(app, ids.cycle)
    set_cycle_state(app, ids.cycle, state)
    client = sign_in(app, login, getattr(world, who))
    base = f"/cycles/{ids.cycle}/invitations"
    if route == "page":
        response = client.get(base)
    elif route == "make":
        response = client.post(base, data={
            "questionnaire": "partner", "mode": "count", "count": "1", "language": "en",
            "expires_on": date.today().isoformat()})
    else:
        response = client.post(f"{base}/{invitation_id}/revoke")
    assert response.status_code == status
    with app.app_context():
        made = len(db.session.scalars(select(Invitation)).all())
        revoked = db.session.get_one(Invitation, invitation_id).revoked_at is not None
    assert made == (2 if (route, status) == ("make", 200) else 1)
    assert revoked == ((route, status) == ("revoke", 302))


def test_revoking_another_cycles_link_is_not_found(
    app: Flask, login: Callable[..., object], world: World, ids: CycleIds,
) -> None:
    other = make_cycle(app, world, key="ccpm", questionnaire="coordinator", title="Other")
    [(invitation_id, _)] = links(app, other.cycle)
    client = sign_in(app, login, world.coordinator)
    assert client.post(
        f"/cycles/{ids.cycle}/invitations/{invitation_id}/revoke").status_code == 404


def test_partner_sees_nothing_of_other_responses(
    app: Flask, client: FlaskClient, ids: CycleIds,
) -> None:
    """A link opens its own questionnaire only: no evidence, no cycle pages, no downloads."""
    [(_, token)] = links(app, ids.cycle)
    client.post(f"/i/{token}/", data={"organization_type": "3", "language": "en"})
    for path in (f"/cycles/{ids.cycle}/evidence", f"/cycles/{ids.cycle}/invitations",
                 "/evidence/1/download"):
        response = client.get(path)
        assert response.status_code == 302 and "/auth/login" in response.headers["Location"]
