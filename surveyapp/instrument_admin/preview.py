"""Preview routes: the questionnaire pages of a version (or of a unit's overlay of it) exactly
as respondents see them, through the respondents' own views and templates.

A :class:`PreviewRespondent` is a ``respond.views.Respondent`` whose answers are the
tester's test answers (``services.preview``): the page, autosave and review views of the
respond blueprint run unchanged on it. Only submitting differs: it scores the test answers
on the spot and discards them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import login_required
from werkzeug.wrappers import Response as WerkzeugResponse

from instruments import LoadedInstrument
from surveyapp.auth.sessions import signed_in_user
from surveyapp.extensions import db
from surveyapp.instrument_admin.forms import ConfirmForm
from surveyapp.instrument_admin.views import bp, require_sent
from surveyapp.models import (
    Answer,
    Evidence,
    InstrumentOverlay,
    InstrumentVersion,
    PreviewAnswers,
    Response,
    ResponseState,
)
from surveyapp.respond.views import (
    Respondent,
    answer_page,
    autosave_answers,
    first_page_needing_work,
    render_review,
)
from surveyapp.services.access import require
from surveyapp.services.answers import RawAnswer, SavedAnswer
from surveyapp.services.audit import Actor
from surveyapp.services.instrument_library import readable_version
from surveyapp.services.instrument_versions import adapted_instrument
from surveyapp.services.overlays import may_manage_overlays
from surveyapp.services.preview import (
    discard,
    preview_answers,
    preview_layout,
    preview_score,
    preview_test_answers,
    save_test_answer,
)
from surveyapp.services.questionnaire import Slot, localized
from surveyapp.services.score_summary import result_lines

PREFIX = "/<int:version_id>/preview/<questionnaire>/<language>"


@dataclass(frozen=True)
class Named:
    name: str


@dataclass(frozen=True)
class PreviewHeading:
    """What the pages print where a cycle's title and unit would be."""

    title: str
    unit: Named


@dataclass(kw_only=True)
class PreviewRespondent(Respondent):
    """The tester, answering with test answers that never reach a cycle."""

    preview = True
    row: PreviewAnswers
    loaded: LoadedInstrument
    version: InstrumentVersion
    overlay: InstrumentOverlay | None = None

    @property
    def cycle(self) -> PreviewHeading:  # type: ignore[override]
        name = f"{self.version.key} {self.version.version}"
        status = self.version.status.label.lower()
        return PreviewHeading(
            _("Preview of %(name)s (%(status)s, adapted for %(unit)s)", name=name, status=status,
              unit=self.overlay.unit.code) if self.overlay else
            _("Preview of %(name)s (%(status)s)", name=name, status=status),
            Named(_("test answers are never stored in any cycle")))

    @property
    def language(self) -> str:
        """The language previewed (the address says it), whatever the page's own."""
        return self.response.language or "en"

    @property
    def storage_key(self) -> str:
        return f"surveyapp-preview-{self.row.subject}-{self.row.questionnaire}-{self.language}"

    def language_url(self, language: str) -> str:
        """This page in another language of the instrument."""
        values = {**(request.view_args or {}), "language": language}
        return url_for(request.endpoint or "instruments.preview_page", **values,
                       overlay=self.url_values.get("overlay"))

    def answers(self) -> dict[str, Answer]:
        return preview_test_answers(self.row, self.layout)

    def evidence(self, answers: Iterable[Answer]) -> dict[int, list[Evidence]]:
        return {}

    def evidence_counts(self, answers: Iterable[Answer]) -> dict[int, int] | None:
        return None  # evidence is not attached in a preview

    def save(self, slot: Slot, raw: RawAnswer, answers: Mapping[str, Answer]) -> SavedAnswer:
        return save_test_answer(self.row, slot, raw)

    def confirm(self, keys: list[str]) -> list[Answer]:
        return []  # nothing is carried over into a preview


def preview_respondent(version_id: int, questionnaire: str, language: str
                       ) -> PreviewRespondent:
    """The signed-in tester of one questionnaire of a version, in one of its languages.

    ``?overlay=ID`` previews it as that overlay adapts it, for those who manage its unit.
    """
    user = signed_in_user()
    _access, version = readable_version(user, version_id)
    overlay_id = request.args.get("overlay", type=int)
    overlay = db.session.get(InstrumentOverlay, overlay_id) if overlay_id else None
    require(overlay_id is None or (
        overlay is not None and overlay.instrument_version_id == version.id
        and may_manage_overlays(user, overlay.unit)), _l("There is no such overlay."),
        status=404)
    loaded = adapted_instrument(version, overlay)
    instrument = loaded.instrument
    require(language in instrument.languages,
            _l("This instrument is written in %(languages)s.",
               languages=", ".join(instrument.languages)), status=404)
    require(any(q.id == questionnaire for q in instrument.questionnaires),
            _l("This instrument has no such questionnaire."), status=404)
    return PreviewRespondent(
        response=Response(questionnaire=questionnaire, language=language,
                          state=ResponseState.draft),
        layout=preview_layout(loaded, questionnaire), actor=Actor.of(user),
        endpoint_prefix="instruments.preview_",
        url_values={"version_id": version.id, "questionnaire": questionnaire,
                    "language": language, "overlay": overlay_id},
        editable=None, row=preview_answers(user, version, overlay, questionnaire, language),
        loaded=loaded, version=version, overlay=overlay,
    )


@bp.get(f"{PREFIX}/")
@login_required
def preview_start(version_id: int, questionnaire: str, language: str) -> WerkzeugResponse:
    return redirect(first_page_needing_work(preview_respondent(version_id, questionnaire,
                                                               language)))


@bp.route(f"{PREFIX}/page/<int:number>", methods=("GET", "POST"))
@login_required
def preview_page(version_id: int, questionnaire: str, language: str, number: int
                 ) -> tuple[str, int] | WerkzeugResponse:
    return answer_page(preview_respondent(version_id, questionnaire, language), number)


@bp.post(f"{PREFIX}/autosave")
@login_required
def preview_autosave(version_id: int, questionnaire: str, language: str
                     ) -> tuple[WerkzeugResponse, int]:
    return autosave_answers(preview_respondent(version_id, questionnaire, language))


@bp.get(f"{PREFIX}/review")
@login_required
def preview_review(version_id: int, questionnaire: str, language: str) -> tuple[str, int]:
    return render_review(preview_respondent(version_id, questionnaire, language))


def _score_page(who: PreviewRespondent, *, discarded: bool) -> str:
    scored = preview_score(who.loaded, who.layout, who.row)
    return render_template(
        "instruments/score.html", who=who, scored=scored, discarded=discarded,
        lines=result_lines(who.loaded.instrument, scored.report) if scored.report else [],
        answered=len(preview_test_answers(who.row, who.layout)), confirm_form=ConfirmForm(),
        questionnaire_title=localized(who.layout.questionnaire.title, who.language))


@bp.get(f"{PREFIX}/score", endpoint="preview_score")
@login_required
def preview_score_page(version_id: int, questionnaire: str, language: str) -> str:
    """The score of the test answers so far; they are kept."""
    return _score_page(preview_respondent(version_id, questionnaire, language), discarded=False)


@bp.post(f"{PREFIX}/submit")
@login_required
def preview_submit(version_id: int, questionnaire: str, language: str) -> str:
    """What submitting would give: the test answers scored on the spot, then discarded."""
    who = preview_respondent(version_id, questionnaire, language)
    require_sent(ConfirmForm())
    page = _score_page(who, discarded=True)
    discard(who.row)
    db.session.commit()
    return page


@bp.post(f"{PREFIX}/discard")
@login_required
def preview_discard(version_id: int, questionnaire: str, language: str) -> WerkzeugResponse:
    who = preview_respondent(version_id, questionnaire, language)
    require_sent(ConfirmForm())
    discard(who.row)
    db.session.commit()
    flash(_("The test answers were discarded."), "success")
    return redirect(who.url("page", number=1))

