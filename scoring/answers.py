"""What goes into the engine: answers, the unit's own results framework, and input problems.

Answers are plain immutable records so that callers (the web app reading its
database, the offline responses file, tests, benchmarks) hand over the same
thing. ``Answer`` is a ``NamedTuple`` rather than a dataclass because a
cluster's answers run to tens of thousands and the engine reads them column by
column (``zip(*answers)``), which tuples make cheap.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import NamedTuple

#: A raw answer value: a code or number (int/float), text, or None for a blank.
RawValue = int | float | str | None


class Answer(NamedTuple):
    """One answer of one respondent to one item.

    A respondent is identified by ``(questionnaire, respondent)``: one filled-in
    questionnaire counts as one respondent, as in the CCPM survey where each
    coordinator or partner response is a respondent (reference/instruments.md
    section 1.5). ``node`` names the node of the unit's results framework for
    items asked once per framework node (``per_level``); ``criterion`` names the
    rubric criterion (CPAS relevance, extent, duration). ``row`` is where the
    answer came from (a spreadsheet row), used only in messages.
    """

    respondent: str
    questionnaire: str
    item: str
    value: RawValue
    comment: str | None = None
    node: str | None = None
    criterion: str | None = None
    row: int | None = None


class FrameworkNode(NamedTuple):
    """A node of a unit's own results framework (CPAS: an intended impact, outcome or output)."""

    id: str
    level: str
    title: str
    parent: str | None = None
    section: str | None = None
    row: int | None = None


@dataclass(frozen=True)
class Responses:
    """Everything one assessment of one unit produced: the answers and, if any, its framework."""

    answers: tuple[Answer, ...]
    framework: tuple[FrameworkNode, ...] = ()

    @classmethod
    def of(cls, answers: Iterable[Answer], framework: Iterable[FrameworkNode] = ()) -> Responses:
        return cls(tuple(answers), tuple(framework))


@dataclass(frozen=True)
class AnswerProblem:
    """Something wrong with the answers, located where the person who made them can fix it."""

    message: str
    row: int | None = None
    column: str | None = None

    def format(self, source: str = "answers") -> str:
        """``SOURCE:ROW:COLUMN: message``, leaving out what is not known."""
        if self.row is None:
            return f"{source}: {self.message}"
        if self.column is None:
            return f"{source}:{self.row}: {self.message}"
        return f"{source}:{self.row}:{self.column}: {self.message}"

    def sort_key(self) -> tuple[int, str, str]:
        return (self.row if self.row is not None else 0, self.column or "", self.message)


class AnswersInvalid(Exception):
    """Raised with every problem found, so that nothing is half-scored and all is fixed at once."""

    def __init__(self, problems: Iterable[AnswerProblem]) -> None:
        self.problems = tuple(sorted(problems, key=AnswerProblem.sort_key))
        super().__init__("\n".join(problem.format() for problem in self.problems))
