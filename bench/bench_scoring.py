"""Scoring 600,000 CCPM answers: our engine against a minimal vectorised pandas computation.

Data generator (seeded, reproducible): a CCPM-like instrument with 6 functions x 2
sub-functions x 5 indicators (60 indicators, 78 scored nodes), a coordinator and a partner
questionnaire of 60 items each (one per indicator; every sixth item offers 1-4 only, as
CCPM's four-point items do), codes 0-4 scored, 99/999/9999 excluded. 40 clusters, each with
1 coordinator and 249 partners who answer all 60 items of their questionnaire: 40 x 250 x 60
= 600,000 answers. Each cluster has its own level of performance; an answer is a code drawn
around it (78 %), don't know (12 %), does not exist or not applicable (3 %) or blank (7 %).

Baseline, run side by side on the same answers: pandas with the rule written as directly as
possible (filter valid codes, join items to the nodes they feed, group-by mean per
respondent, group-by median per node, x 25, half-up rounding, bands), plus the same split by
questionnaire and answer distributions; input as one DataFrame built before timing. Our
engine gets the same answers as ``Answer`` tuples, one ``score`` call per cluster, and also
computes gaps and response rates. Both results are compared number by number.
Targets (issue "Scoring engine"): under 3 s, and within 1.5x of the baseline.
"""

from __future__ import annotations

import gc
import resource
import time
import tracemalloc
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from instruments.schema import Instrument
from scoring import Answer, PercentResult, Responses, ScoreReport, score

SEED = 20240601
CLUSTERS, RESPONDENTS, FUNCTIONS, SUB_FUNCTIONS, INDICATORS = 40, 250, 6, 2, 5
EXCLUDED = (99, 999, 9999)
BANDS = ((25, "weak"), (50, "unsatisfactory"), (75, "satisfactory"), (100, "good"))
REPEATS = 3


def indicator_ids() -> list[str]:
    return [f"{f}.{s}.{i}" for f in range(1, FUNCTIONS + 1)
            for s in range(1, SUB_FUNCTIONS + 1) for i in range(1, INDICATORS + 1)]


def bench_instrument() -> Instrument:
    """The generated CCPM-like instrument (see the module docstring)."""
    excluded = [{"code": 99, "label": "Don't know", "excluded": "dont_know"},
                {"code": 999, "label": "Does not exist", "excluded": "does_not_exist"},
                {"code": 9999, "label": "Not applicable", "excluded": "not_applicable"}]

    def scale(low: int) -> list[dict[str, Any]]:
        return [{"code": c, "label": f"level {c}", "score": c} for c in range(low, 5)] + excluded

    def node(node_id: str, level: str, children: list[dict[str, Any]]) -> dict[str, Any]:
        return {"id": node_id, "level": level, "title": f"{level} {node_id}",
                "scoring": "ccpm", "children": children}

    nodes = [node(str(f), "function", [
        node(f"{f}.{s}", "sub_function", [
            node(f"{f}.{s}.{i}", "indicator", []) for i in range(1, INDICATORS + 1)])
        for s in range(1, SUB_FUNCTIONS + 1)]) for f in range(1, FUNCTIONS + 1)]

    def questionnaire(prefix: str, role: str) -> dict[str, Any]:
        return {"id": role, "role": role, "title": role, "items": [
            {"id": f"{prefix}{n}", "type": "single_choice", "node": indicator, "role": "score",
             "text": f"Question {n}", "scale": "four" if n % 6 == 0 else "five"}
            for n, indicator in enumerate(indicator_ids(), start=1)]}

    return Instrument.model_validate({
        "key": "bench-ccpm", "version": "1", "title": "Benchmark CCPM",
        "scales": [{"id": "five", "options": scale(0)}, {"id": "four", "options": scale(1)}],
        "bands": [{"id": "status", "bands": [
            {"key": key, "lower": lower, "upper": upper, "label": key, "colour": "#888888"}
            for (lower, _), (upper, key) in zip([(0, None), *BANDS[:-1]], BANDS, strict=True)]}],
        "scoring": [{"id": "ccpm", "method": "median_of_respondent_means", "scale_min": 0,
                     "scale_max": 4, "percent_factor": 25, "decimals": 2, "bands": "status"}],
        "nodes": nodes,
        "questionnaires": [questionnaire("c", "coordinator"), questionnaire("p", "partner")],
    })


def generate(rng: np.random.Generator) -> pd.DataFrame:
    """Every answer of every cluster as one long table (cluster, respondent, ..., value)."""
    items = len(indicator_ids())
    per_cluster = RESPONDENTS * items
    cluster = np.repeat(np.arange(CLUSTERS), per_cluster)
    respondent = np.tile(np.repeat(np.arange(RESPONDENTS), items), CLUSTERS)
    item = np.tile(np.arange(1, items + 1), CLUSTERS * RESPONDENTS)
    level = rng.uniform(0.8, 3.4, CLUSTERS)[cluster]
    code = np.clip(np.rint(rng.normal(level, 1.1)), 0, 4)
    four_point = item % 6 == 0
    code[four_point] = np.maximum(code[four_point], 1)
    draw = rng.random(cluster.size)
    value = np.where(draw < 0.78, code, np.nan)
    value[(draw >= 0.78) & (draw < 0.90)] = 99
    value[(draw >= 0.90) & (draw < 0.93)] = rng.choice(EXCLUDED[1:], int(((draw >= 0.90)
                                                                          & (draw < 0.93)).sum()))
    questionnaire = np.where(respondent == 0, "coordinator", "partner")
    prefix = np.where(respondent == 0, "c", "p")
    return pd.DataFrame({
        "cluster": cluster,
        "respondent": np.char.add("r", respondent.astype(str)),
        "questionnaire": questionnaire,
        "item": np.char.add(prefix, item.astype(str)),
        "value": value,
    })


def as_answers(frame: pd.DataFrame) -> list[Responses]:
    """The same answers as the engine takes them: one Responses per cluster, blanks as None."""
    values = [None if v != v else int(v) for v in frame["value"].tolist()]
    rows = zip(frame["respondent"].tolist(), frame["questionnaire"].tolist(),
               frame["item"].tolist(), values, strict=True)
    answers = [Answer(*row) for row in rows]
    size = len(answers) // CLUSTERS
    return [Responses(tuple(answers[n * size:(n + 1) * size])) for n in range(CLUSTERS)]


def node_membership() -> pd.DataFrame:
    """(questionnaire, item) -> every node the item feeds: indicator, sub-function, function."""
    rows = []
    for n, indicator in enumerate(indicator_ids(), start=1):
        function, sub_function = indicator.split(".")[0], ".".join(indicator.split(".")[:2])
        for prefix, questionnaire in (("c", "coordinator"), ("p", "partner")):
            rows += [(questionnaire, f"{prefix}{n}", node)
                     for node in (indicator, sub_function, function)]
    return pd.DataFrame(rows, columns=["questionnaire", "item", "node"])


def pandas_baseline(frame: pd.DataFrame, membership: pd.DataFrame) -> dict[str, Any]:
    """The rule written as plainly as pandas allows (see the module docstring)."""
    valid = frame[frame["value"].between(0, 4)]
    fed = valid.merge(membership, on=["questionnaire", "item"])
    means = fed.groupby(["cluster", "node", "questionnaire", "respondent"], sort=False)[
        "value"].mean().rename("mean").reset_index()

    def scored(keys: list[str]) -> pd.DataFrame:
        summary = means.groupby(keys)["mean"].agg(["median", "size"])
        summary["score"] = np.floor(summary["median"] * 25 * 100 + 0.5) / 100
        summary["rating"] = pd.cut(summary["score"], [-1, 25, 50, 75, 100],
                                   labels=[key for _, key in BANDS])
        return summary

    return {
        "pooled": scored(["cluster", "node"]),
        "split": scored(["cluster", "node", "questionnaire"]),
        "distributions": frame.groupby(["cluster", "questionnaire", "item", "value"],
                                       dropna=False).size(),
    }


def engine_run(instrument: Instrument, clusters: list[Responses]) -> list[ScoreReport]:
    return [score(instrument, responses) for responses in clusters]


def compare(reports: list[ScoreReport], baseline: dict[str, Any]) -> int:
    """Numbers on which the two computations disagree (0 means they agree everywhere)."""
    pooled, split = baseline["pooled"], baseline["split"]
    counts = {  # blanks are NaN in pandas and None in the engine
        (cluster, questionnaire, item, None if value != value else int(value)): int(count)
        for (cluster, questionnaire, item, value), count in baseline["distributions"].items()
    }
    disagreements = 0
    for cluster, report in enumerate(reports):
        for result in report.results:
            assert isinstance(result, PercentResult)
            row = pooled.loc[(cluster, result.node)]
            disagreements += (abs(row["score"] - result.score) > 1e-9
                              or row["size"] != result.respondents
                              or row["rating"] != result.rating)
            for part in result.by_questionnaire:
                key = (cluster, result.node, part.questionnaire)
                if key not in split.index:  # nobody in that questionnaire answered validly
                    disagreements += part.score is not None or part.respondents != 0
                    continue
                expected = split.loc[key]
                disagreements += (abs(expected["score"] - part.score) > 1e-9
                                  or expected["size"] != part.respondents)
        for distribution in report.distributions:
            for entry in distribution.counts:
                key = (cluster, distribution.questionnaire, distribution.item, entry.code)
                disagreements += counts.get(key, 0) != entry.count
    return int(disagreements)


def _best_of(action: Callable[[], object]) -> float:
    timings = []
    for _ in range(REPEATS):
        gc.collect()
        start = time.perf_counter()
        action()
        timings.append(time.perf_counter() - start)
    return min(timings)


def _peak_megabytes(action: Callable[[], object]) -> float:
    gc.collect()
    tracemalloc.start()
    action()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak / 2**20


def run() -> list[dict[str, object]]:
    instrument = bench_instrument()
    frame = generate(np.random.default_rng(SEED))
    clusters = as_answers(frame)
    membership = node_membership()
    answers = sum(len(responses.answers) for responses in clusters)

    ours = _best_of(lambda: engine_run(instrument, clusters))
    theirs = _best_of(lambda: pandas_baseline(frame, membership))
    one_cluster = _best_of(lambda: score(instrument, clusters[0])) * 1000
    disagreements = compare(engine_run(instrument, clusters), pandas_baseline(frame, membership))
    our_peak = _peak_megabytes(lambda: engine_run(instrument, clusters))
    their_peak = _peak_megabytes(lambda: pandas_baseline(frame, membership))
    resident = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"scoring: {answers:,} answers; engine and pandas disagree on {disagreements} numbers; "
          f"peak memory engine {our_peak:.1f} MB, pandas {their_peak:.1f} MB (tracemalloc); "
          f"process peak resident set {resident:.0f} MB (inputs included)")
    ratio = ours / theirs
    return [
        {"name": f"scoring {answers:,} CCPM answers ({CLUSTERS} clusters x {RESPONDENTS} x 60)",
         "value": round(ours, 3), "unit": "s",
         "baseline": "minimal vectorised pandas (group-by mean, then median)",
         "baseline_value": round(theirs, 3), "ratio": round(ratio, 2),
         "target": "< 3 s and <= 1.5x baseline, same numbers",
         "met": bool(ours < 3 and ratio <= 1.5 and disagreements == 0)},
        {"name": "scoring one cluster (15,000 answers)", "value": round(one_cluster, 2),
         "unit": "ms", "baseline": "the 40-cluster run / 40",
         "baseline_value": round(ours / CLUSTERS * 1000, 2),
         "ratio": round(one_cluster / (ours / CLUSTERS * 1000), 2),
         "target": "no target (web request budget)", "met": None},
        {"name": "scoring peak memory (600,000 answers)", "value": round(our_peak, 1),
         "unit": "MB", "baseline": "pandas baseline peak", "baseline_value": round(their_peak, 1),
         "ratio": round(our_peak / their_peak, 2), "target": "no target (printed)", "met": None},
    ]
