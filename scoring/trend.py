"""Trends: the same nodes lined up across assessment cycles, even across instrument versions.

Cycles are given oldest first. Node and item ids are those of the newest
cycle's instrument; an older cycle scored with another version is mapped
through the declared crosswalks (``crosswalk: - from_version: ...``) of the
newer instruments, step by step if needed (1.0 -> 1.1 -> 2.0). An id a
crosswalk does not mention keeps its name; ``to: null`` means the node or item
was removed, and its old results are listed under ``removed`` instead of being
matched to something else (DESIGN.md "How work flows", step 7).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from instruments.schema import Crosswalk, Instrument
from scoring.numbers import natural_key
from scoring.results import ItemDistribution, JsonDict, NodeResult, ScoreReport


class TrendError(ValueError):
    """Cycles that cannot be lined up: different instruments, or no crosswalk between versions."""


@dataclass(frozen=True)
class Cycle:
    """One scored assessment: a label people recognise, its instrument and its report."""

    label: str
    instrument: Instrument
    report: ScoreReport


@dataclass(frozen=True)
class TrendPoint:
    """One cycle's result for a node; ``source_node`` is the node's id in that cycle."""

    cycle: str
    version: str
    source_node: str
    result: NodeResult

    def to_dict(self) -> JsonDict:
        return {"cycle": self.cycle, "version": self.version, "source_node": self.source_node,
                "result": self.result.to_dict()}


@dataclass(frozen=True)
class NodeTrend:
    node: str
    points: tuple[TrendPoint, ...]

    def to_dict(self) -> JsonDict:
        return {"node": self.node, "points": [point.to_dict() for point in self.points]}


@dataclass(frozen=True)
class ItemTrend:
    """One item's answer distributions across cycles, under the newest questionnaire and id."""

    questionnaire: str
    item: str
    points: tuple[tuple[str, ItemDistribution], ...]

    def to_dict(self) -> JsonDict:
        return {"questionnaire": self.questionnaire, "item": self.item,
                "points": [{"cycle": cycle, "distribution": distribution.to_dict()}
                           for cycle, distribution in self.points]}


@dataclass(frozen=True)
class Trend:
    instrument: str
    version: str
    cycles: tuple[str, ...]
    nodes: tuple[NodeTrend, ...]
    items: tuple[ItemTrend, ...]
    removed: tuple[tuple[str, str], ...]

    def node(self, node: str) -> NodeTrend:
        """The trend of one node (an id of the newest instrument).

        :raises KeyError: when no cycle has a result for it.
        """
        for entry in self.nodes:
            if entry.node == node:
                return entry
        raise KeyError(f"no cycle has a result for node `{node}`")

    def to_dict(self) -> JsonDict:
        return {"instrument": self.instrument, "version": self.version,
                "cycles": list(self.cycles),
                "nodes": [entry.to_dict() for entry in self.nodes],
                "items": [entry.to_dict() for entry in self.items],
                "removed": [{"cycle": cycle, "id": old} for cycle, old in self.removed]}


def trend(cycles: Sequence[Cycle]) -> Trend:
    """Line up the results of ``cycles`` (oldest first) node by node.

    :raises TrendError: when the cycles use different instruments, or an older
        version has no crosswalk path to the newest.
    """
    if not cycles:
        raise TrendError("a trend needs at least one scored cycle")
    newest = cycles[-1].instrument
    keys = {cycle.instrument.key for cycle in cycles}
    if len(keys) > 1:
        raise TrendError(f"the cycles use different instruments ({', '.join(sorted(keys))}): "
                         "a trend compares cycles of one instrument")
    known = {cycle.instrument.version: cycle.instrument for cycle in cycles}
    node_points: dict[str, list[TrendPoint]] = {}
    item_points: dict[tuple[str, str], list[tuple[str, ItemDistribution]]] = {}
    removed: list[tuple[str, str]] = []
    for cycle in cycles:
        steps = _path(cycle.instrument.version, newest, known)
        for result in cycle.report.results:
            new_id = _follow(steps, result.node, None)
            if new_id is None:
                removed.append((cycle.label, result.node))
                continue
            parent = _follow(steps, result.parent, None) if result.parent else None
            point = TrendPoint(cycle.label, cycle.instrument.version, result.node,
                               replace(result, node=new_id, parent=parent))
            node_points.setdefault(new_id, []).append(point)
        for distribution in cycle.report.distributions:
            new_item = _follow(steps, distribution.item, distribution.questionnaire)
            if new_item is None:
                removed.append((cycle.label, f"{distribution.questionnaire}/{distribution.item}"))
                continue
            mapped = replace(distribution, item=new_item)
            item_points.setdefault((distribution.questionnaire, new_item), []).append(
                (cycle.label, mapped))
    order = {result.node: index for index, result in enumerate(cycles[-1].report.results)}
    return Trend(
        instrument=newest.key,
        version=newest.version,
        cycles=tuple(cycle.label for cycle in cycles),
        nodes=tuple(NodeTrend(node, tuple(points)) for node, points in sorted(
            node_points.items(),
            key=lambda entry: (order.get(entry[0], len(order)), natural_key(entry[0])))),
        items=tuple(ItemTrend(questionnaire, item, tuple(points))
                    for (questionnaire, item), points in item_points.items()),
        removed=tuple(removed),
    )


def _path(version: str, newest: Instrument, known: Mapping[str, Instrument]) -> list[Crosswalk]:
    """The crosswalks that lead from ``version`` to the newest instrument, in order."""
    if version == newest.version:
        return []
    frontier: list[tuple[str, list[Crosswalk]]] = [(version, [])]
    visited = {version}
    while frontier:
        current, steps = frontier.pop(0)
        for candidate in (*known.values(), newest):
            for crosswalk in candidate.crosswalk:
                if crosswalk.from_version != current or candidate.version in visited:
                    continue
                route = [*steps, crosswalk]
                if candidate.version == newest.version:
                    return route
                visited.add(candidate.version)
                frontier.append((candidate.version, route))
    raise TrendError(
        f"no crosswalk leads from version {version} to version {newest.version} of "
        f"`{newest.key}`: declare `crosswalk: - from_version: \"{version}\"` in the newer file"
    )


def _follow(steps: Sequence[Crosswalk], identifier: str, questionnaire: str | None) -> str | None:
    """An id mapped through each crosswalk in turn; None once a step removes it."""
    current: str | None = identifier
    for crosswalk in steps:
        if current is None:
            return None
        for entry in crosswalk.entries:
            applies = entry.questionnaire is None or entry.questionnaire == questionnaire
            if entry.from_ == current and applies:
                current = entry.to
                break
    return current
