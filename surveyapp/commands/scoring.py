"""``surveyapp score``: score a responses file offline, as JSON or as a readable table."""

from __future__ import annotations

import click

from instruments.schema import Instrument, Node
from scoring import (
    DistributionResult,
    ListResult,
    NodeResult,
    PercentResult,
    RubricResult,
    ScoreReport,
    StageResult,
)
from surveyapp.commands.offline import InputProblems, fail, score_file

TITLE_WIDTH = 48


@click.command("score")
@click.argument("key", metavar="KEY")
@click.argument("responses", metavar="RESPONSES")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of a table.")
@click.option("--min-respondents", type=click.IntRange(min=1), metavar="N",
              help="Override the instrument's minimum number of respondents per score.")
@click.pass_context
def command(
    context: click.Context, key: str, responses: str, as_json: bool, min_respondents: int | None
) -> None:
    """Score RESPONSES with the instrument KEY (a bundled key such as ccpm, or a file path).

    \b
    RESPONSES is a .csv (UTF-8) or .xlsx file in long format, one row per answer:
      respondent,questionnaire,item,value[,comment][,organization_type]
    \b
    - CCPM: item = item id (q111), value = the answer code; 99/999/9999 and
      blanks are left out. organization_type (code or name) may give a
      partner's type instead of a row for the organisation-type item.
    - JIU: questionnaire self_assessment, item = component id (1.1), value =
      stage; questionnaire validation the same for the validated stage;
      activity ratings as item 1.1.a1, value 1-3.
    - CPAS: item = OUTPUT.relevance / .extent / .duration, value 1-4, comment =
      the justification (required). The mission's results framework is given
      by rows with questionnaire `framework`: item = node id, value = title,
      comment = `level=output; parent=OC1; section=Civil Affairs`.
    \b
    Problems are printed one per line as FILE:ROW:COLUMN: message (the header
    is row 1) and the command exits with status 1; nothing is half-scored.
    docs/scoring.md describes every method, the rounding and the JSON shape.
    """
    try:
        scored = score_file(key, responses, min_respondents)
    except InputProblems as problems:
        fail(context, problems.lines)
    report = scored.report
    click.echo(report.to_json() if as_json else render_table(scored.loaded.instrument, report))



def render_table(instrument: Instrument, report: ScoreReport) -> str:
    """The report as a plain-text table: one line per node, indented by depth."""
    titles = dict(_titles(instrument.nodes))
    titles.update((entry.id, entry.title) for entry in report.framework)
    lines = [f"{instrument.title['en']} (version {instrument.version})", ""]
    for result in report.results:
        title = ("  " * result.depth + titles.get(result.node, ""))[:TITLE_WIDTH]
        lines.append(f"{result.node:<10} {title:<{TITLE_WIDTH}} {_summary(result)}")
    if report.configuration is not None:
        lines += ["", f"Configuration   {_summary(report.configuration)}"]
    rates = report.response_rates
    if rates is not None:
        lines += ["", f"Response rate   {rates.respondents} respondents of "
                      f"{_number(rates.members)} organisations: {_percent(rates.rate)}; "
                      f"effective {_percent(rates.effective_rate)}"]
        lines += [f"  type {entry.code}: {entry.respondents} of {_number(entry.members)} "
                  f"({_percent(entry.rate)}), effective {_percent(entry.effective_rate)}"
                  for entry in rates.by_type]
    return "\n".join(lines)


def _titles(nodes: tuple[Node, ...]) -> list[tuple[str, str]]:
    return [pair for node in nodes
            for pair in [(node.id, node.title["en"]), *_titles(node.children)]]


def _summary(result: NodeResult) -> str:
    """The computed part of one line, in the terms of the result's method."""
    if isinstance(result, PercentResult):
        parts = ", ".join(f"{part.questionnaire} {_number(part.score)}"
                          for part in result.by_questionnaire)
        gap = f", gap {result.gap:+.2f}" if result.gap is not None else ""
        return (f"{_number(result.score):>7}  {result.rating or '':<17} "
                f"n={result.respondents:<4} {parts}{gap}")
    if isinstance(result, StageResult):
        difference = f" ({result.difference:+d})" if result.difference is not None else ""
        return (f"self {_number(result.self_stage)}, "
                f"validated {_number(result.validated_stage)}{difference}")
    if isinstance(result, DistributionResult):
        return "; ".join(
            f"{kind} min {_number(summary.minimum)} median {_stage(summary.median)} "
            f"max {_number(summary.maximum)} ({summary.assessed} of "
            f"{summary.assessed + summary.missing})"
            for kind, summary in (("self", result.self_assessed), ("validated", result.validated))
        )
    if isinstance(result, RubricResult):
        levels = " ".join(f"{entry.criterion[0].upper()} {entry.value}"
                          for entry in result.criteria)
        band = f"  {result.rating}" if result.rating else ""
        return f"{levels} = {result.total}{band}{' (convention)' if result.convention else ''}"
    if isinstance(result, ListResult):
        return f"{len(result.results)} scored below"
    return result.method


def _number(value: float | int | None) -> str:
    if value is None:
        return "-"
    return f"{value:.2f}" if isinstance(value, float) else str(value)


def _stage(value: float | None) -> str:
    """A stage statistic as people write it: 2, or 2.5 between two stages."""
    return "-" if value is None else f"{value:g}"


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f} %"
