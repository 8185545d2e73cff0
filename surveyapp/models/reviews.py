"""Validation: per-item decisions, evidence judgements, threads and notifications."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from surveyapp.extensions import db
from surveyapp.models.base import enum_column_type, now_utc
from surveyapp.models.users import User


class Decision(StrEnum):
    accept = "accept"
    request_changes = "request_changes"
    reject = "reject"


class ItemReview(db.Model):
    """A validator's decision on one item in one review round.

    Unique per (response, item, node, round): when two validators decide the
    same item at once, the second insert fails and is shown as a conflict.
    ``answer_snapshot`` keeps what was reviewed, so the next round shows a diff.
    """

    __tablename__ = "item_reviews"
    __table_args__ = (UniqueConstraint("response_id", "item_id", "framework_node", "round"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    response_id: Mapped[int] = mapped_column(ForeignKey("responses.id", ondelete="CASCADE"))
    item_id: Mapped[str] = mapped_column(String(64))
    framework_node: Mapped[str] = mapped_column(String(64), default="")
    round: Mapped[int] = mapped_column(default=1)
    decision: Mapped[Decision] = mapped_column(enum_column_type(Decision, "decision"))
    comment: Mapped[str] = mapped_column(Text)
    #: For stage and rubric items: the value the validator sets, which may differ.
    validated_value: Mapped[Any | None] = mapped_column(JSON)
    answer_snapshot: Mapped[Any | None] = mapped_column(JSON)
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=now_utc)

    reviewer: Mapped[User] = relationship(lazy="joined")
    evidence_reviews: Mapped[list[EvidenceReview]] = relationship(
        back_populates="item_review", cascade="all, delete-orphan"
    )


class EvidenceReview(db.Model):
    """Whether one piece of evidence sufficed for the item it supports."""

    __tablename__ = "evidence_reviews"
    __table_args__ = (UniqueConstraint("item_review_id", "evidence_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    item_review_id: Mapped[int] = mapped_column(
        ForeignKey("item_reviews.id", ondelete="CASCADE")
    )
    evidence_id: Mapped[int] = mapped_column(ForeignKey("evidence.id", ondelete="CASCADE"))
    sufficient: Mapped[bool]
    note: Mapped[str | None] = mapped_column(Text)

    item_review: Mapped[ItemReview] = relationship(back_populates="evidence_reviews")


class ReviewMessage(db.Model):
    """A message in the thread about one item between validator and focal point."""

    __tablename__ = "review_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    response_id: Mapped[int] = mapped_column(
        ForeignKey("responses.id", ondelete="CASCADE"), index=True
    )
    item_id: Mapped[str] = mapped_column(String(64))
    framework_node: Mapped[str] = mapped_column(String(64), default="")
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=now_utc)

    author: Mapped[User] = relationship(lazy="joined")


class Notification(db.Model):
    """An in-app notice of a hand-over (submitted, returned, resubmitted, validated)."""

    __tablename__ = "notifications"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    cycle_id: Mapped[int | None] = mapped_column(ForeignKey("cycles.id", ondelete="CASCADE"))
    message: Mapped[str] = mapped_column(String(500))
    url: Mapped[str] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(default=now_utc)
    read_at: Mapped[datetime | None]
