"""The shape of the scored tree, read from the results: what is a leaf, what is a block.

CCPM reports one block per sub-function with its indicators' scores, except
for functions 5-7, which have a single sub-function and are scored at
function level (reference/instruments.md sections 1.5 and 1.6). Both are the
nodes just above the leaves, which is how blocks are found here: by shape, not
by framework. A leaf that hangs under no block (a function scored directly by
its questions, with no indicators) is a block of its own.
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
    """Percent-scored nodes whose children are all leaves, and leaves under no such node."""
    below = children(scores)

    def above_leaves(node: str | None) -> bool:
        return bool(below.get(node)) and all(not below.get(child.node)
                                             for child in below[node])

    return [
        result for result in scores.results
        if isinstance(result, PercentResult)
        and (above_leaves(result.node)
             or (not below.get(result.node) and not above_leaves(result.parent)))
    ]
