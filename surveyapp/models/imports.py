"""Submission exports from KoboToolbox or ODK imported into a cycle, one row per file.

A coordinator uploads an export, reads the report of what would be taken and refused,
then confirms. The file is kept between the two steps (``content``) so the import is
exactly what was previewed, and dropped once imported. Each imported submission becomes a
response that keeps the submission's own id (``Response.external_id``), so the same
submission cannot be imported twice.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, ForeignKey, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from surveyapp.extensions import db
from surveyapp.models.base import now_utc
from surveyapp.models.users import User

if TYPE_CHECKING:
    from surveyapp.models.cycles import Cycle


class SubmissionImport(db.Model):
    """One uploaded export of submissions for one questionnaire of a cycle."""

    __tablename__ = "submission_imports"

    id: Mapped[int] = mapped_column(primary_key=True)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycles.id", ondelete="CASCADE"), index=True)
    questionnaire: Mapped[str] = mapped_column(String(64))
    #: The uploader's file name, for messages; never a path.
    filename: Mapped[str] = mapped_column(String(255))
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int]
    #: The file between the preview and the import; None once imported.
    content: Mapped[bytes | None] = mapped_column(LargeBinary)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=now_utc)
    imported_at: Mapped[datetime | None]
    #: Submissions that became responses (0 until imported).
    imported: Mapped[int] = mapped_column(default=0, server_default="0")
    #: What the last preview or import found: rows taken and refused, with every problem.
    report: Mapped[dict[str, Any] | None] = mapped_column(JSON)

    cycle: Mapped[Cycle] = relationship()
    created_by: Mapped[User | None] = relationship()

    def __repr__(self) -> str:
        return f"<SubmissionImport {self.id} cycle={self.cycle_id} {self.filename!r}>"
