"""Judged stages (JIU): the stage profile, the configuration, and each component in full.

Self-assessed and validated stages are shown side by side, never merged
(DESIGN.md "Scoring rules"). Pillars and the organisation are shown as the
configuration of their components' stages: a distribution, not an averaged
stage (JIU/NOTE/2017/1 paras 63 and 87; reference/jiu_framework.md 4.3).
Each component shows the stage descriptors reached and next, the rationale
and evidence given, and the validator's comments (annex IX, Q.1 and part 3).
"""

from __future__ import annotations

from instruments.schema import Stage
from reports import charts
from reports.answers import Quote
from reports.blocks import (
    Block,
    Cell,
    Chart,
    Heading,
    Paragraph,
    Row,
    Section,
    Table,
    text_cells,
)
from reports.sections import Context
from scoring import DistributionResult, StageResult, StageSummary


def sections(ctx: Context) -> list[Section]:
    stages = [result for result in ctx.data.scores.results if isinstance(result, StageResult)]
    if not stages:
        return []
    distributions = [result for result in ctx.data.scores.results
                     if isinstance(result, DistributionResult)]
    found = [_profile(ctx, stages)]
    if distributions or ctx.data.scores.configuration is not None:
        found.append(_configuration(ctx, stages[0].level, distributions))
    found.append(_details(ctx))
    return found


def _top(stages: list[StageResult]) -> int:
    return max((stage for result in stages for stage in result.stages), default=1)


def _profile(ctx: Context, stages: list[StageResult]) -> Section:
    t = ctx.t
    level = t.level(stages[0].level)
    chart = charts.stage_profile(
        [result.node for result in stages],
        [result.self_stage for result in stages],
        [result.validated_stage for result in stages],
        top=_top(stages), names=(t("stages.self"), t("stages.validated")),
        axis=t("stages.stage"),
    )
    table = Table(
        (t("col.node"), t("col.title"), t("stages.self"), t("stages.validated"),
         t("stages.difference")),
        tuple(Row(text_cells(
            result.node, ctx.labels.title(result.node), _stage_number(ctx, result.self_stage),
            _stage_number(ctx, result.validated_stage), t.signed(result.difference, 0),
        )) for result in stages),
        numeric=frozenset({2, 3, 4}), widths=("8%", "56%", "13%", "12%", "11%"),
    )
    return Section(Heading(1, t("stages.profile"), "profile"), (
        Paragraph(t("stages.profile.intro", level=level)),
        Chart(chart, t("stages.chart.profile")),
        table,
    ))


def _stage_number(ctx: Context, stage: int | None) -> str:
    return str(stage) if stage is not None else ctx.t("stages.not_assessed")


def _configuration(
    ctx: Context, component_level: str, distributions: list[DistributionResult]
) -> Section:
    """Per pillar and overall: assessed, lowest, median, highest, modes, count per stage."""
    t = ctx.t
    overall = ctx.data.scores.configuration
    rows_of = [(result.node, ctx.labels.title(result.node), result) for result in distributions]
    if overall is not None:
        rows_of.append(("", t("stages.all"), overall))
    scale = [count.code for count in (overall or distributions[0]).validated.counts]
    rows: list[Row] = []
    for node, title, result in rows_of:
        rows.append(Row((Cell(f"{node} {title}".strip(), span=6 + len(scale)),),
                        style="group"))
        for kind, summary in ((t("stages.self"), result.self_assessed),
                              (t("stages.validated"), result.validated)):
            rows.append(Row(text_cells(
                kind, f"{summary.assessed}/{summary.assessed + summary.missing}",
                t.number(summary.minimum), _median(ctx, summary), t.number(summary.maximum),
                ", ".join(str(mode) for mode in summary.modes) or t("none"),
                *(str(count.count) for count in summary.counts),
            )))
    parent_level = distributions[0].level if distributions else ""
    table = Table(
        ("", t("stages.assessed"), t("stages.lowest"), t("stages.median"),
         t("stages.highest"), t("stages.modes"), *(t("stages.stage_n", stage=s) for s in scale)),
        tuple(rows), numeric=frozenset(range(1, 6 + len(scale))), style="small",
        widths=("18%", "10%", "9%", "9%", "9%", "10%", *((f"{35 / len(scale):.1f}%",)
                                                          * len(scale))),
    )
    content: list[Block] = [Paragraph(t(
        "stages.configuration.intro",
        count=len(overall.components) if overall else sum(len(d.components)
                                                          for d in distributions),
        levels=t.level(component_level, plural=True), parent=t.level(parent_level),
    ))]
    if distributions:
        use_validated = any(result.validated.assessed for result in distributions)
        content.append(Chart(
            charts.stacked_bars(
                [result.node for result in distributions],
                [[count.count for count in (result.validated if use_validated
                                            else result.self_assessed).counts]
                 for result in distributions],
                part_names=[t("stages.stage_n", stage=stage) for stage in scale],
                axis=t("stages.count_axis", levels=t.level(component_level, plural=True)),
            ),
            t("stages.chart.pillars." + ("validated" if use_validated else "self"),
              parent=t.level(parent_level)),
        ))
    content.append(table)
    return Section(Heading(1, t("stages.configuration"), "configuration"), tuple(content))


def _median(ctx: Context, summary: StageSummary) -> str:
    """Whole medians print as stages (``3``), between-stage medians with one decimal."""
    if summary.median is None:
        return ctx.t("none")
    decimals = 0 if float(summary.median).is_integer() else 1
    return ctx.t.number(float(summary.median), decimals)


# --------------------------------------------------------------------------- details


def _details(ctx: Context) -> Section:
    t = ctx.t
    content: list[Block] = []
    component_level = ""
    for result in ctx.data.scores.results:
        if isinstance(result, DistributionResult):
            content.append(ctx.node_heading(2, result.node))
        elif isinstance(result, StageResult):
            component_level = result.level
            content += _component(ctx, result)
    level = t.level(component_level)
    title = t("stages.details", Level=level.capitalize(), level=level)
    return Section(Heading(1, title, "components"), tuple(content))


def _stage_text(ctx: Context, stage: Stage) -> str:
    return f"{ctx.t('stages.stage_n', stage=stage.stage)}: {ctx.t.local(stage.title)}"


def _component(ctx: Context, result: StageResult) -> list[Block]:
    """A component's record: both stages, the descriptors reached and next, what was written.

    One table per component, label beside content (annex IX Q.1 and part 3).
    """
    t = ctx.t
    node = ctx.labels.nodes.get(result.node)
    stages = {stage.stage: stage for stage in node.stages} if node else {}

    def stage_cell(stage: int | None) -> Cell:
        if stage is None:
            return Cell(t("stages.not_assessed"), style="missing")
        return Cell(_stage_text(ctx, stages[stage]) if stage in stages else str(stage))

    rows = [
        (t("stages.self"), stage_cell(result.self_stage)),
        (t("stages.validated"), stage_cell(result.validated_stage)),
        (t("stages.difference"), Cell(t.signed(result.difference, 0))),
    ]
    reached = result.validated_stage if result.validated_stage is not None else result.self_stage
    if reached is not None and reached in stages:
        following = stages.get(reached + 1)
        rows += [
            (t("stages.reached"), Cell(f"{_stage_text(ctx, stages[reached])}. "
                                       f"{t.local(stages[reached].descriptor)}")),
            (t("stages.next"), Cell(f"{_stage_text(ctx, following)}. "
                                    f"{t.local(following.descriptor)}" if following
                                    else t("stages.top"))),
        ]
    index = ctx.index
    evidence = ["• " + document for quote in index.quotes(("evidence_note",), result.node)
                for document in evidence_lines(quote.text)]
    rows += [
        (t("stages.rationale"), _written(ctx, index.quotes(("rationale",), result.node))),
        (t("stages.evidence"), Cell("\n".join(evidence)) if evidence
         else Cell(t("not_recorded"), style="missing")),
    ]
    self_roles = ("focal_point", "coordinator", "working_group")
    for title, roles, questionnaire_roles in (
        (t("stages.comments"), ("comment",), self_roles),
        (t("stages.plans"), ("open_answer",), ()),
        (t("stages.validator_comments"), ("comment",), ("validator",)),
    ):
        found = index.quotes(roles, result.node, questionnaire_roles)
        if found:
            rows.append((title, _written(ctx, found)))
    activities = _activities(ctx, result)
    if activities is not None:
        rows.append((t("stages.activities"), activities))
    return [
        ctx.node_heading(3, result.node),
        Table(("", ""), tuple(Row((Cell(label), cell)) for label, cell in rows),
              widths=("27%", "73%"), style="record"),
    ]


def evidence_lines(text: str) -> list[str]:
    """An evidence note as a list of documents: one per line, bullets and dashes dropped."""
    return [line.strip(" -•\t") for line in text.splitlines() if line.strip(" -•\t")]


def _written(ctx: Context, quotes: list[Quote]) -> Cell:
    """Answers written by respondents, one per line, each with who wrote it."""
    if not quotes:
        return Cell(ctx.t("not_recorded"), style="missing")
    return Cell("\n".join(f"{quote.text} ({ctx.who(quote)})" for quote in quotes))


def _activities(ctx: Context, result: StageResult) -> Cell | None:
    """The count at each rating, then each activity rated (JIU Q.2, scale 1-3)."""
    if not result.activities.rated:
        return None
    labels = ctx.labels
    items = {item.id: item for q in labels.instrument.questionnaires for item in q.items
             if item.role == "activity"}
    scale_item = items.get(result.activities.rated[0].item)
    counts = " · ".join(
        f"{labels.option_label(scale_item, count.code) if scale_item else count.code}: "
        f"{count.count}" for count in result.activities.counts
    )
    entries = []
    for rated in result.activities.rated:
        item = items.get(rated.item)
        text = ctx.t.local(item.text) if item else rated.item
        words = labels.option_label(item, rated.rating) if item else str(rated.rating)
        entries.append(f"• {text}: {words}")
    return Cell("\n".join([counts, *entries]))
