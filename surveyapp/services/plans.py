"""Action plans: drafting from final results, editing by hand, stock-takes, quarter closings.

Drafting reuses ``reports.action_plan.draft_action_plan``, the rules the offline report
applies too: one action for every block rated in a band marked ``action: true`` (CCPM
weak and unsatisfactory, reference/instruments.md section 1.6), one for every component
below the coordinator's target stage quoting the next stage (JIU/NOTE/2017/1 annex IX),
while CPAS recommendations go to leadership first (``services.recommendations``).

Who does what (views ask ``services.access``): the unit's coordinators draft, edit,
merge, delete and add actions and close quarters once the cycle's results are final
(validated or closed); the person responsible for an action, or a coordinator, records
its progress. The responsible person is an account holding the focal point or the
coordinator role on the unit (or a unit above it). A quarter, once closed, is kept as a
snapshot of every action of the unit; stock-takes of a closed quarter no longer change.

Every change is an audit event; nothing here commits.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, BinaryIO

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import contains_eager

from reports.action_plan import draft_action_plan
from reports.model import ActionItem
from reports.quarters import Quarter
from surveyapp.extensions import db
from surveyapp.i18n import plain_text
from surveyapp.models import (
    Action,
    ActionSource,
    ActionStatus,
    Cycle,
    ProgressEntry,
    QuarterClosing,
    Role,
    TargetStage,
    Unit,
    User,
)
from surveyapp.services import ServiceError
from surveyapp.services.audit import Actor, record
from surveyapp.services.evidence import add_plan_document, clean_url
from surveyapp.services.instrument_versions import loaded_instrument
from surveyapp.services.reporting import FINAL_STATES, ScoredCycle, score_cycle
from surveyapp.services.units import holders

TITLE_MAX = 300
TEXT_MAX = 4000
SHORT_MAX = 200
#: Unit roles whose holders may be named responsible for an action.
RESPONSIBLE_ROLES = (Role.focal_point, Role.coordinator)
#: A stock-take may set these statuses; dropping an action is the coordinator's decision.
PROGRESS_STATUSES = (ActionStatus.planned, ActionStatus.in_progress, ActionStatus.delayed,
                     ActionStatus.done)
#: Statuses after which an action needs no more follow-up.
FINISHED = frozenset({ActionStatus.done, ActionStatus.dropped})


def plan_is_open(cycle: Cycle) -> bool:
    """A plan exists once the cycle's results are final (validated or closed)."""
    return cycle.state in FINAL_STATES


def require_final(cycle: Cycle) -> None:
    if not plan_is_open(cycle):
        raise ServiceError(
            _("The action plan starts once the results are final; this cycle is %(state)s. "
              "Validate it first.", state=cycle.state.label.lower()))


def _audit(actor: Actor, action: str, cycle: Cycle, entity_type: str, entity_id: object, *,
           before: object = None, after: object = None) -> None:
    record(actor, action, entity_type, entity_id, before=before, after=after,
           unit_id=cycle.unit_id, cycle_id=cycle.id)


def snapshot(action: Action) -> dict[str, Any]:
    """An action's fields as the audit log keeps them."""
    return {
        "title": action.title, "description": action.description, "nodes": list(action.nodes),
        "responsible_organisation": action.responsible_organisation,
        "responsible_user_id": action.responsible_user_id,
        "support_required": action.support_required, "support_from": action.support_from,
        "start_quarter": action.start_quarter, "due_quarter": action.due_quarter,
        "status": action.status.value, "status_reason": action.status_reason,
        "completion_indicator": action.completion_indicator, "source": action.source.value,
        "basis": action.basis,
    }


def current_quarter(today: dt.date) -> Quarter:
    return Quarter.of(today)


def parse_quarter(text: str | None, what: str) -> str | None:
    """A quarter typed in a form, normalised (``2026-q3`` -> ``2026-Q3``); blank is None.

    :raises ServiceError: naming the field and the form expected.
    """
    if not (text or "").strip():
        return None
    try:
        return str(Quarter.parse(text or ""))
    except ValueError:
        raise ServiceError(_("%(what)s: write the quarter like 2026-Q3 (the year, then Q1 to "
                             "Q4).", what=what)) from None


# --------------------------------------------------------------------------- reading


def plan_of(cycle: Cycle) -> list[Action]:
    """The cycle's actions in plan order."""
    return list(db.session.scalars(select(Action).where(Action.cycle_id == cycle.id)
                                   .order_by(Action.position, Action.id)))


def latest_percent(actions: Iterable[Action]) -> dict[int, int]:
    """The percent of each action's latest stock-take, in one query."""
    ids = [action.id for action in actions]
    if not ids:
        return {}
    latest = (select(ProgressEntry.action_id, func.max(ProgressEntry.id).label("last"))
              .where(ProgressEntry.action_id.in_(ids)).group_by(ProgressEntry.action_id)
              .subquery())
    rows = db.session.execute(select(ProgressEntry.action_id, ProgressEntry.percent)
                              .join(latest, ProgressEntry.id == latest.c.last))
    return {action_id: percent for action_id, percent in rows}


def node_choices(cycle: Cycle) -> list[tuple[str, str]]:
    """Nodes an action may target: the instrument's scored tree, then the unit's framework."""
    loaded = loaded_instrument(cycle.instrument_version)

    def walk(nodes: Sequence[Any]) -> Iterable[tuple[str, str]]:
        for node in nodes:
            yield node.id, f"{node.id} {plain_text(node.title)}"
            yield from walk(node.children)

    found = list(walk(loaded.instrument.nodes))
    found += [(node.code, f"{node.code} {node.title}") for node in cycle.framework_nodes]
    return found


def responsible_candidates(unit: Unit) -> list[User]:
    """Active accounts holding the focal point or coordinator role on the unit or above it."""
    return holders(unit, RESPONSIBLE_ROLES)


# --------------------------------------------------------------------------- targets


def stage_nodes(cycle: Cycle) -> list[tuple[str, str, int]]:
    """(node, title, highest stage) of every node judged in stages (JIU components)."""
    loaded = loaded_instrument(cycle.instrument_version)
    rules = {rule.id: rule for rule in loaded.instrument.scoring}

    def walk(nodes: Sequence[Any]) -> Iterable[tuple[str, str, int]]:
        for node in nodes:
            rule = rules.get(node.scoring or "")
            if rule is not None and rule.method == "holistic_stage" and node.stages:
                yield node.id, plain_text(node.title), max(stage.stage for stage in node.stages)
            yield from walk(node.children)

    return list(walk(loaded.instrument.nodes))


def targets_of(cycle: Cycle) -> dict[str, int]:
    """Target stages: "" -> the stage for every component, node -> that component's own."""
    return {target.node: target.stage for target in db.session.scalars(
        select(TargetStage).where(TargetStage.cycle_id == cycle.id))}


def set_target_stage(cycle: Cycle, node: str, stage: int | None, actor: Actor) -> None:
    """Set (or with ``stage`` None remove) the target stage of one component or of all ("").

    :raises ServiceError: a node not judged in stages, or a stage it does not have.
    """
    require_final(cycle)
    nodes = {code: top for code, _title, top in stage_nodes(cycle)}
    if not nodes:
        raise ServiceError(_("This instrument has no stages to set a target for."))
    if node and node not in nodes:
        raise ServiceError(_("%(node)s is not a component judged in stages.", node=node))
    top = nodes[node] if node else max(nodes.values())
    if stage is not None and not 1 <= stage <= top:
        raise ServiceError(_("Choose a stage from 1 to %(top)s.", top=top))
    existing = db.session.scalar(select(TargetStage).where(
        TargetStage.cycle_id == cycle.id, TargetStage.node == node))
    before = existing.stage if existing else None
    if stage is None:
        if existing is not None:
            db.session.delete(existing)
    elif existing is None:
        db.session.add(TargetStage(cycle_id=cycle.id, node=node, stage=stage,
                                   set_by_id=actor.user_id))
    else:
        existing.stage = stage
        existing.set_by_id = actor.user_id
    db.session.flush()
    _audit(actor, "plan.target_set", cycle, "target_stage", node or "all",
           before={"stage": before}, after={"stage": stage})


# --------------------------------------------------------------------------- drafting


def next_position(cycle: Cycle) -> int:
    last = db.session.scalar(select(func.max(Action.position)).where(Action.cycle_id == cycle.id))
    return (last or 0) + 1


def title_and_description(text: str) -> tuple[str, str]:
    """A drafted action's words as a title, the whole text kept as description if longer."""
    if len(text) <= TITLE_MAX:
        return text, ""
    return text[: TITLE_MAX - 1].rstrip() + "…", text


def final_scores(cycle: Cycle) -> ScoredCycle:
    """The final results a plan is drafted from.

    :raises ServiceError: before the results are final, or when they cannot be scored.
    """
    require_final(cycle)
    scored = score_cycle(cycle)
    if scored.scores is None:
        raise ServiceError(_("The answers cannot be scored: %(problems)s",
                             problems="; ".join(scored.problems[:3])))
    return scored


def draft_actions(cycle: Cycle, scored: ScoredCycle, actor: Actor, language: str = "en"
                  ) -> list[Action]:
    """Draft the plan from the final results, worded in ``language`` (one of the reports'
    languages); drafting again adds only what is missing.

    A node that already has an action from the same rule gets no second draft, so setting
    a target stage later and drafting again adds the components now below it.
    """
    assert scored.scores is not None, "score with final_scores first"
    targets = targets_of(cycle)
    items = draft_action_plan(
        scored.loaded.instrument, scored.scores, scored.responses, language=language,
        target_stage=targets.pop("", None), component_targets=targets, recommendations=False)
    covered = {(action.source.value, node) for action in plan_of(cycle) for node in action.nodes}
    position = next_position(cycle)
    added = []
    for item in items:
        if (item.source, item.node) in covered:
            continue
        added.append(_add_drafted(cycle, item, position, actor))
        position += 1
    return added


def _add_drafted(cycle: Cycle, item: ActionItem, position: int, actor: Actor) -> Action:
    title, description = title_and_description(item.action)
    due = item.due_quarter if _is_quarter(item.due_quarter) else None
    action = Action(cycle_id=cycle.id, position=position, title=title, description=description,
                    nodes=[item.node], responsible_organisation=item.responsible[:SHORT_MAX],
                    due_quarter=due, source=ActionSource(item.source), basis=item.basis[:500],
                    rating=item.rating, created_by_id=actor.user_id)
    db.session.add(action)
    db.session.flush()
    _audit(actor, "action.drafted", cycle, "action", action.id, after=snapshot(action))
    return action


def _is_quarter(text: str) -> bool:
    try:
        Quarter.parse(text)
    except ValueError:
        return False
    return True


# --------------------------------------------------------------------------- editing


@dataclass(frozen=True)
class ActionDraft:
    """What a coordinator fills in for an action."""

    title: str
    description: str = ""
    nodes: tuple[str, ...] = ()
    responsible_organisation: str = ""
    responsible_user: User | None = None
    support_required: str = ""
    support_from: str = ""
    start_quarter: str | None = None
    due_quarter: str | None = None
    status: ActionStatus = ActionStatus.planned
    status_reason: str = ""
    completion_indicator: str = ""


def _text(value: str, limit: int, what: str) -> str:
    text = value.strip()
    if len(text) > limit:
        raise ServiceError(_("%(what)s is %(length)s characters long; keep it under %(limit)s.",
                             what=what, length=len(text), limit=limit))
    return text


def _apply(action: Action, cycle: Cycle, draft: ActionDraft) -> None:
    """Check a draft and copy it onto ``action``.

    :raises ServiceError: naming the field at fault and what to do.
    """
    title = " ".join(draft.title.split())
    if not title:
        raise ServiceError(_("Give the action a title: what will be done."))
    known = {code for code, _label in node_choices(cycle)}
    unknown = [node for node in draft.nodes if node not in known]
    if unknown:
        raise ServiceError(_("Linked nodes: %(nodes)s is not part of this cycle's instrument "
                             "or results framework.", nodes=", ".join(unknown)))
    start = parse_quarter(draft.start_quarter, _("Start quarter"))
    due = parse_quarter(draft.due_quarter, _("Due quarter"))
    if start and due and Quarter.parse(due) < Quarter.parse(start):
        raise ServiceError(_("The action is due (%(due)s) before it starts (%(start)s).",
                             due=due, start=start))
    reason = draft.status_reason.strip()
    if draft.status is ActionStatus.dropped and not reason:
        raise ServiceError(_("Say why the action is dropped: the reason is kept with it."))
    person = draft.responsible_user
    if person is not None and person.id not in {
            user.id for user in responsible_candidates(cycle.unit)}:
        raise ServiceError(_("%(person)s holds no focal point or coordinator role on %(unit)s, "
                             "so cannot be responsible for its actions.",
                             person=person.display_name, unit=cycle.unit.code))
    action.title = _text(title, TITLE_MAX, _("The title"))
    action.description = _text(draft.description, TEXT_MAX, _("The description"))
    action.nodes = list(dict.fromkeys(draft.nodes))
    action.responsible_organisation = _text(draft.responsible_organisation, SHORT_MAX,
                                            _("The responsible organisation"))
    action.responsible_user_id = person.id if person else None
    action.support_required = _text(draft.support_required, TEXT_MAX,
                                    _("The support required"))
    action.support_from = _text(draft.support_from, SHORT_MAX, _("Who gives the support"))
    action.start_quarter, action.due_quarter = start, due
    action.status = draft.status
    action.status_reason = _text(reason, TEXT_MAX, _("The reason")) or None
    action.completion_indicator = _text(draft.completion_indicator, TEXT_MAX,
                                        _("The indicator of completion"))


def add_action(cycle: Cycle, draft: ActionDraft, actor: Actor) -> Action:
    """Add an action by hand.

    :raises ServiceError: before the results are final, or for a field at fault.
    """
    require_final(cycle)
    action = Action(cycle_id=cycle.id, position=next_position(cycle),
                    source=ActionSource.manual, created_by_id=actor.user_id)
    _apply(action, cycle, draft)
    db.session.add(action)
    db.session.flush()
    _audit(actor, "action.added", cycle, "action", action.id, after=snapshot(action))
    return action


def edit_action(action: Action, cycle: Cycle, draft: ActionDraft, actor: Actor) -> None:
    """Change an action; optimistic locking refuses a concurrent change at flush.

    :raises ServiceError: before the results are final, or for a field at fault.
    """
    require_final(cycle)
    before = snapshot(action)
    _apply(action, cycle, draft)
    db.session.flush()
    after = snapshot(action)
    changed = {key: value for key, value in after.items() if before[key] != value}
    if changed:
        _audit(actor, "action.edited", cycle, "action", action.id,
               before={key: before[key] for key in changed}, after=changed)


def delete_action(action: Action, cycle: Cycle, actor: Actor) -> None:
    """Remove an action and its stock-takes (kept in the audit log)."""
    require_final(cycle)
    _audit(actor, "action.deleted", cycle, "action", action.id,
           before={**snapshot(action), "progress": len(action.progress)})
    db.session.delete(action)
    db.session.flush()


def merge_actions(cycle: Cycle, action_ids: Sequence[int], actor: Actor) -> Action:
    """Merge actions into the first of them (in plan order): nodes, texts and stock-takes.

    :raises ServiceError: fewer than two actions, or actions of another cycle.
    """
    require_final(cycle)
    wanted = set(action_ids)
    chosen = [action for action in plan_of(cycle) if action.id in wanted]
    if len(chosen) < 2 or len(chosen) != len(wanted):
        raise ServiceError(_("Choose two or more actions of this plan to merge."))
    kept, others = chosen[0], chosen[1:]
    before = snapshot(kept)
    kept.nodes = list(dict.fromkeys([node for action in chosen for node in action.nodes]))
    kept.description = "\n\n".join(part for part in (
        kept.description, *(f"{other.title}\n{other.description}".strip() for other in others))
        if part)[:TEXT_MAX]
    kept.basis = "; ".join(dict.fromkeys(a.basis for a in chosen if a.basis))[:500]
    for other in others:
        for entry in list(other.progress):
            entry.action = kept
        _audit(actor, "action.deleted", cycle, "action", other.id,
               before={**snapshot(other), "merged_into": kept.id})
        db.session.delete(other)
    db.session.flush()
    _audit(actor, "action.merged", cycle, "action", kept.id, before=before,
           after={**snapshot(kept), "merged": [other.id for other in others]})
    return kept


# --------------------------------------------------------------------------- progress


def closed_quarters(unit: Unit) -> dict[str, QuarterClosing]:
    return {closing.quarter: closing for closing in db.session.scalars(
        select(QuarterClosing).where(QuarterClosing.unit_id == unit.id)
        .order_by(QuarterClosing.quarter))}


def open_quarters(unit: Unit, today: dt.date, count: int = 4) -> list[str]:
    """Quarters a stock-take may report on: the current one and the last few not closed."""
    closed = closed_quarters(unit)
    found, quarter = [], current_quarter(today)
    for _step in range(count):
        if str(quarter) not in closed:
            found.append(str(quarter))
        quarter = quarter.previous
    return found


@dataclass(frozen=True)
class Stocktake:
    """One stock-take as typed in the progress form; ``document`` is an upload, if any."""

    quarter: str
    percent: int
    note: str = ""
    link: str = ""
    status: ActionStatus | None = None
    document: BinaryIO | None = None
    filename: str | None = None


def record_progress(action: Action, cycle: Cycle, stocktake: Stocktake, actor: Actor,
                    today: dt.date) -> ProgressEntry:
    """Record how far an action is; the status may change with it (not to dropped).

    :raises ServiceError: a percent outside 0-100, a closed or future quarter, a wrong link.
    :raises UploadRefused: the document is not accepted (name, size, content).
    """
    require_final(cycle)
    quarter = parse_quarter(stocktake.quarter, _("Quarter"))
    if quarter is None:
        raise ServiceError(_("Choose the quarter this stock-take reports on."))
    if Quarter.parse(quarter) > current_quarter(today):
        raise ServiceError(_("%(quarter)s has not started yet: report on the current quarter.",
                             quarter=quarter))
    if quarter in closed_quarters(cycle.unit):
        raise ServiceError(_("%(quarter)s is closed: its report is final. Record progress for a "
                             "quarter that is still open.", quarter=quarter))
    if not 0 <= stocktake.percent <= 100:
        raise ServiceError(_("Progress is a percentage from 0 to 100."))
    if stocktake.status is not None and stocktake.status not in PROGRESS_STATUSES:
        raise ServiceError(_("A stock-take cannot drop an action: ask the coordinator, who "
                             "records the reason."))
    note = _text(stocktake.note, TEXT_MAX, _("The note"))
    link = clean_url(stocktake.link) if stocktake.link.strip() else None
    evidence = None
    if stocktake.document is not None and stocktake.filename:
        evidence = add_plan_document(
            cycle, stocktake.document, stocktake.filename,
            _("Progress of “%(title)s” in %(quarter)s", title=action.title, quarter=quarter),
            actor)
    entry = ProgressEntry(action=action, quarter=quarter, percent=stocktake.percent, note=note,
                          link=link, evidence_id=evidence.id if evidence else None,
                          recorded_by_id=actor.user_id)
    db.session.add(entry)
    before = action.status
    if stocktake.status is not None:
        action.status = stocktake.status
    db.session.flush()
    _audit(actor, "action.progress_recorded", cycle, "progress_entry", entry.id, after={
        "action": action.id, "quarter": quarter, "percent": entry.percent, "note": note,
        "link": link, "evidence": entry.evidence_id, "status": action.status.value,
        "status_before": before.value})
    return entry


# --------------------------------------------------------------------------- quarters


def unit_actions(unit: Unit) -> list[Action]:
    """Every action of every cycle of the unit, oldest cycle first, in plan order."""
    return list(db.session.scalars(
        select(Action).join(Action.cycle).options(contains_eager(Action.cycle))
        .where(Cycle.unit_id == unit.id)
        .order_by(Cycle.period_end, Cycle.id, Action.position, Action.id)))


def action_states(actions: Sequence[Action]) -> dict[str, dict[str, Any]]:
    """What a quarter closing keeps of each action: title, status, percent, due quarter."""
    percents = latest_percent(actions)
    return {str(action.id): {"title": action.title, "status": action.status.value,
                             "percent": percents.get(action.id), "due": action.due_quarter}
            for action in actions}


def close_quarter(unit: Unit, quarter_text: str, actor: Actor, today: dt.date
                  ) -> QuarterClosing:
    """Close a quarter of the unit: its stock-takes become final and its state is kept.

    :raises ServiceError: a future quarter, or one already closed.
    """
    quarter = parse_quarter(quarter_text, _("Quarter"))
    if quarter is None:
        raise ServiceError(_("Choose the quarter to close."))
    if Quarter.parse(quarter) > current_quarter(today):
        raise ServiceError(_("%(quarter)s has not started yet.", quarter=quarter))
    if quarter in closed_quarters(unit):
        raise ServiceError(_("%(quarter)s is already closed.", quarter=quarter))
    closing = QuarterClosing(unit_id=unit.id, quarter=quarter, closed_by_id=actor.user_id,
                             snapshot=action_states(unit_actions(unit)))
    db.session.add(closing)
    db.session.flush()
    record(actor, "plan.quarter_closed", "quarter_closing", closing.id, unit_id=unit.id,
           after={"unit": unit.code, "quarter": quarter, "actions": len(closing.snapshot)})
    return closing


def previous_closing(unit: Unit, quarter: str) -> QuarterClosing | None:
    """The last closing before ``quarter``, the baseline of "changes since last quarter"."""
    earlier = [closing for text, closing in closed_quarters(unit).items() if text < quarter]
    return earlier[-1] if earlier else None


def progress_in(actions: Sequence[Action], quarter: str) -> Mapping[int, list[ProgressEntry]]:
    """Each action's stock-takes of one quarter, in one query."""
    found: dict[int, list[ProgressEntry]] = {action.id: [] for action in actions}
    if not found:
        return found
    for entry in db.session.scalars(
            select(ProgressEntry).where(ProgressEntry.action_id.in_(list(found)),
                                        ProgressEntry.quarter == quarter)
            .order_by(ProgressEntry.recorded_at, ProgressEntry.id)):
        found[entry.action_id].append(entry)
    return found


# --------------------------------------------------------------------------- next cycle


@dataclass(frozen=True)
class EarlierAction:
    """An action of one of the unit's earlier cycles, shown beside the items it targeted."""

    action: Action
    cycle_title: str
    percent: int | None


def node_lineage(cycle: Cycle) -> dict[str, tuple[str, ...]]:
    """Each node of the cycle's instrument with its ancestors, itself first."""
    loaded = loaded_instrument(cycle.instrument_version)
    found: dict[str, tuple[str, ...]] = {}

    def walk(nodes: Sequence[Any], above: tuple[str, ...]) -> None:
        for node in nodes:
            found[node.id] = (node.id, *above)
            walk(node.children, (node.id, *above))

    walk(loaded.instrument.nodes, ())
    return found


def earlier_actions(cycle: Cycle, nodes: Iterable[str]) -> list[EarlierAction]:
    """Actions of the unit's earlier cycles that targeted any of ``nodes`` or their ancestors
    (an action on sub-function 1.1 concerns its indicators' questions), latest cycle first.

    Two queries however many actions: the actions, then their latest percent.
    """
    lineage = node_lineage(cycle)
    wanted = {ancestor for node in nodes for ancestor in lineage.get(node, (node,))}
    if not wanted:
        return []
    rows = db.session.execute(
        select(Action, Cycle.title).join(Cycle, Cycle.id == Action.cycle_id)
        .where(Cycle.unit_id == cycle.unit_id, Cycle.id != cycle.id,
               Cycle.period_start < cycle.period_start)
        .order_by(Cycle.period_end.desc(), Action.position, Action.id)).tuples().all()
    matching = [(action, title) for action, title in rows if wanted & set(action.nodes)]
    percents = latest_percent(action for action, _title in matching)
    return [EarlierAction(action, title, percents.get(action.id)) for action, title in matching]

