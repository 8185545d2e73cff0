"""Action plans and their follow-up: actions, stock-takes, quarter closings, recommendations.

A cycle whose results are final gets an action plan (DESIGN.md "How work flows", steps
5 and 6): actions drafted from its results or added by hand, each with the organisation
that follows it up and a due quarter (reference/instruments.md section 1.6). The person
responsible for an action records its progress at any time; a coordinator closes each
quarter of a unit, which keeps a snapshot of every action so that the next quarterly
report can say what changed. CPAS recommendations wait for leadership's decision before
they become actions (seeds/001_782aced7fcf9d02c.txt:64).

Quarters are written ``2026-Q3`` (``reports.quarters``).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from surveyapp.extensions import db
from surveyapp.models.base import enum_column_type, now_utc
from surveyapp.models.cycles import Cycle
from surveyapp.models.users import User

#: ``2026-Q3``: seven characters.
QUARTER_LENGTH = 7


class ActionStatus(StrEnum):
    """Where an action stands; ``dropped`` always carries the reason."""

    planned = "planned"
    in_progress = "in_progress"
    done = "done"
    delayed = "delayed"
    dropped = "dropped"

    @property
    def label(self) -> str:
        return str(ACTION_STATUS_LABELS[self])


ACTION_STATUS_LABELS = {
    ActionStatus.planned: _l("Planned"), ActionStatus.in_progress: _l("In progress"),
    ActionStatus.done: _l("Done"), ActionStatus.delayed: _l("Delayed"),
    ActionStatus.dropped: _l("Dropped"),
}


class ActionSource(StrEnum):
    """Where an action came from: a draft from the results, a recommendation, or by hand."""

    rating = "rating"
    stage = "stage"
    recommendation = "recommendation"
    manual = "manual"

    @property
    def label(self) -> str:
        return str(ACTION_SOURCE_LABELS[self])


ACTION_SOURCE_LABELS = {
    ActionSource.rating: _l("Drafted from a weak or unsatisfactory rating"),
    ActionSource.stage: _l("Drafted from a stage below its target"),
    ActionSource.recommendation: _l("An approved recommendation"),
    ActionSource.manual: _l("Added by hand"),
}


class RecommendationKind(StrEnum):
    """The four decisions CPAS gives leaders about an output (seeds/001_782aced7fcf9d02c.txt:64)."""

    continue_ = "continue"
    end = "end"
    adapt = "adapt"
    expand = "expand"

    @property
    def label(self) -> str:
        return str(RECOMMENDATION_KIND_LABELS[self])


RECOMMENDATION_KIND_LABELS = {
    RecommendationKind.continue_: _l("Continue"), RecommendationKind.end: _l("End"),
    RecommendationKind.adapt: _l("Adapt"), RecommendationKind.expand: _l("Expand"),
}


class RecommendationStatus(StrEnum):
    pending = "pending"
    approved = "approved"
    rejected = "rejected"

    @property
    def label(self) -> str:
        return str(RECOMMENDATION_STATUS_LABELS[self])


RECOMMENDATION_STATUS_LABELS = {
    RecommendationStatus.pending: _l("Pending"), RecommendationStatus.approved: _l("Approved"),
    RecommendationStatus.rejected: _l("Rejected"),
}


class Action(db.Model):
    """One action of a cycle's plan.

    ``nodes`` lists the instrument (or results framework) nodes the action targets, so
    that the unit's next cycle can show, item by item, what was done about it.
    ``responsible_user`` is the person who records progress: someone holding the focal
    point or coordinator role on the unit (coordinators may always record it too).
    """

    __tablename__ = "actions"

    id: Mapped[int] = mapped_column(primary_key=True)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycles.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(default=0)
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    nodes: Mapped[list[str]] = mapped_column(JSON, default=list)
    responsible_organisation: Mapped[str] = mapped_column(String(200), default="")
    responsible_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    support_required: Mapped[str] = mapped_column(Text, default="")
    support_from: Mapped[str] = mapped_column(String(200), default="")
    start_quarter: Mapped[str | None] = mapped_column(String(QUARTER_LENGTH))
    due_quarter: Mapped[str | None] = mapped_column(String(QUARTER_LENGTH))
    status: Mapped[ActionStatus] = mapped_column(
        enum_column_type(ActionStatus, "status"), default=ActionStatus.planned
    )
    #: Why the action was dropped (required then) or is delayed (optional).
    status_reason: Mapped[str | None] = mapped_column(Text)
    completion_indicator: Mapped[str] = mapped_column(Text, default="")
    source: Mapped[ActionSource] = mapped_column(enum_column_type(ActionSource, "source"))
    #: Why the draft exists, in words: "Weak, 25.00 %", "stage 2 (validated); target 3".
    basis: Mapped[str] = mapped_column(String(500), default="")
    #: The band key of the rating the draft came from, to colour it.
    rating: Mapped[str | None] = mapped_column(String(32))
    recommendation_id: Mapped[int | None] = mapped_column(
        ForeignKey("recommendations.id", ondelete="SET NULL"), unique=True
    )
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=now_utc)
    updated_at: Mapped[datetime] = mapped_column(default=now_utc, onupdate=now_utc)
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 - SQLAlchemy's declaration

    cycle: Mapped[Cycle] = relationship()
    responsible_user: Mapped[User | None] = relationship(foreign_keys=[responsible_user_id])
    progress: Mapped[list[ProgressEntry]] = relationship(
        back_populates="action", cascade="all, delete-orphan",
        order_by="(ProgressEntry.recorded_at, ProgressEntry.id)",
    )

    def __repr__(self) -> str:
        return f"<Action {self.id} cycle={self.cycle_id} {self.status}>"


class ProgressEntry(db.Model):
    """A stock-take of one action: how far it is, in words, with evidence if any."""

    __tablename__ = "progress_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    action_id: Mapped[int] = mapped_column(
        ForeignKey("actions.id", ondelete="CASCADE"), index=True
    )
    #: The quarter the stock-take reports on.
    quarter: Mapped[str] = mapped_column(String(QUARTER_LENGTH))
    percent: Mapped[int]
    note: Mapped[str] = mapped_column(Text, default="")
    #: A document kept in the evidence store (as evidence of the plan's cycle), or a link.
    evidence_id: Mapped[int | None] = mapped_column(
        ForeignKey("evidence.id", ondelete="SET NULL")
    )
    link: Mapped[str | None] = mapped_column(String(2000))
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = mapped_column(default=now_utc)

    action: Mapped[Action] = relationship(back_populates="progress")
    recorded_by: Mapped[User | None] = relationship(lazy="joined")

    def __repr__(self) -> str:
        return f"<ProgressEntry {self.id} action={self.action_id} {self.percent}%>"


class QuarterClosing(db.Model):
    """A coordinator closed a quarter of a unit; ``snapshot`` is every action as it stood.

    ``snapshot`` maps an action id (as text) to ``{"status", "percent", "title"}``; the
    next quarter's report compares against it.
    """

    __tablename__ = "quarter_closings"
    __table_args__ = (UniqueConstraint("unit_id", "quarter"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    quarter: Mapped[str] = mapped_column(String(QUARTER_LENGTH))
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    closed_at: Mapped[datetime] = mapped_column(default=now_utc)
    snapshot: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    closed_by: Mapped[User | None] = relationship(lazy="joined")

    def __repr__(self) -> str:
        return f"<QuarterClosing unit={self.unit_id} {self.quarter}>"


class Recommendation(db.Model):
    """A working group's recommendation about one output, and leadership's decision on it."""

    __tablename__ = "recommendations"

    id: Mapped[int] = mapped_column(primary_key=True)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycles.id", ondelete="CASCADE"), index=True)
    #: The output's code in the cycle's results framework.
    node: Mapped[str] = mapped_column(String(64))
    kind: Mapped[RecommendationKind] = mapped_column(
        enum_column_type(RecommendationKind, "kind")
    )
    text: Mapped[str] = mapped_column(Text, default="")
    owner: Mapped[str] = mapped_column(String(200), default="")
    #: By when, as a quarter (``2026-Q3``).
    timeline: Mapped[str | None] = mapped_column(String(QUARTER_LENGTH))
    status: Mapped[RecommendationStatus] = mapped_column(
        enum_column_type(RecommendationStatus, "status"), default=RecommendationStatus.pending
    )
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None]
    decision_reason: Mapped[str | None] = mapped_column(Text)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=now_utc)
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 - SQLAlchemy's declaration

    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])

    def __repr__(self) -> str:
        return f"<Recommendation {self.id} {self.node} {self.kind} {self.status}>"


class TargetStage(db.Model):
    """The stage a coordinator wants components to reach (JIU); ``node`` "" means every one."""

    __tablename__ = "target_stages"
    __table_args__ = (UniqueConstraint("cycle_id", "node"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycles.id", ondelete="CASCADE"))
    node: Mapped[str] = mapped_column(String(64), default="")
    stage: Mapped[int]
    set_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    set_at: Mapped[datetime] = mapped_column(default=now_utc)

    def __repr__(self) -> str:
        return f"<TargetStage cycle={self.cycle_id} {self.node or 'all'} {self.stage}>"


class StoredResult(db.Model):
    """A final cycle's node results, kept so dashboards need not score every cycle again.

    Valid while ``cycle_version`` equals the cycle's version: any change of the cycle's
    state (a reopening) raises the version, and the results are computed again.
    ``results`` holds the scoring engine's ``to_dict()`` of the percent and stage results.
    """

    __tablename__ = "stored_results"

    cycle_id: Mapped[int] = mapped_column(
        ForeignKey("cycles.id", ondelete="CASCADE"), primary_key=True
    )
    cycle_version: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))
    results: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    #: Respondents by questionnaire, for the minimum group size of anonymous questionnaires.
    respondents: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)
    computed_at: Mapped[datetime] = mapped_column(default=now_utc)

    def __repr__(self) -> str:
        return f"<StoredResult cycle={self.cycle_id} v{self.cycle_version}>"
