"""Assessment cycles: one instrument version, one unit, one period, and the people on it."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from flask_babel import lazy_gettext as _l
from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from surveyapp.extensions import db
from surveyapp.models.base import enum_column_type, now_utc
from surveyapp.models.instruments import InstrumentOverlay, InstrumentVersion
from surveyapp.models.units import Unit
from surveyapp.models.users import User

if TYPE_CHECKING:
    from surveyapp.models.responses import FrameworkNode, Response


class CycleState(StrEnum):
    """The workflow of DESIGN.md "How work flows", in order."""

    draft = "draft"
    open = "open"
    submitted = "submitted"
    in_review = "in_review"
    validated = "validated"
    closed = "closed"

    @property
    def label(self) -> str:
        return str(CYCLE_STATE_LABELS[self])


CYCLE_STATE_LABELS = {
    CycleState.draft: _l("Draft"), CycleState.open: _l("Open"),
    CycleState.submitted: _l("Submitted"), CycleState.in_review: _l("In review"),
    CycleState.validated: _l("Validated"), CycleState.closed: _l("Closed"),
}


class ParticipantRole(StrEnum):
    """What a person does in one cycle; the unit membership says what they may do at all."""

    focal_point = "focal_point"
    validator = "validator"


class Cycle(db.Model):
    """An assessment of one unit with one pinned instrument version over one period."""

    __tablename__ = "cycles"

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    instrument_version_id: Mapped[int] = mapped_column(ForeignKey("instrument_versions.id"))
    #: The unit's overlay of that version the cycle was opened with, kept like the version.
    overlay_id: Mapped[int | None] = mapped_column(ForeignKey("instrument_overlays.id"))
    title: Mapped[str] = mapped_column(String(200))
    period_start: Mapped[date]
    period_end: Mapped[date]
    #: Answers are due by this date; the review by ``review_due_on``.
    due_on: Mapped[date | None]
    review_due_on: Mapped[date | None]
    state: Mapped[CycleState] = mapped_column(
        enum_column_type(CycleState, "state"), default=CycleState.draft
    )
    #: Partner answers are shown only as counts by organisation type (CCPM practice).
    anonymous: Mapped[bool] = mapped_column(default=False)
    #: The cycle answers were carried forward from, if any.
    previous_cycle_id: Mapped[int | None] = mapped_column(ForeignKey("cycles.id"))
    #: Why the cycle was last reopened after validation (audited as well).
    reopen_reason: Mapped[str | None] = mapped_column(String(1000))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=now_utc)
    #: Optimistic locking: two people changing the state at once cannot both win.
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 - SQLAlchemy's declaration

    unit: Mapped[Unit] = relationship()
    instrument_version: Mapped[InstrumentVersion] = relationship(lazy="joined")
    overlay: Mapped[InstrumentOverlay | None] = relationship()
    previous_cycle: Mapped[Cycle | None] = relationship(remote_side=[id])
    participants: Mapped[list[CycleParticipant]] = relationship(
        back_populates="cycle", cascade="all, delete-orphan"
    )
    responses: Mapped[list[Response]] = relationship(
        back_populates="cycle", cascade="all, delete-orphan"
    )
    framework_nodes: Mapped[list[FrameworkNode]] = relationship(
        back_populates="cycle", cascade="all, delete-orphan", order_by="FrameworkNode.position"
    )

    def __repr__(self) -> str:
        return f"<Cycle {self.id} {self.title!r} {self.state}>"


class CycleParticipant(db.Model):
    """A focal point or validator assigned to a cycle."""

    __tablename__ = "cycle_participants"
    __table_args__ = (UniqueConstraint("cycle_id", "user_id", "role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycles.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    role: Mapped[ParticipantRole] = mapped_column(enum_column_type(ParticipantRole, "role"))

    cycle: Mapped[Cycle] = relationship(back_populates="participants")
    user: Mapped[User] = relationship(lazy="joined")

    def __repr__(self) -> str:
        return f"<CycleParticipant cycle={self.cycle_id} user={self.user_id} {self.role}>"
