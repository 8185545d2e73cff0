"""Notices of hand-overs: a row per person in the app, and an e-mail when mail is configured.

Every hand-over of the workflow (submitted, returned, resubmitted, validated,
reopened, a new message in a review thread) tells the people who now have
work to do. The e-mail goes out only after the action's transaction commits
(``surveyapp.mail.send_after_commit``), so a refused action notifies no one.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString
from sqlalchemy import exists, func, select, update

from surveyapp.extensions import db
from surveyapp.i18n import LANGUAGES
from surveyapp.mail import send_after_commit, site_link
from surveyapp.models import (
    Cycle,
    CycleParticipant,
    Membership,
    Notification,
    ParticipantRole,
    Role,
    Unit,
    User,
)
from surveyapp.models.base import now_utc
from surveyapp.services import ServiceError

#: What each kind of notice is called in lists and e-mail subjects; other kinds show as written.
KIND_LABELS = {
    "submitted": _l("Submitted"),
    "returned": _l("Returned for changes"),
    "resubmitted": _l("Resubmitted"),
    "validated": _l("Validated"),
    "reopened": _l("Reopened"),
    "message": _l("New message"),
    "assigned": _l("Assigned"),
    "opened": _l("Opened"),
    "closed": _l("Closed"),
    "recommendation": _l("Recommendation"),
}
MESSAGE_MAX = 500
#: The list page shows this many of the latest notices.
LIST_LIMIT = 100


def kind_label(kind: str) -> str:
    label = KIND_LABELS.get(kind)
    return str(label) if label is not None else kind.replace("_", " ").capitalize()


def _shortened(message: str) -> str:
    message = " ".join(message.split())
    return message[: MESSAGE_MAX - 1] + "…" if len(message) > MESSAGE_MAX else message


def notify(
    users: Iterable[User], kind: str, message: str | LazyString, url: str, cycle: Cycle | None
) -> list[Notification]:
    """Tell each user (once, however often listed) that ``message``; ``url`` is where to act.

    A message made with ``lazy_gettext`` is written in each recipient's own language
    (their profile's), in the app and in the e-mail.

    :raises ValueError: for a URL that is not a path on this site (a programming error).
    """
    if not url.startswith("/") or url.startswith("//"):
        raise ValueError(f"notification links stay on this site: {url!r}")
    recipients = list({user.id: user for user in users}.values())
    link = site_link(url)
    notices = []
    for user in recipients:
        language = user.preferred_language if user.preferred_language in LANGUAGES else "en"
        with force_locale(language):
            text = _shortened(str(message))
            notices.append(Notification(user_id=user.id, kind=kind, message=text, url=url,
                                        cycle_id=cycle.id if cycle is not None else None))
            if user.active:
                send_after_commit(
                    user.email,
                    f"[surveyapp] {kind_label(kind)}: {text}",
                    _("%(message)s\n\nOpen it here: %(link)s\n\nAll your notices: %(all)s\n",
                      message=text, link=link, all=site_link("/notifications/")),
                )
    db.session.add_all(notices)
    db.session.flush()
    return notices


def participants(cycle: Cycle, role: ParticipantRole) -> list[User]:
    """The cycle's assigned focal points or validators, to notify them."""
    return list(db.session.scalars(
        select(User).join(CycleParticipant, CycleParticipant.user_id == User.id)
        .where(CycleParticipant.cycle_id == cycle.id, CycleParticipant.role == role)
        .order_by(User.id)
    ))


def coordinators(cycle: Cycle) -> list[User]:
    """The coordinators of the cycle's unit, held there or on a unit above it."""
    lineage = Unit.lineage_cte(cycle.unit_id)
    return list(db.session.scalars(
        select(User).join(Membership, Membership.user_id == User.id)
        .where(Membership.unit_id.in_(select(lineage.c.id)),
               Membership.role == Role.coordinator, User.active.is_(True))
        .distinct().order_by(User.id)
    ))


@dataclass(frozen=True)
class LayoutFacts:
    """What the page header needs to know about the signed-in user."""

    unread: int = 0
    validates: bool = False
    administers: bool = False


def layout_facts(user: User) -> LayoutFacts:
    """Unread notices, and whether to link the review queue and the audit log: one query."""
    unread = (select(func.count(Notification.id))
              .where(Notification.user_id == user.id, Notification.read_at.is_(None))
              .scalar_subquery())
    validates = exists().where(CycleParticipant.user_id == user.id,
                               CycleParticipant.role == ParticipantRole.validator)
    administers = exists().where(Membership.user_id == user.id, Membership.role == Role.admin)
    count, is_validator, is_admin = db.session.execute(
        select(unread, validates, administers)).one()
    return LayoutFacts(int(count or 0), bool(is_validator), bool(is_admin))


def latest(user: User, limit: int = LIST_LIMIT) -> list[Notification]:
    return list(db.session.scalars(
        select(Notification).where(Notification.user_id == user.id)
        .order_by(Notification.id.desc()).limit(limit)
    ))


def mark_read(user: User, notification_id: int) -> Notification:
    """Mark one of the user's own notices read.

    :raises ServiceError: if the notice does not exist or belongs to someone else.
    """
    notice = db.session.get(Notification, notification_id)
    if notice is None or notice.user_id != user.id:
        raise ServiceError(_("There is no such notification."))
    if notice.read_at is None:
        notice.read_at = now_utc()
        db.session.flush()
    return notice


def mark_all_read(user: User) -> int:
    """Mark every unread notice of the user read; return how many there were."""
    result = db.session.execute(
        update(Notification)
        .where(Notification.user_id == user.id, Notification.read_at.is_(None))
        .values(read_at=now_utc())
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
