"""The shape of the scored tree, read from the results: what is a leaf, what is a block.

CCPM reports one block per sub-function with its indicators' scores, except
for functions 5-7, which have a single sub-function and are scored at
function level (reference/instruments.md sections 1.5 and 1.6). Both are the
nodes just above the leaves, which is how blocks are found here: by shape, not
by framework.
"""

from __future__ import annotations

from collections import defaultdict

from scoring import NodeResult, PercentResult, ScoreReport


def children(scores: ScoreReport) -> dict[str | None, list[NodeResult]]:
    """Each node's scored children, in tree order; roots under None."""
    below: dict[str | None, list[NodeResult]] = defaultdict(list)
    for result in scores.results:
        below[result.parent].append(result)
    return below


def blocks(scores: ScoreReport) -> list[PercentResult]:
    """Percent-scored nodes whose scored children are all leaves (CCPM sub-functions, 5-7)."""
    below = children(scores)
    return [
        result for result in scores.results
        if isinstance(result, PercentResult) and below.get(result.node)
        and all(not below.get(child.node) for child in below[result.node])
    ]
