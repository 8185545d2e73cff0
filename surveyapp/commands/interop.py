"""Files for the tools users already have: XLSForm, Kobo/ODK exports, Excel workbooks.

``surveyapp xlsform export`` writes a questionnaire as an XLSForm for KoboToolbox, ODK and
Enketo; ``surveyapp responses convert`` turns their submission exports into the long format
that ``surveyapp score`` reads; ``surveyapp instruments from-excel`` and ``to-excel`` let an
instrument be written or translated in a spreadsheet. None of them touch the database.
docs/interop.md describes the files.
"""

from __future__ import annotations

from pathlib import Path
from typing import NoReturn

import click

from instruments.errors import ErrorCode, InstrumentInvalid, Problem
from instruments.excel import instrument_to_workbook, workbook_to_yaml
from instruments.loader import LoadedInstrument, load_instrument
from instruments.xlsform import ExportRefused, build_xlsform, questionnaire_of
from scoring.submissions import (
    SubmissionsInvalid,
    convert_submissions,
    read_tables,
    write_long_csv,
)
from surveyapp.commands.instruments import command as instruments_group

SUBMISSION_FORMATS = ("xlsform-submissions",)


def _fail(lines: list[str]) -> NoReturn:
    """Every problem on stderr, one per line, and exit status 1: never a traceback."""
    for line in lines:
        click.echo(line, err=True)
    raise SystemExit(1)


def _load(key: str) -> LoadedInstrument:
    try:
        return load_instrument(key)
    except InstrumentInvalid as invalid:
        _fail([problem.format() for problem in invalid.problems])


def _read(path: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as error:
        _fail([f"{path}: cannot read the file: {error.strerror}"])


def _write(path: str, data: bytes) -> None:
    try:
        Path(path).write_bytes(data)
    except OSError as error:
        _fail([f"{path}: cannot write the file: {error.strerror}"])


@click.group("xlsform")
def xlsform() -> None:
    """Questionnaires as XLSForms, for KoboToolbox, ODK Collect, ODK Central and Enketo."""


@xlsform.command("export")
@click.argument("key", metavar="KEY")
@click.option("--questionnaire", "-q", metavar="NAME",
              help="The questionnaire to export (needed when the instrument has several).")
@click.option("--output", "-o", metavar="FILE.xlsx",
              help="Where to write the form (default: KEY_QUESTIONNAIRE.xlsx).")
def export(key: str, questionnaire: str | None, output: str | None) -> None:
    """Write one questionnaire of KEY (a bundled key or a file) as an XLSForm.

    \b
    The form has the sheets survey, choices and settings; a label, hint and
    constraint message column per language of the instrument; the same option
    codes, skip logic and required items as the web questionnaire. Upload it to
    KoboToolbox or ODK Central; convert the submissions back with
    `surveyapp responses convert`.
    """
    loaded = _load(key)
    try:
        form = build_xlsform(loaded.instrument, questionnaire)
        data = form.workbook_bytes()
    except ExportRefused as error:
        _fail([f"{key}: {error}"])
    target = output or f"{form.form_id}.xlsx"
    _write(target, data)
    questions = sum(1 for row in form.survey if not row["type"].startswith(("begin_", "end_")))
    click.echo(f"wrote {target}: form {form.form_id} version {form.settings['version']}, "
               f"{questions} questions, {len(form.choices)} choices, "
               f"languages {', '.join(form.languages)}")


@click.group("responses")
def responses() -> None:
    """Answers collected elsewhere: convert them for `surveyapp score`, or import them."""


@responses.command("convert")
@click.argument("file", metavar="FILE")
@click.option("--from", "source_format", type=click.Choice(SUBMISSION_FORMATS), required=True,
              help="What FILE is: xlsform-submissions = a KoboToolbox or ODK Central export.")
@click.option("--instrument", "key", required=True, metavar="KEY",
              help="The instrument the form was exported from (a bundled key or a file).")
@click.option("--questionnaire", "-q", metavar="NAME",
              help="The questionnaire the form asks (needed when there are several).")
@click.option("--output", "-o", required=True, metavar="LONG.csv",
              help="Where to write the long-format CSV.")
@click.option("--partial", is_flag=True,
              help="Write the good submissions even when others are refused.")
def convert(file: str, source_format: str, key: str, questionnaire: str | None, output: str,
            partial: bool) -> None:
    """Turn a KoboToolbox or ODK Central export (FILE) into long-format CSV.

    \b
    FILE is Kobo's .xlsx or .csv export (XML values or labels, any group
    separator) or ODK Central's .csv or .zip export. Metadata columns are left
    out; each submission's id (_uuid, meta/instanceID or KEY) becomes the
    respondent. Every answer is checked as `surveyapp score` checks it.
    \b
    All or nothing: when any submission has a problem, every problem is printed
    as FILE:ROW:COLUMN: message, nothing is written and the exit status is 1.
    With --partial the other submissions are written and the refused ones listed.
    """
    loaded = _load(key)
    try:
        questionnaire_id = questionnaire_of(loaded.instrument, questionnaire).id
    except ExportRefused as error:
        _fail([f"{key}: {error}"])
    try:
        tables = read_tables(_read(file), file)
        conversion = convert_submissions(loaded.instrument, questionnaire_id, tables.main, file,
                                         tables.repeats)
    except SubmissionsInvalid as invalid:
        _fail([problem.format() for problem in invalid.problems])
    lines = [problem.format() for refused in conversion.refused for problem in refused.problems]
    respondents = len({row.respondent for row in conversion.rows})
    if conversion.refused and not partial:
        _fail([*lines, f"{len(conversion.refused)} submission(s) refused: nothing written "
                       "(fix them, or add --partial to write the others)"])
    _write(output, write_long_csv(conversion.rows).encode("utf-8"))
    for line in lines:
        click.echo(line, err=True)
    refused = f"; {len(conversion.refused)} refused" if conversion.refused else ""
    click.echo(f"wrote {output}: {len(conversion.rows)} answers from {respondents} "
               f"submission(s) of {loaded.key}/{questionnaire_id}{refused}")


@click.command("from-excel")
@click.argument("workbook", metavar="FILE.xlsx")
@click.option("--output", "-o", required=True, metavar="FILE.yaml",
              help="Where to write the instrument file.")
def from_excel(workbook: str, output: str) -> None:
    """Check an instrument workbook and write it as an instrument YAML file.

    Problems are printed one per line as FILE.xlsx:SHEET!CELL: CODE message
    (the codes of `surveyapp instruments validate --codes`) and nothing is
    written. docs/interop.md describes the workbook.
    """
    try:
        data = Path(workbook).read_bytes()
    except OSError as error:
        _fail([Problem(workbook, 1, 1, ErrorCode.UNREADABLE,
                       f"cannot read the file: {error.strerror}").format()])
    try:
        text, loaded = workbook_to_yaml(data, workbook)
    except InstrumentInvalid as invalid:
        _fail([problem.format() for problem in invalid.problems])
    _write(output, text.encode("utf-8"))
    instrument = loaded.instrument
    click.echo(f"wrote {output}: {instrument.key} {instrument.version}, "
               f"{len(instrument.questionnaires)} questionnaire(s), "
               f"{sum(len(q.items) for q in instrument.questionnaires)} items")


@click.command("to-excel")
@click.argument("key", metavar="KEY")
@click.option("--output", "-o", required=True, metavar="FILE.xlsx",
              help="Where to write the workbook.")
def to_excel(key: str, output: str) -> None:
    """Write instrument KEY (a bundled key or a file) as a workbook to edit or translate."""
    loaded = _load(key)
    try:
        data = instrument_to_workbook(loaded.instrument)
    except InstrumentInvalid as invalid:
        _fail([problem.format() for problem in invalid.problems])
    _write(output, data)
    click.echo(f"wrote {output}: {loaded.key} {loaded.version}; edit it, then run "
               f"`surveyapp instruments from-excel {output} -o FILE.yaml`")


instruments_group.add_command(from_excel)
instruments_group.add_command(to_excel)
#: Registered by surveyapp/cli.py beside the other command modules.
commands = (xlsform, responses)
