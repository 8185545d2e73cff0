"""``surveyapp report``: the PDF, workbook and CSV reports of a responses file, offline.

The input is read exactly as ``surveyapp score`` reads it (surveyapp/commands/offline.py),
so a file that scores also reports, and a bad file gets the same located messages.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Callable
from pathlib import Path

import click

from reports import NodeReview, ReportContext, ReportData, draft_action_plan, render_pdf
from reports.csv_files import answers_csv, scores_csv
from reports.excel import write_workbook
from reports.i18n import LANGUAGES
from surveyapp.commands.offline import InputProblems, ScoredFile, fail, score_file

REVIEW_COLUMNS = ("node", "constraints", "good_practice", "decision")


@click.command("report")
@click.argument("key", metavar="KEY")
@click.argument("responses", metavar="RESPONSES")
@click.option("--pdf", "pdf_path", metavar="OUT.pdf", help="Write the PDF report here.")
@click.option("--xlsx", "xlsx_path", metavar="OUT.xlsx", help="Write the workbook here.")
@click.option("--csv-answers", metavar="FILE", help="Write the answers as CSV here.")
@click.option("--csv-scores", metavar="FILE", help="Write the scores as CSV here.")
@click.option("--lang", type=click.Choice(LANGUAGES), default="en", show_default=True,
              help="Language of the report.")
@click.option("--final", is_flag=True,
              help="A final report (validated); without it the report is marked preliminary.")
@click.option("--unit", metavar="NAME", help="The unit assessed [default: the file's name].")
@click.option("--cycle", metavar="LABEL", default="", help="The assessment cycle, e.g. 2026.")
@click.option("--period", metavar="TEXT", default="", help="The period the answers cover.")
@click.option("--date", "report_date", type=click.DateTime(formats=["%Y-%m-%d"]),
              metavar="YYYY-MM-DD", help="Date printed on the report [default: today].")
@click.option("--target-stage", type=click.IntRange(min=1), metavar="N",
              help="Draft an action for every component below stage N.")
@click.option("--review", "review_path", metavar="FILE.csv",
              help="The unit's review: node,constraints,good_practice,decision.")
@click.option("--min-respondents", type=click.IntRange(min=1), metavar="N",
              help="Override the instrument's minimum number of respondents per score.")
@click.pass_context
def command(
    context: click.Context, key: str, responses: str, pdf_path: str | None,
    xlsx_path: str | None, csv_answers: str | None, csv_scores: str | None, lang: str,
    final: bool, unit: str | None, cycle: str, period: str, report_date: dt.datetime | None,
    target_stage: int | None, review_path: str | None, min_respondents: int | None,
) -> None:
    """Write the reports of RESPONSES scored with the instrument KEY.

    \b
    KEY and RESPONSES are those of `surveyapp score` (see its help for the
    responses format). Give at least one of --pdf and --xlsx (or a CSV file):
      surveyapp report ccpm answers.csv --pdf report.pdf --xlsx report.xlsx
    \b
    The report is preliminary unless --final is given. Actions are drafted
    for weak or unsatisfactory blocks, components below --target-stage and
    recommendations. --review adds the unit's analysis: a CSV file with the
    header node,constraints,good_practice,decision (any of the last three).
    Problems are printed as FILE:ROW:COLUMN: message and the command exits
    with status 1; docs/reports.md describes every part of the reports.
    """
    outputs = [path for path in (pdf_path, xlsx_path, csv_answers, csv_scores) if path]
    if not outputs:
        raise click.UsageError("say where to write the report: --pdf OUT.pdf and/or "
                               "--xlsx OUT.xlsx (or --csv-answers / --csv-scores FILE)")
    try:
        scored = score_file(key, responses, min_respondents)
        reviews = read_reviews(review_path, scored) if review_path else {}
    except InputProblems as problems:
        fail(context, problems.lines)
    data = ReportData(
        context=ReportContext(
            unit=unit or Path(responses).stem, generated=(report_date or dt.datetime.now()).date(),
            cycle=cycle, period=period, final=final, language=lang,
        ),
        instrument=scored.loaded,
        scores=scored.report,
        responses=scored.responses,
        actions=draft_action_plan(scored.loaded.instrument, scored.report, scored.responses,
                                  language=lang, target_stage=target_stage),
        reviews=reviews,
    )
    writers: list[tuple[str | None, Callable[[Path], None]]] = [
        (pdf_path, lambda path: path.write_bytes(render_pdf(data))),
        (xlsx_path, lambda path: write_workbook(data, path)),
        (csv_answers, lambda path: path.write_text(answers_csv(data), encoding="utf-8")),
        (csv_scores, lambda path: path.write_text(scores_csv(data), encoding="utf-8")),
    ]
    for path, write in writers:
        if path is None:
            continue
        try:
            write(Path(path))
        except OSError as error:
            fail(context, [f"{path}: cannot write the file: {error.strerror}"])
        click.echo(f"wrote {path}")



def read_reviews(path: str, scored: ScoredFile) -> dict[str, NodeReview]:
    """The unit's review file: one row per node, its constraints, good practice and decision.

    :raises InputProblems: for an unreadable file, a bad header or an unknown node.
    """
    try:
        text = Path(path).read_bytes().decode("utf-8-sig")
    except OSError as error:
        raise InputProblems([f"{path}: cannot read the file: {error.strerror}"]) from None
    except UnicodeDecodeError as error:
        raise InputProblems([f"{path}: byte {error.start} is not UTF-8 text: save the file "
                             "as CSV UTF-8"]) from None
    rows = list(csv.reader(io.StringIO(text, newline="")))
    if not rows:
        raise InputProblems([f"{path}: the file is empty: the first row must be the header "
                             f"{','.join(REVIEW_COLUMNS)}"])
    header = [name.strip().lower() for name in rows[0]]
    problems = [f"{path}:1:{name}: unknown column `{name}`: the columns are "
                f"{', '.join(REVIEW_COLUMNS)}" for name in header if name not in REVIEW_COLUMNS]
    if "node" not in header:
        problems.append(f"{path}:1:node: the column `node` is missing: the first row must be "
                        f"the header {','.join(REVIEW_COLUMNS)}")
    if problems:
        raise InputProblems(problems)
    known = {result.node for result in scored.report.results}
    reviews: dict[str, NodeReview] = {}
    for number, cells in enumerate(rows[1:], start=2):
        values = dict(zip(header, (cell.strip() for cell in cells), strict=False))
        node = values.get("node", "")
        if not any(values.values()):
            continue
        if node not in known:
            problems.append(f"{path}:{number}:node: `{node}` is not a node of this report: "
                            "use a node number as printed in the report (e.g. 1.1)")
            continue
        if node in reviews:
            problems.append(f"{path}:{number}:node: `{node}` is reviewed twice: keep one row")
            continue
        reviews[node] = NodeReview(values.get("constraints", ""),
                                   values.get("good_practice", ""), values.get("decision", ""))
    if problems:
        raise InputProblems(problems)
    return reviews
