"""The instrument format: frozen pydantic models that every instrument file must satisfy.

An instrument is a declarative description of an assessment framework. It has
metadata, a tree of scored nodes (pillar > component; function > sub-function >
indicator; impact > outcome > output), one or more questionnaires whose items
attach to nodes, and the scoring declarations (methods, scales, bands) that the
pure scoring engine reads. Nothing framework-specific lives in code: a new
framework is a new file. ``instruments/README.md`` documents the format for
non-programmers.

Cross-field rules (unique ids, references, band coverage, skip logic) are
checked in ``instruments.checks`` so that each problem can be reported with its
location in the file rather than as the first exception pydantic meets.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    field_validator,
)

# Identifiers are what people type in responses files and URLs: keep them plain.
ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$"
KEY_PATTERN = r"^[a-z0-9][a-z0-9\-]*$"
LANG_PATTERN = r"^[a-z]{2}$"
COLOUR_PATTERN = r"^#[0-9a-fA-F]{6}$"

Identifier = Annotated[str, Field(pattern=ID_PATTERN, min_length=1, max_length=64)]


class Model(BaseModel):
    """Base for every instrument model: immutable and strict about unknown keys."""

    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)


def _text_from_plain_string(value: object) -> object:
    """A plain string is shorthand for English text: ``label: Weak`` == ``label: {en: Weak}``."""
    if isinstance(value, str):
        return {"en": value}
    return value


def _check_languages(value: dict[str, str]) -> dict[str, str]:
    if "en" not in value:
        raise ValueError("text needs an English version: add an `en:` entry")
    for lang, text in value.items():
        if len(lang) != 2 or not lang.isalpha() or not lang.islower():
            raise ValueError(f"`{lang}` is not a two-letter language code such as en or fr")
        if not text.strip():
            raise ValueError(f"the `{lang}` text is empty: write it or remove the entry")
    return value


LocalText = Annotated[
    dict[str, str],
    BeforeValidator(_text_from_plain_string),
    AfterValidator(_check_languages),
]
"""Text in several languages, keyed by two-letter code; English is always present."""


class Source(Model):
    """A document the instrument draws on; nodes and items cite it by ``id``."""

    id: Identifier
    title: str
    reference: str = Field(description="file and line or section, e.g. seeds/002_....txt:2228")
    url: str | None = None


# --------------------------------------------------------------------------- scales


class Option(Model):
    """One coded answer of a single-choice item.

    ``score`` is the value the option contributes; an option with ``excluded``
    set (don't know, does not exist, not applicable) is recorded but left out
    of every score (reference/instruments.md section 1.4, codes 99/999/9999).
    """

    code: int
    label: LocalText
    score: float | None = None
    excluded: Literal["dont_know", "does_not_exist", "not_applicable"] | None = None


class ChoiceScale(Model):
    """A reusable list of coded options (SAMM-style answer set)."""

    id: Identifier
    options: tuple[Option, ...] = Field(min_length=2)


class Stage(Model):
    """One stage of a stage-choice item with its descriptor (JIU annex IX)."""

    stage: int = Field(ge=1, le=10)
    title: LocalText
    descriptor: LocalText
    source: str | None = None
    note: str | None = Field(default=None, description="a recorded source defect or resolution")


class RubricLevel(Model):
    level: int = Field(ge=0, le=10)
    descriptor: LocalText


class RubricCriterion(Model):
    """A criterion of a rubric item, e.g. CPAS relevance, extent or duration."""

    id: Identifier
    label: LocalText
    definition: LocalText | None = None
    levels: tuple[RubricLevel, ...] = Field(min_length=2)
    source: str | None = None


# --------------------------------------------------------------------------- items


class Evidence(Model):
    """What counts as evidence for an item and whether some must be attached."""

    expected: bool = True
    required: bool = False
    description: LocalText | None = None
    alternative: LocalText | None = Field(
        default=None, description="what may stand in for documents, e.g. names of informants"
    )


class NotApplicable(Model):
    """Declares that an item may be answered "not applicable"; a justification is always asked."""

    allowed: bool = True
    prompt: LocalText | None = None


ItemType = Literal[
    "single_choice", "stage", "rubric", "yes_no", "number", "text", "date"
]


class Item(Model):
    """A question. ``node`` or ``nodes`` attach it to the scored tree.

    Which fields apply depends on ``type``: ``options`` or ``scale`` for
    single_choice; ``stages`` for stage (or the node's stages); ``criteria``
    for rubric; ``minimum``/``maximum`` for number; ``max_length`` for text.
    """

    id: Identifier
    type: ItemType
    text: LocalText
    help: LocalText | None = None
    node: Identifier | None = None
    nodes: tuple[Identifier, ...] = ()
    per_level: Identifier | None = Field(
        default=None, description="asked once for every node of this level of the unit's framework"
    )
    required: bool = False
    relevant: str | None = Field(default=None, description="skip logic over earlier answers")
    options: tuple[Option, ...] = ()
    scale: Identifier | None = None
    stages: tuple[Stage, ...] = ()
    criteria: tuple[RubricCriterion, ...] = ()
    justification_required: bool = False
    minimum: float | None = None
    maximum: float | None = None
    integer: bool = False
    max_length: int | None = Field(default=None, ge=1)
    multiline: bool = False
    not_applicable: NotApplicable | None = None
    evidence: Evidence | None = None
    comment: bool = Field(default=False, description="offer a free comment beside the answer")
    role: Literal[
        "score", "stage", "validated_stage", "rationale", "evidence_note", "comment",
        "context", "organisation_type", "member_count", "attendance_count", "activity",
        "recommendation", "open_answer",
    ] | None = Field(default=None, description="what the item means to scoring and reports")
    source: str | None = None
    note: str | None = None

    @property
    def node_ids(self) -> tuple[str, ...]:
        """Every node the item feeds, ``node`` first."""
        return ((self.node,) if self.node else ()) + self.nodes


class Page(Model):
    """An explicit page grouping; without pages, a questionnaire pages by node."""

    id: Identifier
    title: LocalText
    items: tuple[Identifier, ...] = Field(min_length=1)


class Questionnaire(Model):
    """The questions one kind of respondent answers (CCPM coordinator, JIU self-assessment...)."""

    id: Identifier
    role: Literal["coordinator", "focal_point", "partner", "validator", "senior_manager",
                  "working_group"]
    title: LocalText
    introduction: LocalText | None = None
    anonymous: bool = False
    min_group_size: int | None = Field(
        default=None, ge=2,
        description="the fewest respondents whose answers are shown apart as a group; "
        "smaller groups are not shown on their own, so that nobody in them can be recognised",
    )
    items: tuple[Item, ...] = Field(min_length=1)
    pages: tuple[Page, ...] = ()


# --------------------------------------------------------------------------- scoring


class Band(Model):
    """A rating band over (lower, upper]: the first band also includes its lower bound.

    ``action`` marks the bands whose results get a draft action in the action plan
    (CCPM: weak and unsatisfactory).
    """

    key: Annotated[str, Field(pattern=r"^[a-z][a-z_]*$")]
    lower: float
    upper: float
    label: LocalText
    colour: Annotated[str, Field(pattern=COLOUR_PATTERN)]
    text_colour: Annotated[str, Field(pattern=COLOUR_PATTERN)] = "#000000"
    action: bool = False


class BandSet(Model):
    """Ordered, contiguous bands; ``convention`` marks bands that are the file's own choice."""

    id: Identifier
    bands: tuple[Band, ...] = Field(min_length=1)
    convention: bool = False
    note: LocalText | None = None
    source: str | None = None


ScoringMethod = Literal[
    "median_of_respondent_means",
    "holistic_stage",
    "stage_distribution",
    "rubric_total",
    "list_children",
]


class ScoringRule(Model):
    """How a node's result is computed; nodes name a rule by id.

    ``median_of_respondent_means``: per respondent the mean of valid answers,
    then the median over respondents, times ``percent_factor`` (CCPM, see
    reference/instruments.md section 1.5). ``holistic_stage``: one judged stage
    per node, self-assessed and validated (JIU, never averaged). ``stage_distribution``:
    the configuration of the children's stages. ``rubric_total``: the sum of the
    rubric criteria (CPAS RED, 3-12). ``list_children``: the results of the children.
    """

    id: Identifier
    method: ScoringMethod
    scale_min: float | None = None
    scale_max: float | None = None
    percent_factor: float | None = None
    decimals: int = Field(default=2, ge=0, le=6)
    min_respondents: int = Field(default=1, ge=1)
    bands: Identifier | None = None
    pooled_questionnaires: tuple[Identifier, ...] = Field(
        default=(), description="questionnaires whose answers are pooled; empty means all"
    )
    source: str | None = None


# --------------------------------------------------------------------------- nodes


class Indicator(Model):
    """An indicative performance indicator of a node (JIU annex VIII): guidance, not scored."""

    text: LocalText
    in_2004_framework: bool = False
    source: str | None = None


class Activity(Model):
    """A supporting activity, rated 1 no, 2 little or 3 significant contribution (JIU Q.2)."""

    id: Identifier
    text: LocalText
    source: str | None = None


class Node(Model):
    """A node of the scored tree. ``level`` names the layer (pillar, component, function...)."""

    id: Identifier
    level: Identifier
    title: LocalText
    short_title: LocalText | None = None
    description: LocalText | None = None
    output_quality: LocalText | None = None
    characteristics: LocalText | None = Field(
        default=None, description="CCPM indicative characteristics of the function"
    )
    scoring: Identifier | None = None
    stages: tuple[Stage, ...] = ()
    indicators: tuple[Indicator, ...] = ()
    activities: tuple[Activity, ...] = ()
    other_activity_rows: int = Field(default=0, ge=0)
    aliases: tuple[str, ...] = ()
    source: str | None = None
    note: str | None = None
    children: tuple[Node, ...] = ()


class Framework(Model):
    """Levels of a tree that each unit defines for itself (CPAS: impact > outcome > output).

    Items with ``per_level`` naming one of these levels are asked once for
    every node of that level in the unit's own results framework.
    """

    levels: tuple[Identifier, ...] = Field(min_length=1)
    scoring: dict[Identifier, Identifier] = Field(
        default_factory=dict, description="level -> scoring rule id"
    )
    description: LocalText | None = None


class CrosswalkEntry(Model):
    """Maps an earlier version's item (or node) to this version's; ``to: null`` means removed."""

    questionnaire: Identifier | None = None
    from_: Identifier = Field(alias="from")
    to: Identifier | None = None
    note: str | None = None

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)


class Crosswalk(Model):
    from_version: str
    entries: tuple[CrosswalkEntry, ...] = ()


class Instrument(Model):
    """A whole instrument file."""

    key: Annotated[str, Field(pattern=KEY_PATTERN, max_length=40)]
    version: Annotated[str, Field(min_length=1, max_length=40)]
    title: LocalText
    description: LocalText | None = None
    languages: tuple[Annotated[str, Field(pattern=LANG_PATTERN)], ...] = ("en",)
    sources: tuple[Source, ...] = ()
    scales: tuple[ChoiceScale, ...] = ()
    bands: tuple[BandSet, ...] = ()
    scoring: tuple[ScoringRule, ...] = ()
    nodes: tuple[Node, ...] = ()
    framework: Framework | None = None
    questionnaires: tuple[Questionnaire, ...] = Field(min_length=1)
    crosswalk: tuple[Crosswalk, ...] = ()
    notes: tuple[str, ...] = ()

    @field_validator("version", mode="before")
    @classmethod
    def _version_as_text(cls, value: object) -> object:
        """``version: 2017.1`` in YAML is a float; versions are text."""
        return str(value) if isinstance(value, int | float) else value
