"""The audit log: append events to a hash chain, and verify the chain.

Every change to answers, evidence, reviews, cycles, plans, users and
memberships is recorded here through :func:`record`. Each event's hash covers
its own fields and the previous event's hash, so editing or deleting any row
breaks every hash from that row on; :func:`verify_chain` finds the first
break. Events are never updated or deleted by the application.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import event as orm_events
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from surveyapp.extensions import db
from surveyapp.models import AuditEvent, User
from surveyapp.models.audit import GENESIS_HASH
from surveyapp.models.base import now_utc

#: How often to retry when another writer appended first (the unique prev_hash refused us).
APPEND_ATTEMPTS = 5
#: PostgreSQL advisory lock that serialises appends until the appending transaction ends.
APPEND_LOCK_KEY = 0x5A0D17
VERIFY_BATCH = 1000


@dataclass(frozen=True)
class Actor:
    """Who acts: a user, or a label for those without an account (an invitation, the CLI)."""

    label: str
    user_id: int | None = None

    @classmethod
    def of(cls, user: User) -> Actor:
        return cls(label=user.email, user_id=user.id)


SYSTEM = Actor(label="system")


def _timestamp(moment: datetime) -> str:
    """A stable text form of a time, whatever timezone handling the database has."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def event_hash(event: AuditEvent) -> str:
    """sha256 over the event's fields and the previous hash, in a canonical JSON form."""
    payload = {
        "occurred_at": _timestamp(event.occurred_at),
        "actor_id": event.actor_id,
        "actor_label": event.actor_label,
        "action": event.action,
        "entity_type": event.entity_type,
        "entity_id": event.entity_id,
        "unit_id": event.unit_id,
        "cycle_id": event.cycle_id,
        "before": event.before,
        "after": event.after,
        "prev_hash": event.prev_hash,
    }
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                           default=str)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _take_append_lock(session: Session) -> None:
    """On PostgreSQL, queue for the audit log's append lock (held until commit)."""
    if session.get_bind().dialect.name == "postgresql":
        session.connection().execute(text("SELECT pg_advisory_xact_lock(:key)"),
                                     {"key": APPEND_LOCK_KEY})


@orm_events.listens_for(Session, "before_flush")
def _lock_before_writing(session: Session, _context: object, _instances: object) -> None:
    """Take the append lock before a transaction's first write, not at its first event.

    Every change is audited, so every writing transaction ends up holding the lock until it
    commits. Taken only at the first event, after the change's own rows were updated, two
    transactions could each hold what the other waits for (one a row lock, then the append
    lock; the other the append lock, then that row): a deadlock. Taken first, writers queue
    in one order, and a row changed meanwhile shows as the optimistic-locking conflict it is.
    """
    if session.new or session.dirty or session.deleted:
        _take_append_lock(session)


def _last_hash() -> str:
    last = db.session.scalar(select(AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1))
    return last or GENESIS_HASH


def _jsonable(value: Any) -> Any:
    """Round-trip through JSON so the stored value and the hashed value are the same."""
    return None if value is None else json.loads(json.dumps(value, default=str))


def record(
    actor: Actor,
    action: str,
    entity_type: str,
    entity_id: object,
    *,
    before: Any = None,
    after: Any = None,
    unit_id: int | None = None,
    cycle_id: int | None = None,
) -> AuditEvent:
    """Append one event to the chain (flushes; the caller commits with its own change).

    On PostgreSQL appends queue on an advisory lock held until commit; elsewhere (SQLite
    serialises writers itself) a lost race shows as a unique ``prev_hash`` and is retried.
    """
    _take_append_lock(db.session())
    for _attempt in range(APPEND_ATTEMPTS):
        event = AuditEvent(
            occurred_at=now_utc(),
            actor_id=actor.user_id,
            actor_label=actor.label,
            action=action,
            entity_type=entity_type,
            entity_id=str(entity_id),
            unit_id=unit_id,
            cycle_id=cycle_id,
            before=_jsonable(before),
            after=_jsonable(after),
            prev_hash=_last_hash(),
        )
        event.hash = event_hash(event)
        try:
            with db.session.begin_nested():
                db.session.add(event)
        except IntegrityError:
            continue  # another writer took this place in the chain: link to theirs
        return event
    raise RuntimeError("the audit log is too busy to append to; try again")


def _events() -> Iterator[AuditEvent]:
    last_id = 0
    while True:
        batch = list(db.session.scalars(
            select(AuditEvent).where(AuditEvent.id > last_id).order_by(AuditEvent.id)
            .limit(VERIFY_BATCH)
        ))
        if not batch:
            return
        yield from batch
        last_id = batch[-1].id


@dataclass(frozen=True)
class ChainBreak:
    """The first event where the chain does not hold, and why."""

    event_id: int
    reason: str


def verify_chain() -> tuple[int, ChainBreak | None]:
    """Check every event in order: (events checked, the first break or None)."""
    expected_prev = GENESIS_HASH
    checked = 0
    for event in _events():
        checked += 1
        if event.prev_hash != expected_prev:
            return checked, ChainBreak(
                event.id, "its link to the previous event does not match: an event before it "
                "was deleted or altered")
        if event_hash(event) != event.hash:
            return checked, ChainBreak(
                event.id, "its content does not match its hash: the event was altered")
        expected_prev = event.hash
    return checked, None
