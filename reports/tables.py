"""The report as tables: answers, scores, evidence, comments and the action plan.

One definition serves the workbook (reports/excel.py) and the CSV files
(reports/csv_files.py). The answers table is the long format the offline
``surveyapp score`` and ``surveyapp report`` commands read
(scoring/responses.py), so an exported file can be scored again and gives the
same results.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from reports.answers import as_text
from reports.i18n import Translator
from reports.labels import Rating
from reports.sections import Context
from reports.sections.actions import ACTION_COLUMNS, status_words
from reports.sections.stages import evidence_lines
from scoring import (
    Answer,
    DistributionResult,
    FrameworkNode,
    NodeResult,
    PercentResult,
    Responses,
    RubricResult,
    StageResult,
)
from scoring.responses import FRAMEWORK_QUESTIONNAIRE, OPTIONAL_COLUMNS, REQUIRED_COLUMNS

#: The header of the answers table: exactly the columns the offline commands read.
ANSWER_COLUMNS = (*REQUIRED_COLUMNS, *OPTIONAL_COLUMNS)

Value = str | int | float | None


@dataclass(frozen=True)
class Rated:
    """A rating cell: its words, and the band colours a workbook fills it with."""

    text: str
    rating: Rating

    def __str__(self) -> str:
        return self.text


SheetValue = Value | Rated


@dataclass(frozen=True)
class Table:
    """A titled table; ``widths`` are spreadsheet column widths in characters."""

    title: str
    columns: tuple[str, ...]
    rows: Iterable[tuple[SheetValue, ...]]
    widths: tuple[int, ...]


# --------------------------------------------------------------------------- answers


def item_name(answer: Answer) -> str:
    """The item as a responses file names it (``q111``, ``OUT1.relevance``)."""
    if answer.node is not None:
        return f"{answer.node}.{answer.criterion or answer.item}"
    if answer.criterion is not None:
        return f"{answer.item}.{answer.criterion}"
    return answer.item


def _framework_row(node: FrameworkNode) -> tuple[SheetValue, ...]:
    parts = [f"level={node.level}"]
    parts += [f"{key}={value}" for key, value in (("parent", node.parent),
                                                  ("section", node.section)) if value]
    return ("", FRAMEWORK_QUESTIONNAIRE, node.id, node.title, "; ".join(parts), None)


def answer_rows(responses: Responses) -> Iterator[tuple[SheetValue, ...]]:
    """The unit's framework rows, then one row per answer, in the order given."""
    for node in responses.framework:
        yield _framework_row(node)
    for answer in responses.answers:
        yield (answer.respondent, answer.questionnaire, item_name(answer),
               _code_as_number(answer.value), answer.comment, None)


def _code_as_number(value: Value) -> Value:
    """A code read from CSV as text (``"3"``) is written as the number it is; ``"007"`` stays."""
    if type(value) is str and value.isascii() and value.isdigit() and (
            value == "0" or value[0] != "0"):
        return int(value)
    return value


def answers_table(responses: Responses, t: Translator) -> Table:
    return Table(t("sheet.answers"), ANSWER_COLUMNS, answer_rows(responses),
                 (16, 16, 18, 14, 50, 18))


# --------------------------------------------------------------------------- scores


def scores_table(ctx: Context) -> Table:
    """One row per scored node; the columns of each kind of result present."""
    t = ctx.t
    results = ctx.data.scores.results
    kinds = {type(result) for result in results}
    questionnaires = [q.id for q in ctx.labels.instrument.questionnaires
                      if any(part.questionnaire == q.id for result in results
                             if isinstance(result, PercentResult)
                             for part in result.by_questionnaire)]
    criteria = next((tuple(entry.criterion for entry in result.criteria) for result in results
                     if isinstance(result, RubricResult)), ())
    columns = [t("col.node"), t("col.level"), t("col.parent"), t("col.title")]
    widths = [10, 14, 10, 50]
    if PercentResult in kinds:
        columns += [t("col.score"), t("col.rating"), t("col.respondents"),
                    *(t("col.score_of", questionnaire=ctx.labels.role_name(q))
                      for q in questionnaires), t("col.gap")]
        widths += [10, 16, 12, *(14 for _ in questionnaires), 10]
    if StageResult in kinds:
        columns += [t("col.self_stage"), t("col.validated_stage"), t("col.difference")]
        widths += [14, 14, 12]
    if DistributionResult in kinds:
        kinds_words = (t("stages.self"), t("stages.validated"))
        columns += [t(key, kind=word) for word in kinds_words
                    for key in ("col.lowest", "col.median", "col.highest")]
        widths += [14] * 6
    if RubricResult in kinds:
        names = [ctx.labels.criterion(criterion) for criterion in criteria]
        columns += [*names, t("col.total"), t("col.band"),
                    *(t("col.justification", criterion=name) for name in names)]
        widths += [*(11 for _ in criteria), 9, 14, *(40 for _ in criteria)]

    def row(result: NodeResult) -> tuple[SheetValue, ...]:
        cells: list[SheetValue] = [result.node, result.level, result.parent,
                                   ctx.labels.title(result.node)]
        if PercentResult in kinds:
            cells += _percent_cells(ctx, result, questionnaires)
        if StageResult in kinds:
            cells += ([result.self_stage, result.validated_stage, result.difference]
                      if isinstance(result, StageResult) else [None] * 3)
        if DistributionResult in kinds:
            cells += ([value for summary in (result.self_assessed, result.validated)
                       for value in (summary.minimum, summary.median, summary.maximum)]
                      if isinstance(result, DistributionResult) else [None] * 6)
        if RubricResult in kinds:
            cells += _rubric_cells(ctx, result, criteria)
        return tuple(cells)

    return Table(t("sheet.scores"), tuple(columns), [row(result) for result in results],
                 tuple(widths))


def _rated(ctx: Context, result: NodeResult, key: str | None) -> Rated | None:
    if key is None:
        return None
    rating = ctx.rating(result.node, result.level, key)
    return Rated(rating.words, rating)


def _percent_cells(ctx: Context, result: NodeResult, questionnaires: list[str]) -> list[SheetValue]:
    if not isinstance(result, PercentResult):
        return [None] * (4 + len(questionnaires))
    parts = {part.questionnaire: part.score for part in result.by_questionnaire}
    return [result.score, _rated(ctx, result, result.rating), result.respondents,
            *(parts.get(q) for q in questionnaires), result.gap]


def _rubric_cells(ctx: Context, result: NodeResult, criteria: tuple[str, ...]) -> list[SheetValue]:
    if not isinstance(result, RubricResult):
        return [None] * (2 + 2 * len(criteria))
    values = {entry.criterion: entry for entry in result.criteria}
    return [
        *(values[c].value if c in values else None for c in criteria), result.total,
        _rated(ctx, result, result.rating),
        *(values[c].justification if c in values else None for c in criteria),
    ]


# --------------------------------------------------------------------------- evidence, comments


def evidence_table(ctx: Context) -> Table:
    """One row per piece of evidence listed (a line of an evidence note)."""
    t = ctx.t
    rows = [
        (quote.node, ctx.labels.title(quote.node or ""), ctx.labels.role_name(quote.questionnaire),
         quote.respondent, document)
        for quote in ctx.index.quotes(("evidence_note",), None, any_node=True)
        for document in evidence_lines(quote.text)
    ]
    return Table(t("sheet.evidence"),
                 (t("col.node"), t("col.title"), t("col.questionnaire"), t("col.respondent"),
                  t("stages.evidence")), rows, (10, 40, 16, 16, 70))


COMMENT_ROLES = ("comment", "rationale", "open_answer")


def comments_table(ctx: Context) -> Table:
    """Every written comment, rationale and open answer, and the notes beside answers."""
    t = ctx.t
    found = [(quote, t(f"kind.{ctx.index.items[(quote.questionnaire, quote.item)].role}"))
             for quote in ctx.index.quotes(COMMENT_ROLES, None, any_node=True)]
    found += [(quote, t("kind.note")) for quote in ctx.index.comments_column()]
    rows = [
        (quote.node, ctx.labels.title(quote.node) if quote.node else "",
         ctx.labels.role_name(quote.questionnaire), quote.respondent, quote.item, kind,
         quote.text)
        for quote, kind in found
    ]
    return Table(t("sheet.comments"),
                 (t("col.node"), t("col.title"), t("col.questionnaire"), t("col.respondent"),
                  t("col.item"), t("col.kind"), t("col.text")), rows,
                 (10, 36, 16, 16, 14, 14, 80))


def actions_table(ctx: Context) -> Table:
    t = ctx.t
    rows = []
    for action in ctx.data.actions:
        level = next((result.level for result in ctx.data.scores.results
                      if result.node == action.node), "")
        basis: SheetValue = action.basis
        if action.rating is not None:
            basis = Rated(action.basis, ctx.rating(action.node, level, action.rating))
        rows.append((action.action, action.node, basis, action.responsible, action.support,
                     action.due_quarter, status_words(ctx, action.status)))
    return Table(t("sheet.actions"), tuple(t(key) for key in ACTION_COLUMNS), rows,
                 (70, 10, 26, 24, 24, 12, 10))


def tables(ctx: Context) -> tuple[Table, ...]:
    """The sheets of the workbook, in order."""
    return (answers_table(ctx.data.responses, ctx.t), scores_table(ctx), evidence_table(ctx),
            comments_table(ctx), actions_table(ctx))


def as_plain(value: object) -> str:
    """A cell as CSV text."""
    return value.text if isinstance(value, Rated) else as_text(value)
