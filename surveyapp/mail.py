"""Outgoing e-mail over SMTP, used only when ``MAIL_SERVER`` is configured.

Two ways to send. :func:`send_mail` sends at once and raises :class:`MailError`
when the server refuses, for a person waiting to know (invitation links).
:func:`send_after_commit` queues a message on the database session and sends it
only once the transaction that caused it has committed: a notice about a
decision that was rolled back is never sent, and a mail server that is down
never undoes the decision (the failure is logged; the in-app notice remains).
"""

from __future__ import annotations

import logging
import re
import smtplib
import ssl
from collections.abc import Iterable
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import make_msgid
from urllib.parse import urljoin

from flask import current_app, has_request_context, request
from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

from surveyapp.extensions import db

log = logging.getLogger(__name__)

#: Where queued messages wait in ``Session.info`` until the transaction ends.
_QUEUE_KEY = "surveyapp.outgoing_mail"
#: Deliberately plain: one @, no spaces, no line breaks (a line break would inject headers).
_ADDRESS = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
SECURITY_MODES = ("", "starttls", "ssl")


class MailError(Exception):
    """The message could not be sent; the text says what to check."""


@dataclass(frozen=True)
class OutgoingMail:
    to: tuple[str, ...]
    subject: str
    body: str


def mail_configured() -> bool:
    return bool(current_app.config.get("MAIL_SERVER"))


def site_link(path: str) -> str:
    """A site path as a link for an e-mail: under PUBLIC_URL, else this request's address."""
    base = current_app.config.get("PUBLIC_URL") or (request.host_url if has_request_context()
                                                     else "")
    return urljoin(base, path) if base else path


def _recipients(to: str | Iterable[str]) -> tuple[str, ...]:
    recipients = (to,) if isinstance(to, str) else tuple(to)
    if not recipients:
        raise MailError("An e-mail needs at least one recipient.")
    for address in recipients:
        if not _ADDRESS.match(address):
            raise MailError(f"'{address}' is not an e-mail address (expected name@example.org).")
    return recipients


def _message(mail: OutgoingMail) -> EmailMessage:
    config = current_app.config
    message = EmailMessage()
    message["From"] = config["MAIL_SENDER"]
    message["To"] = ", ".join(mail.to)
    # Headers cannot hold line breaks: a subject built from user text is folded to one line.
    message["Subject"] = " ".join(mail.subject.split())
    message["Message-ID"] = make_msgid(domain=config["MAIL_SENDER"].rpartition("@")[2] or None)
    message.set_content(mail.body)
    return message


def _deliver(mail: OutgoingMail) -> None:
    config = current_app.config
    host, port = config["MAIL_SERVER"], int(config["MAIL_PORT"])
    security = config.get("MAIL_SECURITY") or ""
    if security not in SECURITY_MODES:
        raise MailError(
            f"MAIL_SECURITY is '{security}'; use one of: starttls, ssl, or leave it empty.")
    timeout = float(config["MAIL_TIMEOUT"])
    try:
        if security == "ssl":
            smtp: smtplib.SMTP = smtplib.SMTP_SSL(
                host, port, timeout=timeout, context=ssl.create_default_context())
        else:
            smtp = smtplib.SMTP(host, port, timeout=timeout)
        with smtp:
            if security == "starttls":
                smtp.starttls(context=ssl.create_default_context())
            if config.get("MAIL_USERNAME"):
                smtp.login(config["MAIL_USERNAME"], config.get("MAIL_PASSWORD") or "")
            smtp.send_message(_message(mail))
    except (OSError, smtplib.SMTPException) as error:
        raise MailError(
            f"The e-mail to {', '.join(mail.to)} could not be sent through the mail server "
            f"{host}:{port} ({error}). Check MAIL_SERVER, MAIL_PORT and MAIL_SECURITY."
        ) from error


def send_mail(to: str | Iterable[str], subject: str, body: str) -> None:
    """Send a plain-text e-mail now.

    :raises MailError: when no mail server is configured, an address is malformed, or the
        server cannot be reached or refuses the message.
    """
    if not mail_configured():
        raise MailError("No mail server is configured (set MAIL_SERVER), so nothing was sent.")
    _deliver(OutgoingMail(_recipients(to), subject, body))


def send_after_commit(to: str | Iterable[str], subject: str, body: str) -> None:
    """Queue an e-mail to go out when the current transaction commits; nothing if unset.

    :raises MailError: for a malformed address, at once, so the caller learns of it.
    """
    if not mail_configured():
        return
    session = db.session()
    if not session.in_transaction():
        session.begin()  # so that a rollback, even of nothing else, discards the message
    queue = session.info.setdefault(_QUEUE_KEY, [])
    queue.append(OutgoingMail(_recipients(to), subject, body))


@event.listens_for(Session, "after_commit")
def _send_queued(session: Session) -> None:
    for mail in session.info.pop(_QUEUE_KEY, []):
        try:
            _deliver(mail)
        except MailError as error:
            log.warning("%s", error)


@event.listens_for(Session, "after_transaction_end")
def _drop_unsent(session: Session, transaction: SessionTransaction) -> None:
    """The outer transaction ended without committing (rolled back or closed): forget its mail."""
    if transaction.parent is None:
        session.info.pop(_QUEUE_KEY, None)
