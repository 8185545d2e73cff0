"""Previewing an instrument exactly as respondents will see it, with throwaway test answers.

ODK Central's draft testing is the model (reference/peers.md, "Form versioning": "Drafts
take test submissions that are discarded on publish"): whoever previews a version answers
its questionnaire pages in any of its languages, the answers are checked exactly as real
ones (``services.answers.new_parts``), scored on the spot, and kept only in
``preview_answers``, never in the responses tables. They go when the tester discards them,
when the draft is replaced or published, and with the draft when it is deleted.

Questionnaires asked per node of a unit's own results framework (CPAS) are previewed with
an example framework of one node per level, so that every page can be seen.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, select

from instruments import LoadedInstrument
from instruments.schema import Instrument
from scoring import AnswersInvalid, FrameworkNode, Responses, ScoreReport, score
from surveyapp.extensions import db
from surveyapp.models import Answer, InstrumentOverlay, InstrumentVersion, PreviewAnswers, User
from surveyapp.services.answers import BLANK_PARTS, RawAnswer, SavedAnswer, new_parts, slot_statuses
from surveyapp.services.questionnaire import FrameworkEntry, Layout, Slot, cached_layout
from surveyapp.services.reporting import scored_answers

#: The respondent the test answers are scored as.
TEST_RESPONDENT = "test"


def subject(version: InstrumentVersion, overlay: InstrumentOverlay | None) -> str:
    """What is previewed, as one value: the version, and the overlay adapting it."""
    return f"v{version.id}" if overlay is None else f"v{version.id}-o{overlay.id}"


def preview_answers(user: User, version: InstrumentVersion, overlay: InstrumentOverlay | None,
                    questionnaire: str, language: str) -> PreviewAnswers:
    """The user's test answers to one questionnaire in one language; a new, unsaved row
    when there are none yet (the first saved answer stores it)."""
    where = subject(version, overlay)
    row = db.session.scalar(select(PreviewAnswers).where(
        PreviewAnswers.user_id == user.id, PreviewAnswers.subject == where,
        PreviewAnswers.questionnaire == questionnaire, PreviewAnswers.language == language))
    return row or PreviewAnswers(
        user_id=user.id, instrument_version_id=version.id,
        overlay_id=overlay.id if overlay else None, subject=where,
        questionnaire=questionnaire, language=language, answers={})


def _test_answer(slot: Slot, parts: Mapping[str, Any]) -> Answer:
    """A test answer as an unsaved ``Answer``, which the pages read like a stored one.

    It is never added to the database session, so it can never be written.
    """
    return Answer(item_id=slot.item_id, framework_node=slot.framework_node,
                  value=parts["value"], not_applicable=parts["not_applicable"],
                  justification=parts["justification"], comment=parts["comment"],
                  carried_over=False)


def preview_test_answers(row: PreviewAnswers, layout: Layout) -> dict[str, Answer]:
    """The test answers by slot key, for the questions the layout has."""
    answers = {}
    for key, parts in row.answers.items():
        slot = layout.slot_by_key(key)
        if slot is not None:
            answers[key] = _test_answer(slot, parts)
    return answers


def save_test_answer(row: PreviewAnswers, slot: Slot, raw: RawAnswer) -> SavedAnswer:
    """Check and keep one test answer, exactly as ``save_answer`` checks a real one."""
    stored = row.answers.get(slot.key)
    parts, errors = new_parts(slot.question, raw, stored or BLANK_PARTS)
    if parts == (stored or BLANK_PARTS):
        return SavedAnswer(_test_answer(slot, stored) if stored else None, errors)
    row.answers = {**row.answers, slot.key: parts}
    db.session.add(row)
    db.session.flush()
    return SavedAnswer(_test_answer(slot, parts), errors, changed=True)


def discard(row: PreviewAnswers) -> None:
    """Forget one set of test answers (nothing to do when none was saved)."""
    if row.id is not None:
        db.session.delete(row)
        db.session.flush()


def discard_preview_answers(version: InstrumentVersion) -> None:
    """Everybody's test answers of a version (and of overlays of it)."""
    db.session.execute(delete(PreviewAnswers).where(
        PreviewAnswers.instrument_version_id == version.id))


# --------------------------------------------------------------------------- pages


def example_framework(instrument: Instrument) -> tuple[FrameworkEntry, ...]:
    """One node per framework level, each under the one above, named after its level."""
    if instrument.framework is None:
        return ()
    entries: list[FrameworkEntry] = []
    for depth, level in enumerate(instrument.framework.levels):
        entries.append(FrameworkEntry(
            code=f"EX{depth + 1}", level=level, title=f"Example {level.replace('_', ' ')}",
            parent_code=entries[-1].code if entries else None))
    return tuple(entries)


def preview_layout(loaded: LoadedInstrument, questionnaire_id: str) -> Layout:
    """The questionnaire's pages, as a cycle with the example framework would show them."""
    return cached_layout(loaded.fingerprint, loaded.instrument, questionnaire_id,
                         example_framework(loaded.instrument))


# --------------------------------------------------------------------------- score


@dataclass(frozen=True)
class PreviewScore:
    """The score of the test answers, or why they cannot be scored."""

    report: ScoreReport | None
    problems: list[str]
    minimum_relaxed: bool


def preview_score(loaded: LoadedInstrument, layout: Layout, row: PreviewAnswers) -> PreviewScore:
    """Score the test answers as one respondent's, on the spot.

    Only answers that apply under the skip logic count, as at submission. A rule asking for
    several respondents is relaxed to one, so that a tester sees a score, and says so.
    """
    answers = preview_test_answers(row, layout)
    relevant = {status.slot.key for status in slot_statuses(layout, answers) if status.relevant}
    long = [scored for key, answer in answers.items() if key in relevant
            for scored in scored_answers(TEST_RESPONDENT, row.questionnaire, answer)]
    framework = [FrameworkNode(entry.code, entry.level, entry.title, entry.parent_code)
                 for entry in layout.framework]
    relaxed = any(rule.min_respondents > 1 for rule in loaded.instrument.scoring)
    try:
        report = score(loaded.instrument, Responses.of(long, framework), sha256=loaded.sha256,
                       min_respondents=1)
    except AnswersInvalid as invalid:
        return PreviewScore(None, [problem.format("test answers") for problem in invalid.problems],
                            relaxed)
    return PreviewScore(report, [], relaxed)
