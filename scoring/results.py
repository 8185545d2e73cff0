"""What comes out of the engine: frozen results, one type per scoring method.

Results carry node ids, levels and everything computed; titles, labels and
colours stay in the instrument, where reports look them up. ``to_dict`` gives
the JSON shape documented in docs/scoring.md, with a fixed key order, so the
same answers always serialise to the same bytes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from scoring.answers import FrameworkNode

#: The rating given instead of a band when too few respondents gave valid answers.
INSUFFICIENT_DATA = "insufficient_data"

JsonDict = dict[str, Any]


@dataclass(frozen=True)
class NodeResult:
    """What every node result has: where the node sits and which method scored it."""

    node: str
    level: str
    parent: str | None
    depth: int
    method: str

    def to_dict(self) -> JsonDict:
        return {"node": self.node, "level": self.level, "parent": self.parent,
                "method": self.method}


# --------------------------------------------------------------------------- CCPM


@dataclass(frozen=True)
class QuestionnaireScore:
    """The score of a node computed over one questionnaire's respondents only."""

    questionnaire: str
    score: float | None
    rating: str | None
    respondents: int

    def to_dict(self) -> JsonDict:
        return {"questionnaire": self.questionnaire, "score": self.score,
                "rating": self.rating, "respondents": self.respondents}


@dataclass(frozen=True)
class PercentResult(NodeResult):
    """``median_of_respondent_means``: a score, its band, and who it rests on.

    ``gap`` is the first questionnaire's score minus the second's when the node
    draws on exactly two (CCPM: coordinator minus partners).
    """

    score: float | None
    rating: str | None
    respondents: int
    items: int
    by_questionnaire: tuple[QuestionnaireScore, ...]
    gap: float | None

    def to_dict(self) -> JsonDict:
        return {
            **super().to_dict(),
            "score": self.score,
            "rating": self.rating,
            "respondents": self.respondents,
            "items": self.items,
            "by_questionnaire": [part.to_dict() for part in self.by_questionnaire],
            "gap": self.gap,
        }

    @classmethod
    def from_dict(cls, data: JsonDict, depth: int = 0) -> PercentResult:
        """The result ``to_dict`` gave, back (the depth is not part of the JSON)."""
        return cls(data["node"], data["level"], data["parent"], depth, data["method"],
                   data["score"], data["rating"], data["respondents"], data["items"],
                   tuple(QuestionnaireScore(**part) for part in data["by_questionnaire"]),
                   data["gap"])


@dataclass(frozen=True)
class CodeCount:
    """How many answered an item with one code; ``code`` None counts blanks."""

    code: int | str | None
    count: int


@dataclass(frozen=True)
class ItemDistribution:
    """The answers given to one scored item of one questionnaire, every code shown."""

    questionnaire: str
    item: str
    nodes: tuple[str, ...]
    counts: tuple[CodeCount, ...]

    @property
    def answers(self) -> int:
        return sum(entry.count for entry in self.counts)

    def to_dict(self) -> JsonDict:
        return {"questionnaire": self.questionnaire, "item": self.item,
                "nodes": list(self.nodes), "answers": self.answers,
                "counts": [{"code": c.code, "count": c.count} for c in self.counts]}


@dataclass(frozen=True)
class TypeRate:
    """Response rates of one organisation type; None where a count is missing."""

    code: int
    respondents: int
    members: float | None
    rate: float | None
    attending: float | None
    effective_rate: float | None

    def to_dict(self) -> JsonDict:
        return {"code": self.code, "respondents": self.respondents, "members": self.members,
                "rate": self.rate, "attending": self.attending,
                "effective_rate": self.effective_rate}


@dataclass(frozen=True)
class ResponseRates:
    """Respondents against the organisations in the unit (rate) and at meetings (effective).

    Rates are percentages; ``unknown_type`` counts respondents who gave no
    organisation type (they count overall, not in any type).
    """

    questionnaire: str
    respondents: int
    members: float | None
    rate: float | None
    attending: float | None
    effective_rate: float | None
    by_type: tuple[TypeRate, ...]
    unknown_type: int

    def to_dict(self) -> JsonDict:
        return {"questionnaire": self.questionnaire, "respondents": self.respondents,
                "members": self.members, "rate": self.rate, "attending": self.attending,
                "effective_rate": self.effective_rate,
                "by_type": [entry.to_dict() for entry in self.by_type],
                "unknown_type": self.unknown_type}


# --------------------------------------------------------------------------- JIU


@dataclass(frozen=True)
class ActivityRating:
    item: str
    respondent: str
    rating: int

    def to_dict(self) -> JsonDict:
        return {"item": self.item, "respondent": self.respondent, "rating": self.rating}


@dataclass(frozen=True)
class ActivitySummary:
    """Supporting activities of a component: how many got each rating, and the list."""

    counts: tuple[CodeCount, ...]
    rated: tuple[ActivityRating, ...]

    def to_dict(self) -> JsonDict:
        return {"counts": [{"code": c.code, "count": c.count} for c in self.counts],
                "rated": [entry.to_dict() for entry in self.rated]}


@dataclass(frozen=True)
class StageResult(NodeResult):
    """``holistic_stage``: the judged stage, self-assessed and validated, side by side."""

    self_stage: int | None
    validated_stage: int | None
    difference: int | None
    stages: tuple[int, ...]
    activities: ActivitySummary

    def to_dict(self) -> JsonDict:
        return {
            **super().to_dict(),
            "self_stage": self.self_stage,
            "validated_stage": self.validated_stage,
            "difference": self.difference,
            "stages": list(self.stages),
            "activities": self.activities.to_dict(),
        }

    @classmethod
    def from_dict(cls, data: JsonDict, depth: int = 0) -> StageResult:
        """The result ``to_dict`` gave, back (the depth is not part of the JSON)."""
        activities = data["activities"]
        return cls(data["node"], data["level"], data["parent"], depth, data["method"],
                   data["self_stage"], data["validated_stage"], data["difference"],
                   tuple(data["stages"]), ActivitySummary(
                       tuple(CodeCount(entry["code"], entry["count"])
                             for entry in activities["counts"]),
                       tuple(ActivityRating(**entry) for entry in activities["rated"])))


@dataclass(frozen=True)
class StageSummary:
    """The distribution of judged stages: never a mean (JIU/NOTE/2017/1 para 87).

    ``median`` of an even count is the mean of the two middle stages and so may
    fall between two stages; it describes the distribution, it is not a stage.
    """

    assessed: int
    missing: int
    minimum: int | None
    median: float | None
    maximum: int | None
    modes: tuple[int, ...]
    counts: tuple[CodeCount, ...]

    def to_dict(self) -> JsonDict:
        return {"assessed": self.assessed, "missing": self.missing, "min": self.minimum,
                "median": self.median, "max": self.maximum, "modes": list(self.modes),
                "counts": {str(c.code): c.count for c in self.counts}}


@dataclass(frozen=True)
class DistributionResult(NodeResult):
    """``stage_distribution``: the configuration of the stages below a node."""

    components: tuple[str, ...]
    self_assessed: StageSummary
    validated: StageSummary

    def to_dict(self) -> JsonDict:
        return {**super().to_dict(), "components": list(self.components),
                "self": self.self_assessed.to_dict(), "validated": self.validated.to_dict()}


# --------------------------------------------------------------------------- CPAS


@dataclass(frozen=True)
class CriterionScore:
    criterion: str
    value: int
    justification: str


@dataclass(frozen=True)
class RubricResult(NodeResult):
    """``rubric_total``: each criterion's level, their total, and the band if one is declared.

    ``convention`` is the band set's flag: True means the bands are the
    instrument file's own reading aid, not doctrine of the framework.
    """

    criteria: tuple[CriterionScore, ...]
    total: int
    rating: str | None
    convention: bool
    respondents: tuple[str, ...]

    def to_dict(self) -> JsonDict:
        return {
            **super().to_dict(),
            **{entry.criterion: entry.value for entry in self.criteria},
            "total": self.total,
            "rating": self.rating,
            "convention": self.convention,
            "respondents": list(self.respondents),
            "justifications": {entry.criterion: entry.justification for entry in self.criteria},
        }


@dataclass(frozen=True)
class ListResult(NodeResult):
    """``list_children``: the results of the scored nodes below (CPAS outcomes and impacts)."""

    results: tuple[NodeResult, ...]

    def to_dict(self) -> JsonDict:
        return {**super().to_dict(), "results": [result.to_dict() for result in self.results]}


# --------------------------------------------------------------------------- report


@dataclass(frozen=True)
class ScoreReport:
    """Everything computed for one assessment of one unit."""

    instrument: str
    version: str
    sha256: str | None
    min_respondents: int | None
    results: tuple[NodeResult, ...]
    configuration: DistributionResult | None
    response_rates: ResponseRates | None
    distributions: tuple[ItemDistribution, ...]
    framework: tuple[FrameworkNode, ...]

    def result(self, node: str) -> NodeResult:
        """The result of one node.

        :raises KeyError: when the node was not scored.
        """
        for result in self.results:
            if result.node == node:
                return result
        raise KeyError(f"no result for node `{node}`")

    def to_dict(self) -> JsonDict:
        return {
            "instrument": self.instrument,
            "version": self.version,
            "sha256": self.sha256,
            "min_respondents": self.min_respondents,
            "results": [result.to_dict() for result in self.results],
            "configuration": self.configuration.to_dict() if self.configuration else None,
            "response_rates": self.response_rates.to_dict() if self.response_rates else None,
            "distributions": [entry.to_dict() for entry in self.distributions],
            "framework": [
                {"node": entry.id, "level": entry.level, "title": entry.title,
                 "parent": entry.parent, "section": entry.section}
                for entry in self.framework
            ],
        }

    def to_json(self) -> str:
        """The report as JSON text: same report, same bytes."""
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=2, allow_nan=False)
