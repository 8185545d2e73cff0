"""A final cycle's results kept in the database, so dashboards need not score every cycle.

A dashboard of many units shows the results of every final cycle; scoring each of them
on every view would cost queries and time in proportion to the number of units. The
results of a validated or closed cycle cannot change without a change of its state
(reopening), which raises ``cycles.version``; a stored result is used while its
``cycle_version`` matches and computed again otherwise. Only the nodes dashboards show
are kept: the blocks (CCPM sub-functions, and functions scored directly) and the
components judged in stages.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select

from reports.tree import blocks
from scoring import NodeResult, PercentResult, StageResult
from surveyapp.extensions import db
from surveyapp.models import Cycle, StoredResult
from surveyapp.services.reporting import score_cycle


def stored_results(cycles: Sequence[Cycle]) -> dict[int, StoredResult]:
    """The stored results of these final cycles, in one query; missing or stale ones are
    scored and stored first (flushed: the caller commits).

    A cycle whose answers cannot be scored has no entry.
    """
    ids = [cycle.id for cycle in cycles]
    if not ids:
        return {}
    found = {row.cycle_id: row for row in db.session.scalars(
        select(StoredResult).where(StoredResult.cycle_id.in_(ids)))}
    for cycle in cycles:
        row = found.get(cycle.id)
        if row is not None and row.cycle_version == cycle.version:
            continue
        scored = score_cycle(cycle)
        if scored.scores is None:
            found.pop(cycle.id, None)
            continue
        kept: list[NodeResult] = [*blocks(scored.scores), *(
            result for result in scored.scores.results if isinstance(result, StageResult))]
        respondents: dict[str, int] = {}
        for questionnaire, _respondent in {(answer.questionnaire, answer.respondent)
                                           for answer in scored.responses.answers}:
            respondents[questionnaire] = respondents.get(questionnaire, 0) + 1
        if row is None:
            row = StoredResult(cycle_id=cycle.id)
            db.session.add(row)
        row.cycle_version = cycle.version
        row.sha256 = scored.loaded.sha256
        row.results = [{**result.to_dict(), "depth": result.depth} for result in kept]
        row.respondents = respondents
        found[cycle.id] = row
    db.session.flush()
    return found


def results_of(row: StoredResult) -> tuple[PercentResult | StageResult, ...]:
    """The stored results as the scoring engine's result objects."""
    rebuilt: list[PercentResult | StageResult] = []
    for data in row.results:
        kind = StageResult if data["method"] == "holistic_stage" else PercentResult
        rebuilt.append(kind.from_dict(data, data["depth"]))
    return tuple(rebuilt)
