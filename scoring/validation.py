"""Check answers against the instrument and turn them into columns the methods compute on.

Every problem is collected before anything is scored: unknown questionnaire,
item or criterion; a framework node that does not exist; a value outside the
item's codes or range; a missing justification; the same answer given twice.
The work is done column by column, and each distinct (slot, raw value) pair is
parsed once, so that 600,000 answers check in a fraction of a second.
"""

from __future__ import annotations

import difflib
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from operator import itemgetter
from typing import Any

import numpy as np
import numpy.typing as npt

from instruments.expressions import evaluate, parse_expression
from scoring.answers import Answer, AnswerProblem, AnswersInvalid
from scoring.plan import BLANK, NodeTree, Parsed, Plan

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True, eq=False)
class CheckedAnswers:
    """Answers that passed every check, held as parallel columns.

    ``respondents`` lists ``(questionnaire, respondent)`` pairs in sorted order;
    ``respondent`` and ``slot`` index them per answer. ``number`` is the
    normalised numeric value (code, stage, level, count; NaN for blanks and
    text); ``score`` is what the answer contributes to numeric methods (NaN for
    blanks, excluded codes and unscored options). ``outcome`` indexes
    ``outcomes``, the parsed form of each distinct (slot, raw value) pair.
    """

    answers: tuple[Answer, ...]
    respondents: tuple[tuple[str, str], ...]
    respondent: IntArray
    slot: IntArray
    number: FloatArray
    score: FloatArray
    outcome: IntArray
    outcomes: tuple[Parsed, ...]
    slot_count: int
    _order: IntArray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_order", np.argsort(self.slot, kind="stable"))

    @cached_property
    def _slot_starts(self) -> IntArray:
        return np.searchsorted(self.slot[self._order], np.arange(self.slot_count + 1))

    def positions(self, slot: int) -> IntArray:
        """Positions of the answers to one slot."""
        return self._order[self._slot_starts[slot]:self._slot_starts[slot + 1]]

    def value(self, position: int) -> int | float | str | None:
        """The normalised value of one answer."""
        return self.outcomes[int(self.outcome[position])].value

    def respondent_id(self, position: int) -> str:
        return self.respondents[int(self.respondent[position])][1]


def check_answers(plan: Plan, tree: NodeTree, answers: tuple[Answer, ...]) -> CheckedAnswers:
    """Check every answer; return the columns, or raise :class:`AnswersInvalid` with all problems.

    :raises AnswersInvalid: listing every problem, each located by row and column.
    """
    count = len(answers)
    # Column by column with itemgetter: ``zip(*answers)`` would make one iterator per answer,
    # tens of thousands of short-lived objects that set off the garbage collector.
    respondents, questionnaires, items, values, comments, nodes, criteria = (
        list(map(itemgetter(column), answers)) for column in range(7)
    )
    problems: list[AnswerProblem] = []

    # Each distinct (questionnaire, item, criterion, raw value) is looked up and parsed once.
    outcome, outcome_keys = _factorise(zip(questionnaires, items, criteria, values, strict=True),
                                       count)
    outcome_slots = [plan.slot_index.get(key[:3], -1) for key in outcome_keys]
    outcomes = tuple(
        plan.slots[slot_id].domain.parse(key[3]) if slot_id >= 0 else BLANK
        for slot_id, key in zip(outcome_slots, outcome_keys, strict=True)
    )
    slot = np.array(outcome_slots or [-1], dtype=np.int64)[outcome]
    for position in np.flatnonzero(slot < 0):
        problems.append(_unknown_slot(plan, answers[position]))
    problems += _node_problems(plan, tree, answers, slot, nodes)
    problems += _value_problems(plan, answers, outcome, outcomes, outcome_slots, comments)

    first_seen, keys = _factorise(zip(questionnaires, respondents, strict=True), count)
    if any(not respondent_id for _, respondent_id in keys):
        problems += [
            AnswerProblem("the respondent is blank: give every row the id of its respondent",
                          answer.row, "respondent")
            for answer in answers if not answer.respondent
        ]
    order = sorted(range(len(keys)), key=keys.__getitem__)
    rank = np.empty(len(keys), dtype=np.int64)
    rank[order] = np.arange(len(keys))
    respondent = rank[first_seen]
    problems += _duplicates(plan, answers, respondent, slot, nodes)
    if problems:
        raise AnswersInvalid(problems)
    problems += _skipped_but_answered(plan, answers, respondent, slot, outcome, outcomes)
    if problems:
        raise AnswersInvalid(problems)

    number_of = np.array([_as_number(parsed.value) for parsed in outcomes] or [np.nan])
    score_of = np.array([np.nan if p.score is None else p.score for p in outcomes] or [np.nan])
    return CheckedAnswers(
        answers=answers,
        respondents=tuple(keys[index] for index in order),
        respondent=respondent,
        slot=slot,
        number=number_of[outcome],
        score=score_of[outcome],
        outcome=outcome,
        outcomes=outcomes,
        slot_count=len(plan.slots),
    )


def _factorise(keys: Iterable[Hashable], count: int) -> tuple[IntArray, list[Any]]:
    """Number each distinct key in order of first appearance: (codes per key, distinct keys)."""
    index: dict[Hashable, int] = {}
    codes = np.fromiter((index.setdefault(key, len(index)) for key in keys), np.int64, count)
    return codes, list(index)


def _has_node(nodes: Sequence[str | None]) -> npt.NDArray[np.bool_]:
    """Which answers name a framework node (most name none, which is checked in C first)."""
    if nodes.count(None) == len(nodes):
        return np.zeros(len(nodes), dtype=bool)
    return np.fromiter((node is not None for node in nodes), dtype=bool, count=len(nodes))


def _as_number(value: int | float | str | None) -> float:
    return float(value) if isinstance(value, int | float) else np.nan


def _describe(answer: Answer) -> str:
    """How a message names an answer: item, framework node and criterion, and respondent."""
    target = answer.item
    if answer.node is not None:
        target = f"{answer.node}.{answer.criterion or answer.item}"
    elif answer.criterion is not None:
        target = f"{answer.item}.{answer.criterion}"
    return f"`{target}` of respondent `{answer.respondent}`"


def _unknown_slot(plan: Plan, answer: Answer) -> AnswerProblem:
    questionnaire = plan.questionnaires.get(answer.questionnaire)
    if questionnaire is None:
        known = ", ".join(plan.questionnaires)
        return AnswerProblem(
            f"there is no questionnaire `{answer.questionnaire}` in instrument "
            f"`{plan.instrument.key}`: use one of {known}", answer.row, "questionnaire")
    item = plan.items.get((answer.questionnaire, answer.item))
    if item is None:
        names = [candidate.id for candidate in questionnaire.items]
        node, _, _ = answer.item.rpartition(".")
        names += [  # NODE.ITEM and NODE.CRITERION names for items asked per framework node
            f"{node}.{name}" for candidate in questionnaire.items if node and candidate.per_level
            for name in ([c.id for c in candidate.criteria] or [candidate.id])
        ]
        guess = difflib.get_close_matches(answer.item, names, n=1)
        hint = f"did you mean `{guess[0]}`?" if guess else "check the item id in the instrument"
        return AnswerProblem(
            f"questionnaire `{answer.questionnaire}` has no item `{answer.item}`: {hint}",
            answer.row, "item")
    if item.criteria:
        names = ", ".join(criterion.id for criterion in item.criteria)
        if answer.criterion is None:
            message = f"item `{item.id}` is scored per criterion: name one of {names}"
        else:
            message = f"item `{item.id}` has no criterion `{answer.criterion}`: use one of {names}"
        return AnswerProblem(message, answer.row, "item")
    return AnswerProblem(
        f"item `{item.id}` has no criteria: remove `{answer.criterion}`", answer.row, "item")


def _node_problems(
    plan: Plan, tree: NodeTree, answers: Sequence[Answer], slot: IntArray,
    nodes: Sequence[str | None],
) -> list[AnswerProblem]:
    """Items asked per framework node must name a node of their level; others must not."""
    per_level = np.array([s.item.per_level is not None for s in plan.slots] + [False])
    problems = []
    for position in np.flatnonzero(per_level[slot] | _has_node(nodes)):
        answer = answers[position]
        level = plan.slots[slot[position]].item.per_level
        target = tree.by_id.get(answer.node) if answer.node is not None else None
        if level is None:
            message = f"item `{answer.item}` is not asked per framework node: remove the node"
        elif answer.node is None:
            message = f"item `{answer.item}` is asked once per {level}: prefix it with the " \
                      f"{level}'s id, e.g. `OUT1.{answer.criterion or answer.item}`"
        elif target is None:
            message = f"{level} `{answer.node}` is not declared: add a framework row for it"
        elif target.level != level:
            message = f"`{answer.node}` is a {target.level}; item `{answer.item}` is asked " \
                      f"per {level}"
        else:
            continue
        problems.append(AnswerProblem(message, answer.row, "item"))
    return problems


def _value_problems(
    plan: Plan, answers: Sequence[Answer], outcome: IntArray, outcomes: Sequence[Parsed],
    outcome_slots: Sequence[int], comments: Sequence[str | None],
) -> list[AnswerProblem]:
    """Values the item does not accept, and answers that lack a required justification."""
    problems: list[AnswerProblem] = []
    refused = [index for index, parsed in enumerate(outcomes) if parsed.error]
    for position in np.flatnonzero(np.isin(outcome, refused)):
        answer = answers[position]
        reason = outcomes[outcome[position]].error
        problems.append(AnswerProblem(f"{_describe(answer)}: {reason}", answer.row, "value"))

    needs_reason = [
        index for index, (parsed, slot_id) in enumerate(zip(outcomes, outcome_slots, strict=True))
        if parsed.not_applicable
        or (parsed.value is not None and plan.slots[slot_id].item.justification_required)
    ]
    for position in np.flatnonzero(np.isin(outcome, needs_reason)):
        answer = answers[position]
        if comments[position] and comments[position].strip():
            continue
        why = "\"not applicable\"" if outcomes[outcome[position]].not_applicable else "the score"
        problems.append(AnswerProblem(
            f"{_describe(answer)}: {why} needs a written justification in the comment",
            answer.row, "comment"))
    return problems


def _duplicates(
    plan: Plan, answers: Sequence[Answer], respondent: IntArray, slot: IntArray,
    nodes: Sequence[str | None],
) -> list[AnswerProblem]:
    """A respondent answers each slot once (per framework node); a second answer is an error."""
    per_node: dict[tuple[int, str], int] = {}
    target = slot.copy()
    for position in np.flatnonzero(_has_node(nodes)):
        key = (int(slot[position]), str(nodes[position]))
        target[position] = len(plan.slots) + per_node.setdefault(key, len(per_node))
    width = len(plan.slots) + len(per_node) + 1
    key = respondent * width + target
    valid = np.flatnonzero(slot >= 0)
    order = valid[np.argsort(key[valid], kind="stable")]
    repeats = np.flatnonzero(key[order][1:] == key[order][:-1])
    problems = []
    for first, again in zip(order[repeats], order[repeats + 1], strict=True):
        answer = answers[again]
        where = f" on row {answers[first].row}" if answers[first].row is not None else ""
        problems.append(AnswerProblem(
            f"{_describe(answer)} is answered twice (first{where}): keep one of the answers",
            answer.row, "item"))
    return problems


def _skipped_but_answered(
    plan: Plan, answers: Sequence[Answer], respondent: IntArray, slot: IntArray,
    outcome: IntArray, outcomes: Sequence[Parsed],
) -> list[AnswerProblem]:
    """Answers to items their skip logic hides, given the same respondent's other answers.

    Such an answer cannot have come from the questionnaire, and scoring it would
    count a question the respondent should never have seen (e.g. meeting quality
    where no meeting was held).
    """
    conditions = {s.index: parse_expression(s.item.relevant) for s in plan.slots
                  if s.item.relevant}
    conditional = [int(p) for p in np.flatnonzero(np.isin(slot, list(conditions)))
                   if outcomes[outcome[p]].value is not None]
    if not conditional:
        return []
    seen: dict[tuple[int, str | None], dict[str, object]] = {}
    for position in np.flatnonzero(np.isin(respondent, respondent[conditional])):
        answer = answers[position]
        values = seen.setdefault((int(respondent[position]), answer.node), {})
        values[answer.item] = outcomes[outcome[position]].value
    problems = []
    for position in conditional:
        answer = answers[position]
        item = plan.slots[slot[position]].item
        if not evaluate(conditions[int(slot[position])], seen[(int(respondent[position]),
                                                               answer.node)]):
            problems.append(AnswerProblem(
                f"{_describe(answer)}: this item is only asked when {item.relevant}, which the "
                "respondent's other answers make false: remove this answer or correct the "
                "earlier one", answer.row, "value"))
    return problems
