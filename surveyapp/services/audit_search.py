"""Reading the audit log: filters, what an administrator may see, and the CSV export.

Read only: nothing here writes to ``audit_event`` (``services.audit.record`` is the
only writer). An administrator sees the events of the units they administer and of
every unit below them, and the events tied to no unit (accounts, passwords).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Select, distinct, or_, select

from surveyapp.extensions import db
from surveyapp.models import AuditEvent, Membership, Role, Unit, User

PAGE_SIZE = 100
EXPORT_BATCH = 1000
CSV_COLUMNS = ("id", "occurred_at", "actor_id", "actor_label", "action", "entity_type",
               "entity_id", "unit_id", "cycle_id", "before", "after", "prev_hash", "hash")
#: A cell starting with one of these is read as a formula by spreadsheet programs.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class AuditFilter:
    """What the administrator asked for; empty fields do not filter."""

    action: str = ""
    entity_type: str = ""
    entity_id: str = ""
    actor: str = ""
    cycle_id: int | None = None
    since: date | None = None
    until: date | None = None


def administered_units(user: User) -> list[int]:
    """Ids of every unit the user administers, directly or below a unit they administer."""
    roots = select(Membership.unit_id).where(Membership.user_id == user.id,
                                             Membership.role == Role.admin)
    subtree = Unit.subtree_cte(db.session.scalars(roots).all())
    return list(db.session.scalars(select(distinct(subtree.c.id))))


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def _filtered(audit_filter: AuditFilter, unit_ids: list[int]) -> Select[tuple[AuditEvent]]:
    statement = select(AuditEvent).where(
        or_(AuditEvent.unit_id.is_(None), AuditEvent.unit_id.in_(unit_ids)))
    if audit_filter.action:
        statement = statement.where(AuditEvent.action == audit_filter.action)
    if audit_filter.entity_type:
        statement = statement.where(AuditEvent.entity_type == audit_filter.entity_type)
    if audit_filter.entity_id:
        statement = statement.where(AuditEvent.entity_id == audit_filter.entity_id)
    if audit_filter.actor:
        statement = statement.where(
            AuditEvent.actor_label.ilike(f"%{_escaped(audit_filter.actor)}%", escape="\\"))
    if audit_filter.cycle_id is not None:
        statement = statement.where(AuditEvent.cycle_id == audit_filter.cycle_id)
    if audit_filter.since is not None:
        statement = statement.where(AuditEvent.occurred_at >= _day_start(audit_filter.since))
    if audit_filter.until is not None:
        statement = statement.where(
            AuditEvent.occurred_at < _day_start(audit_filter.until + timedelta(days=1)))
    return statement


def _escaped(text: str) -> str:
    """Make ``%`` and ``_`` typed by the user match themselves in LIKE."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def search(audit_filter: AuditFilter, unit_ids: list[int], *,
           older_than: int | None = None) -> list[AuditEvent]:
    """One page of matching events, newest first; ``older_than`` an event id to page on."""
    statement = _filtered(audit_filter, unit_ids)
    if older_than is not None:
        statement = statement.where(AuditEvent.id < older_than)
    return list(db.session.scalars(statement.order_by(AuditEvent.id.desc()).limit(PAGE_SIZE)))


def known_actions(unit_ids: list[int]) -> list[str]:
    """The actions that occur in the events the administrator may see, for the filter."""
    return list(db.session.scalars(
        select(distinct(AuditEvent.action))
        .where(or_(AuditEvent.unit_id.is_(None), AuditEvent.unit_id.in_(unit_ids)))
        .order_by(AuditEvent.action)))


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, dict | list):
        value = json.dumps(value, ensure_ascii=False, sort_keys=True)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def export_csv(audit_filter: AuditFilter, unit_ids: list[int]) -> Iterator[str]:
    """Every matching event, oldest first, as CSV text in pieces (streamed, batch by batch)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def flush() -> str:
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    writer.writerow(CSV_COLUMNS)
    yield flush()
    last_id = 0
    while True:
        batch = list(db.session.scalars(
            _filtered(audit_filter, unit_ids).where(AuditEvent.id > last_id)
            .order_by(AuditEvent.id).limit(EXPORT_BATCH)))
        if not batch:
            return
        for event in batch:
            writer.writerow([_cell(getattr(event, column)) for column in CSV_COLUMNS])
        yield flush()
        last_id = batch[-1].id
