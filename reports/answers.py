"""The answers a report quotes (comments, rationales, evidence, recommendations), found by meaning.

Items say what they mean to reports through their ``role`` in the instrument
file (instruments/schema.py ``Item.role``): ``rationale``, ``evidence_note``,
``comment``, ``open_answer``, ``recommendation``. Nothing here knows a
framework by name.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from instruments.schema import Instrument, Item
from reports.labels import Labels
from scoring import Answer, Responses


@dataclass(frozen=True)
class Quote:
    """A text answer or comment, with who gave it and where it belongs."""

    questionnaire: str
    respondent: str
    item: str
    node: str | None
    text: str


def as_code(value: object) -> int | str | None:
    """An answer code as the instrument writes it: ``"4"`` and ``4.0`` read ``4``."""
    text = as_text(value)
    if not text:
        return None
    try:
        number = float(text)
    except ValueError:
        return text
    return int(number) if number.is_integer() else text


def as_text(value: object) -> str:
    """An answer value as text: ``3.0`` reads ``3``; None reads ""."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


class AnswerIndex:
    """The answers of one assessment, indexed by item and node for the report builders."""

    def __init__(self, instrument: Instrument, responses: Responses) -> None:
        self.items: dict[tuple[str, str], Item] = {
            (q.id, item.id): item for q in instrument.questionnaires for item in q.items
        }
        self.roles = {q.id: q.role for q in instrument.questionnaires}
        self._by_item: dict[tuple[str, str], list[Answer]] = defaultdict(list)
        for answer in responses.answers:
            self._by_item[(answer.questionnaire, answer.item)].append(answer)

    def item_of(self, answer: Answer) -> Item | None:
        return self.items.get((answer.questionnaire, answer.item))

    def node_of(self, answer: Answer) -> str | None:
        """The node an answer is about: the framework node it names, else its item's node."""
        if answer.node is not None:
            return answer.node
        item = self.item_of(answer)
        return item.node_ids[0] if item is not None and item.node_ids else None

    def answers(self, questionnaire: str, item: str, node: str | None = None) -> list[Answer]:
        """The answers to one item; for items asked per framework node, about ``node`` only."""
        found = self._by_item.get((questionnaire, item), [])
        if node is None:
            return list(found)
        return [answer for answer in found if self.node_of(answer) == node]

    def quotes(self, roles: tuple[str, ...], node: str | None = None,
               questionnaire_roles: tuple[str, ...] = (), *,
               any_node: bool = False) -> list[Quote]:
        """Text answers of items with one of ``roles``, about ``node`` (or about no node).

        ``questionnaire_roles`` limits them to questionnaires answered by those
        roles (the validator's comments apart from the focal point's);
        ``any_node`` gives them all, whatever node they are about.
        """
        found: list[Quote] = []
        for (questionnaire, item_id), answers in self._by_item.items():
            item = self.items.get((questionnaire, item_id))
            if item is None or item.role not in roles:
                continue
            if questionnaire_roles and self.roles.get(questionnaire) not in questionnaire_roles:
                continue
            for answer in answers:
                text = as_text(answer.value)
                about = self.node_of(answer)
                if text and (any_node or about == node):
                    found.append(Quote(questionnaire, answer.respondent, item_id, about, text))
        return found

    def comments_column(self) -> list[Quote]:
        """Every note written in the comment column beside a scored or coded answer."""
        return [
            Quote(answer.questionnaire, answer.respondent, answer.item, self.node_of(answer),
                  answer.comment.strip())
            for answers in self._by_item.values() for answer in answers
            if answer.comment and answer.comment.strip()
            and answer.criterion is None  # rubric comments are justifications, shown as such
        ]



@dataclass(frozen=True)
class Recommendation:
    """A recommendation made for a node (CPAS: continue, end, adapt or expand an output).

    The item with role ``recommendation`` holds the choice; its companions
    ``<item>.text``, ``<item>.owner`` and ``<item>.timeline`` the words, who
    carries it out and by when (instruments/library/cpas-red.yaml).
    """

    words: str
    text: str
    owner: str
    timeline: str
    #: The option code chosen, for callers that store the decision rather than its words.
    code: int | str | None = None


def recommendation(index: AnswerIndex, labels: Labels, node: str,
                   level: str) -> Recommendation | None:
    """The recommendation made for ``node``, if any."""
    for questionnaire in labels.instrument.questionnaires:
        for item in questionnaire.items:
            if item.role != "recommendation" or item.per_level != level:
                continue
            chosen = index.answers(questionnaire.id, item.id, node)
            if not chosen or chosen[0].value is None:
                continue
            words = labels.option_label(item, as_code(chosen[0].value))

            def companion(suffix: str, questionnaire: str = questionnaire.id,
                          item_id: str = item.id) -> str:
                found = index.answers(questionnaire, f"{item_id}.{suffix}", node)
                return as_text(found[0].value) if found else ""

            return Recommendation(words, companion("text"), companion("owner"),
                                  companion("timeline"), as_code(chosen[0].value))
    return None
