"""Look-ups into the instrument for what a report prints: titles, band words and colours, labels.

Results carry ids and keys only (scoring/results.py); everything a reader sees
about them comes from the instrument file, in the report's language.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from instruments.schema import (
    Band,
    BandSet,
    Instrument,
    Item,
    Node,
    Option,
    Questionnaire,
    ScoringRule,
)
from reports.i18n import Translator
from scoring import INSUFFICIENT_DATA, FrameworkNode

#: Colours of a rating that has no band (insufficient data): a neutral grey, dark text.
NEUTRAL = ("#e6e6e6", "#000000")


@dataclass(frozen=True)
class Rating:
    """A rating as printed: its words and the colours of its cell."""

    key: str | None
    words: str
    colour: str
    text_colour: str


def walk(nodes: tuple[Node, ...]) -> Iterator[Node]:
    """Every node of a tree, in pre-order."""
    for node in nodes:
        yield node
        yield from walk(node.children)


class Labels:
    """The instrument and the unit's framework, read in one language."""

    def __init__(
        self, instrument: Instrument, framework: tuple[FrameworkNode, ...], t: Translator
    ) -> None:
        self.instrument = instrument
        self.t = t
        self.nodes = {node.id: node for node in walk(instrument.nodes)}
        self.framework = {entry.id: entry for entry in framework}
        self.rules = {rule.id: rule for rule in instrument.scoring}
        self.band_sets = {band_set.id: band_set for band_set in instrument.bands}
        self.scales = {scale.id: scale.options for scale in instrument.scales}
        self.questionnaires = {q.id: q for q in instrument.questionnaires}
        self.items = {(q.id, item.id): item for q in instrument.questionnaires
                      for item in q.items}

    # ------------------------------------------------------------------ nodes

    def title(self, node: str) -> str:
        """A node's title: from the instrument, or from the unit's own framework (CPAS)."""
        if node in self.nodes:
            return self.t.local(self.nodes[node].title)
        if node in self.framework:
            return self.framework[node].title
        return ""

    def rule(self, node: str, level: str) -> ScoringRule | None:
        """The rule that scores a node (a framework node: the rule of its level)."""
        rule_id = self.nodes[node].scoring if node in self.nodes else None
        if rule_id is None and self.instrument.framework is not None:
            rule_id = self.instrument.framework.scoring.get(level)
        return self.rules.get(rule_id) if rule_id else None

    def band_set(self, node: str, level: str) -> BandSet | None:
        """The bands of the rule that scores a node."""
        rule = self.rule(node, level)
        return self.band_sets.get(rule.bands) if rule and rule.bands else None

    def rating(self, node: str, level: str, key: str | None) -> Rating:
        """A band key as words and colours; insufficient data in neutral grey."""
        band = self._band(node, level, key)
        if band is not None:
            return Rating(key, self.t.local(band.label), band.colour, band.text_colour)
        words = self.t("insufficient_data") if key == INSUFFICIENT_DATA else self.t("none")
        return Rating(key, words, *NEUTRAL)

    def _band(self, node: str, level: str, key: str | None) -> Band | None:
        band_set = self.band_set(node, level)
        if band_set is None or key is None:
            return None
        return next((band for band in band_set.bands if band.key == key), None)

    # ------------------------------------------------------------------ questionnaires

    def questionnaire(self, questionnaire: str) -> Questionnaire | None:
        return self.questionnaires.get(questionnaire)

    def role_name(self, questionnaire: str) -> str:
        """A questionnaire named by its respondents' role: "Coordinator", "Partners"."""
        found = self.questionnaires.get(questionnaire)
        return self.t(f"role.{found.role}") if found else questionnaire

    def criterion(self, criterion: str) -> str:
        """A rubric criterion's label (``relevance`` -> "Relevance")."""
        for item in self.items.values():
            for entry in item.criteria:
                if entry.id == criterion:
                    return self.t.local(entry.label)
        return criterion

    def item(self, questionnaire: str, item: str) -> Item | None:
        return self.items.get((questionnaire, item))

    def options(self, item: Item) -> tuple[Option, ...]:
        return item.options or self.scales.get(item.scale or "", ())

    def option_label(self, item: Item, code: int | str | None) -> str:
        """An answer code in words; excluded codes and blanks are named too."""
        if code is None:
            return self.t("blank")
        if code == "not_applicable":
            return self.t("not_applicable")
        for option in self.options(item):
            if option.code == code:
                return self.t.local(option.label)
        return str(code)
