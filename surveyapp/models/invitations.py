"""Personal invitation links for partner respondents, who have no account."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from surveyapp.extensions import db
from surveyapp.models.base import now_utc

if TYPE_CHECKING:
    from surveyapp.models.responses import Response


class Invitation(db.Model):
    """One link for one partner: the token itself is never stored, only its sha256."""

    __tablename__ = "invitations"

    id: Mapped[int] = mapped_column(primary_key=True)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycles.id", ondelete="CASCADE"), index=True)
    questionnaire: Mapped[str] = mapped_column(String(64))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    #: Where the link was sent, if it was sent by e-mail; generated links have none.
    email: Mapped[str | None] = mapped_column(String(254))
    language: Mapped[str] = mapped_column(String(8), default="en")
    expires_at: Mapped[datetime]
    #: Set when the partner submits: the link then works no more.
    used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=now_utc)

    response: Mapped[Response | None] = relationship(back_populates="invitation")

    def __repr__(self) -> str:
        return f"<Invitation {self.id} cycle={self.cycle_id}>"
