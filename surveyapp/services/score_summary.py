"""A score report in words, one line per node: the offline ``surveyapp score`` table and the
score shown under an instrument preview say the same thing the same way."""

from __future__ import annotations

from dataclasses import dataclass

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


@dataclass(frozen=True)
class ResultLine:
    """One scored node: its id, depth in the tree, English title and computed summary."""

    node: str
    depth: int
    title: str
    summary: str


def result_lines(instrument: Instrument, report: ScoreReport) -> list[ResultLine]:
    """Every result of the report, in tree order, with its title and summary."""
    titles = dict(_titles(instrument.nodes))
    titles.update((entry.id, entry.title) for entry in report.framework)
    return [ResultLine(result.node, result.depth, titles.get(result.node, ""), summary(result))
            for result in report.results]


def _titles(nodes: tuple[Node, ...]) -> list[tuple[str, str]]:
    return [pair for node in nodes
            for pair in [(node.id, node.title["en"]), *_titles(node.children)]]


def summary(result: NodeResult) -> str:
    """The computed part of one line, in the terms of the result's method."""
    if isinstance(result, PercentResult):
        parts = ", ".join(f"{part.questionnaire} {number_text(part.score)}"
                          for part in result.by_questionnaire)
        gap = f", gap {result.gap:+.2f}" if result.gap is not None else ""
        return (f"{number_text(result.score):>7}  {result.rating or '':<17} "
                f"n={result.respondents:<4} {parts}{gap}")
    if isinstance(result, StageResult):
        difference = f" ({result.difference:+d})" if result.difference is not None else ""
        return (f"self {number_text(result.self_stage)}, "
                f"validated {number_text(result.validated_stage)}{difference}")
    if isinstance(result, DistributionResult):
        return "; ".join(
            f"{kind} min {number_text(part.minimum)} median {_stage(part.median)} "
            f"max {number_text(part.maximum)} ({part.assessed} of "
            f"{part.assessed + part.missing})"
            for kind, part in (("self", result.self_assessed), ("validated", result.validated))
        )
    if isinstance(result, RubricResult):
        levels = " ".join(f"{entry.criterion[0].upper()} {entry.value}"
                          for entry in result.criteria)
        band = f"  {result.rating}" if result.rating else ""
        return f"{levels} = {result.total}{band}{' (convention)' if result.convention else ''}"
    if isinstance(result, ListResult):
        return f"{len(result.results)} scored below"
    return result.method


def number_text(value: float | int | None) -> str:
    if value is None:
        return "-"
    return f"{value:.2f}" if isinstance(value, float) else str(value)


def _stage(value: float | None) -> str:
    """A stage statistic as people write it: 2, or 2.5 between two stages."""
    return "-" if value is None else f"{value:g}"


def percent_text(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f} %"
