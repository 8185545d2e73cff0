"""A unit's quarter as the plain data of ``reports.progress``: actions, stock-takes, changes.

A closed quarter is reported as its closing kept it (status and percent of every action
then), so its report reads the same whenever it is downloaded; an open quarter shows the
plan as it stands. "Changes since last quarter" compare with the closing before it.
Actions already done or dropped at that closing are not reported again.
"""

from __future__ import annotations

import datetime as dt

from reports.progress import ProgressAction, ProgressData, Stocktake
from reports.quarters import Quarter
from surveyapp.models import Action, Unit
from surveyapp.services.plans import (
    FINISHED,
    action_states,
    closed_quarters,
    previous_closing,
    progress_in,
    unit_actions,
)


def _started(action: Action, quarter: Quarter) -> bool:
    return action.start_quarter is None or Quarter.parse(action.start_quarter) <= quarter


def progress_report(unit: Unit, quarter: str, *, today: dt.date, language: str = "en"
                    ) -> ProgressData:
    """The quarterly progress report data of ``unit`` for ``quarter`` (in a language of
    ``reports.i18n.LANGUAGES``)."""
    parsed = Quarter.parse(quarter)
    closing = closed_quarters(unit).get(quarter)
    before = previous_closing(unit, quarter)
    earlier = before.snapshot if before else {}
    actions = [action for action in unit_actions(unit) if _started(action, parsed)
               and earlier.get(str(action.id), {}).get("status") not in FINISHED]
    states = closing.snapshot if closing else action_states(actions)
    entries = progress_in(actions, quarter)
    reported = []
    for action in actions:
        state = states.get(str(action.id))
        if state is None:  # added after the quarter was closed
            continue
        previous = earlier.get(str(action.id))
        reported.append(ProgressAction(
            title=action.title, nodes=", ".join(action.nodes),
            responsible=action.responsible_organisation, due_quarter=action.due_quarter or "",
            status=state["status"], percent=state["percent"], cycle=action.cycle.title,
            stocktakes=tuple(Stocktake(entry.percent, entry.note,
                                       entry.recorded_by.display_name if entry.recorded_by
                                       else "", entry.recorded_at.date())
                             for entry in entries[action.id]),
            previous_status=previous["status"] if previous else None,
            previous_percent=previous["percent"] if previous else None,
            new=before is not None and previous is None))
    return ProgressData(
        unit=f"{unit.name} ({unit.code})", quarter=quarter, generated=today,
        actions=tuple(reported), previous_quarter=before.quarter if before else None,
        closed_by=(closing.closed_by.display_name if closing.closed_by else "?")
        if closing else "", language=language)
