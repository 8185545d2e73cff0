"""The dashboard of a coordinator of several units (a country and its clusters).

What the inter-cluster coordination group and the HC/HCT look at (reference/instruments.md
section 1.6, step 4): every unit's latest final ratings in one heat map (units x
sub-functions or components), how they moved since the unit's previous cycle (through
``scoring.trend``, so cycles of older instrument versions line up by the crosswalk), the
weaknesses many units share, each unit's action plan progress, and the overdue actions.

Partners' own scores are shown only for groups at least as large as the questionnaire's
``min_group_size`` in the instrument file; smaller groups are not shown, so that no
partner's answers can be read off.

The page costs the same number of queries whatever the number of units: units, cycles,
stored results, actions and their latest percent are each one query.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import joinedload, lazyload

from instruments.loader import LoadedInstrument
from instruments.schema import Questionnaire
from reports.action_plan import needs_action
from reports.charts import STAGE_COLOURS, STAGE_TEXT
from reports.i18n import Translator
from reports.labels import Labels
from reports.progress import STANDINGS, standing
from reports.quarters import Quarter
from scoring import Cycle as TrendCycle
from scoring import PercentResult, ScoreReport, StageResult, trend
from surveyapp.extensions import db
from surveyapp.models import (
    Action,
    Cycle,
    InstrumentVersion,
    Membership,
    Role,
    StoredResult,
    Unit,
    User,
)
from surveyapp.services.access import FINAL_STATES
from surveyapp.services.instrument_versions import loaded_instrument
from surveyapp.services.plans import latest_percent
from surveyapp.services.stored_results import results_of, stored_results

#: Roles that see a unit's dashboard: coordinators, leadership (viewers), administrators.
DASHBOARD_ROLES = frozenset({Role.coordinator, Role.viewer, Role.admin})


@dataclass(frozen=True)
class Cell:
    """One result in words and colours: ``label`` the rating or stage, ``detail`` the score."""

    node: str
    label: str
    detail: str
    colour: str
    text_colour: str

    @property
    def words(self) -> str:
        return f"{self.label} ({self.detail})" if self.detail else self.label


@dataclass(frozen=True)
class PartnerCell:
    node: str
    score: float | None
    respondents: int
    suppressed: bool


@dataclass
class UnitRow:
    """A unit's latest final cycle of one instrument, its cells, and the change since the
    previous cycle (words per node, or None)."""

    unit: Unit
    cycle: Cycle
    cells: dict[str, Cell]
    changes: dict[str, str] = field(default_factory=dict)
    previous: Cycle | None = None
    partners: int = 0
    partner_cells: dict[str, PartnerCell] = field(default_factory=dict)


@dataclass(frozen=True)
class SharedWeakness:
    node: str
    title: str
    units: tuple[str, ...]


@dataclass
class Panel:
    """One instrument's heat map, trends, partners' scores and shared weaknesses."""

    key: str
    title: str
    columns: list[tuple[str, str]]
    rows: list[UnitRow]
    legend: list[Cell]
    shared: list[SharedWeakness] = field(default_factory=list)
    partner_questionnaire: Questionnaire | None = None

    @property
    def has_trend(self) -> bool:
        return any(row.previous is not None for row in self.rows)

    @property
    def shared_bars(self) -> list[tuple[str, dict[str, int]]]:
        """The shared weaknesses as chart rows: node, number of units."""
        return [(entry.node, {"units": len(entry.units)}) for entry in self.shared]


@dataclass(frozen=True)
class UnitProgress:
    unit: Unit
    counts: dict[str, int]
    total: int
    mean_percent: float | None


@dataclass(frozen=True)
class OverdueAction:
    unit: Unit
    action: Action
    percent: int | None


@dataclass
class Dashboard:
    root: Unit
    units: list[Unit]
    panels: list[Panel]
    progress: list[UnitProgress]
    overdue: list[OverdueAction]
    ended: Quarter
    without_results: list[Unit]

    @property
    def progress_bars(self) -> list[tuple[str, dict[str, int]]]:
        """Each unit's actions by standing, as chart rows."""
        return [(row.unit.code, row.counts) for row in self.progress]

    @property
    def most_actions(self) -> int:
        return max((row.total for row in self.progress), default=0)


def dashboard_units(user: User) -> list[Unit]:
    """Units the user holds a dashboard role on directly: each is a dashboard's top."""
    return list(db.session.scalars(
        select(Unit).join(Membership, Membership.unit_id == Unit.id)
        .where(Membership.user_id == user.id, Membership.role.in_(DASHBOARD_ROLES))
        .distinct().order_by(Unit.code)))


def build_dashboard(root: Unit, today: dt.date, language: str = "en") -> Dashboard:
    """Everything the dashboard of ``root`` shows, about the units below it; instrument text
    and numbers in ``language`` (one of the reports' languages)."""
    subtree = Unit.subtree_cte([root.id])
    units = list(db.session.scalars(select(Unit).where(
        Unit.id.in_(select(subtree.c.id)), Unit.id != root.id).order_by(Unit.code)))
    unit_ids = [unit.id for unit in units]
    # Instrument versions (each holds a whole instrument's text) once each, not once per cycle;
    # the cycles' lazy loads then find them in the session.
    cycles = list(db.session.scalars(
        select(Cycle).options(joinedload(Cycle.unit), lazyload(Cycle.instrument_version))
        .where(Cycle.unit_id.in_(unit_ids), Cycle.state.in_(FINAL_STATES))
        .order_by(Cycle.period_end, Cycle.id))) if unit_ids else []
    versions = {cycle.instrument_version_id for cycle in cycles}
    if versions:
        db.session.scalars(select(InstrumentVersion).where(InstrumentVersion.id.in_(versions))
                           ).all()
    stored = stored_results(cycles)
    by_key: dict[str, dict[int, list[Cycle]]] = defaultdict(lambda: defaultdict(list))
    for cycle in cycles:
        if cycle.id in stored:
            by_key[cycle.instrument_version.key][cycle.unit_id].append(cycle)
    # each unit's latest cycle and the one before: the heat map and the trend
    shown = {cycle.id for per_unit in by_key.values() for unit_cycles in per_unit.values()
             for cycle in unit_cycles[-2:]}
    results = {cycle_id: results_of(row) for cycle_id, row in stored.items()
               if cycle_id in shown}
    panels = [_panel(per_unit, stored, results, language)
              for _key, per_unit in sorted(by_key.items())]
    with_results = {unit_id for per_unit in by_key.values() for unit_id in per_unit}
    actions = list(db.session.execute(
        select(Action, Cycle.unit_id).join(Cycle, Cycle.id == Action.cycle_id)
        .where(Cycle.unit_id.in_(unit_ids)).order_by(Action.due_quarter, Action.id)
    ).tuples()) if unit_ids else []
    ended = Quarter.of(today).previous
    progress, overdue = _progress(units, actions, ended)
    return Dashboard(root, units, panels, progress, overdue, ended,
                     [unit for unit in units if unit.id not in with_results])


# --------------------------------------------------------------------------- heat maps


Results = dict[int, tuple[PercentResult | StageResult, ...]]


def _panel(per_unit: dict[int, list[Cycle]], stored: dict[int, StoredResult],
           results: Results, language: str) -> Panel:
    """The heat map of one instrument, on the columns of its newest version in use."""
    newest = max((cycles[-1] for cycles in per_unit.values()),
                 key=lambda cycle: cycle.instrument_version.id)
    loaded = loaded_instrument(newest.instrument_version)
    labels = Labels(loaded.instrument, (), Translator(language))
    rows = []
    columns: dict[str, str] = {}
    for cycles in per_unit.values():
        row = _unit_row(cycles, results, labels)
        rows.append(row)
        for node in row.cells:
            columns.setdefault(node, labels.title(node))
    order = {result["node"]: index for index, result in enumerate(stored[newest.id].results)}
    ordered = sorted(columns.items(), key=lambda entry: order.get(entry[0], len(order)))
    partners = next((q for q in loaded.instrument.questionnaires if q.min_group_size), None)
    panel = Panel(loaded.key, labels.t.local(loaded.instrument.title), ordered,
                  sorted(rows, key=lambda row: row.unit.code), _legend(loaded, labels),
                  partner_questionnaire=partners)
    if partners is not None:
        for row in panel.rows:
            _partner_cells(row, stored[row.cycle.id], results[row.cycle.id], partners)
    panel.shared = _shared(panel, labels, results)
    return panel


def _report(cycle: Cycle, loaded: LoadedInstrument, results: Results) -> ScoreReport:
    return ScoreReport(loaded.key, loaded.version, loaded.sha256, None, results[cycle.id],
                       None, None, (), ())


def _unit_row(cycles: list[Cycle], results: Results, labels: Labels) -> UnitRow:
    """The unit's latest cycle, lined up with the one before through ``scoring.trend``."""
    latest = cycles[-1]
    chosen = cycles[-2:]
    trend_cycles = []
    for cycle in chosen:
        loaded = loaded_instrument(cycle.instrument_version)
        trend_cycles.append(TrendCycle(str(cycle.id), loaded.instrument,
                                       _report(cycle, loaded, results)))
    lined_up = trend(trend_cycles)
    cells: dict[str, Cell] = {}
    changes: dict[str, str] = {}
    for node_trend in lined_up.nodes:
        points = node_trend.points
        if points[-1].cycle != str(latest.id):
            continue  # no longer in the latest cycle's results
        cells[node_trend.node] = _cell(points[-1].result, labels)
        if len(points) > 1:
            changes[node_trend.node] = _change(points[-2].result, points[-1].result, labels)
    return UnitRow(latest.unit, latest, cells, changes,
                   chosen[0] if len(chosen) > 1 else None)


def _cell(result: object, labels: Labels) -> Cell:
    if isinstance(result, StageResult):
        stage = result.validated_stage or result.self_stage
        kind = _("validated") if result.validated_stage else _("self-assessed")
        if stage is None:
            return Cell(result.node, _("Not assessed"), "", "#e6e6e6", "#000000")
        shade = min(stage, len(STAGE_COLOURS)) - 1
        return Cell(result.node, _("Stage %(stage)s", stage=stage), kind, STAGE_COLOURS[shade],
                    STAGE_TEXT[shade])
    assert isinstance(result, PercentResult)
    rating = labels.rating(result.node, result.level, result.rating)
    score = labels.t.percent(result.score) if result.score is not None else ""
    return Cell(result.node, rating.words, score, rating.colour, rating.text_colour)


def _change(before: object, after: object, labels: Labels) -> str:
    """The move between two cycles in words: "+25.00 (Weak → Satisfactory)", "stage 2 → 3"."""
    if isinstance(before, StageResult) and isinstance(after, StageResult):
        old = before.validated_stage or before.self_stage
        new = after.validated_stage or after.self_stage
        return _("same stage") if old == new else _("stage %(old)s → %(new)s", old=old or "?",
                                                    new=new or "?")
    if isinstance(before, PercentResult) and isinstance(after, PercentResult):
        if before.score is None or after.score is None:
            return _("no comparison (insufficient data)")
        words = labels.t.signed(round(after.score - before.score, 2))
        if before.rating != after.rating:
            old = labels.rating(before.node, before.level, before.rating).words
            new = labels.rating(after.node, after.level, after.rating).words
            words += f" ({old} → {new})"
        return words
    return ""


def _legend(loaded: LoadedInstrument, labels: Labels) -> list[Cell]:
    """The colours the heat map uses: the bands of its rule, or the stages."""
    bands = [band for band_set in loaded.instrument.bands for band in band_set.bands]
    stages = [result for result in loaded.instrument.scoring if result.method == "holistic_stage"]
    if stages and not bands:
        return [Cell("", _("Stage %(stage)s", stage=stage + 1), "", colour, text)
                for stage, (colour, text) in enumerate(zip(STAGE_COLOURS, STAGE_TEXT,
                                                           strict=True))]
    return [Cell("", labels.t.local(band.label), "", band.colour, band.text_colour)
            for band_set in loaded.instrument.bands for band in band_set.bands
            if not band_set.convention]


def _partner_cells(row: UnitRow, stored: StoredResult,
                   results: tuple[PercentResult | StageResult, ...], partners: Questionnaire
                   ) -> None:
    """Partners' own scores, suppressed below the questionnaire's minimum group size."""
    minimum = partners.min_group_size or 0
    row.partners = stored.respondents.get(partners.id, 0)
    for result in results:
        if not isinstance(result, PercentResult):
            continue
        part = next((p for p in result.by_questionnaire if p.questionnaire == partners.id),
                    None)
        if part is None:
            continue
        small = row.partners < minimum or part.respondents < minimum
        row.partner_cells[result.node] = PartnerCell(
            result.node, None if small else part.score, part.respondents, small)


def _shared(panel: Panel, labels: Labels, results: Results) -> list[SharedWeakness]:
    """Nodes rated in a band that calls for action in two or more units, most shared first."""
    units: dict[str, list[str]] = defaultdict(list)
    for row in panel.rows:
        for result in results[row.cycle.id]:
            if isinstance(result, PercentResult) and needs_action(labels, result):
                units[result.node].append(row.unit.code)
    shared = [SharedWeakness(node, labels.title(node), tuple(codes))
              for node, codes in units.items() if len(codes) >= 2]
    return sorted(shared, key=lambda entry: (-len(entry.units), entry.node))


# --------------------------------------------------------------------------- plans


def _progress(units: Sequence[Unit], actions: Sequence[tuple[Action, int]], ended: Quarter
              ) -> tuple[list[UnitProgress], list[OverdueAction]]:
    """Each unit's actions by standing (as of the last quarter ended), and the overdue ones."""
    by_id = {unit.id: unit for unit in units}
    percents = latest_percent(action for action, _unit_id in actions)
    counts: dict[int, Counter[str]] = defaultdict(Counter)
    done: dict[int, list[int]] = defaultdict(list)
    overdue = []
    for action, unit_id in actions:
        where = standing(action.status.value, action.due_quarter, ended)
        counts[unit_id][where] += 1
        done[unit_id].append(percents.get(action.id) or 0)
        if where == "overdue":
            overdue.append(OverdueAction(by_id[unit_id], action, percents.get(action.id)))
    progress = [UnitProgress(by_id[unit_id], {name: counts[unit_id][name] for name in STANDINGS},
                             sum(counts[unit_id].values()),
                             round(sum(done[unit_id]) / len(done[unit_id]), 1))
                for unit_id in sorted(counts, key=lambda uid: by_id[uid].code)]
    return progress, overdue
