"""Read an instrument and a responses file and score them, for the offline commands.

``surveyapp score`` and ``surveyapp report`` read the same input the same way
and report its problems with the same located messages
(``FILE:ROW:COLUMN: message``); this module is that shared path. It has no
``command``: it is not a command of its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

import click

from instruments.errors import InstrumentInvalid
from instruments.loader import LoadedInstrument, load_instrument
from scoring import AnswersInvalid, Responses, ScoreReport, score
from scoring.responses import parse_responses


@dataclass(frozen=True)
class ScoredFile:
    """An instrument, the answers read from a responses file, and their scores."""

    loaded: LoadedInstrument
    responses: Responses
    report: ScoreReport


class InputProblems(Exception):
    """The instrument or the responses file cannot be used; ``lines`` say where and why."""

    def __init__(self, lines: list[str]) -> None:
        super().__init__("\n".join(lines))
        self.lines = lines


def score_file(key: str, path: str, min_respondents: int | None = None) -> ScoredFile:
    """Load the instrument ``key`` (bundled key or file), read ``path`` and score it.

    :raises InputProblems: listing every problem found, each located.
    """
    try:
        loaded = load_instrument(key)
    except InstrumentInvalid as invalid:
        raise InputProblems([problem.format() for problem in invalid.problems]) from None
    try:
        data = Path(path).read_bytes()
    except OSError as error:
        raise InputProblems([f"{path}: cannot read the file: {error.strerror}"]) from None
    try:
        responses = parse_responses(loaded.instrument, data, path)
        report = score(loaded.instrument, responses, sha256=loaded.sha256,
                       min_respondents=min_respondents)
    except AnswersInvalid as invalid:
        raise InputProblems([problem.format(path) for problem in invalid.problems]) from None
    return ScoredFile(loaded, responses, report)


def fail(context: click.Context, lines: list[str]) -> NoReturn:
    """Print every problem on stderr, nothing on stdout, and exit with status 1."""
    for line in lines:
        click.echo(line, err=True)
    context.exit(1)
