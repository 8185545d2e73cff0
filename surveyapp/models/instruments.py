"""Stored instrument versions: the exact text every cycle was opened with."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from surveyapp.extensions import db
from surveyapp.models.base import enum_column_type, now_utc


class InstrumentStatus(StrEnum):
    """A draft can still be replaced; a published version is immutable; retired opens no cycle."""

    draft = "draft"
    published = "published"
    retired = "retired"


class InstrumentVersion(db.Model):
    """One version of an instrument file, kept byte for byte so old cycles stay scorable."""

    __tablename__ = "instrument_versions"
    __table_args__ = (UniqueConstraint("key", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(40), index=True)
    version: Mapped[str] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(String(300))
    #: sha256 of ``text`` encoded as UTF-8: what the scoring result is pinned to.
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    text: Mapped[str] = mapped_column(Text)
    status: Mapped[InstrumentStatus] = mapped_column(
        enum_column_type(InstrumentStatus, "status"), default=InstrumentStatus.draft
    )
    release_notes: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=now_utc)
    published_at: Mapped[datetime | None]
    published_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    def __repr__(self) -> str:
        return f"<InstrumentVersion {self.key} {self.version} {self.status}>"
