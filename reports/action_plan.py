"""Draft an action plan from the results: a pure function the CLI and the web app share.

Where drafts come from (DESIGN.md "How work flows", step 5):

- a percent-scored block (CCPM sub-function, or function 5-7 scored at function
  level) rated in a band the instrument marks ``action: true``: CCPM's weak and
  unsatisfactory, the functions the action plan must give special attention to
  (seeds/004_bc0651d6516aab8c.txt:45; reference/instruments.md section 1.6);
- a component judged below a target stage (JIU), quoting the next stage's
  descriptor as the action: the stages describe what the next step looks like
  (JIU/NOTE/2017/1 annex IX; reference/jiu_framework.md section 4.3). The
  validated stage counts when there is one, else the self-assessed stage;
- an output's recommendation (CPAS): the working group recommends to continue,
  end, adapt or expand it, names who carries it out and by when
  (seeds/001_782aced7fcf9d02c.txt:64). The item with role ``recommendation``
  carries the choice; its companions ``<item>.text``, ``<item>.owner`` and
  ``<item>.timeline`` the words, the owner and the date.

Every draft has status ``draft``: the unit agrees the actions, the responsible
organisation, the support required and the due quarter at its review meeting.
"""

from __future__ import annotations

from collections.abc import Mapping

from instruments.schema import Instrument, Stage
from reports.answers import AnswerIndex, recommendation
from reports.i18n import Translator
from reports.labels import Labels
from reports.model import ActionItem
from reports.quarters import quarter
from reports.tree import blocks
from scoring import PercentResult, Responses, RubricResult, ScoreReport, StageResult


def draft_action_plan(
    instrument: Instrument,
    scores: ScoreReport,
    responses: Responses,
    *,
    language: str = "en",
    target_stage: int | None = None,
    component_targets: Mapping[str, int] | None = None,
    recommendations: bool = True,
) -> tuple[ActionItem, ...]:
    """Draft actions, in the order of the scored tree.

    :param target_stage: the stage every component should reach; without it (and
        without ``component_targets``) no stage-based action is drafted.
    :param component_targets: a target for some components, over ``target_stage``.
    :param recommendations: False leaves recommendations out, for callers that have
        them decided first (the web app's plans: leadership approves each one).
    """
    t = Translator(language)
    labels = Labels(instrument, scores.framework, t)
    drafts = [*_from_weak_blocks(scores, labels)]
    targets = dict(component_targets or {})
    if target_stage is not None or targets:
        drafts += _below_target(scores, labels, target_stage, targets)
    if recommendations:
        drafts += _from_recommendations(scores, labels, AnswerIndex(instrument, responses))
    order = {result.node: position for position, result in enumerate(scores.results)}
    return tuple(sorted(drafts, key=lambda action: order.get(action.node, len(order))))


def needs_action(labels: Labels, result: PercentResult) -> bool:
    """Rated in a band the instrument marks ``action: true`` (CCPM: weak or unsatisfactory)."""
    band_set = labels.band_set(result.node, result.level)
    if band_set is None or result.rating is None:
        return False
    return any(band.action for band in band_set.bands if band.key == result.rating)


def _from_weak_blocks(scores: ScoreReport, labels: Labels) -> list[ActionItem]:
    t = labels.t
    drafts = []
    for result in blocks(scores):
        if not needs_action(labels, result):
            continue
        rating = labels.rating(result.node, result.level, result.rating)
        score = t.percent(result.score)
        drafts.append(ActionItem(
            node=result.node,
            action=t("action.raise", node=result.node, title=labels.title(result.node),
                     rating=rating.words, score=score),
            basis=f"{rating.words}, {score}",
            rating=result.rating,
            source="rating",
        ))
    return drafts


def _below_target(scores: ScoreReport, labels: Labels, default: int | None,
                  targets: Mapping[str, int]) -> list[ActionItem]:
    t = labels.t
    drafts = []
    for result in scores.results:
        if not isinstance(result, StageResult):
            continue
        target = targets.get(result.node, default)
        validated = result.validated_stage is not None
        current = result.validated_stage if validated else result.self_stage
        if target is None or current is None or current >= target:
            continue
        following = _stage(labels, result.node, current + 1)
        if following is None:
            continue
        kind = t("stages.validated" if validated else "stages.self").lower()
        drafts.append(ActionItem(
            node=result.node,
            action=t("action.stage", node=result.node, title=labels.title(result.node),
                     current=current, next=following.stage,
                     next_title=t.local(following.title),
                     descriptor=t.local(following.descriptor)),
            basis=t("action.stage.basis", stage=current, kind=kind, target=target),
            source="stage",
        ))
    return drafts


def _stage(labels: Labels, node: str, stage: int) -> Stage | None:
    found = labels.nodes.get(node)
    return next((entry for entry in found.stages if entry.stage == stage), None) if found else None


def _from_recommendations(
    scores: ScoreReport, labels: Labels, index: AnswerIndex
) -> list[ActionItem]:
    drafts = []
    for result in scores.results:
        made = recommendation(index, labels, result.node, result.level)
        if made is None:
            continue
        rubric = result if isinstance(result, RubricResult) else None
        drafts.append(ActionItem(
            node=result.node,
            action=labels.t("action.recommendation", recommendation=made.words,
                            text=made.text or labels.title(result.node)),
            basis=_rubric_basis(rubric, labels) if rubric else made.words,
            rating=rubric.rating if rubric else None,
            responsible=made.owner,
            due_quarter=quarter(made.timeline),
            source="recommendation",
        ))
    return drafts


def _rubric_basis(result: RubricResult, labels: Labels) -> str:
    """``Total 7 (3-12): Moderate``: the total and, when declared, its band."""
    t = labels.t
    rule = labels.rule(result.node, result.level)
    limits = ""
    if rule is not None and rule.scale_min is not None and rule.scale_max is not None:
        limits = f" ({rule.scale_min:g}-{rule.scale_max:g})"
    words = labels.rating(result.node, result.level, result.rating).words
    band = f": {words}" if result.rating else ""
    return f"{t('col.total')} {result.total}{limits}{band}"
