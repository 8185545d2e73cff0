"""Method notes: what the instrument is, how each result was obtained, the bands, the sources.

Every rule used is explained in the report's words with the source the
instrument file cites for it (CCPM: reference/instruments.md section 1.5;
JIU: JIU/NOTE/2017/1 para 87 and annex IX; CPAS: seeds/001_782aced7fcf9d02c.txt:72),
so a reader can check the method against the framework.
"""

from __future__ import annotations

from instruments.schema import BandSet, ScoringRule
from reports.blocks import Block, Cell, Heading, Paragraph, Row, Section, Table, text_cells
from reports.labels import Rating
from reports.sections import Context
from scoring.methods import method_named


def section(ctx: Context) -> Section:
    t = ctx.t
    instrument = ctx.labels.instrument
    blocks: list[Block] = [Heading(2, t("method.instrument"))]
    if instrument.description:
        blocks.append(Paragraph(t.local(instrument.description)))
    if ctx.data.overlay is not None:
        blocks += [Heading(2, t("method.overlay.heading")), Paragraph(_overlay(ctx))]
    used = _rules_used(ctx)
    blocks.append(Heading(2, t("method.scoring")))
    for rule, levels in used:
        blocks.append(Paragraph(_explain(ctx, rule, levels)))
        if rule.source:
            blocks.append(Paragraph(t("method.source", source=rule.source), "source"))
    band_sets = _band_sets(ctx, used)
    if band_sets:
        blocks.append(Heading(2, t("method.bands")))
        for band_set, rule in band_sets:
            blocks.append(legend(ctx, band_set, rule))
            if band_set.convention:
                blocks.append(Paragraph(t("method.convention"), "note"))
            if band_set.note:
                blocks.append(Paragraph(t.local(band_set.note), "note"))
            if band_set.source:
                blocks.append(Paragraph(t("method.source", source=band_set.source), "source"))
    if instrument.sources:
        blocks.append(Heading(2, t("method.sources")))
        blocks.append(Table(
            (t("col.node"), t("col.title"), t("method.sources")),
            tuple(Row(text_cells(source.id, source.title, source.reference))
                  for source in instrument.sources),
            widths=("14%", "50%", "36%"), style="small",
        ))
    return Section(Heading(1, t("method.heading"), "method"), tuple(blocks))


def _overlay(ctx: Context) -> str:
    """Which local adaptation the questions were asked with, by name and sha256."""
    loaded = ctx.data.overlay
    assert loaded is not None
    overlay = loaded.overlay

    def listing(ids: tuple[str, ...]) -> str:
        return f" ({', '.join(ids)})" if ids else ""

    return ctx.t("method.overlay", title=ctx.t.local(overlay.title), overlay_key=overlay.key,
                 version=overlay.version, sha256=loaded.sha256, hidden=len(loaded.hidden),
                 hidden_list=listing(loaded.hidden), added=len(loaded.added),
                 added_list=listing(loaded.added))


def _rules_used(ctx: Context) -> list[tuple[ScoringRule, list[str]]]:
    """Each rule that scored something, with the levels of the nodes it scored: the rules
    that score answers first, then those that summarise other nodes (roll-ups)."""
    seen: dict[str, tuple[ScoringRule, list[str]]] = {}
    for result in ctx.data.scores.results:
        rule = ctx.labels.rule(result.node, result.level)
        if rule is None:
            continue
        levels = seen.setdefault(rule.id, (rule, []))[1]
        if result.level not in levels:
            levels.append(result.level)
    return sorted(seen.values(), key=lambda entry: method_named(entry[0].method).rollup)


def _band_sets(
    ctx: Context, used: list[tuple[ScoringRule, list[str]]]
) -> list[tuple[BandSet, ScoringRule]]:
    found: dict[str, tuple[BandSet, ScoringRule]] = {}
    for rule, _ in used:
        if rule.bands and rule.bands in ctx.labels.band_sets and rule.bands not in found:
            found[rule.bands] = (ctx.labels.band_sets[rule.bands], rule)
    return list(found.values())


def _explain(ctx: Context, rule: ScoringRule, levels: list[str]) -> str:
    t = ctx.t
    level = t.level(levels[0])
    plural = t("and").join(t.level(name, plural=True) for name in levels)
    if rule.method == "median_of_respondent_means":
        pooled = rule.pooled_questionnaires or ()
        return t(
            "method.median_of_respondent_means",
            scale_min=_plain(rule.scale_min), scale_max=_plain(rule.scale_max),
            questionnaires=", ".join(ctx.labels.role_name(q) for q in pooled)
            or t("method.all_questionnaires"),
            factor=_plain(rule.percent_factor or 1), decimals=rule.decimals,
            minimum=ctx.data.scores.min_respondents or rule.min_respondents,
        )
    if rule.method == "rubric_total":
        return t("method.rubric_total", level=level, criteria=_criteria(ctx),
                 scale_min=_plain(rule.scale_min), scale_max=_plain(rule.scale_max))
    return t(f"method.{rule.method}", level=level, levels=plural, Levels=plural.capitalize())


def _criteria(ctx: Context) -> str:
    """``Relevance (1-4), Extent (1-4), Duration (1-4)`` from the rubric items."""
    parts = []
    for questionnaire in ctx.labels.instrument.questionnaires:
        for item in questionnaire.items:
            for criterion in item.criteria:
                levels = [level.level for level in criterion.levels]
                parts.append(f"{ctx.t.local(criterion.label)} ({min(levels)}-{max(levels)})")
    return ", ".join(parts)


def _plain(value: float | None) -> str:
    return "" if value is None else f"{value:g}"


def legend(ctx: Context, band_set: BandSet, rule: ScoringRule) -> Table:
    """The bands in words, each in its colour, with the values it covers.

    Bands cover (lower, upper] and the first also its lower bound
    (instruments/schema.py ``Band``), which the ranges spell out.
    """
    t = ctx.t
    unit = " %" if rule.percent_factor else ""
    rows = []
    for position, band in enumerate(band_set.bands):
        low = f"{t.number(band.lower, _decimals(band.lower))}"
        high = f"{t.number(band.upper, _decimals(band.upper))}"
        span = f"{low}–{high}{unit}" if position == 0 else f"> {low}–{high}{unit}"
        rating = Rating(band.key, t.local(band.label), band.colour, band.text_colour)
        rows.append(Row((Cell(rating.words, rating=rating), Cell(span))))
    return Table((t("legend"), t("col.range")), tuple(rows), widths=("40%", "60%"),
                 style="legend")


def _decimals(value: float) -> int:
    return 0 if float(value).is_integer() else 2
