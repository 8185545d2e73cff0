"""Rubric totals (CPAS RED): the results framework with scores, justifications, recommendations.

Every output shows its relevance, extent and duration scores, each with the
written justification that CPAS requires, and the total of 3 to 12
(seeds/001_782aced7fcf9d02c.txt:66-72). A band on the total is printed only
with its "convention" label, because CPAS defines none (DESIGN.md "Scoring
rules"). Outcomes and impacts show the working group's written judgement; the
recommendations close with the leadership's decision on each
(seeds/001_782aced7fcf9d02c.txt:64).
"""

from __future__ import annotations

from instruments.schema import Item
from reports import charts
from reports.answers import as_text, recommendation
from reports.blocks import Block, Cell, Chart, Facts, Heading, Paragraph, Row, Section, Table
from reports.sections import Context
from scoring import ListResult, RubricResult


def sections(ctx: Context) -> list[Section]:
    rubrics = [result for result in ctx.data.scores.results if isinstance(result, RubricResult)]
    if not rubrics:
        return []
    return [_framework(ctx, rubrics), _recommendations(ctx, rubrics)]


def _band_cell(ctx: Context, result: RubricResult) -> Cell:
    if result.rating is None:
        return Cell(ctx.t("none"))
    return ctx.rating_cell(result.node, result.level, result.rating)


def _framework(ctx: Context, rubrics: list[RubricResult]) -> Section:
    t = ctx.t
    criteria = [entry.criterion for entry in rubrics[0].criteria]
    names = [ctx.labels.criterion(criterion) for criterion in criteria]
    rule = ctx.labels.rule(rubrics[0].node, rubrics[0].level)
    limit = rule.scale_max if rule is not None and rule.scale_max else 12.0
    totals = []
    for result in rubrics:
        band = ctx.rating(result.node, result.level, result.rating).words if result.rating else ""
        totals.append(f"{result.total}  {band}".strip())
    chart = charts.stacked_bars(
        [result.node for result in rubrics],
        [[entry.value for entry in result.criteria] for result in rubrics],
        part_names=names, axis=t("col.score"), limit=limit, totals=totals,
    )
    content: list[Block] = [
        Paragraph(t("rubric.intro", level=t.level(rubrics[0].level))),
        Chart(chart, t("rubric.chart", level=t.level(rubrics[0].level))),
    ]
    for result in ctx.data.scores.results:
        if isinstance(result, ListResult):
            content += _narrative(ctx, result)
        elif isinstance(result, RubricResult):
            content += _output(ctx, result, names)
    return Section(Heading(1, t("rubric.heading"), "framework"), tuple(content))


def _level_items(ctx: Context, level: str, role: str) -> list[tuple[str, Item]]:
    """Items asked once per framework node of ``level`` with ``role``, in file order."""
    return [(q.id, item) for q in ctx.labels.instrument.questionnaires for item in q.items
            if item.per_level == level and item.role == role]


def _narrative(ctx: Context, result: ListResult) -> list[Block]:
    """An outcome or impact: its heading and the working group's written judgements."""
    content: list[Block] = [ctx.node_heading(min(result.depth + 2, 4), result.node)]
    for questionnaire, item in _level_items(ctx, result.level, "open_answer"):
        for answer in ctx.index.answers(questionnaire, item.id, result.node):
            text = as_text(answer.value)
            if text:
                content += [Paragraph(ctx.t.local(item.text), "question"),
                            Paragraph(text, "answer")]
    return content


def _output(ctx: Context, result: RubricResult, names: list[str]) -> list[Block]:
    t = ctx.t
    section = next((entry.section for entry in ctx.data.scores.framework
                    if entry.id == result.node and entry.section), None)
    facts: list[tuple[str, Cell]] = []
    if section:
        facts.append((t("rubric.section"), Cell(section)))
    facts += [(t("rubric.total"), Cell(str(result.total))),
              (t("rubric.band") if result.convention else t("col.rating"),
               _band_cell(ctx, result))]
    recommended = recommendation(ctx.index, ctx.labels, result.node, result.level)
    if recommended:
        facts.append((t("recommendations.recommended"), Cell(recommended.words)))
    content: list[Block] = [
        ctx.node_heading(4, result.node),
        Facts(tuple(facts)),
        Table(
            (t("col.title"), t("col.score"), t("rubric.justification")),
            tuple(Row((Cell(name), Cell(str(entry.value)), Cell(entry.justification)))
                  for name, entry in zip(names, result.criteria, strict=False)),
            numeric=frozenset({1}), widths=("16%", "9%", "75%"),
        ),
    ]
    if recommended and recommended.text:
        content += [Paragraph(t("recommendations.text"), "question"),
                    Paragraph(recommended.text, "answer")]
    return content


def _recommendations(ctx: Context, rubrics: list[RubricResult]) -> Section:
    t = ctx.t
    rows = []
    for result in rubrics:
        made = recommendation(ctx.index, ctx.labels, result.node, result.level)
        if made is None:
            continue
        review = ctx.data.reviews.get(result.node)
        decision = review.decision if review and review.decision else ""
        rows.append(Row((
            Cell(f"{result.node} {ctx.labels.title(result.node)}"), Cell(made.words),
            Cell(made.text), Cell(made.owner or t("none")), Cell(made.timeline or t("none")),
            Cell(decision or t("recommendations.pending"), style="" if decision else "missing"),
        )))
    return Section(Heading(1, t("recommendations.heading"), "recommendations"), (
        Table(
            (t.level(rubrics[0].level).capitalize(), t("recommendations.recommended"),
             t("recommendations.text"), t("recommendations.owner"),
             t("recommendations.timeline"), t("recommendations.decision")),
            tuple(rows), widths=("19%", "13%", "30%", "14%", "10%", "14%"), style="small",
        ),
    ))
