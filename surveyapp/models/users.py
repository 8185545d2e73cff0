"""People who sign in."""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import TYPE_CHECKING

from flask_login import UserMixin
from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from surveyapp.extensions import db
from surveyapp.models.base import now_utc

if TYPE_CHECKING:
    from surveyapp.models.memberships import Membership

#: Languages a user may prefer: the six official languages of the United Nations.
LANGUAGES = ("ar", "en", "es", "fr", "ru", "zh")


def new_session_token() -> str:
    """Return a fresh random token to identify a user's sessions."""
    return secrets.token_urlsafe(32)


class User(UserMixin, db.Model):
    """A person with an account; what they may do comes from their memberships."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Stored lower-cased, so signing in ignores the case of the address.
    email: Mapped[str] = mapped_column(String(254), unique=True)
    display_name: Mapped[str] = mapped_column(String(120))
    password_hash: Mapped[str] = mapped_column(String(255))
    #: An inactive user cannot sign in, and their open sessions stop working.
    active: Mapped[bool] = mapped_column(default=True)
    #: One of LANGUAGES.
    preferred_language: Mapped[str] = mapped_column(String(8), default="en")
    #: Put in the session cookie instead of the id: replacing it ends every open session.
    session_token: Mapped[str] = mapped_column(String(64), unique=True, default=new_session_token)
    created_at: Mapped[datetime] = mapped_column(default=now_utc)

    memberships: Mapped[list[Membership]] = relationship(
        back_populates="user", cascade="all, delete-orphan"
    )

    def __repr__(self) -> str:
        return f"<User {self.id} {self.email}>"

    @property
    def is_active(self) -> bool:  # type: ignore[override]
        return self.active

    def get_id(self) -> str:
        """Identify the user to Flask-Login by the revocable token, never the primary key."""
        return self.session_token

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password, method="scrypt")

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    def rotate_session_token(self) -> None:
        """End every session opened with the current token."""
        self.session_token = new_session_token()
