"""CPAS recommendations: recorded per output, decided by leadership, approved ones become actions.

A working group recommends to continue, end, adapt or expand each output, names who
carries it out and by when; senior mission leadership approves or rejects each one
(seeds/001_782aced7fcf9d02c.txt:64; reference/cpas.md sections 1.7, 2.4). Here the
working group's answers give the first recommendations when the plan is drafted, a
coordinator may record more by hand, and leadership (anyone holding the viewer or
coordinator role on the mission) decides, always with a reason. An approved
recommendation becomes an action of the plan; a rejected one stays on record.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from instruments.schema import Item
from reports.answers import AnswerIndex, recommendation
from reports.i18n import Translator
from reports.labels import Labels
from reports.quarters import quarter
from surveyapp.extensions import db
from surveyapp.models import (
    Action,
    ActionSource,
    Cycle,
    Recommendation,
    RecommendationKind,
    RecommendationStatus,
    User,
)
from surveyapp.models.base import now_utc
from surveyapp.models.plans import RECOMMENDATION_KIND_LABELS
from surveyapp.services import ServiceError
from surveyapp.services.access import LEADERSHIP_ROLES
from surveyapp.services.audit import Actor, record
from surveyapp.services.instrument_versions import loaded_instrument
from surveyapp.services.notifications import coordinators, notify
from surveyapp.services.plans import (
    SHORT_MAX,
    TEXT_MAX,
    next_position,
    parse_quarter,
    require_final,
    snapshot,
    title_and_description,
)
from surveyapp.services.reporting import ScoredCycle
from surveyapp.services.units import holders


def recommendation_items(cycle: Cycle) -> list[Item]:
    """The instrument's recommendation items, each asked per node of a framework level."""
    instrument = loaded_instrument(cycle.instrument_version).instrument
    return [item for questionnaire in instrument.questionnaires for item in questionnaire.items
            if item.role == "recommendation" and item.per_level]


def recommendable_nodes(cycle: Cycle) -> list[tuple[str, str]]:
    """(code, title) of the framework nodes recommendations are made about (CPAS outputs)."""
    levels = {item.per_level for item in recommendation_items(cycle)}
    return [(node.code, node.title) for node in cycle.framework_nodes if node.level in levels]


def recommendations_of(cycle: Cycle) -> list[Recommendation]:
    return list(db.session.scalars(select(Recommendation).where(Recommendation.cycle_id == cycle.id)
                                   .order_by(Recommendation.node, Recommendation.id)))


def leadership(cycle: Cycle) -> list[User]:
    """Everyone who may decide the cycle's recommendations, to tell them one is waiting."""
    return holders(cycle.unit, LEADERSHIP_ROLES)


def _kind(item: Item, code: int | str | None) -> RecommendationKind | None:
    """The decision an option stands for, read from its English label (Continue, End...)."""
    option = next((option for option in item.options if option.code == code), None)
    label = option.label["en"].strip().lower() if option else ""
    return RecommendationKind(label) if label in set(RecommendationKind) else None


def _audit(actor: Actor, action: str, cycle: Cycle, found: Recommendation, **values: object
           ) -> None:
    record(actor, action, "recommendation", found.id, unit_id=cycle.unit_id, cycle_id=cycle.id,
           after={"node": found.node, "kind": found.kind.value, "text": found.text,
                  "owner": found.owner, "timeline": found.timeline,
                  "status": found.status.value, **values})


def _tell_leadership(cycle: Cycle, count: int) -> None:
    notify(leadership(cycle), "recommendation",
           _l("%(count)s recommendation(s) about “%(cycle)s” await your decision.",
              count=count, cycle=cycle.title),
           f"/cycles/{cycle.id}/recommendations", cycle)


def import_recommendations(cycle: Cycle, scored: ScoredCycle, actor: Actor) -> int:
    """Record the working group's answered recommendations, for outputs that have none yet."""
    items = recommendation_items(cycle)
    if not items or scored.scores is None:
        return 0
    instrument = scored.loaded.instrument
    labels = Labels(instrument, scored.scores.framework, Translator("en"))
    index = AnswerIndex(instrument, scored.responses)
    known = {found.node for found in recommendations_of(cycle)}
    added = 0
    for item in items:
        for code, _title in recommendable_nodes(cycle):
            made = recommendation(index, labels, code, item.per_level or "")
            kind = _kind(item, made.code) if made else None
            if made is None or kind is None or code in known:
                continue
            timeline = quarter(made.timeline) if made.timeline else ""
            found = Recommendation(
                cycle_id=cycle.id, node=code, kind=kind, text=made.text[:TEXT_MAX],
                owner=made.owner[:SHORT_MAX], created_by_id=actor.user_id,
                timeline=timeline if _valid_quarter(timeline) else None)
            db.session.add(found)
            db.session.flush()
            _audit(actor, "recommendation.recorded", cycle, found, imported=True)
            known.add(code)
            added += 1
    if added:
        _tell_leadership(cycle, added)
    return added


def _valid_quarter(text: str) -> bool:
    try:
        return parse_quarter(text, "Timeline") is not None
    except ServiceError:
        return False


@dataclass(frozen=True)
class RecommendationDraft:
    node: str
    kind: RecommendationKind
    text: str
    owner: str = ""
    timeline: str = ""


def record_recommendation(cycle: Cycle, draft: RecommendationDraft, actor: Actor
                          ) -> Recommendation:
    """Record a recommendation by hand and send it to leadership.

    :raises ServiceError: not an output of the cycle's framework, no text, a wrong quarter.
    """
    require_final(cycle)
    if draft.node not in {code for code, _title in recommendable_nodes(cycle)}:
        raise ServiceError(_("Choose one of the outputs of this cycle's results framework."))
    text = draft.text.strip()
    if not text:
        raise ServiceError(_("State the recommendation in words, and the reasons for it."))
    if len(text) > TEXT_MAX or len(draft.owner.strip()) > SHORT_MAX:
        raise ServiceError(_("Keep the text under %(text_max)s characters and who carries it "
                             "out under %(short_max)s.", text_max=TEXT_MAX, short_max=SHORT_MAX))
    found = Recommendation(cycle_id=cycle.id, node=draft.node, kind=draft.kind, text=text,
                           owner=draft.owner.strip(),
                           timeline=parse_quarter(draft.timeline, _("By when")),
                           created_by_id=actor.user_id)
    db.session.add(found)
    db.session.flush()
    _audit(actor, "recommendation.recorded", cycle, found)
    _tell_leadership(cycle, 1)
    return found


def decide(found: Recommendation, cycle: Cycle, *, approve: bool, reason: str,
           decider: User) -> Action | None:
    """Approve (the recommendation becomes an action) or reject, with a reason.

    :raises ServiceError: already decided, or no reason given.
    """
    require_final(cycle)
    if found.status is not RecommendationStatus.pending:
        raise ServiceError(_("This recommendation was already approved.")
                           if found.status is RecommendationStatus.approved else
                           _("This recommendation was already rejected."))
    reason = reason.strip()
    if not reason:
        raise ServiceError(_("Give the reason for the decision: it is kept with the "
                             "recommendation."))
    if len(reason) > TEXT_MAX:
        raise ServiceError(_("Keep the reason under %(text_max)s characters.", text_max=TEXT_MAX))
    actor = Actor.of(decider)
    found.status = RecommendationStatus.approved if approve else RecommendationStatus.rejected
    found.decided_by_id, found.decided_at, found.decision_reason = decider.id, now_utc(), reason
    db.session.flush()
    _audit(actor, f"recommendation.{found.status.value}", cycle, found, reason=reason)
    action = _as_action(found, cycle, actor) if approve else None
    notify(coordinators(cycle), "recommendation",
           (_l("Leadership approved the recommendation about %(node)s (%(kind)s): %(reason)s",
               node=found.node, kind=RECOMMENDATION_KIND_LABELS[found.kind], reason=reason)
            if approve else
            _l("Leadership rejected the recommendation about %(node)s (%(kind)s): %(reason)s",
               node=found.node, kind=RECOMMENDATION_KIND_LABELS[found.kind], reason=reason)),
           f"/cycles/{cycle.id}/recommendations", cycle)
    return action


def _as_action(found: Recommendation, cycle: Cycle, actor: Actor) -> Action:
    title, description = title_and_description(f"{found.kind.label}: {found.text}")
    action = Action(cycle_id=cycle.id, position=next_position(cycle), title=title,
                    description=description, nodes=[found.node],
                    responsible_organisation=found.owner, due_quarter=found.timeline,
                    source=ActionSource.recommendation, basis=found.kind.label,
                    recommendation_id=found.id, created_by_id=actor.user_id)
    db.session.add(action)
    db.session.flush()
    record(actor, "action.drafted", "action", action.id, unit_id=cycle.unit_id,
           cycle_id=cycle.id, after={**snapshot(action), "recommendation": found.id})
    return action
