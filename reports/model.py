"""What a report is made from: plain, immutable data that any caller can build.

The offline ``surveyapp report`` command builds it from a responses file; the
web app will build it from a cycle (DESIGN.md "Architecture": reports take
plain data, never ORM objects). Nothing here reads a file or a clock: the
caller passes the date, so the same data always gives the same report.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from instruments.loader import LoadedInstrument
from instruments.overlay import LoadedOverlay
from reports.i18n import LANGUAGES
from scoring import Responses, ScoreReport


@dataclass(frozen=True)
class ReportContext:
    """Who and what the report is about, and in which state and language it is written.

    ``final`` is False while the cycle is in review (a preliminary report,
    marked as such on every page) and True once it is validated.
    """

    unit: str
    generated: dt.date
    cycle: str = ""
    period: str = ""
    final: bool = False
    language: str = "en"

    def __post_init__(self) -> None:
        if self.language not in LANGUAGES:
            raise ValueError(f"language must be one of {', '.join(LANGUAGES)}, "
                             f"not `{self.language}`")


@dataclass(frozen=True)
class NodeReview:
    """The unit's own analysis of one node, written after the preliminary report.

    CCPM: constraints and good practice per sub-function (reference/instruments.md
    section 1.6, item 5); CPAS: the leadership's decision on an output's
    recommendation (seeds/001_782aced7fcf9d02c.txt:64).
    """

    constraints: str = ""
    good_practice: str = ""
    decision: str = ""


@dataclass(frozen=True)
class ActionItem:
    """One action of an action plan, as drafted from the results or as agreed later.

    ``basis`` says in words why the action exists (a rating and score, a stage
    against its target, a recommendation); ``rating`` is the band key of the
    node when it has one, so that renderers can colour it. ``source`` says which
    rule drafted it: ``rating``, ``stage`` or ``recommendation``.
    """

    node: str
    action: str
    basis: str
    rating: str | None = None
    responsible: str = ""
    support: str = ""
    due_quarter: str = ""
    status: str = "draft"
    source: str = ""


@dataclass(frozen=True)
class ReportData:
    """Everything one report shows: context, instrument, results, answers and the unit's work.

    ``responses`` must be the answers ``scores`` was computed from: comments,
    rationales, evidence and justifications are read from them. ``overlay`` is the unit's
    local adaptation the answers were given with (``instrument`` is then as it adapts it):
    the cover and the method notes name it and its sha256.
    """

    context: ReportContext
    instrument: LoadedInstrument
    scores: ScoreReport
    responses: Responses
    actions: tuple[ActionItem, ...] = ()
    reviews: Mapping[str, NodeReview] = field(default_factory=lambda: MappingProxyType({}))
    overlay: LoadedOverlay | None = None

    def __post_init__(self) -> None:
        if (self.scores.instrument, self.scores.version) != (self.instrument.key,
                                                             self.instrument.version):
            raise ValueError(
                f"the scores are of {self.scores.instrument} {self.scores.version}, the "
                f"instrument is {self.instrument.key} {self.instrument.version}"
            )
