"""``surveyapp score``: score a responses file offline, as JSON or as a readable table."""

from __future__ import annotations

import click

from instruments.schema import Instrument
from scoring import ScoreReport
from surveyapp.commands.offline import InputProblems, fail, score_file
from surveyapp.services.score_summary import number_text, percent_text, result_lines, summary

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
    lines = [f"{instrument.title['en']} (version {instrument.version})", ""]
    for line in result_lines(instrument, report):
        title = ("  " * line.depth + line.title)[:TITLE_WIDTH]
        lines.append(f"{line.node:<10} {title:<{TITLE_WIDTH}} {line.summary}")
    if report.configuration is not None:
        lines += ["", f"Configuration   {summary(report.configuration)}"]
    rates = report.response_rates
    if rates is not None:
        lines += ["", f"Response rate   {rates.respondents} respondents of "
                      f"{number_text(rates.members)} organisations: {percent_text(rates.rate)}; "
                      f"effective {percent_text(rates.effective_rate)}"]
        lines += [f"  type {entry.code}: {entry.respondents} of {number_text(entry.members)} "
                  f"({percent_text(entry.rate)}), effective {percent_text(entry.effective_rate)}"
                  for entry in rates.by_type]
    return "\n".join(lines)
