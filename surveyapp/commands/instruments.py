"""``surveyapp instruments``: validate, list, show and compare instrument files.

None of these touch the database: an author can check a file on any machine
where surveyapp is installed.
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from instruments.checks import missing_translations
from instruments.diff import diff_heading, diff_instruments
from instruments.errors import ErrorCode, InstrumentInvalid, Problem
from instruments.loader import (
    LoadedInstrument,
    library_files,
    load_instrument,
    load_instrument_file,
    locate,
    position_index,
)


@click.group("instruments")
def command() -> None:
    """Validate, list, show and compare instruments."""


def _expand(paths: tuple[str, ...]) -> list[Path]:
    """Files named, and the .yaml files inside folders named; the bundled library by default."""
    if not paths:
        return library_files()
    files: list[Path] = []
    for name in paths:
        path = Path(name)
        if path.is_dir():
            files.extend(sorted(p for p in path.rglob("*") if p.suffix in (".yaml", ".yml")))
        else:
            files.append(path)
    return files


def _translation_problems(loaded: LoadedInstrument, language: str) -> list[Problem]:
    index = position_index(loaded.text)
    return [Problem(loaded.path, *locate(index, issue.location), issue.code, issue.message)
            for issue in missing_translations(loaded.instrument, language)]


@command.command("validate")
@click.argument("paths", nargs=-1)
@click.option("--require-lang", "languages", multiple=True, metavar="LANG",
              help="Also report every text that lacks this language (repeatable).")
@click.option("--codes", is_flag=True, help="Print the table of problem codes and exit.")
def validate(paths: tuple[str, ...], languages: tuple[str, ...], codes: bool) -> None:
    """Check instrument files (default: the bundled library).

    Prints one line per problem as FILE:LINE:COLUMN: CODE message and exits 1,
    or says how many files are valid and exits 0.
    """
    if codes:
        for code in ErrorCode:
            click.echo(f"{code.code}  {code.meaning}")
        return
    problems: list[Problem] = []
    files = _expand(paths)
    for file in files:
        try:
            loaded = load_instrument_file(file)
        except InstrumentInvalid as error:
            problems.extend(error.problems)
            continue
        for language in languages:
            problems.extend(_translation_problems(loaded, language))
    for problem in problems:
        click.echo(problem.format())
    if problems:
        raise SystemExit(1)
    click.echo(f"{len(files)} instrument file(s) valid")


@command.command("list")
def list_instruments() -> None:
    """Key, version, title and sha256 of every bundled instrument."""
    rows = []
    for file in library_files():
        try:
            loaded = load_instrument_file(file)
        except InstrumentInvalid as error:
            for problem in error.problems:
                click.echo(problem.format(), err=True)
            raise SystemExit(1) from None
        rows.append((loaded.key, loaded.version, loaded.instrument.title["en"], loaded.sha256))
    width = max((len(row[0]) for row in rows), default=3)
    click.echo(f"{'key':<{width}}  {'version':<8}  {'sha256':<64}  title")
    for key, version, title, sha256 in rows:
        click.echo(f"{key:<{width}}  {version:<8}  {sha256}  {title}")


def _load_or_exit(key_or_path: str) -> LoadedInstrument:
    try:
        return load_instrument(key_or_path)
    except InstrumentInvalid as error:
        for problem in error.problems:
            click.echo(problem.format(), err=True)
        raise SystemExit(1) from None


@command.command("show")
@click.argument("key")
@click.option("--json", "as_json", is_flag=True, help="The parsed instrument as JSON.")
def show(key: str, as_json: bool) -> None:
    """Show a parsed instrument (a bundled key or a file path)."""
    loaded = _load_or_exit(key)
    instrument = loaded.instrument
    if as_json:
        document = {"sha256": loaded.sha256,
                    "instrument": instrument.model_dump(mode="json", by_alias=True,
                                                        exclude_defaults=True)}
        click.echo(json.dumps(document, ensure_ascii=False, indent=2))
        return
    click.echo(f"{instrument.key} {instrument.version}: {instrument.title['en']}")
    click.echo(f"sha256 {loaded.sha256}; languages {', '.join(instrument.languages)}")

    def show_nodes(nodes: tuple, depth: int) -> None:  # type: ignore[type-arg]
        for node in nodes:
            rule = f"  [{node.scoring}]" if node.scoring else ""
            click.echo(f"{'  ' * depth}{node.id} {node.title['en']}{rule}")
            show_nodes(node.children, depth + 1)

    show_nodes(instrument.nodes, 1)
    if instrument.framework:
        click.echo(f"  framework levels: {' > '.join(instrument.framework.levels)}")
    for questionnaire in instrument.questionnaires:
        click.echo(f"questionnaire {questionnaire.id} ({questionnaire.role}): "
                   f"{len(questionnaire.items)} items")


@command.command("diff")
@click.argument("old")
@click.argument("new")
def diff(old: str, new: str) -> None:
    """What changed from OLD to NEW (keys or file paths), item by item."""
    before, after = _load_or_exit(old), _load_or_exit(new)
    click.echo(diff_heading(before.instrument, after.instrument))
    changes = diff_instruments(before.instrument, after.instrument)
    for change in changes:
        click.echo(change.format())
    if not changes:
        click.echo("no differences in nodes or items")
