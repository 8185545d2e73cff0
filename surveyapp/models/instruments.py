"""Stored instrument versions, the overlays units adapt them with, and preview test answers."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint, event, inspect
from sqlalchemy.orm import Mapped, mapped_column, relationship

from surveyapp.extensions import db
from surveyapp.models.base import enum_column_type, now_utc
from surveyapp.models.units import Unit
from surveyapp.models.users import User


class InstrumentStatus(StrEnum):
    """A draft can still be replaced; a published version is immutable; retired opens no cycle."""

    draft = "draft"
    published = "published"
    retired = "retired"

    @property
    def label(self) -> str:
        return str(INSTRUMENT_STATUS_LABELS[self])


INSTRUMENT_STATUS_LABELS = {
    InstrumentStatus.draft: _l("Draft"), InstrumentStatus.published: _l("Published"),
    InstrumentStatus.retired: _l("Retired"),
}


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
    #: Who uploaded the file (None for the bundled library, registered by the system).
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    published_at: Mapped[datetime | None]
    published_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
    published_by: Mapped[User | None] = relationship(foreign_keys=[published_by_id])

    def __repr__(self) -> str:
        return f"<InstrumentVersion {self.key} {self.version} {self.status}>"


#: What makes a version what it is; none of it may change once the version left draft.
IMMUTABLE_FIELDS = ("key", "version", "title", "sha256", "text")


class PublishedVersionChanged(Exception):
    """Raised at flush when code tries to change a published or retired version's text."""


@event.listens_for(InstrumentVersion, "before_update")
def _published_versions_are_immutable(_mapper: Any, _connection: Any,
                                      version: InstrumentVersion) -> None:
    """The last line of defence: whatever route or command asks, a published text stays."""
    state = inspect(version)
    status = state.attrs.status.history
    was = (status.deleted or status.unchanged or [version.status])[0]
    if was is InstrumentStatus.draft:
        return
    changed = [name for name in IMMUTABLE_FIELDS if state.attrs[name].history.has_changes()]
    if changed:
        raise PublishedVersionChanged(
            f"{version.key} {version.version} is {was.value}: its {', '.join(changed)} never "
            "change. Upload the file as a new version instead.")


class InstrumentOverlay(db.Model):
    """One version of a unit's overlay of one published instrument version.

    The newest active overlay of a unit (or of its nearest ancestor) for a version is what
    the unit's new cycles are opened with; a cycle then keeps it, as it keeps its version.
    """

    __tablename__ = "instrument_overlays"
    __table_args__ = (UniqueConstraint("unit_id", "key", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    instrument_version_id: Mapped[int] = mapped_column(
        ForeignKey("instrument_versions.id"), index=True)
    key: Mapped[str] = mapped_column(String(40))
    version: Mapped[str] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(String(300))
    #: sha256 of ``text`` encoded as UTF-8, printed in reports beside the instrument's.
    sha256: Mapped[str] = mapped_column(String(64))
    text: Mapped[str] = mapped_column(Text)
    #: Withdrawn overlays (and those replaced by a newer version) open no new cycle.
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=now_utc)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    unit: Mapped[Unit] = relationship()
    instrument_version: Mapped[InstrumentVersion] = relationship()
    created_by: Mapped[User | None] = relationship()

    def __repr__(self) -> str:
        return f"<InstrumentOverlay {self.key} {self.version} of {self.unit_id}>"


class PreviewAnswers(db.Model):
    """Test answers typed in a preview: scratch data, never in the responses tables.

    One row per person, previewed instrument (and overlay), questionnaire and language;
    ``subject`` names the instrument and overlay in one column so the row is unique.
    Discarded by the person, and for every person when a draft is published (ODK Central's
    draft testing: reference/peers.md, "Form versioning").
    """

    __tablename__ = "preview_answers"
    __table_args__ = (UniqueConstraint("user_id", "subject", "questionnaire", "language"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    instrument_version_id: Mapped[int] = mapped_column(
        ForeignKey("instrument_versions.id", ondelete="CASCADE"), index=True)
    overlay_id: Mapped[int | None] = mapped_column(
        ForeignKey("instrument_overlays.id", ondelete="CASCADE"))
    subject: Mapped[str] = mapped_column(String(40))
    questionnaire: Mapped[str] = mapped_column(String(64))
    language: Mapped[str] = mapped_column(String(8))
    #: Slot key -> {value, not_applicable, justification, comment}, as answers are stored.
    answers: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    updated_at: Mapped[datetime] = mapped_column(default=now_utc, onupdate=now_utc)
    #: Optimistic locking: two autosaves at once cannot silently undo each other.
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 - SQLAlchemy's declaration
