"""The shapes the JSON API reads and writes, as pydantic models.

Views validate requests with these models and build every JSON response through them,
and the OpenAPI description (``surveyapp.api.openapi``) is generated from the same
models, so the description cannot drift from what the code does. The scored results
are the JSON shape of ``surveyapp score --json`` (``ScoreReport.to_dict``, documented in
docs/scoring.md "The JSON shape"), checked against :class:`ScoreReportOut` on the way out.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    StrictStr,
)

from reports.i18n import LANGUAGES
from surveyapp.models import CycleState, ParticipantRole, ResponseState, Role
from surveyapp.models.units import UnitKind
from surveyapp.services.invitations import as_utc

#: Shown answers: a code, stage or number; a text, date or yes/no; rubric levels by criterion.
AnswerValue = int | float | str | dict[str, int]
ReportKind = Literal["preliminary", "final"]
#: A moment with its UTC offset: SQLite hands stored UTC times back without one.
Moment = Annotated[datetime, AfterValidator(as_utc)]
PER_PAGE_MAX = 100
ANSWERS_MAX = 1000


class ApiModel(BaseModel):
    """What every API shape shares: immutable, and no field the description lacks."""

    model_config = ConfigDict(frozen=True, extra="forbid")


# --------------------------------------------------------------------------- problems


class FieldError(ApiModel):
    """One refused part of a request: where it is, and what to do."""

    detail: str
    pointer: str | None = Field(
        None, description="JSON pointer into the request body, e.g. `/answers/0/value`.")
    parameter: str | None = Field(None, description="The query parameter refused.")
    item: str | None = Field(
        None, description="The question (its key: item id, and `@node` when asked per "
                          "framework node) that is not answered as it must be.")


class Problem(ApiModel):
    """A problem details object (RFC 9457)."""

    type: str = Field(description="A URI reference naming the kind of problem.")
    title: str
    status: int = Field(ge=400, le=599)
    detail: str = Field(description="What went wrong this time, and what to do about it.")
    errors: list[FieldError] | None = None


# --------------------------------------------------------------------------- cycles


class UnitOut(ApiModel):
    code: str
    name: str
    kind: UnitKind


class InstrumentOut(ApiModel):
    key: str
    version: str
    title: str
    sha256: str = Field(description="sha256 of the exact instrument text the cycle is pinned to.")


class CycleOut(ApiModel):
    id: int
    title: str
    state: CycleState
    unit: UnitOut
    instrument: InstrumentOut
    period_start: date
    period_end: date
    due_on: date | None
    review_due_on: date | None
    anonymous: bool
    report_kind: ReportKind | None = Field(
        description="`preliminary` while the cycle is submitted or in review, `final` once "
                    "validated or closed, null while it is still being answered.")


class CyclePage(ApiModel):
    items: list[CycleOut]
    page: int
    per_page: int
    total: int
    pages: int


class CycleQuery(ApiModel):
    """Filters and paging of the cycle list; every filter is optional."""

    state: list[CycleState] | None = Field(
        None, description="Only cycles in these states (repeat the parameter for several).")
    unit: str | None = Field(None, max_length=64, description="Only cycles of this unit code.")
    instrument: str | None = Field(
        None, max_length=64, description="Only cycles of this instrument key, e.g. `ccpm`.")
    page: int = Field(1, ge=1, le=100_000)
    per_page: int = Field(20, ge=1, le=PER_PAGE_MAX)


class QuestionnaireOut(ApiModel):
    id: str
    title: str
    role: str = Field(description="Who answers it, as the instrument says (`focal_point`, "
                                  "`partner`, ...).")


class PermissionsOut(ApiModel):
    """What the token's user may do with the cycle now (the web's rules, state included)."""

    unit_roles: list[Role]
    assignments: list[ParticipantRole]
    may_manage: bool
    may_answer: bool
    may_review: bool
    may_see_results: bool


class CycleDetail(CycleOut):
    previous_cycle_id: int | None
    questionnaires: list[QuestionnaireOut]
    permissions: PermissionsOut


# --------------------------------------------------------------------------- responses


class PersonOut(ApiModel):
    name: str
    email: str


class CompletionOut(ApiModel):
    answered: int = Field(description="Required questions that apply and are answered.")
    required: int = Field(description="Required questions that apply.")


class ResponseOut(ApiModel):
    id: int
    cycle_id: int
    questionnaire: str
    state: ResponseState
    respondent: PersonOut
    language: str
    started_at: Moment
    submitted_at: Moment | None
    completion: CompletionOut


class ResponseList(ApiModel):
    items: list[ResponseOut]


class AnswerOut(ApiModel):
    value: AnswerValue | None
    not_applicable: bool
    justification: str | None
    comment: str | None
    carried_over: bool = Field(
        description="Copied from the previous cycle and not yet changed or confirmed.")
    updated_at: Moment


class ItemOut(ApiModel):
    """One question of the response (per framework node for items asked per level)."""

    key: str = Field(description="The item id, and `@node` when asked per framework node.")
    item: str
    framework_node: str
    type: str
    page: int
    required: bool = Field(description="Required, and applies under the skip logic.")
    relevant: bool = Field(description="Applies under the skip logic, given the answers so far.")
    complete: bool
    problem: str | None = Field(description="What still keeps it from being submitted.")
    editable: bool
    answer: AnswerOut | None


class ResponseDetail(ResponseOut):
    editable: bool = Field(description="Whether the token's user may change answers now.")
    locked_reason: str | None
    items: list[ItemOut]


class AnswerIn(ApiModel):
    """One question's answer; a part left out stays as it is, a part sent as null is cleared.

    ``value`` is checked as the web form checks it: an option or stage code, a number in
    range, `yes`/`no`, a date `YYYY-MM-DD`, a text within its length.
    """

    item: StrictStr = Field(min_length=1, max_length=64)
    framework_node: StrictStr = Field("", max_length=64)
    value: StrictStr | StrictInt | StrictFloat | None = None
    criteria: dict[str, StrictInt | StrictStr | None] | None = Field(
        None, description="Rubric items: the level of each criterion.")
    not_applicable: StrictBool | None = None
    justification: StrictStr | None = None
    comment: StrictStr | None = None


class AnswersIn(ApiModel):
    answers: list[AnswerIn] = Field(min_length=1, max_length=ANSWERS_MAX)


class SaveResult(ApiModel):
    saved: list[str] = Field(description="Keys of the questions whose answer changed.")
    response: ResponseDetail


# --------------------------------------------------------------------------- me


class MembershipOut(ApiModel):
    role: Role
    unit: UnitOut


class TokenOut(ApiModel):
    name: str
    prefix: str
    created_at: Moment
    expires_on: date | None


class MeOut(ApiModel):
    id: int
    email: str
    name: str
    language: str
    memberships: list[MembershipOut]
    token: TokenOut


#: The languages reports are written in (``reports.i18n``).
ReportLanguage = StrEnum("ReportLanguage", {code: code for code in LANGUAGES})


class ReportQuery(ApiModel):
    lang: ReportLanguage = Field(ReportLanguage("en"), description="The language of the report.")


# --------------------------------------------------------------------------- scores
# The shape of ``surveyapp score --json`` (scoring/results.py, docs/scoring.md).


class ScoreModel(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True,
                              serialize_by_alias=True)


class CodeCountOut(ScoreModel):
    code: int | str | None
    count: int


class QuestionnaireScoreOut(ScoreModel):
    questionnaire: str
    score: float | None
    rating: str | None
    respondents: int


class NodeBaseOut(ScoreModel):
    node: str
    level: str
    parent: str | None


class PercentOut(NodeBaseOut):
    method: Literal["median_of_respondent_means"]
    score: float | None
    rating: str | None
    respondents: int
    items: int
    by_questionnaire: list[QuestionnaireScoreOut]
    gap: float | None


class ActivityRatingOut(ScoreModel):
    item: str
    respondent: str
    rating: int


class ActivitiesOut(ScoreModel):
    counts: list[CodeCountOut]
    rated: list[ActivityRatingOut]


class StageOut(NodeBaseOut):
    method: Literal["holistic_stage"]
    self_stage: int | None
    validated_stage: int | None
    difference: int | None
    stages: list[int]
    activities: ActivitiesOut


class StageSummaryOut(ScoreModel):
    assessed: int
    missing: int
    minimum: int | None = Field(alias="min")
    median: float | None
    maximum: int | None = Field(alias="max")
    modes: list[int]
    counts: dict[str, int]


class DistributionOut(NodeBaseOut):
    method: Literal["stage_distribution"]
    components: list[str]
    self_assessed: StageSummaryOut = Field(alias="self")
    validated: StageSummaryOut


class RubricOut(NodeBaseOut):
    """Besides these keys, one integer key per criterion (`relevance`, `extent`, ...)."""

    model_config = ConfigDict(frozen=True, extra="allow", serialize_by_alias=True)
    __pydantic_extra__: dict[str, int]
    method: Literal["rubric_total"]
    total: int
    rating: str | None
    convention: bool
    respondents: list[str]
    justifications: dict[str, str]


class ListOut(NodeBaseOut):
    method: Literal["list_children"]
    results: list[NodeResultOut]


NodeResultOut = Annotated[
    PercentOut | StageOut | DistributionOut | RubricOut | ListOut,
    Field(discriminator="method"),
]


class TypeRateOut(ScoreModel):
    code: int
    respondents: int
    members: float | None
    rate: float | None
    attending: float | None
    effective_rate: float | None


class ResponseRatesOut(ScoreModel):
    questionnaire: str
    respondents: int
    members: float | None
    rate: float | None
    attending: float | None
    effective_rate: float | None
    by_type: list[TypeRateOut]
    unknown_type: int


class ItemDistributionOut(ScoreModel):
    questionnaire: str
    item: str
    nodes: list[str]
    answers: int
    counts: list[CodeCountOut]


class FrameworkEntryOut(ScoreModel):
    node: str
    level: str
    title: str
    parent: str | None
    section: str | None


class ScoreReportOut(ScoreModel):
    """The scored results, exactly as ``surveyapp score --json`` prints them."""

    instrument: str
    version: str
    sha256: str | None
    min_respondents: int | None
    results: list[NodeResultOut]
    configuration: DistributionOut | None
    response_rates: ResponseRatesOut | None
    distributions: list[ItemDistributionOut]
    framework: list[FrameworkEntryOut]


ListOut.model_rebuild()


class ResultsOut(ApiModel):
    cycle_id: int
    report_kind: ReportKind
    scores: ScoreReportOut
