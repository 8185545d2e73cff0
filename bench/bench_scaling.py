"""How scoring time grows with respondents, items and clusters (no target: for docs/performance.md).

Data generator (seeded with SEED, reproducible): the CCPM-like instrument of
bench_scoring.py, with as many functions as the item count needs (each function has
2 sub-functions x 5 indicators = 10 items per questionnaire; every sixth item offers 1-4
only). Each cluster has 1 coordinator and the rest partners, who answer every item of their
questionnaire; each cluster has its own level of performance, and an answer is a code drawn
around it (78 %), don't know (12 %), does not exist or not applicable (3 %) or blank (7 %),
as in bench_scoring.py.

Three sweeps, one quantity growing while the others stay at the middle size:
respondents 60 / 250 / 1,000 (one cluster, 60 items); items 20 / 60 / 120 (one cluster,
250 respondents); clusters 10 / 40 / 160 (100 respondents, 60 items each, one ``score``
call per cluster, as the web app scores one unit at a time). Each figure is the fastest of
REPEATS runs; its baseline is the smallest size of its sweep, and the ratio is to be read
against the growth of the answers, given in the target column.
"""

from __future__ import annotations

import gc
import time
from typing import Any

import numpy as np

from instruments.schema import Instrument
from scoring import Answer, Responses, score

SEED = 20240602
REPEATS = 3
ITEMS_PER_FUNCTION = 10
EXCLUDED = (99, 999, 9999)
SWEEPS: tuple[tuple[str, str, tuple[int, ...]], ...] = (
    ("respondents", "respondents per cluster (1 cluster, 60 items)", (60, 250, 1000)),
    ("items", "items per questionnaire (1 cluster, 250 respondents)", (20, 60, 120)),
    ("clusters", "clusters (100 respondents x 60 items each)", (10, 40, 160)),
)
MIDDLE = {"respondents": 250, "items": 60, "clusters": 1}


def instrument_with(items: int) -> Instrument:
    """The bench_scoring.py instrument with ``items`` items per questionnaire (a multiple of
    ITEMS_PER_FUNCTION)."""
    excluded = [{"code": 99, "label": "Don't know", "excluded": "dont_know"},
                {"code": 999, "label": "Does not exist", "excluded": "does_not_exist"},
                {"code": 9999, "label": "Not applicable", "excluded": "not_applicable"}]

    def scale(low: int) -> list[dict[str, Any]]:
        return [{"code": c, "label": f"level {c}", "score": c} for c in range(low, 5)] + excluded

    def node(node_id: str, level: str, children: list[dict[str, Any]]) -> dict[str, Any]:
        return {"id": node_id, "level": level, "title": f"{level} {node_id}",
                "scoring": "ccpm", "children": children}

    functions = range(1, items // ITEMS_PER_FUNCTION + 1)
    nodes = [node(str(f), "function", [
        node(f"{f}.{s}", "sub_function", [node(f"{f}.{s}.{i}", "indicator", [])
                                          for i in range(1, 6)]) for s in (1, 2)])
        for f in functions]
    indicators = [f"{f}.{s}.{i}" for f in functions for s in (1, 2) for i in range(1, 6)]

    def questionnaire(prefix: str, role: str) -> dict[str, Any]:
        return {"id": role, "role": role, "title": role, "items": [
            {"id": f"{prefix}{n}", "type": "single_choice", "node": indicator, "role": "score",
             "text": f"Question {n}", "scale": "four" if n % 6 == 0 else "five"}
            for n, indicator in enumerate(indicators, start=1)]}

    return Instrument.model_validate({
        "key": "bench-scaling", "version": "1", "title": "Scaling CCPM",
        "scales": [{"id": "five", "options": scale(0)}, {"id": "four", "options": scale(1)}],
        "bands": [{"id": "status", "bands": [
            {"key": key, "lower": lower, "upper": upper, "label": key, "colour": "#888888"}
            for key, lower, upper in (("weak", 0, 25), ("unsatisfactory", 25, 50),
                                      ("satisfactory", 50, 75), ("good", 75, 100))]}],
        "scoring": [{"id": "ccpm", "method": "median_of_respondent_means", "scale_min": 0,
                     "scale_max": 4, "percent_factor": 25, "decimals": 2, "bands": "status"}],
        "nodes": nodes,
        "questionnaires": [questionnaire("c", "coordinator"), questionnaire("p", "partner")],
    })


def cluster_responses(rng: np.random.Generator, respondents: int, items: int) -> Responses:
    """One cluster's answers (see the module docstring)."""
    item = np.tile(np.arange(1, items + 1), respondents)
    code = np.clip(np.rint(rng.normal(rng.uniform(0.8, 3.4), 1.1, item.size)), 0, 4)
    code[item % 6 == 0] = np.maximum(code[item % 6 == 0], 1)
    draw = rng.random(item.size)
    code[(draw >= 0.78) & (draw < 0.90)] = EXCLUDED[0]
    late = (draw >= 0.90) & (draw < 0.93)
    code[late] = rng.choice(EXCLUDED[1:], int(late.sum()))
    answers = []
    for position, (number, value, chance) in enumerate(zip(item.tolist(), code.tolist(),
                                                           draw.tolist(), strict=True)):
        respondent = position // items
        prefix, questionnaire = ("c", "coordinator") if respondent == 0 else ("p", "partner")
        answers.append(Answer(f"r{respondent}", questionnaire, f"{prefix}{number}",
                              None if chance >= 0.93 else int(value)))
    return Responses(tuple(answers))


def _fastest(instrument: Instrument, clusters: list[Responses]) -> float:
    timings = []
    for _ in range(REPEATS):
        gc.collect()
        started = time.perf_counter()
        for responses in clusters:
            score(instrument, responses)
        timings.append(time.perf_counter() - started)
    return min(timings) * 1000


def _measure(sweep: str, size: int, rng: np.random.Generator) -> tuple[int, float]:
    """Answers scored and the fastest time (ms) at one size of one sweep."""
    shape = {**MIDDLE, sweep: size}
    if sweep == "clusters":
        shape["respondents"] = 100
    instrument = instrument_with(shape["items"])
    clusters = [cluster_responses(rng, shape["respondents"], shape["items"])
                for _ in range(shape["clusters"])]
    return sum(len(c.answers) for c in clusters), _fastest(instrument, clusters)


def run() -> list[dict[str, object]]:
    rng = np.random.default_rng(SEED)
    figures: list[dict[str, object]] = []
    for sweep, label, sizes in SWEEPS:
        measured = [_measure(sweep, size, rng) for size in sizes]
        smallest_answers, smallest_ms = measured[0]
        for size, (answers, ms) in zip(sizes, measured, strict=True):
            figures.append({
                "name": f"scaling: {size:,} {label}; {answers:,} answers",
                "value": round(ms, 2), "unit": "ms",
                "baseline": f"{sizes[0]:,} {sweep}", "baseline_value": round(smallest_ms, 2),
                "ratio": round(ms / smallest_ms, 2),
                "target": f"none (answers x{answers / smallest_answers:.1f})", "met": None})
    return figures
