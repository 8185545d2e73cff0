"""E-mail through SMTP when configured (validation issue), against a sink on 127.0.0.1.

MAIL01 send_mail delivers a plain-text message to the configured server.
MAIL02 header injection through the subject is impossible; malformed addresses are refused.
MAIL03 an unreachable server, or none configured, is a clear MailError, never a traceback.
MAIL04 notices go out only once their transaction commits, never after a rollback, and a
       mail server that is down does not undo the action.
MAIL05 every notice is e-mailed to its active recipients with a link to the site.
"""

from __future__ import annotations

import logging
import socket
import socketserver
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import cast

import pytest
from flask import Flask
from sqlalchemy import select

from surveyapp.extensions import db
from surveyapp.mail import MailError, send_after_commit, send_mail
from surveyapp.models import Notification, User
from surveyapp.services.notifications import notify


@dataclass
class Delivery:
    sender: str
    recipients: list[str]
    message: EmailMessage


@dataclass
class SmtpSink:
    """What the sink received; ``port`` is where it listens on 127.0.0.1."""

    port: int = 0
    deliveries: list[Delivery] = field(default_factory=list)


class _SmtpHandler(socketserver.StreamRequestHandler):
    """Just enough SMTP for smtplib: greeting, EHLO/HELO, MAIL, RCPT, DATA, RSET, NOOP, QUIT."""

    sink: SmtpSink

    def reply(self, line: str) -> None:
        self.wfile.write(f"{line}\r\n".encode())

    def handle(self) -> None:
        self.reply("220 sink ESMTP")
        sender, recipients = "", []
        while line := self.rfile.readline():
            command = line.decode("utf-8", "replace").strip()
            verb = command.split(":")[0].split(" ")[0].upper()
            if verb in ("EHLO", "HELO"):
                self.reply("250 sink")
            elif verb == "MAIL":
                sender, recipients = command.partition(":")[2].strip(" <>"), []
                self.reply("250 OK")
            elif verb == "RCPT":
                recipients.append(command.partition(":")[2].strip(" <>"))
                self.reply("250 OK")
            elif verb == "DATA":
                self.reply("354 end with <CRLF>.<CRLF>")
                self.sink.deliveries.append(Delivery(sender, recipients, self.read_data()))
                self.reply("250 OK")
            elif verb == "QUIT":
                self.reply("221 bye")
                return
            elif verb in ("RSET", "NOOP"):
                self.reply("250 OK")
            else:
                self.reply("502 not implemented")

    def read_data(self) -> EmailMessage:
        lines: list[bytes] = []
        while (line := self.rfile.readline()) not in (b".\r\n", b""):
            line = line[1:] if line.startswith(b"..") else line  # undo dot-stuffing
            lines.append(line.removesuffix(b"\r\n") + b"\n")
        return cast(EmailMessage, message_from_bytes(b"".join(lines), policy=policy.default))


@pytest.fixture
def smtp_sink(app: Flask) -> Iterator[SmtpSink]:
    """An SMTP server on a free loopback port, configured as the app's mail server."""
    sink = SmtpSink()
    handler = type("Handler", (_SmtpHandler,), {"sink": sink})
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    sink.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=sink.port,
                      MAIL_SENDER="surveyapp@example.org",
                      PUBLIC_URL="https://survey.example.org")
    yield sink
    server.shutdown()
    server.server_close()
    thread.join(timeout=10)


def closed_port() -> int:
    """A loopback port nobody listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_send_mail_delivers(app: Flask, smtp_sink: SmtpSink) -> None:
    """MAIL01."""
    with app.app_context():
        send_mail(["amina@example.org", "bo@example.org"], "Invitation to the CCPM survey",
                  "Open your link: https://survey.example.org/i/abc/\n")
    [delivery] = smtp_sink.deliveries
    assert delivery.sender == "surveyapp@example.org"
    assert delivery.recipients == ["amina@example.org", "bo@example.org"]
    message = delivery.message
    assert message["Subject"] == "Invitation to the CCPM survey"
    assert message["To"] == "amina@example.org, bo@example.org"
    assert message["From"] == "surveyapp@example.org"
    assert message.get_content() == "Open your link: https://survey.example.org/i/abc/\n"


def test_subject_cannot_inject_headers(app: Flask, smtp_sink: SmtpSink) -> None:
    """MAIL02."""
    with app.app_context():
        send_mail("amina@example.org", "Hello\r\nBcc: spy@evil.example", "body")
    message = smtp_sink.deliveries[0].message
    assert message["Subject"] == "Hello Bcc: spy@evil.example"
    assert message["Bcc"] is None


@pytest.mark.parametrize("address", ["amina", "a@b", "a b@example.org",
                                     "x@example.org\r\nBcc: spy@evil.example"])
def test_malformed_addresses_are_refused(app: Flask, smtp_sink: SmtpSink, address: str) -> None:
    """MAIL02."""
    with app.app_context(), pytest.raises(MailError, match="is not an e-mail address"):
        send_mail(address, "Subject", "body")
    assert smtp_sink.deliveries == []


def test_unreachable_server_is_a_clear_error(app: Flask) -> None:
    """MAIL03."""
    port = closed_port()
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=port, MAIL_TIMEOUT=2)
    with app.app_context(), pytest.raises(MailError) as refused:
        send_mail("amina@example.org", "Subject", "body")
    assert f"could not be sent through the mail server 127.0.0.1:{port}" in str(refused.value)
    assert "Check MAIL_SERVER, MAIL_PORT and MAIL_SECURITY." in str(refused.value)


def test_no_server_configured(app: Flask) -> None:
    """MAIL03: the caller shows the links instead (invitations)."""
    with app.app_context(), pytest.raises(MailError, match="No mail server is configured"):
        send_mail("amina@example.org", "Subject", "body")


def test_queued_mail_waits_for_commit_and_dies_with_rollback(
    app: Flask, smtp_sink: SmtpSink,
) -> None:
    """MAIL04."""
    with app.app_context():
        send_after_commit("amina@example.org", "Rolled back", "never sent")
        db.session.rollback()
        send_after_commit("amina@example.org", "Committed", "sent")
        assert smtp_sink.deliveries == []
        db.session.commit()
    assert [d.message["Subject"] for d in smtp_sink.deliveries] == ["Committed"]


def test_mail_server_down_does_not_undo_the_action(
    app: Flask, make_user: Callable[..., User], caplog: pytest.LogCaptureFixture,
) -> None:
    """MAIL04: the notice stays in the app; the failure is logged for the administrator."""
    user = make_user("amina@example.org")
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=closed_port(), MAIL_TIMEOUT=2)
    with app.app_context(), caplog.at_level(logging.WARNING, logger="surveyapp.mail"):
        notify([db.session.get_one(User, user.id)], "returned", "Item 1.2 needs changes.",
               "/review/responses/1/returned", None)
        db.session.commit()
        assert db.session.scalars(select(Notification)).one().message == "Item 1.2 needs changes."
    assert "could not be sent" in caplog.text


def test_notices_are_mailed_to_active_recipients(
    app: Flask, smtp_sink: SmtpSink, make_user: Callable[..., User],
) -> None:
    """MAIL05."""
    active = make_user("amina@example.org")
    inactive = make_user("gone@example.org", active=False)
    with app.app_context():
        notify([db.session.get_one(User, who.id) for who in (active, inactive)], "returned",
               "1.2 of “UNDP RBM 2026” needs changes: name the plan.",
               "/review/responses/7/returned", None)
        db.session.commit()
        assert len(db.session.scalars(select(Notification)).all()) == 2
    [delivery] = smtp_sink.deliveries
    assert delivery.recipients == ["amina@example.org"]
    message = delivery.message
    assert message["Subject"] == (
        "[surveyapp] Returned for changes: 1.2 of “UNDP RBM 2026” needs changes: name the plan.")
    body = message.get_content()
    assert "https://survey.example.org/review/responses/7/returned" in body
    assert "https://survey.example.org/notifications" in body
