"""Evidence: files stored by sha256 outside any static folder, and links."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from surveyapp.extensions import db
from surveyapp.models.base import enum_column_type, now_utc

if TYPE_CHECKING:
    from surveyapp.models.responses import Answer


class EvidenceKind(StrEnum):
    file = "file"
    link = "link"


class Evidence(db.Model):
    """A document or a link supporting answers of one cycle; it may support several items."""

    __tablename__ = "evidence"

    id: Mapped[int] = mapped_column(primary_key=True)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycles.id", ondelete="CASCADE"), index=True)
    kind: Mapped[EvidenceKind] = mapped_column(enum_column_type(EvidenceKind, "kind"))
    #: Files: the content address in the evidence store, the size and the type read from bytes.
    sha256: Mapped[str | None] = mapped_column(String(64), index=True)
    size: Mapped[int | None]
    media_type: Mapped[str | None] = mapped_column(String(120))
    #: The uploader's file name, for display and download names only; never a storage path.
    original_name: Mapped[str | None] = mapped_column(String(255))
    url: Mapped[str | None] = mapped_column(String(2000))
    description: Mapped[str] = mapped_column(Text, default="")
    document_date: Mapped[date | None]
    #: The earlier version this one replaces; the old version is kept.
    supersedes_id: Mapped[int | None] = mapped_column(ForeignKey("evidence.id"))
    carried_over: Mapped[bool] = mapped_column(default=False)
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=now_utc)

    links: Mapped[list[EvidenceLink]] = relationship(
        back_populates="evidence", cascade="all, delete-orphan"
    )

    def __repr__(self) -> str:
        return f"<Evidence {self.id} {self.kind} {self.original_name or self.url}>"


class EvidenceLink(db.Model):
    """Evidence attached to the answer it supports."""

    __tablename__ = "evidence_links"
    __table_args__ = (UniqueConstraint("evidence_id", "answer_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    evidence_id: Mapped[int] = mapped_column(ForeignKey("evidence.id", ondelete="CASCADE"))
    answer_id: Mapped[int] = mapped_column(
        ForeignKey("answers.id", ondelete="CASCADE"), index=True
    )

    evidence: Mapped[Evidence] = relationship(back_populates="links", lazy="joined")
    answer: Mapped[Answer] = relationship(back_populates="evidence_links")
