"""What respondents answer: one response per respondent and questionnaire, one row per answer."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from surveyapp.extensions import db
from surveyapp.models.base import enum_column_type, now_utc
from surveyapp.models.users import User

if TYPE_CHECKING:
    from surveyapp.models.cycles import Cycle
    from surveyapp.models.evidence import EvidenceLink
    from surveyapp.models.invitations import Invitation


class ResponseState(StrEnum):
    """draft -> submitted (locked) -> returned (some items reopened) -> ... -> validated."""

    draft = "draft"
    submitted = "submitted"
    returned = "returned"
    validated = "validated"

    @property
    def label(self) -> str:
        return str(RESPONSE_STATE_LABELS[self])


RESPONSE_STATE_LABELS = {
    ResponseState.draft: _l("Draft"), ResponseState.submitted: _l("Submitted"),
    ResponseState.returned: _l("Returned"), ResponseState.validated: _l("Validated"),
}


class Response(db.Model):
    """One respondent's answers to one questionnaire of a cycle."""

    __tablename__ = "responses"
    __table_args__ = (UniqueConstraint("cycle_id", "external_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycles.id", ondelete="CASCADE"), index=True)
    #: The questionnaire id in the cycle's instrument, e.g. "partner" or "self_assessment".
    questionnaire: Mapped[str] = mapped_column(String(64))
    #: The signed-in respondent; partners answering through an invitation have none.
    respondent_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    invitation_id: Mapped[int | None] = mapped_column(
        ForeignKey("invitations.id"), unique=True
    )
    #: Imported submissions: the import they came from and the submission's own id
    #: (Kobo ``_uuid``, ODK ``instanceID``), unique in the cycle so none is imported twice.
    submission_import_id: Mapped[int | None] = mapped_column(
        ForeignKey("submission_imports.id", ondelete="SET NULL"))
    external_id: Mapped[str | None] = mapped_column(String(200))
    #: CCPM: the partner's organisation type code (reference/instruments.md 1.4, partner q012).
    organization_type: Mapped[str | None] = mapped_column(String(64))
    language: Mapped[str] = mapped_column(String(8), default="en")
    state: Mapped[ResponseState] = mapped_column(
        enum_column_type(ResponseState, "state"), default=ResponseState.draft
    )
    started_at: Mapped[datetime] = mapped_column(default=now_utc)
    submitted_at: Mapped[datetime | None]
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 - SQLAlchemy's declaration

    cycle: Mapped[Cycle] = relationship(back_populates="responses")
    respondent: Mapped[User | None] = relationship()
    invitation: Mapped[Invitation | None] = relationship(back_populates="response")
    answers: Mapped[list[Answer]] = relationship(
        back_populates="response", cascade="all, delete-orphan"
    )

    def __repr__(self) -> str:
        return f"<Response {self.id} cycle={self.cycle_id} {self.questionnaire} {self.state}>"


class Answer(db.Model):
    """The answer to one item (for per-level items, for one node of the unit's framework)."""

    __tablename__ = "answers"
    __table_args__ = (UniqueConstraint("response_id", "item_id", "framework_node"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    response_id: Mapped[int] = mapped_column(ForeignKey("responses.id", ondelete="CASCADE"))
    item_id: Mapped[str] = mapped_column(String(64))
    #: The framework node code for items asked per level (CPAS outputs); "" otherwise.
    framework_node: Mapped[str] = mapped_column(String(64), default="")
    #: A code, number, text, date (ISO) or, for rubric items, a mapping criterion -> level.
    value: Mapped[Any | None] = mapped_column(JSON)
    comment: Mapped[str | None] = mapped_column(Text)
    not_applicable: Mapped[bool] = mapped_column(default=False)
    #: Why "not applicable", or the rubric justification the instrument requires.
    justification: Mapped[str | None] = mapped_column(Text)
    #: Copied from the previous cycle and not yet confirmed by the respondent.
    carried_over: Mapped[bool] = mapped_column(default=False)
    updated_at: Mapped[datetime] = mapped_column(default=now_utc, onupdate=now_utc)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 - SQLAlchemy's declaration

    response: Mapped[Response] = relationship(back_populates="answers")
    evidence_links: Mapped[list[EvidenceLink]] = relationship(
        back_populates="answer", cascade="all, delete-orphan"
    )

    def __repr__(self) -> str:
        return f"<Answer {self.response_id}/{self.item_id} {self.value!r}>"


class FrameworkNode(db.Model):
    """A node of a unit's own results framework (CPAS: impact > outcome > output)."""

    __tablename__ = "framework_nodes"
    __table_args__ = (UniqueConstraint("cycle_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycles.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(String(64))
    #: One of the instrument framework's levels.
    level: Mapped[str] = mapped_column(String(64))
    parent_code: Mapped[str | None] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(500))
    #: The mission section responsible for an output.
    section: Mapped[str | None] = mapped_column(String(200))
    position: Mapped[int] = mapped_column(default=0)

    cycle: Mapped[Cycle] = relationship(back_populates="framework_nodes")

    def __repr__(self) -> str:
        return f"<FrameworkNode {self.code} {self.level}>"
