"""Who holds which role on which unit."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from flask_babel import lazy_gettext as _l
from sqlalchemy import ForeignKey, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from surveyapp.extensions import db
from surveyapp.models.base import enum_column_type, now_utc
from surveyapp.models.units import Unit
from surveyapp.models.users import User


class Role(StrEnum):
    """Roles a user holds on a unit (DESIGN.md, "Users and roles"), in display order."""

    admin = "admin"
    coordinator = "coordinator"
    focal_point = "focal_point"
    validator = "validator"
    viewer = "viewer"

    @property
    def label(self) -> str:
        return str(ROLE_LABELS[self])


ROLE_LABELS = {
    Role.admin: _l("Admin"), Role.coordinator: _l("Coordinator"),
    Role.focal_point: _l("Focal point"), Role.validator: _l("Validator"),
    Role.viewer: _l("Viewer"),
}


class Membership(db.Model):
    """A role held by a user on a unit; it applies to the unit's descendants too."""

    __tablename__ = "memberships"
    __table_args__ = (UniqueConstraint("user_id", "unit_id", "role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # No index of its own: the unique constraint below starts with user_id and serves lookups.
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="CASCADE"), index=True)
    role: Mapped[Role] = mapped_column(enum_column_type(Role, "role"))
    created_at: Mapped[datetime] = mapped_column(default=now_utc)

    # Joined: a membership is almost always shown with its unit.
    unit: Mapped[Unit] = relationship(back_populates="memberships", lazy="joined")
    user: Mapped[User] = relationship(back_populates="memberships")

    def __repr__(self) -> str:
        return f"<Membership user={self.user_id} unit={self.unit_id} {self.role}>"
