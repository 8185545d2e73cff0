"""Percent scores with bands (CCPM): response rates, the status table, gaps, blocks, answers.

The structure follows the final CCPM report (reference/instruments.md section
1.6): response rates overall and by organisation type; the performance status
table beside its legend; one block per sub-function with its indicators'
scores, the indicative characteristics, the unit's constraints and good
practice and the follow-up actions; then the distribution of answers.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from reports import charts
from reports.blocks import (
    Block,
    Cell,
    Chart,
    Facts,
    Heading,
    Items,
    Paragraph,
    Row,
    Section,
    Table,
    text_cells,
)
from reports.model import NodeReview
from reports.sections import Context
from reports.sections.method import legend
from reports.tree import blocks, children
from scoring import ItemDistribution, PercentResult, ResponseRates


def sections(ctx: Context) -> list[Section]:
    scores = ctx.data.scores
    percent = [result for result in scores.results if isinstance(result, PercentResult)]
    if not percent:
        return []
    found = []
    if scores.response_rates is not None:
        found.append(_rates(ctx, scores.response_rates))
    found.append(_performance(ctx, percent))
    gap = _gaps(ctx)
    if gap is not None:
        found.append(gap)
    found.append(_blocks(ctx))
    if scores.distributions:
        found.append(_distributions(ctx, scores.distributions))
    return found


# --------------------------------------------------------------------------- response rates


def _respondent_counts(ctx: Context) -> dict[str, int]:
    """Respondents per questionnaire, in questionnaire order."""
    seen = {(answer.questionnaire, answer.respondent) for answer in ctx.data.responses.answers}
    return {
        q.id: count for q in ctx.labels.instrument.questionnaires
        if (count := sum(1 for questionnaire, _ in seen if questionnaire == q.id))
    }


def _rates(ctx: Context, rates: ResponseRates) -> Section:
    t = ctx.t
    counts = _respondent_counts(ctx)
    content: list[Block] = [
        Heading(2, t("rates.by_questionnaire")),
        Table((t("col.questionnaire"), t("col.respondents")),
              tuple(Row(text_cells(ctx.labels.role_name(q), str(n))) for q, n in counts.items()),
              numeric=frozenset({1}), widths=("60%", "40%")),
        Heading(2, t("rates.heading")),
        Paragraph(t("rates.intro", questionnaire=ctx.labels.role_name(rates.questionnaire))),
    ]
    counted = ctx.labels.questionnaire(rates.questionnaire)
    type_item = next((item for item in (counted.items if counted else ())
                      if item.role == "organisation_type"), None)
    rows = []
    names = []
    for entry in rates.by_type:
        name = ctx.labels.option_label(type_item, entry.code) if type_item else str(entry.code)
        names.append(name)
        rows.append(Row(text_cells(
            name, str(entry.respondents), t.number(entry.members, 0),
            t.percent(entry.rate), t.number(entry.attending, 0), t.percent(entry.effective_rate),
        )))
    if rates.unknown_type:
        rows.append(Row(text_cells(t("rates.unknown"), str(rates.unknown_type), "", "", "", "")))
    rows.append(Row(text_cells(
        t("rates.overall"), str(rates.respondents), t.number(rates.members, 0),
        t.percent(rates.rate), t.number(rates.attending, 0), t.percent(rates.effective_rate),
    ), style="total"))
    content.append(Table(
        (t("rates.type"), t("col.respondents"), t("rates.members"), t("rates.rate"),
         t("rates.attending"), t("rates.effective")),
        tuple(rows), numeric=frozenset({1, 2, 3, 4, 5}),
        widths=("25%", "13%", "16%", "14%", "16%", "16%"),
    ))
    series = [
        (t("rates.rate"), [entry.rate for entry in rates.by_type]),
        (t("rates.effective"), [entry.effective_rate for entry in rates.by_type]),
    ]
    top = max([100.0, *(value or 0 for _, values in series for value in values)])
    content.append(Chart(
        charts.paired_bars(names, series, limit=top, axis="%",
                           words=[[t.percent(value) for value in values]
                                  for _, values in series]),
        t("rates.chart"),
    ))
    return Section(Heading(1, t("rates.heading"), "rates"), tuple(content))


# --------------------------------------------------------------------------- status table


def _performance(ctx: Context, percent: list[PercentResult]) -> Section:
    t = ctx.t
    below = children(ctx.data.scores)
    shown = [result for result in percent if below.get(result.node)]
    block_nodes = blocks(ctx.data.scores)
    levels = sorted({result.level for result in shown}, key=[r.level for r in shown].index)
    content: list[Block] = [Paragraph(t("performance.intro", levels=t("and").join(
        t.level(level) for level in levels)))]
    first = shown[0] if shown else percent[0]
    band_set = ctx.labels.band_set(first.node, first.level)
    rule = ctx.labels.rule(first.node, first.level)
    if band_set is not None and rule is not None:
        content.append(legend(ctx, band_set, rule))
    content.append(Table(
        (t("col.node"), t("col.title"), t("col.score"), t("col.rating"), t("col.respondents")),
        tuple(
            Row((Cell(result.node), Cell(ctx.labels.title(result.node)),
                 Cell(t.percent(result.score)),
                 ctx.rating_cell(result.node, result.level, result.rating),
                 Cell(str(result.respondents))),
                style="" if result in block_nodes else "group")
            for result in shown
        ),
        numeric=frozenset({2, 4}), widths=("7%", "48%", "12%", "20%", "13%"), style="status",
    ))
    if block_nodes:
        bars = []
        for result in block_nodes:
            rating = ctx.rating(result.node, result.level, result.rating)
            bars.append(charts.Bar(result.node, result.score, rating.colour,
                                   f"{t.percent(result.score)}  {rating.words}"))
        content.append(Chart(
            charts.horizontal_bars(bars, limit=_limit(ctx, block_nodes[0]), axis="%"),
            t("performance.chart", level=t.level(block_nodes[0].level)),
        ))
    return Section(Heading(1, t("performance.heading"), "performance"), tuple(content))


def _limit(ctx: Context, result: PercentResult) -> float:
    """The top of the score scale: scale_max x percent_factor (CCPM: 4 x 25 = 100)."""
    rule = ctx.labels.rule(result.node, result.level)
    if rule is None or rule.scale_max is None:
        return 100.0
    return rule.scale_max * (rule.percent_factor or 1)


# --------------------------------------------------------------------------- gaps


def _gaps(ctx: Context) -> Section | None:
    """Nodes scored over two questionnaires: each one's score and the gap (CCPM coordinator
    minus partners, scoring/results.py ``PercentResult.gap``)."""
    t = ctx.t
    compared = [result for result in blocks(ctx.data.scores)
                if len(result.by_questionnaire) == 2]
    if not compared:
        return None
    first, second = (ctx.labels.role_name(part.questionnaire)
                     for part in compared[0].by_questionnaire)
    rows = tuple(
        Row((Cell(result.node), Cell(ctx.labels.title(result.node)),
             *(Cell(t.percent(part.score)) for part in result.by_questionnaire),
             Cell(t.signed(result.gap))))
        for result in compared
    )
    series = [
        (name, [result.by_questionnaire[position].score for result in compared])
        for position, name in enumerate((first, second))
    ]
    chart = charts.paired_bars(
        [result.node for result in compared], series, limit=_limit(ctx, compared[0]), axis="%",
        words=[[t.percent(value) for value in values] for _, values in series],
    )
    return Section(Heading(1, t("gap.heading", first=first, second=second), "gaps"), (
        Paragraph(t("gap.intro", first=first, second=second)),
        Table((t("col.node"), t("col.title"), first, second, t("gap.gap")), rows,
              numeric=frozenset({2, 3, 4}), widths=("8%", "50%", "14%", "14%", "14%")),
        Chart(chart, t("gap.heading", first=first, second=second)),
    ))


# --------------------------------------------------------------------------- blocks


def _blocks(ctx: Context) -> Section:
    t = ctx.t
    scores = ctx.data.scores
    below = children(scores)
    block_nodes = blocks(scores)
    level = block_nodes[0].level if block_nodes else ""
    content: list[Block] = []
    for position, result in enumerate(block_nodes):
        content += _block(ctx, result, below.get(result.node, []))
        following = block_nodes[position + 1].parent if position + 1 < len(block_nodes) else None
        parent = result.parent
        if parent is not None and parent != following and not _is_block(parent, block_nodes):
            comments = ctx.index.quotes(("comment",), parent)
            if comments:
                content.append(ctx.quotes(t("blocks.comments_on", node=parent,
                                            title=ctx.labels.title(parent)), comments))
    return Section(Heading(1, t("blocks.heading", level=t.level(level)), "blocks"),
                   tuple(content))


def _is_block(node: str, block_nodes: Sequence[PercentResult]) -> bool:
    return any(result.node == node for result in block_nodes)


def _block(ctx: Context, result: PercentResult, leaves: Sequence[object]) -> list[Block]:
    t = ctx.t
    labels = ctx.labels
    facts: list[tuple[str, Cell]] = [
        (t("col.score"), Cell(t.percent(result.score))),
        (t("col.rating"), ctx.rating_cell(result.node, result.level, result.rating)),
        (t("col.respondents"), Cell(str(result.respondents))),
    ]
    facts += [(labels.role_name(part.questionnaire), Cell(t.percent(part.score)))
              for part in result.by_questionnaire]
    indicators = [leaf for leaf in leaves if isinstance(leaf, PercentResult)]
    content: list[Block] = [ctx.node_heading(2, result.node), Facts(tuple(facts))]
    if indicators:
        content.append(Table(
            (t("col.node"), t.level(indicators[0].level).capitalize(), t("col.score"),
             t("col.rating"), t("col.respondents")),
            tuple(Row((Cell(leaf.node), Cell(labels.title(leaf.node)),
                       Cell(t.percent(leaf.score)),
                       ctx.rating_cell(leaf.node, leaf.level, leaf.rating),
                       Cell(str(leaf.respondents))))
                  for leaf in indicators),
            numeric=frozenset({2, 4}), widths=("8%", "47%", "12%", "20%", "13%"),
        ))
    node = labels.nodes.get(result.node)
    if node is not None and node.characteristics:
        content += [Heading(3, t("blocks.characteristics")),
                    Paragraph(t.local(node.characteristics), "characteristics")]
    review = ctx.data.reviews.get(result.node) or NodeReview()
    content += [
        Heading(3, t("blocks.constraints")), _recorded(ctx, review.constraints),
        Heading(3, t("blocks.good_practice")), _recorded(ctx, review.good_practice),
        Items(t("blocks.follow_up"), tuple(
            _action_line(ctx, action.action, action.responsible, action.due_quarter)
            for action in ctx.data.actions if action.node == result.node
        ), empty=t("none")),
    ]
    comments = ctx.index.quotes(("comment",), result.node)
    if comments:
        content.append(ctx.quotes(t("blocks.comments"), comments))
    return content


def _recorded(ctx: Context, text: str) -> Paragraph:
    """The unit's own words, or a visible note that they are still to come."""
    return Paragraph(text) if text else Paragraph(ctx.t("not_recorded"), "missing")


def _action_line(ctx: Context, action: str, responsible: str, due: str) -> str:
    t = ctx.t
    return (f"{action} ({t('actions.responsible')}: {responsible or t('to_be_agreed')}; "
            f"{t('actions.due')}: {due or t('to_be_agreed')})")


# --------------------------------------------------------------------------- distributions


def _distributions(ctx: Context, distributions: tuple[ItemDistribution, ...]) -> Section:
    """Every scored item's answers, one column per code, grouped under the blocks.

    Codes that count are shown as they are (CCPM: the code is the score 0-4);
    the excluded codes (don't know, does not exist, not applicable) and blanks
    get a column each when anyone gave them (reference/instruments.md 1.6, item 6).
    """
    t = ctx.t
    labels = ctx.labels
    excluded: dict[object, str] = {None: t("blank"), "not_applicable": t("not_applicable")}
    scored: set[int] = set()
    for entry in distributions:
        item = labels.item(entry.questionnaire, entry.item)
        for option in labels.options(item) if item else ():
            if option.excluded is None:
                scored.add(option.code)
            else:
                excluded[option.code] = t(f"excluded.{option.excluded}")
    extra = sorted({count.code for entry in distributions for count in entry.counts
                    if count.count and count.code in excluded}, key=str)
    columns = [*sorted(scored), *extra]
    rows: list[Row] = []
    current: str | None = None
    for entry in sorted(distributions, key=_position_in(ctx, distributions)):
        heading = _block_of(ctx, entry.nodes[0]) if entry.nodes else None
        if heading is not None and heading != current:
            rows.append(Row((Cell(f"{heading} {labels.title(heading)}",
                                  span=3 + len(columns)),), style="group"))
            current = heading
        counts = {count.code: count.count for count in entry.counts}
        offered = {count.code for count in entry.counts}
        rows.append(Row((
            Cell(f"{entry.item} ({labels.role_name(entry.questionnaire)})"),
            Cell(", ".join(entry.nodes)), Cell(str(entry.answers)),
            *(Cell(str(counts.get(code, 0)) if code in offered else "") for code in columns),
        )))
    names = [str(code) if code in scored else excluded[code] for code in columns]
    first_level = next((result.level for result in ctx.data.scores.results
                        if distributions[0].nodes and result.node == distributions[0].nodes[0]),
                       "")
    code_width = f"{58 / max(len(columns), 1):.1f}%"
    return Section(Heading(1, t("distributions.heading"), "distributions"), (
        Paragraph(t("distributions.intro")),
        Table((t("col.item"), t.level(first_level).capitalize(), t("col.answers"), *names),
              tuple(rows), numeric=frozenset(range(2, 3 + len(columns))),
              widths=("21%", "10%", "11%", *((code_width,) * len(columns))),
              style="small"),
    ))


def _block_of(ctx: Context, node: str | None) -> str | None:
    """The block a node belongs to: itself or its nearest block ancestor."""
    parent = {result.node: result.parent for result in ctx.data.scores.results}
    block_nodes = {result.node for result in blocks(ctx.data.scores)}
    while node is not None and node not in block_nodes:
        node = parent.get(node)
    return node


def _position_in(
    ctx: Context, distributions: tuple[ItemDistribution, ...]
) -> Callable[[ItemDistribution], tuple[int, int]]:
    """Sort key: tree order of the item's node, then questionnaire order."""
    order = {result.node: position for position, result in enumerate(ctx.data.scores.results)}
    questionnaires = [q.id for q in ctx.labels.instrument.questionnaires]

    def position(entry: ItemDistribution) -> tuple[int, int]:
        node = entry.nodes[0] if entry.nodes else None
        return (order.get(node, len(order)) if node else len(order),
                questionnaires.index(entry.questionnaire)
                if entry.questionnaire in questionnaires else len(questionnaires))

    return position
