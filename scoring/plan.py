"""An instrument compiled for scoring: what each answer may be, and the tree of nodes.

The instrument file says everything; this module only arranges it for fast
look-ups: every answerable *slot* (an item, or one criterion of a rubric item)
with the domain of values it accepts, and the node tree in pre-order with each
node's scoring rule. A unit's own results framework (CPAS) is grafted onto the
tree per assessment, because each mission defines its own outputs.
"""

from __future__ import annotations

import datetime as dt
from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import NamedTuple

from instruments.schema import (
    BandSet,
    Instrument,
    Item,
    Node,
    Option,
    Questionnaire,
    ScoringRule,
)
from scoring.answers import AnswerProblem, FrameworkNode, RawValue
from scoring.numbers import natural_key

#: Values accepted, in any case, as "not applicable" for items that allow it.
NOT_APPLICABLE_WORDS = frozenset({"n/a", "na", "not applicable", "not_applicable"})
_YES = frozenset({"yes", "y", "true", "1"})
_NO = frozenset({"no", "n", "false", "0"})


class Parsed(NamedTuple):
    """A raw value read against an item: its normal form, its score, or why it is refused.

    ``value`` is None for a blank; ``score`` is None when the answer counts in no
    score (blank, excluded code, unscored option, text); ``error`` says what is
    wrong and what to do.
    """

    value: int | float | str | None
    score: float | None = None
    error: str | None = None
    not_applicable: bool = False


BLANK = Parsed(None)


def _number(raw: RawValue) -> float | int | str | None:
    """The number in a raw value, None for a blank, or the stripped text when it is no number."""
    if raw is None:
        return None
    if isinstance(raw, bool):
        return int(raw)
    if isinstance(raw, int | float):
        return int(raw) if float(raw).is_integer() else raw
    text = str(raw).strip()
    if not text:
        return None
    try:
        number = float(text)
    except ValueError:
        return text
    return int(number) if number.is_integer() else number


def _listing(values: Iterable[object]) -> str:
    return ", ".join(str(value) for value in values)


class Domain(ABC):
    """The values one slot accepts; ``parse`` never raises, it says what is wrong."""

    @abstractmethod
    def parse(self, raw: RawValue) -> Parsed: ...


@dataclass(frozen=True)
class CodeDomain(Domain):
    """Coded options (single choice): the option's code is stored, its ``score`` counts."""

    options: tuple[Option, ...]

    def parse(self, raw: RawValue) -> Parsed:
        value = _number(raw)
        if value is None:
            return BLANK
        for option in self.options:
            if option.code == value:
                counts = option.excluded is None and option.score is not None
                return Parsed(option.code, option.score if counts else None)
        codes = _listing(option.code for option in self.options)
        return Parsed(None, error=f"`{raw}` is not one of the codes {codes}: use one of them")

    @property
    def codes(self) -> tuple[int, ...]:
        return tuple(option.code for option in self.options)


@dataclass(frozen=True)
class LevelDomain(Domain):
    """Whole-number levels (stages 1-5, rubric levels 1-4): the level is also the score."""

    levels: tuple[int, ...]
    what: str

    def parse(self, raw: RawValue) -> Parsed:
        value = _number(raw)
        if value is None:
            return BLANK
        if isinstance(value, int) and value in self.levels:
            return Parsed(value, float(value))
        return Parsed(None, error=f"`{raw}` is not a {self.what} ({_listing(self.levels)})")


@dataclass(frozen=True)
class NumberDomain(Domain):
    minimum: float | None
    maximum: float | None
    integer: bool

    def parse(self, raw: RawValue) -> Parsed:
        value = _number(raw)
        if value is None:
            return BLANK
        if isinstance(value, str):
            return Parsed(None, error=f"`{raw}` is not a number")
        if self.integer and not isinstance(value, int):
            return Parsed(None, error=f"`{raw}` is not a whole number")
        too_low = self.minimum is not None and value < self.minimum
        too_high = self.maximum is not None and value > self.maximum
        if too_low or too_high:
            low, high = (_number(bound) for bound in (self.minimum, self.maximum))
            bounds = (f"at least {low}" if high is None else f"at most {high}" if low is None
                      else f"from {low} to {high}")
            return Parsed(None, error=f"`{raw}` is outside the accepted range: {bounds}")
        return Parsed(value, float(value))


@dataclass(frozen=True)
class YesNoDomain(Domain):
    def parse(self, raw: RawValue) -> Parsed:
        value = _number(raw)
        if value is None:
            return BLANK
        text = str(value).lower()
        if text in _YES:
            return Parsed("yes", 1.0)  # the value skip logic compares; 1 is its score
        if text in _NO:
            return Parsed("no", 0.0)
        return Parsed(None, error=f"`{raw}` is not yes or no")


@dataclass(frozen=True)
class DateDomain(Domain):
    def parse(self, raw: RawValue) -> Parsed:
        text = "" if raw is None else str(raw).strip()
        if not text:
            return BLANK
        try:
            return Parsed(dt.date.fromisoformat(text[:10]).isoformat())
        except ValueError:
            return Parsed(None, error=f"`{raw}` is not a date written YYYY-MM-DD")


@dataclass(frozen=True)
class TextDomain(Domain):
    max_length: int | None

    def parse(self, raw: RawValue) -> Parsed:
        text = raw.strip() if isinstance(raw, str) else "" if raw is None else str(_number(raw))
        if not text:
            return BLANK
        if self.max_length is not None and len(text) > self.max_length:
            return Parsed(None, error=f"the text is {len(text)} characters long; at most "
                                      f"{self.max_length} are accepted: shorten it")
        return Parsed(text)


@dataclass(frozen=True)
class NotApplicableAllowed(Domain):
    """An item that may be answered "not applicable": that answer counts in no score."""

    inner: Domain

    def parse(self, raw: RawValue) -> Parsed:
        if isinstance(raw, str) and raw.strip().lower() in NOT_APPLICABLE_WORDS:
            return Parsed(None, not_applicable=True)
        return self.inner.parse(raw)


def code_domain(slot: Slot) -> CodeDomain | None:
    """The coded options a slot accepts, if it is a coded item (with or without "n/a")."""
    domain = slot.domain.inner if isinstance(slot.domain, NotApplicableAllowed) else slot.domain
    return domain if isinstance(domain, CodeDomain) else None


class Slot(NamedTuple):
    """Something a respondent answers: an item, or one criterion of a rubric item."""

    index: int
    questionnaire: str
    item: Item
    criterion: str | None
    domain: Domain


class PlanNode(NamedTuple):
    """A node of the scored tree, from the instrument or from the unit's framework."""

    id: str
    level: str
    parent: str | None
    depth: int
    rule: ScoringRule | None
    children: tuple[str, ...]
    node: Node | None
    row: int | None = None


@dataclass(frozen=True)
class NodeTree:
    """The nodes in pre-order, with look-ups by id, each node's subtree and its lineage."""

    nodes: tuple[PlanNode, ...]
    by_id: Mapping[str, PlanNode] = field(init=False)
    subtree: Mapping[str, tuple[str, ...]] = field(init=False)
    lineage: Mapping[str, tuple[str, ...]] = field(init=False)

    def __post_init__(self) -> None:
        """Index the nodes: by id, each node's subtree, and each node's path up to its root."""
        by_id = {node.id: node for node in self.nodes}
        subtree: dict[str, tuple[str, ...]] = {}
        for node in reversed(self.nodes):
            below = [descendant for child in node.children for descendant in subtree[child]]
            subtree[node.id] = (node.id, *below)
        lineage: dict[str, tuple[str, ...]] = {}
        for node in self.nodes:  # pre-order: a parent's lineage is known before its children's
            lineage[node.id] = (node.id, *(lineage[node.parent] if node.parent else ()))
        object.__setattr__(self, "by_id", by_id)
        object.__setattr__(self, "subtree", subtree)
        object.__setattr__(self, "lineage", lineage)

    @property
    def roots(self) -> tuple[PlanNode, ...]:
        return tuple(node for node in self.nodes if node.parent is None)


@dataclass(frozen=True)
class Plan:
    """Look-up tables over one instrument; built once per scoring run, never mutated."""

    instrument: Instrument
    slots: tuple[Slot, ...]
    slot_index: Mapping[tuple[str, str, str | None], int]
    items: Mapping[tuple[str, str], Item]
    questionnaires: Mapping[str, Questionnaire]
    rules: Mapping[str, ScoringRule]
    bands: Mapping[str, BandSet]
    tree: NodeTree

    @classmethod
    def compile(cls, instrument: Instrument) -> Plan:
        rules = {rule.id: rule for rule in instrument.scoring}
        tree = NodeTree(tuple(_walk(instrument.nodes, None, 0, rules)))
        scales = {scale.id: scale.options for scale in instrument.scales}
        slots: list[Slot] = []
        items: dict[tuple[str, str], Item] = {}
        for questionnaire in instrument.questionnaires:
            for item in questionnaire.items:
                items[(questionnaire.id, item.id)] = item
                for criterion, domain in _domains(item, scales, tree):
                    slots.append(Slot(len(slots), questionnaire.id, item, criterion, domain))
        return cls(
            instrument=instrument,
            slots=tuple(slots),
            slot_index={(s.questionnaire, s.item.id, s.criterion): s.index for s in slots},
            items=items,
            questionnaires={q.id: q for q in instrument.questionnaires},
            rules=rules,
            bands={band_set.id: band_set for band_set in instrument.bands},
            tree=tree,
        )

    def slots_where(self, *, roles: Iterable[str], node: str | None = None) -> tuple[Slot, ...]:
        """Slots of items with one of ``roles``, attached to ``node`` when it is given."""
        wanted = set(roles)
        return tuple(
            slot for slot in self.slots
            if slot.item.role in wanted and (node is None or node in slot.item.node_ids)
        )

    def with_framework(
        self, framework: tuple[FrameworkNode, ...]
    ) -> tuple[NodeTree, list[AnswerProblem]]:
        """The instrument's tree plus the unit's framework nodes, or the problems found in them."""
        if not framework:
            return self.tree, []
        problems = _framework_problems(self.instrument, framework, set(self.tree.by_id))
        levels = self.instrument.framework
        if problems or levels is None:  # no framework in the instrument is one of the problems
            return self.tree, problems
        rule_of_level = levels.scoring
        children: dict[str | None, list[FrameworkNode]] = {}
        for entry in framework:
            children.setdefault(entry.parent, []).append(entry)

        def graft(entry: FrameworkNode, depth: int) -> Iterable[PlanNode]:
            kids = sorted(children.get(entry.id, ()), key=lambda kid: natural_key(kid.id))
            rule_id = rule_of_level.get(entry.level)
            yield PlanNode(entry.id, entry.level, entry.parent, depth,
                           self.rules.get(rule_id) if rule_id else None,
                           tuple(kid.id for kid in kids), None, entry.row)
            for kid in kids:
                yield from graft(kid, depth + 1)

        roots = sorted(children.get(None, ()), key=lambda root: natural_key(root.id))
        grafted = [node for root in roots for node in graft(root, 0)]
        return NodeTree(self.tree.nodes + tuple(grafted)), []


def _walk(
    nodes: Iterable[Node], parent: str | None, depth: int, rules: Mapping[str, ScoringRule]
) -> Iterable[PlanNode]:
    for node in nodes:
        rule = rules.get(node.scoring) if node.scoring else None
        yield PlanNode(node.id, node.level, parent, depth, rule,
                       tuple(child.id for child in node.children), node)
        yield from _walk(node.children, node.id, depth + 1, rules)


def _domains(
    item: Item, scales: Mapping[str, tuple[Option, ...]], tree: NodeTree
) -> Iterable[tuple[str | None, Domain]]:
    """Each slot of an item (one, or one per rubric criterion) with the values it accepts."""
    if item.type == "rubric":
        for criterion in item.criteria:
            levels = tuple(level.level for level in criterion.levels)
            yield criterion.id, LevelDomain(levels, f"{criterion.id} level")
        return
    domain: Domain
    if item.type == "single_choice" or (item.type == "yes_no" and (item.options or item.scale)):
        domain = CodeDomain(item.options or scales.get(item.scale or "", ()))
    elif item.type == "stage":
        stages = item.stages
        if not stages and item.node and item.node in tree.by_id:
            source = tree.by_id[item.node].node
            stages = source.stages if source else ()
        domain = LevelDomain(tuple(stage.stage for stage in stages), "stage")
    elif item.type == "yes_no":
        domain = YesNoDomain()
    elif item.type == "number":
        domain = NumberDomain(item.minimum, item.maximum, item.integer)
    elif item.type == "date":
        domain = DateDomain()
    else:
        domain = TextDomain(item.max_length)
    if item.not_applicable is not None and item.not_applicable.allowed:
        domain = NotApplicableAllowed(domain)
    yield None, domain


def _framework_problems(
    instrument: Instrument, framework: tuple[FrameworkNode, ...], taken: set[str]
) -> list[AnswerProblem]:
    """Check a unit's framework: known levels, unique ids, each parent one level up."""
    if instrument.framework is None:
        return [AnswerProblem(
            f"instrument `{instrument.key}` has no unit-defined results framework: "
            "remove the framework rows", framework[0].row, "questionnaire")]
    levels = instrument.framework.levels
    problems: list[AnswerProblem] = []
    seen: dict[str, FrameworkNode] = {}
    for entry in framework:
        if entry.id in taken or entry.id in seen:
            where = "is a node of the instrument" if entry.id in taken else "is declared twice"
            problems.append(AnswerProblem(
                f"framework node `{entry.id}` {where}: give each node its own id",
                entry.row, "item"))
        seen.setdefault(entry.id, entry)
        if entry.level not in levels:
            problems.append(AnswerProblem(
                f"framework node `{entry.id}` has level `{entry.level}`; the levels are "
                f"{', '.join(levels)}", entry.row, "comment"))
    for entry in framework:
        if entry.level not in levels:
            continue
        rank = levels.index(entry.level)
        if entry.parent is None:
            if rank:
                problems.append(AnswerProblem(
                    f"{entry.level} `{entry.id}` needs a parent {levels[rank - 1]}: "
                    f"add `parent=...` to its framework row", entry.row, "comment"))
            continue
        parent = seen.get(entry.parent)
        if parent is None:
            problems.append(AnswerProblem(
                f"`{entry.id}` names parent `{entry.parent}`, which is not declared: "
                "add a framework row for it", entry.row, "comment"))
        elif rank == 0 or parent.level != levels[rank - 1]:
            wanted = f"a parent of level {levels[rank - 1]}" if rank else "no parent"
            problems.append(AnswerProblem(
                f"{entry.level} `{entry.id}` has parent `{parent.id}` of level {parent.level}; "
                f"it needs {wanted}", entry.row, "comment"))
    return problems
