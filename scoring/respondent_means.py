"""``median_of_respondent_means`` (CCPM), answer distributions and response rates.

The rule, from reference/instruments.md section 1.5 and DESIGN.md "Scoring rules":
for each node, take the scored items of the node and of every node below it;
for each respondent, the mean of that respondent's valid answers (excluded
codes, blanks and values outside [scale_min, scale_max] are left out;
respondents with no valid answer are not counted); then the median of those
means over all respondents, every questionnaire pooled and unweighted; times
``percent_factor``; rounded (scoring/numbers.py); rated by the rule's bands.
Fewer counted respondents than ``min_respondents`` gives no score and the
rating ``insufficient_data``, never 0.

Respondents' sums and counts per node are column sums over a respondents x
items matrix, so a cluster of 250 respondents and 120 items scores in a few
milliseconds.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

import numpy as np
import numpy.typing as npt

from instruments.schema import ScoringRule
from scoring.methods import Context, register
from scoring.numbers import (
    Bands,
    as_float,
    exact,
    exact_ratio,
    round_half_up,
    round_ratio_half_up,
)
from scoring.plan import NotApplicableAllowed, PlanNode, Slot, code_domain
from scoring.results import (
    INSUFFICIENT_DATA,
    CodeCount,
    ItemDistribution,
    NodeResult,
    PercentResult,
    QuestionnaireScore,
    ResponseRates,
    TypeRate,
)

FloatMatrix = npt.NDArray[np.float64]

#: Response rates are percentages rounded like scores, to two decimals.
RATE_DECIMALS = 2


@register("median_of_respondent_means")
def median_of_respondent_means(
    context: Context, rule: ScoringRule, nodes: Sequence[PlanNode]
) -> Mapping[str, NodeResult]:
    """Score every node of one rule; see the module docstring for the rule."""
    plan = context.plan
    pooled = set(rule.pooled_questionnaires)
    position_of = {node.id: position for position, node in enumerate(nodes)}
    slots = [slot for slot in plan.slots_where(roles=("score",))
             if not pooled or slot.questionnaire in pooled]
    # Per node, the columns (items) that feed it, directly or through a node below it.
    columns: list[list[int]] = [[] for _ in nodes]
    lineage = context.tree.lineage
    for column, slot in enumerate(slots):
        fed = {node_id for node in slot.item.node_ids for node_id in lineage.get(node, ())}
        for node_id in sorted(fed & position_of.keys()):
            columns[position_of[node_id]].append(column)
    sums_by_slot, counts_by_slot = _respondent_by_slot(context, rule, slots)

    minimum = context.min_respondents or rule.min_respondents
    bands = Bands.of(plan.bands[rule.bands]) if rule.bands else None
    grade = _Grader(rule, bands, minimum)
    pooled_scores = grade(_per_node(sums_by_slot, columns), _per_node(counts_by_slot, columns))
    questionnaires = [q.id for q in plan.instrument.questionnaires if not pooled or q.id in pooled]
    split_scores: dict[str, list[_Score]] = {}
    present: dict[str, list[bool]] = {}
    for questionnaire in questionnaires:
        part = [[c for c in group if slots[c].questionnaire == questionnaire]
                for group in columns]
        present[questionnaire] = [bool(group) for group in part]
        split_scores[questionnaire] = grade(_per_node(sums_by_slot, part),
                                            _per_node(counts_by_slot, part))

    results: dict[str, NodeResult] = {}
    for position, node in enumerate(nodes):
        parts = tuple(
            QuestionnaireScore(questionnaire, *_as_json(split_scores[questionnaire][position]))
            for questionnaire in questionnaires if present[questionnaire][position]
        )
        score, rating, respondents = _as_json(pooled_scores[position])
        results[node.id] = PercentResult(
            node=node.id, level=node.level, parent=node.parent, depth=node.depth,
            method=rule.method, score=score, rating=rating, respondents=respondents,
            items=len(columns[position]), by_questionnaire=parts,
            gap=_gap(split_scores, [part.questionnaire for part in parts], position),
        )
    return results


_Score = tuple[Decimal | None, str | None, int]


def _per_node(matrix: FloatMatrix, columns: list[list[int]]) -> FloatMatrix:
    """Respondents x nodes: the sum of each node's columns (a sparse product, no BLAS threads)."""
    result = np.zeros((matrix.shape[0], len(columns)))
    filled = [position for position, group in enumerate(columns) if group]
    if filled:
        flat = [column for position in filled for column in columns[position]]
        starts = np.cumsum([0] + [len(columns[position]) for position in filled[:-1]])
        result[:, filled] = np.add.reduceat(matrix[:, flat], starts, axis=1)
    return result


def _as_json(score: _Score) -> tuple[float | None, str | None, int]:
    value, rating, respondents = score
    return as_float(value), rating, respondents


def _gap(split: Mapping[str, list[_Score]], present: list[str], position: int) -> float | None:
    """First questionnaire's score minus the second's, when a node draws on exactly two."""
    if len(present) != 2:
        return None
    first, second = (split[questionnaire][position][0] for questionnaire in present)
    if first is None or second is None:
        return None
    return float(first - second)


def _respondent_by_slot(
    context: Context, rule: ScoringRule, slots: Sequence[Slot]
) -> tuple[FloatMatrix, FloatMatrix]:
    """Respondents x slots: the valid score (0 where none) and whether it is valid (1/0)."""
    answers = context.answers
    column_of = np.full(answers.slot_count + 1, -1, dtype=np.int64)
    column_of[[slot.index for slot in slots]] = np.arange(len(slots))
    column = column_of[answers.slot]
    valid = (column >= 0) & ~np.isnan(answers.score)
    if rule.scale_min is not None:
        valid &= answers.score >= rule.scale_min
    if rule.scale_max is not None:
        valid &= answers.score <= rule.scale_max
    shape = (len(answers.respondents), len(slots))
    sums, counts = np.zeros(shape), np.zeros(shape)
    sums[answers.respondent[valid], column[valid]] = answers.score[valid]
    counts[answers.respondent[valid], column[valid]] = 1.0
    return sums, counts


@dataclass(frozen=True)
class _Grader:
    """Turns respondents' sums and counts per node into rounded, rated scores."""

    rule: ScoringRule
    bands: Bands | None
    minimum: int

    def __call__(self, sums: FloatMatrix, counts: FloatMatrix) -> list[_Score]:
        """Per node (column): the rounded score, its rating and the respondents counted."""
        counted = counts > 0
        respondents = counted.sum(axis=0)
        if not sums.shape[0]:
            return [(None, INSUFFICIENT_DATA, 0)] * sums.shape[1]
        means = np.where(counted, sums / np.where(counted, counts, 1.0), np.inf)
        order = np.argsort(means, axis=0, kind="stable")
        nodes = np.arange(sums.shape[1])
        last = sums.shape[0] - 1
        low = order[np.clip((respondents - 1) // 2, 0, last), nodes]
        high = order[np.clip(respondents // 2, 0, last), nodes]
        factor = (
            exact(self.rule.percent_factor)
            if self.rule.percent_factor is not None else Fraction(1)
        )
        scores: list[_Score] = []
        for node in nodes:
            count = int(respondents[node])
            if count < self.minimum or count == 0:
                scores.append((None, INSUFFICIENT_DATA, count))
                continue
            numerator, denominator = _median_ratio(sums, counts, low[node], high[node], node)
            value = round_ratio_half_up(numerator * factor.numerator,
                                        denominator * factor.denominator, self.rule.decimals)
            rating = self.bands.band_for(value).key if self.bands else None
            scores.append((value, rating, count))
        return scores


def _median_ratio(
    sums: FloatMatrix, counts: FloatMatrix, low: int, high: int, node: int
) -> tuple[int, int]:
    """The mean of two respondents' means (the same one twice for odd counts), exactly.

    Each mean is sum / count, the sum read as the decimal it stands for
    (scoring/numbers.py ``exact``), so nothing is rounded before the one rounding.
    """
    low_sum, low_scale = exact_ratio(float(sums[low, node]))
    high_sum, high_scale = exact_ratio(float(sums[high, node]))
    low_scale *= int(counts[low, node])
    high_scale *= int(counts[high, node])
    return low_sum * high_scale + high_sum * low_scale, 2 * low_scale * high_scale


# --------------------------------------------------------------------------- distributions


def answer_distributions(context: Context) -> tuple[ItemDistribution, ...]:
    """For every coded scored item, how many gave each code, "not applicable" and blank.

    Excluded codes (don't know, does not exist, not applicable) and blanks are
    listed as entries of their own (reference/instruments.md section 1.6, item 6).
    """
    answers = context.answers
    per_outcome = np.bincount(answers.outcome, minlength=len(answers.outcomes))
    slot_of_outcome = np.full(len(answers.outcomes), -1, dtype=np.int64)
    slot_of_outcome[answers.outcome] = answers.slot
    tallies: dict[int, Counter[object]] = {}
    for outcome, parsed in enumerate(answers.outcomes):
        key = "not_applicable" if parsed.not_applicable else parsed.value
        tally = tallies.setdefault(int(slot_of_outcome[outcome]), Counter())
        tally[key] += int(per_outcome[outcome])
    return tuple(
        ItemDistribution(
            slot.questionnaire, slot.item.id, slot.item.node_ids,
            tuple(CodeCount(code, tallies.get(slot.index, Counter())[code])
                  for code in _codes_shown(slot)),
        )
        for slot in context.plan.slots_where(roles=("score",))
        if code_domain(slot) is not None
    )


def _codes_shown(slot: Slot) -> tuple[int | str | None, ...]:
    domain = code_domain(slot)
    codes: tuple[int | str | None, ...] = domain.codes if domain else ()
    if isinstance(slot.domain, NotApplicableAllowed):
        codes += ("not_applicable",)
    return (*codes, None)


# --------------------------------------------------------------------------- response rates


def response_rates(context: Context) -> ResponseRates | None:
    """Respondents per organisation type against the unit's member and attendance counts.

    The questionnaire holding the ``organisation_type`` item is the one whose
    respondents are counted (CCPM partners). The ``member_count`` and
    ``attendance_count`` items, in questionnaire order, line up with the
    organisation type's options in order (CCPM coordinator q012_1..6 and
    q013_1..6 against partner q012 codes 1-6: reference/instruments.md
    sections 1.4 and 1.6). A missing or disputed count gives a rate of None.
    """
    plan, answers = context.plan, context.answers
    type_slots = plan.slots_where(roles=("organisation_type",))
    type_domain = code_domain(type_slots[0]) if type_slots else None
    if type_domain is None:
        return None
    questionnaire = type_slots[0].questionnaire
    counted = [
        index for index, (owner, _) in enumerate(answers.respondents) if owner == questionnaire
    ]
    type_of = {
        int(answers.respondent[position]): answers.value(int(position))
        for position in answers.positions(type_slots[0].index)
    }
    per_type = Counter(type_of.get(index) for index in counted)
    members = [_agreed_number(context, slot) for slot in plan.slots_where(roles=("member_count",))]
    attending = [
        _agreed_number(context, slot) for slot in plan.slots_where(roles=("attendance_count",))
    ]
    codes = type_domain.codes
    by_type = tuple(
        TypeRate(code, per_type[code], *_rate_pair(per_type[code], _nth(members, codes, n)),
                 *_rate_pair(per_type[code], _nth(attending, codes, n)))
        for n, code in enumerate(codes)
    )
    return ResponseRates(
        questionnaire, len(counted), *_rate_pair(len(counted), _total(members)),
        *_rate_pair(len(counted), _total(attending)), by_type,
        unknown_type=per_type[None],
    )


def _agreed_number(context: Context, slot: Slot) -> float | None:
    """The count answered for one item: None when nobody gave it or answers disagree."""
    numbers = context.answers.number[context.answers.positions(slot.index)]
    given = set(numbers[~np.isnan(numbers)].tolist())
    if len(given) != 1:
        return None
    count = given.pop()
    return int(count) if count.is_integer() else count


def _nth(counts: list[float | None], codes: tuple[int, ...], n: int) -> float | None:
    """The n-th count, when there is exactly one count per organisation type."""
    return counts[n] if len(counts) == len(codes) else None


def _total(counts: list[float | None]) -> float | None:
    if not counts or any(count is None for count in counts):
        return None
    return sum(count for count in counts if count is not None)


def _rate_pair(respondents: int, denominator: float | None) -> tuple[float | None, float | None]:
    """The denominator and the rate in percent; no rate when the denominator is unknown or 0."""
    if not denominator:
        return denominator, None
    rate = round_half_up(Fraction(respondents) * 100 / exact(denominator), RATE_DECIMALS)
    return denominator, as_float(rate)
