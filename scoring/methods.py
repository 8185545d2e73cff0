"""The registry of scoring methods: a method name in an instrument file -> the code that runs it.

Instrument files name a method per scoring rule (``method: rubric_total``);
nothing in the engine branches on the framework. A method receives every node
that uses one rule and returns their results; methods that summarise other
nodes' results (``rollup``) run after all the others. Registering a name twice
is a programming error and fails at import, before anything is scored.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

from instruments.schema import ScoringRule
from scoring.plan import NodeTree, Plan, PlanNode
from scoring.results import NodeResult
from scoring.validation import CheckedAnswers


@dataclass(frozen=True)
class Context:
    """What a method may read: the compiled instrument, the tree, the checked answers.

    ``results`` holds what earlier methods produced, so roll-ups can read it;
    ``min_respondents`` overrides every rule's minimum when set.
    """

    plan: Plan
    tree: NodeTree
    answers: CheckedAnswers
    min_respondents: int | None = None
    results: Mapping[str, NodeResult] = field(default_factory=dict)


Compute = Callable[[Context, ScoringRule, Sequence[PlanNode]], Mapping[str, NodeResult]]


class Method(NamedTuple):
    name: str
    compute: Compute
    rollup: bool


_registry: dict[str, Method] = {}


def register(name: str, *, rollup: bool = False) -> Callable[[Compute], Compute]:
    """Register ``compute`` under ``name``.

    :raises ValueError: when ``name`` is already registered.
    """

    def decorate(compute: Compute) -> Compute:
        if name in _registry:
            raise ValueError(
                f"scoring method `{name}` is registered twice "
                f"({_registry[name].compute.__module__} and {compute.__module__})"
            )
        _registry[name] = Method(name, compute, rollup)
        return compute

    return decorate


def method_named(name: str) -> Method:
    """The method an instrument names.

    :raises KeyError: when no method has that name.
    """
    try:
        return _registry[name]
    except KeyError:
        known = ", ".join(sorted(_registry))
        raise KeyError(f"no scoring method is named `{name}` (known: {known})") from None


def registered() -> tuple[str, ...]:
    return tuple(sorted(_registry))
