"""Personal invitation links for respondents without an account (CCPM partners, JIU managers).

A link carries a random token (``secrets.token_urlsafe(32)``); only its sha256 is stored,
so a link can be shown once and never again, and a copy of the database opens nothing.
Each link is personal, expires at the end of its expiry day (UTC), can submit answers
once, and can be revoked. The partner states their organisation type; when the cycle is
anonymous, coordinators see counts by organisation type, never who answered what.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum

from flask_babel import force_locale, format_date
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString
from sqlalchemy import select, update
from sqlalchemy.orm.attributes import set_committed_value

from instruments.schema import Instrument, Item, Questionnaire
from surveyapp.extensions import db
from surveyapp.i18n import LANGUAGES as PAGE_LANGUAGES
from surveyapp.i18n import respondent_languages
from surveyapp.mail import MailError, send_mail
from surveyapp.models import Answer, Cycle, CycleState, Invitation, Response, ResponseState
from surveyapp.models.base import now_utc
from surveyapp.services import ServiceError
from surveyapp.services.audit import Actor, record
from surveyapp.services.instrument_versions import cycle_instrument

#: Questionnaire roles answered through invitation links (the contract's "who answers").
INVITATION_ROLES = frozenset({"partner", "senior_manager"})
#: Links can be made while the cycle is prepared or open.
INVITING_STATES = frozenset({CycleState.draft, CycleState.open})
BATCH_MAX = 500
#: How far ahead a link may expire.
EXPIRY_MAX_DAYS = 366
DEFAULT_EXPIRY_DAYS = 30
TOKEN_BYTES = 32
_TOKEN_SHAPE = re.compile(r"^[A-Za-z0-9_-]{20,100}$")
_ADDRESS = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_LIST_SEPARATORS = re.compile(r"[\s,;]+")
#: Around addresses copied from mail programs: <a@b.org>, "a@b.org".
_ADDRESS_WRAPPING = "<>\"'()"
ADDRESS_MAX = 254


class InvitationStatus(StrEnum):
    """Where one link stands, as the coordinator's counts show it."""

    unused = "unused"
    started = "started"
    submitted = "submitted"
    expired = "expired"
    revoked = "revoked"

    @property
    def label(self) -> str:
        return str(INVITATION_STATUS_LABELS[self])


INVITATION_STATUS_LABELS = {
    InvitationStatus.unused: _l("Unused"), InvitationStatus.started: _l("Started"),
    InvitationStatus.submitted: _l("Submitted"), InvitationStatus.expired: _l("Expired"),
    InvitationStatus.revoked: _l("Revoked"),
}


#: (title, message) of each problem; ``%(date)s`` is the expiry day.
PROBLEM_TEXTS: dict[str, tuple[LazyString, LazyString]] = {
    "invalid": (
        _l("Link not valid"),
        _l("This link does not open any questionnaire. Check that you copied the whole link "
           "from your invitation; if it still does not work, ask the person who invited you "
           "for a new one."),
    ),
    "expired": (
        _l("Link expired"),
        _l("This link expired at the end of %(date)s. If answers are still being collected, "
           "ask the coordinator who invited you for a new link."),
    ),
    "used": (
        _l("Already submitted"),
        _l("Answers have already been submitted through this link, and each link can submit "
           "only once. Thank you for taking part. To correct something, contact the "
           "coordinator who invited you."),
    ),
    "revoked": (
        _l("Link withdrawn"),
        _l("The coordinator withdrew this link, so it no longer opens the questionnaire. If "
           "you expected to answer, ask them for a new link."),
    ),
    "closed": (
        _l("Survey closed"),
        _l("This survey is closed: answers are no longer being collected. Thank you for your "
           "interest."),
    ),
    "not_open": (
        _l("Survey not open yet"),
        _l("This survey has not opened yet. Use the link again once the coordinator tells you "
           "it is open."),
    ),
}
#: HTTP status of each problem page: gone for links that worked once, 404 for unknown ones.
PROBLEM_STATUS = {"invalid": 404, "expired": 410, "used": 409, "revoked": 410, "closed": 410}


class InvitationProblem(Exception):
    """A link that cannot be used; ``kind`` is invalid, expired, used, revoked or closed.

    Its title and message are read in the page's language when the page is shown, which
    is the link's ``language`` unless the reader chose another.
    """

    def __init__(self, kind: str, language: str = "en", *, text_key: str | None = None,
                 expires_on: date | None = None) -> None:
        self.kind = kind
        self.language = language
        self.expires_on = expires_on
        self._texts = PROBLEM_TEXTS[text_key or kind]
        super().__init__(self.message)

    @property
    def title(self) -> str:
        return str(self._texts[0])

    @property
    def message(self) -> str:
        day = format_date(self.expires_on, "long") if self.expires_on else ""
        return str(self._texts[1]) % {"date": day}

    @property
    def status(self) -> int:
        return PROBLEM_STATUS.get(self.kind, 400)


# --- Times -------------------------------------------------------------------------------


def as_utc(moment: datetime) -> datetime:
    """SQLite hands timezone-aware columns back naive: they were stored as UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def expiry_moment(expires_on: date) -> datetime:
    """The end of the expiry day: links work through ``expires_on`` itself (UTC)."""
    return datetime.combine(expires_on + timedelta(days=1), time.min, tzinfo=UTC)


def expires_on(invitation: Invitation) -> date:
    """The last day the link works."""
    return (as_utc(invitation.expires_at) - timedelta(days=1)).date()


def default_expiry(cycle: Cycle, today: date) -> date:
    """The cycle's answer deadline when it is ahead, else a month from today."""
    if cycle.due_on and cycle.due_on >= today:
        return cycle.due_on
    return today + timedelta(days=DEFAULT_EXPIRY_DAYS)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


# --- What the instrument says ------------------------------------------------------------


def instrument_of(cycle: Cycle) -> Instrument:
    return cycle_instrument(cycle).instrument


def invitation_questionnaires(cycle: Cycle) -> list[Questionnaire]:
    """The cycle's questionnaires that are answered through links."""
    return [q for q in instrument_of(cycle).questionnaires if q.role in INVITATION_ROLES]


def _questionnaire(cycle: Cycle, questionnaire_id: str) -> Questionnaire:
    for questionnaire in invitation_questionnaires(cycle):
        if questionnaire.id == questionnaire_id:
            return questionnaire
    raise ServiceError(
        _("“%(questionnaire_id)s” is not a questionnaire of this cycle that is answered through "
          "invitation links.", questionnaire_id=questionnaire_id)
    )


def organisation_type_item(questionnaire: Questionnaire) -> Item | None:
    """The item where the respondent states their organisation type, if the form has one."""
    return next((item for item in questionnaire.items if item.role == "organisation_type"), None)


def organisation_types(cycle: Cycle, questionnaire_id: str, language: str = "en"
                       ) -> list[tuple[str, str]]:
    """The (code, label) choices of organisation type, in the instrument's order."""
    item = organisation_type_item(_questionnaire(cycle, questionnaire_id))
    if item is None:
        return []
    return [(str(option.code), option.label.get(language, option.label["en"]))
            for option in item.options]


# --- Creating links ----------------------------------------------------------------------


def parse_email_list(*texts: str) -> list[str]:
    """Addresses from pasted text and uploaded lists: one or more per line, any separator.

    In each text, a first line without any "@" is taken for a column heading and skipped.
    Duplicates (ignoring case) are dropped.

    :raises ServiceError: naming the entries that are not e-mail addresses, or when there is
        no address at all.
    """
    entries: list[str] = []
    for text in texts:
        lines = text.strip().splitlines()
        if lines and "@" not in lines[0]:
            lines = lines[1:]
        cleaned = (entry.strip(_ADDRESS_WRAPPING)
                   for entry in _LIST_SEPARATORS.split("\n".join(lines)))
        entries += [entry for entry in cleaned if entry]
    wrong = [entry for entry in entries
             if not _ADDRESS.match(entry) or len(entry) > ADDRESS_MAX]
    if wrong:
        shown = ", ".join(wrong[:10])
        if len(wrong) > 10:
            shown = _("%(shown)s and %(count)s more", shown=shown, count=len(wrong) - 10)
        raise ServiceError(
            _("These entries are not e-mail addresses: %(shown)s. Put one address per line "
              "(name@example.org) and try again.", shown=shown)
        )
    unique = list(dict.fromkeys(entry.lower() for entry in entries))
    if not unique:
        raise ServiceError(_("No e-mail address was found. Paste or upload at least one."))
    return unique


def _check_request(cycle: Cycle, emails: list[str] | None, count: int | None,
                   language: str, expires_on: date, today: date) -> int:
    """How many links to make, after checking everything asked; ServiceError otherwise."""
    if cycle.state not in INVITING_STATES:
        raise ServiceError(
            _("Links can be made while the cycle is a draft or open; it is %(state)s.",
              state=cycle.state.label.lower()))
    if (emails is None) == (count is None):
        raise ServiceError(_("Either give e-mail addresses or say how many links to make."))
    wanted = len(emails) if emails is not None else int(count or 0)
    if not 1 <= wanted <= BATCH_MAX:
        raise ServiceError(_("Make between 1 and %(batch_max)s links at a time.",
                             batch_max=BATCH_MAX))
    languages = respondent_languages(instrument_of(cycle).languages)
    if language not in languages:
        raise ServiceError(
            _("The questionnaire is available in %(languages)s, not “%(language)s”.",
              languages=", ".join(languages), language=language))
    if expires_on < today:
        raise ServiceError(_("The expiry date %(expires_on)s has already passed.",
                             expires_on=expires_on.isoformat()))
    if expires_on > today + timedelta(days=EXPIRY_MAX_DAYS):
        raise ServiceError(
            _("Links may not last more than a year; choose an expiry date before %(today)s.",
              today=(today + timedelta(days=EXPIRY_MAX_DAYS)).isoformat()))
    return wanted


def create_invitations(
    cycle: Cycle,
    questionnaire: str,
    *,
    emails: list[str] | None = None,
    count: int | None = None,
    language: str,
    expires_on: date,
    actor: Actor,
) -> list[tuple[Invitation, str]]:
    """Make one personal link per address (or ``count`` anonymous links).

    Returns each invitation with its raw token, which exists only in this return value:
    show or send it now, it cannot be recovered.

    :raises ServiceError: the cycle is not a draft or open, the questionnaire is not one
        answered through links, an address already has a live link, or a limit is passed.
    """
    form = _questionnaire(cycle, questionnaire)
    wanted = _check_request(cycle, emails, count, language, expires_on, date.today())
    if emails:
        _refuse_live_duplicates(cycle, form.id, emails)
    addresses: list[str | None] = list(emails) if emails else [None] * wanted
    created: list[tuple[Invitation, str]] = []
    for address in addresses:
        token = secrets.token_urlsafe(TOKEN_BYTES)
        invitation = Invitation(
            cycle_id=cycle.id, questionnaire=form.id, token_hash=token_hash(token),
            email=address, language=language, expires_at=expiry_moment(expires_on),
            created_by_id=actor.user_id)
        db.session.add(invitation)
        created.append((invitation, token))
    db.session.flush()
    record(actor, "invitations.created", "cycle", cycle.id, unit_id=cycle.unit_id,
           cycle_id=cycle.id, after={
               "questionnaire": form.id, "invitations": [inv.id for inv, _ in created],
               "by_email": bool(emails), "language": language,
               "expires_on": expires_on.isoformat()})
    return created


def _refuse_live_duplicates(cycle: Cycle, questionnaire: str, emails: list[str]) -> None:
    """One live link per address and questionnaire: a second would count the partner twice."""
    taken = set(db.session.scalars(
        select(Invitation.email).where(
            Invitation.cycle_id == cycle.id, Invitation.questionnaire == questionnaire,
            Invitation.revoked_at.is_(None), Invitation.email.in_(emails))
    ))
    if taken:
        raise ServiceError(
            _("These addresses already have a link for this questionnaire: %(taken)s. Revoke "
              "those links first if you want to send new ones, or leave the addresses out.",
              taken=', '.join(sorted(taken))))


def invitation_link(token: str, site_root: str) -> str:
    """The address a partner opens: ``<site>/i/<token>/``."""
    return f"{site_root.rstrip('/')}/i/{token}/"


#: Subject and body of the invitation e-mail, written in the invitation's language.
EMAIL_SUBJECT = _l("Invitation to answer: %(title)s")
EMAIL_BODY = _l(
    "You are invited to answer the questionnaire “%(questionnaire)s” for %(title)s.\n\n"
    "Open your personal link:\n%(link)s\n\n"
    "The link is for you alone: do not forward it. It works until the end of %(expires_on)s "
    "(UTC). You can stop and come back with the same link until you submit; after you "
    "submit, the link closes.%(anonymity)s\n")
ANONYMITY_TEXT = _l(
    "\n\nYour answers are anonymous: the coordinators see only counts by type of "
    "organisation, never who answered what.")


def email_invitations(
    cycle: Cycle, created: list[tuple[Invitation, str]], link_for: Callable[[str], str]
) -> list[tuple[Invitation, str]]:
    """Send each addressed link by e-mail; return those that could not be sent.

    The links that failed are handed back with their tokens, so they can be shown to the
    coordinator instead.
    """
    failed: list[tuple[Invitation, str]] = []
    for invitation, token in created:
        if not invitation.email:
            failed.append((invitation, token))
            continue
        language = invitation.language
        questionnaire = _questionnaire(cycle, invitation.questionnaire)
        with force_locale(language if language in PAGE_LANGUAGES else "en"):
            values = {
                "title": cycle.title,
                "questionnaire": questionnaire.title.get(language, questionnaire.title["en"]),
                "link": link_for(token),
                "expires_on": format_date(expires_on(invitation), "long"),
                "anonymity": str(ANONYMITY_TEXT) if cycle.anonymous else "",
            }
            subject, body = str(EMAIL_SUBJECT) % values, str(EMAIL_BODY) % values
        try:
            send_mail(invitation.email, subject, body)
        except MailError:
            failed.append((invitation, token))
    return failed


# --- Using a link ------------------------------------------------------------------------


def resolve_invitation(token: str) -> Invitation:
    """The invitation a link names, if it may still be used to answer.

    :raises InvitationProblem: invalid, revoked, used (already submitted), closed (the cycle
        is not open) or expired, checked in that order.
    """
    if not _TOKEN_SHAPE.match(token or ""):
        raise InvitationProblem("invalid")
    invitation = db.session.scalar(
        select(Invitation).where(Invitation.token_hash == token_hash(token)))
    if invitation is None:
        raise InvitationProblem("invalid")
    language = invitation.language
    if invitation.revoked_at is not None:
        raise InvitationProblem("revoked", language)
    if invitation.used_at is not None:
        raise InvitationProblem("used", language)
    cycle = db.session.get_one(Cycle, invitation.cycle_id)
    if cycle.state is CycleState.draft:
        raise InvitationProblem("closed", language, text_key="not_open")
    if cycle.state is not CycleState.open:
        raise InvitationProblem("closed", language)
    if now_utc() >= as_utc(invitation.expires_at):
        raise InvitationProblem("expired", language, expires_on=expires_on(invitation))
    return invitation


def invitation_language(token: str) -> str | None:
    """The language a link's pages open in: its response's, else the one it was made in."""
    if not _TOKEN_SHAPE.match(token or ""):
        return None
    invitation = db.session.scalar(
        select(Invitation).where(Invitation.token_hash == token_hash(token)))
    if invitation is None:
        return None
    return invitation.response.language if invitation.response else invitation.language


def invitation_actor(invitation: Invitation) -> Actor:
    """How the audit log names a respondent who has no account."""
    return Actor(label=f"invitation {invitation.id}")


def response_for_invitation(
    invitation: Invitation, *, organization_type: str | None = None, language: str | None = None
) -> Response:
    """The link's response, created on first use with the organisation type and language.

    The organisation type is also saved as the answer to the questionnaire's
    organisation-type item, so the form and the counts agree. Later calls may change the
    type or language while the response is a draft.

    :raises ServiceError: a type that is not one of the questionnaire's options, a language
        the instrument lacks, or (on first use) no type when the questionnaire asks for one.
    """
    cycle = db.session.get_one(Cycle, invitation.cycle_id)
    questionnaire = _questionnaire(cycle, invitation.questionnaire)
    type_item = organisation_type_item(questionnaire)
    response = invitation.response
    if organization_type is not None:
        organization_type = _check_organisation_type(type_item, organization_type)
    elif response is None and type_item is not None:
        raise ServiceError(_("Choose the type of organisation you represent."))
    if language is not None and language not in respondent_languages(
            instrument_of(cycle).languages):
        raise ServiceError(_("The questionnaire is not available in “%(language)s”.",
                             language=language))
    if response is None:
        response = Response(
            cycle_id=cycle.id, questionnaire=questionnaire.id, invitation=invitation,
            organization_type=organization_type, language=language or invitation.language)
        db.session.add(response)
        db.session.flush()
        action = "response.started"
    elif response.state is ResponseState.draft and (organization_type or language):
        response.organization_type = organization_type or response.organization_type
        response.language = language or response.language
        action = "response.updated"
    else:
        return response
    if type_item is not None and response.organization_type is not None:
        _save_organisation_answer(response, type_item, response.organization_type)
    db.session.flush()
    record(invitation_actor(invitation), action, "response", response.id, cycle_id=cycle.id,
           unit_id=cycle.unit_id, after={"organization_type": response.organization_type,
                                         "language": response.language})
    return response


def _check_organisation_type(item: Item | None, code: str) -> str:
    code = code.strip()
    codes = [str(option.code) for option in item.options] if item else []
    if code not in codes:
        raise ServiceError(_("Choose one of the listed types of organisation."))
    return code


def _save_organisation_answer(response: Response, item: Item, code: str) -> None:
    answer = db.session.scalar(select(Answer).where(
        Answer.response_id == response.id, Answer.item_id == item.id,
        Answer.framework_node == ""))
    if answer is None:
        answer = Answer(response=response, item_id=item.id, framework_node="")
        db.session.add(answer)
    answer.value = int(code)


def mark_used(invitation: Invitation) -> None:
    """Close the link once its answers are submitted; the second submission is refused.

    A conditional update, so two submissions racing through one link cannot both pass.

    :raises InvitationProblem: ``used`` when answers were already submitted through it.
    """
    moment = now_utc()
    result = db.session.execute(
        update(Invitation)
        .where(Invitation.id == invitation.id, Invitation.used_at.is_(None))
        .values(used_at=moment)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise InvitationProblem("used", invitation.language)
    set_committed_value(invitation, "used_at", moment)  # the row has it already
    record(invitation_actor(invitation), "invitation.used", "invitation", invitation.id,
           cycle_id=invitation.cycle_id, after={"used_at": moment.isoformat()})


def revoke(invitation: Invitation, actor: Actor) -> None:
    """Withdraw a link; answers already submitted through it still count.

    :raises ServiceError: already revoked, or the cycle is closed.
    """
    cycle = db.session.get_one(Cycle, invitation.cycle_id)
    if cycle.state is CycleState.closed:
        raise ServiceError(_("The cycle is closed; its links no longer work anyway."))
    if invitation.revoked_at is not None:
        raise ServiceError(_("This link was revoked already."))
    invitation.revoked_at = now_utc()
    db.session.flush()
    record(actor, "invitation.revoked", "invitation", invitation.id, cycle_id=cycle.id,
           unit_id=cycle.unit_id, after={"revoked_at": invitation.revoked_at.isoformat()})


# --- What the coordinator sees -----------------------------------------------------------


def status_of(invitation: Invitation, response_state: ResponseState | None, now: datetime
              ) -> InvitationStatus:
    """Submitted answers count even if the link was revoked or has expired since."""
    if invitation.used_at is not None:
        return InvitationStatus.submitted
    if invitation.revoked_at is not None:
        return InvitationStatus.revoked
    if now >= as_utc(invitation.expires_at):
        return InvitationStatus.expired
    if response_state is not None:
        return InvitationStatus.started
    return InvitationStatus.unused


@dataclass(frozen=True)
class InvitationRow:
    invitation: Invitation
    status: InvitationStatus


@dataclass
class InvitationSummary:
    """Counts for one cycle: by status, and submitted answers by organisation type."""

    rows: list[InvitationRow] = field(default_factory=list)
    by_status: dict[InvitationStatus, int] = field(default_factory=dict)
    by_organisation_type: dict[str, int] = field(default_factory=dict)

    @property
    def invited(self) -> int:
        """Links that could be answered: all but those revoked before any submission."""
        return sum(count for status, count in self.by_status.items()
                   if status is not InvitationStatus.revoked)

    @property
    def submitted(self) -> int:
        return self.by_status.get(InvitationStatus.submitted, 0)

    @property
    def response_rate(self) -> float | None:
        """Submitted over invited, or None before any link exists."""
        return self.submitted / self.invited if self.invited else None


def invitation_summary(cycle: Cycle) -> InvitationSummary:
    """Every link of the cycle with its status, and the counts, in one query."""
    now = now_utc()
    summary = InvitationSummary()
    statuses: Counter[InvitationStatus] = Counter()
    types: Counter[str] = Counter()
    for invitation, state, organization_type in db.session.execute(
        select(Invitation, Response.state, Response.organization_type)
        .outerjoin(Response, Response.invitation_id == Invitation.id)
        .where(Invitation.cycle_id == cycle.id)
        .order_by(Invitation.created_at, Invitation.id)
    ):
        status = status_of(invitation, state, now)
        summary.rows.append(InvitationRow(invitation, status))
        statuses[status] += 1
        if status is InvitationStatus.submitted:
            types[organization_type or ""] += 1
    summary.by_status = {status: statuses[status] for status in InvitationStatus}
    summary.by_organisation_type = dict(sorted(types.items()))
    return summary


def partner_counts(cycle: Cycle) -> dict[str, int]:
    """Submitted link responses by organisation type code ("" when none was given)."""
    return invitation_summary(cycle).by_organisation_type
