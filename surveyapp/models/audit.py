"""The append-only, tamper-evident audit log (table ``audit_event``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from surveyapp.extensions import db
from surveyapp.models.base import now_utc

#: The ``prev_hash`` of the first event.
GENESIS_HASH = "0" * 64


class AuditEvent(db.Model):
    """Who did what, when, with the values before and after.

    Each event stores the hash of the one before it, and its own hash covers
    every field and that link, so altering or deleting any event breaks the
    chain from there on (``surveyapp audit verify``). ``prev_hash`` is unique:
    two writers racing for the same predecessor cannot both append.
    """

    __tablename__ = "audit_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(default=now_utc)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    #: How the actor is shown even if the account is later removed (an e-mail, "invitation 12").
    actor_label: Mapped[str] = mapped_column(String(254))
    action: Mapped[str] = mapped_column(String(64), index=True)
    entity_type: Mapped[str] = mapped_column(String(64))
    entity_id: Mapped[str] = mapped_column(String(64))
    unit_id: Mapped[int | None] = mapped_column(index=True)
    cycle_id: Mapped[int | None] = mapped_column(index=True)
    before: Mapped[Any | None] = mapped_column(JSON)
    after: Mapped[Any | None] = mapped_column(JSON)
    prev_hash: Mapped[str] = mapped_column(String(64), unique=True)
    hash: Mapped[str] = mapped_column(String(64), unique=True)

    def __repr__(self) -> str:
        return f"<AuditEvent {self.id} {self.action} {self.entity_type}:{self.entity_id}>"
