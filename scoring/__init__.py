"""The pure scoring engine: an instrument and answers in, frozen results out.

No Flask, no database, no file access: the web app, the offline ``surveyapp
score`` command and the report builders all call :func:`score` with answers
they have read themselves. Every method is named in the instrument file
(scoring/methods.py); the rules and their sources are in docs/scoring.md.
"""

from scoring.answers import Answer, AnswerProblem, AnswersInvalid, FrameworkNode, Responses
from scoring.engine import score
from scoring.methods import registered
from scoring.results import (
    INSUFFICIENT_DATA,
    ActivityRating,
    ActivitySummary,
    CodeCount,
    CriterionScore,
    DistributionResult,
    ItemDistribution,
    ListResult,
    NodeResult,
    PercentResult,
    QuestionnaireScore,
    ResponseRates,
    RubricResult,
    ScoreReport,
    StageResult,
    StageSummary,
    TypeRate,
)
from scoring.trend import Cycle, NodeTrend, Trend, TrendError, TrendPoint, trend

__all__ = [
    "INSUFFICIENT_DATA",
    "ActivityRating",
    "ActivitySummary",
    "Answer",
    "AnswerProblem",
    "AnswersInvalid",
    "CodeCount",
    "CriterionScore",
    "Cycle",
    "DistributionResult",
    "FrameworkNode",
    "ItemDistribution",
    "ListResult",
    "NodeResult",
    "NodeTrend",
    "PercentResult",
    "QuestionnaireScore",
    "ResponseRates",
    "Responses",
    "RubricResult",
    "ScoreReport",
    "StageResult",
    "StageSummary",
    "Trend",
    "TrendError",
    "TrendPoint",
    "TypeRate",
    "registered",
    "score",
    "trend",
]
