"""What changed between two versions of an instrument, item by item.

Items are compared within their questionnaire; an item the newer version's
crosswalk maps to a new id counts as renamed, not as removed plus added, so
trends can follow it. Removed or renamed items that the crosswalk does not
cover are what a publisher must look at before a new version goes out.
"""

from __future__ import annotations

from dataclasses import dataclass

from instruments.checks import walk_nodes
from instruments.schema import Instrument, Item, Node


@dataclass(frozen=True)
class Change:
    """One difference: ``kind`` is added, removed, renamed or changed."""

    kind: str
    element: str  # "node" or "item"
    questionnaire: str | None
    identifier: str
    detail: str = ""

    def format(self) -> str:
        where = f"{self.questionnaire}/" if self.questionnaire else ""
        detail = f": {self.detail}" if self.detail else ""
        return f"{self.kind:<8} {self.element} {where}{self.identifier}{detail}"


def _item_signature(item: Item) -> dict[str, object]:
    """The parts of an item whose change matters to respondents and to scoring."""
    return {
        "type": item.type,
        "text": item.text.get("en"),
        "nodes": item.node_ids,
        "options": [(o.code, o.score, o.excluded) for o in item.options],
        "scale": item.scale,
        "required": item.required,
        "relevant": item.relevant,
        "criteria": [c.id for c in item.criteria],
    }


def _node_signature(node: Node) -> dict[str, object]:
    return {
        "title": node.title.get("en"),
        "level": node.level,
        "scoring": node.scoring,
        "stages": [s.descriptor.get("en") for s in node.stages],
        "children": [child.id for child in node.children],
    }


def _changed_fields(old: dict[str, object], new: dict[str, object]) -> str:
    return ", ".join(name for name in old if old[name] != new[name])


def renames(old: Instrument, new: Instrument) -> dict[tuple[str | None, str], str | None]:
    """The newer version's crosswalk from ``old.version``: (questionnaire, old id) -> new id."""
    mapping: dict[tuple[str | None, str], str | None] = {}
    for crosswalk in new.crosswalk:
        if crosswalk.from_version == old.version:
            for entry in crosswalk.entries:
                mapping[(entry.questionnaire, entry.from_)] = entry.to
    return mapping


def diff_heading(old: Instrument, new: Instrument) -> str:
    """The first line of a comparison: ``ccpm 2015.1 -> ccpm 2016.1``."""
    return f"{old.key} {old.version} -> {new.key} {new.version}"


def diff_instruments(old: Instrument, new: Instrument) -> list[Change]:
    """Every node and item change from ``old`` to ``new``, in file order."""
    changes: list[Change] = []
    mapping = renames(old, new)
    old_nodes = {node.id: node for node, _ in walk_nodes(old.nodes)}
    new_nodes = {node.id: node for node, _ in walk_nodes(new.nodes)}
    matched_nodes: set[str] = set()
    for node_id, node in old_nodes.items():
        target = mapping.get((None, node_id), node_id)
        if target is None or target not in new_nodes:
            changes.append(Change("removed", "node", None, node_id))
            continue
        matched_nodes.add(target)
        if target != node_id:
            changes.append(Change("renamed", "node", None, node_id, f"now {target}"))
        fields = _changed_fields(_node_signature(node), _node_signature(new_nodes[target]))
        if fields:
            changes.append(Change("changed", "node", None, target, fields))
    changes.extend(Change("added", "node", None, node_id)
                   for node_id in new_nodes if node_id not in matched_nodes)

    new_questionnaires = {q.id: q for q in new.questionnaires}
    for questionnaire in old.questionnaires:
        counterpart = new_questionnaires.get(questionnaire.id)
        if counterpart is None:
            changes.append(Change("removed", "questionnaire", None, questionnaire.id))
            continue
        new_items = {item.id: item for item in counterpart.items}
        matched: set[str] = set()
        for item in questionnaire.items:
            key = (questionnaire.id, item.id)
            target = mapping.get(key, mapping.get((None, item.id), item.id))
            if target is None or target not in new_items:
                changes.append(Change("removed", "item", questionnaire.id, item.id,
                                      "" if (key in mapping or (None, item.id) in mapping)
                                      else "not covered by the crosswalk"))
                continue
            matched.add(target)
            if target != item.id:
                changes.append(Change("renamed", "item", questionnaire.id, item.id,
                                      f"now {target}"))
            fields = _changed_fields(_item_signature(item), _item_signature(new_items[target]))
            if fields:
                changes.append(Change("changed", "item", questionnaire.id, target, fields))
        changes.extend(Change("added", "item", questionnaire.id, item_id)
                       for item_id in new_items if item_id not in matched)
    old_ids = {q.id for q in old.questionnaires}
    changes.extend(Change("added", "questionnaire", None, q.id)
                   for q in new.questionnaires if q.id not in old_ids)
    return changes


def uncovered_removals(old: Instrument, new: Instrument) -> list[Change]:
    """Removed items the crosswalk says nothing about: trends would silently break there."""
    return [change for change in diff_instruments(old, new)
            if change.kind == "removed" and change.element == "item" and change.detail]
