"""Instrument pages: the library, one version, upload, publish, retire, delete, compare, overlays.

Views are thin: the rules (who may do what to which version) live in
``services.instrument_library`` and ``services.overlays``. A refused file is shown as the
list of the loader's own problems, each printed exactly as ``surveyapp instruments
validate`` or ``from-excel`` prints it. The preview routes are in ``preview.py``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import PurePath

from flask import (
    Blueprint,
    Response,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from werkzeug.datastructures import FileStorage
from werkzeug.utils import secure_filename
from werkzeug.wrappers import Response as WerkzeugResponse
from wtforms.fields.choices import SelectChoice

from instruments import InstrumentInvalid
from surveyapp.auth.sessions import signed_in_user
from surveyapp.extensions import db
from surveyapp.instrument_admin.forms import (
    ConfirmForm,
    InstrumentFileForm,
    OverlayForm,
    PublishForm,
)
from surveyapp.models import InstrumentOverlay, InstrumentStatus, InstrumentVersion, User
from surveyapp.services import ServiceError
from surveyapp.services.access import require
from surveyapp.services.cycles import units_for_new_cycles, visible_cycles
from surveyapp.services.instrument_library import (
    CrosswalkGap,
    CrosswalkIncomplete,
    compare,
    crosswalk_gaps,
    cycles_using,
    delete_draft,
    library,
    library_access,
    publish_version,
    readable_version,
    replace_draft,
    retire_version,
    upload_version,
    versions_of,
)
from surveyapp.services.instrument_versions import (
    latest_published,
    loaded_instrument,
    loaded_overlay,
)
from surveyapp.services.overlays import (
    cycles_with,
    may_manage_overlays,
    overlays_of,
    upload_overlay,
    withdraw_overlay,
)
from surveyapp.services.questionnaire import localized

bp = Blueprint("instruments", __name__, url_prefix="/instruments")

#: What an upload is called in problems when the browser sends no name.
UNNAMED_UPLOAD = "upload"


@bp.app_context_processor
def inject_instrument_nav() -> dict[str, Callable[[], bool]]:
    """``instrument_nav()`` in templates: whether to show the Instruments link."""

    def shown() -> bool:
        return bool(current_user.is_authenticated and library_access(signed_in_user()).may_read)

    return {"instrument_nav": shown}


def _upload(form_file: FileStorage | None) -> tuple[bytes, str]:
    """The uploaded bytes and the file's own name (no folders), as problems will name it."""
    if form_file is None:
        return b"", UNNAMED_UPLOAD
    return form_file.read(), PurePath(form_file.filename or UNNAMED_UPLOAD).name


def require_sent(form: FlaskForm) -> None:
    """A changing form must come back with its CSRF token and fields, or it does nothing."""
    require(form.validate(), _l("The form was not sent as expected: reload the page and try "
                                "again."), status=400)


def _yaml_download(text: str, name: str) -> Response:
    """A stored text as a file to save; versions are free text, so the name is made safe."""
    return Response(text, mimetype="application/yaml", headers={
        "Content-Disposition": f'attachment; filename="{secure_filename(name) or "file.yaml"}"'})


def _problem_lines(invalid: InstrumentInvalid) -> list[str]:
    """The problems exactly as the command line prints them."""
    return [problem.format() for problem in invalid.problems]


# --------------------------------------------------------------------------- the library


def _index_page(user: User, *, form: InstrumentFileForm | None = None,
                problems: list[str] | None = None, error: str | None = None,
                status: int = 200) -> tuple[str, int]:
    access, entries = library(user)
    counts = cycles_using([version for entry in entries for version in entry.versions])
    return render_template(
        "instruments/index.html", access=access, entries=entries, counts=counts,
        form=form or InstrumentFileForm(), problems=problems or [], error=error,
    ), status


@bp.get("/")
@login_required
def index() -> tuple[str, int]:
    return _index_page(signed_in_user())


@bp.post("/upload")
@login_required
def upload() -> WerkzeugResponse | tuple[str, int]:
    user = signed_in_user()
    form = InstrumentFileForm()
    require_sent(form)
    data, filename = _upload(form.file.data)
    try:
        version = upload_version(user, data, filename)
    except InstrumentInvalid as invalid:
        db.session.rollback()
        return _index_page(user, form=form, problems=_problem_lines(invalid), status=422)
    except ServiceError as refused:
        db.session.rollback()
        return _index_page(user, form=form, error=str(refused), status=422)
    db.session.commit()
    flash(_("%(key)s %(version)s was stored as a draft. Preview it, then publish it.",
            key=version.key, version=version.version), "success")
    return redirect(url_for("instruments.version", version_id=version.id))


# --------------------------------------------------------------------------- one version


def _version_page(version_id: int, *, problems: list[str] | None = None,
                  overlay_problems: list[str] | None = None, error: str | None = None,
                  gaps: list[CrosswalkGap] | None = None,
                  publish_form: PublishForm | None = None, status: int = 200
                  ) -> tuple[str, int]:
    user = signed_in_user()
    access, version = readable_version(user, version_id)
    instrument = loaded_instrument(version).instrument
    siblings = versions_of(version.key)
    previous = latest_published(version.key)
    overlay_form = OverlayForm()
    overlay_form.unit.choices = [SelectChoice(unit.id, f"{unit.code}: {unit.name}")
                                 for unit in units_for_new_cycles(user)]
    if gaps is None:
        gaps = crosswalk_gaps(version) if version.status is InstrumentStatus.draft else []
    return render_template(
        "instruments/version.html", access=access, version=version, instrument=instrument,
        siblings=siblings, previous=previous if previous is not version else None,
        cycle_count=cycles_using([version]).get(version.id, 0),
        my_cycles=[c for c in visible_cycles(user) if c.instrument_version_id == version.id],
        gaps=gaps,
        file_form=InstrumentFileForm(), publish_form=publish_form or PublishForm(),
        confirm_form=ConfirmForm(), overlay_form=overlay_form,
        overlays=overlays_of(version, user), problems=problems or [],
        overlay_problems=overlay_problems or [], error=error, localized=localized,
    ), status


@bp.get("/<int:version_id>")
@login_required
def version(version_id: int) -> tuple[str, int]:
    return _version_page(version_id)


@bp.get("/<int:version_id>/instrument.yaml")
@login_required
def download(version_id: int) -> Response:
    _access, version = readable_version(signed_in_user(), version_id)
    return _yaml_download(version.text, f"{version.key}-{version.version}.yaml")


def _changed_version(version_id: int) -> tuple[User, InstrumentVersion]:
    """The signed-in user and the version a POST acts on (a 404 for an unknown one)."""
    user = signed_in_user()
    _access, version = readable_version(user, version_id)
    return user, version


@bp.post("/<int:version_id>/replace")
@login_required
def replace(version_id: int) -> WerkzeugResponse | tuple[str, int]:
    user, version = _changed_version(version_id)
    form = InstrumentFileForm()
    require_sent(form)
    data, filename = _upload(form.file.data)
    try:
        replace_draft(user, version, data, filename)
    except InstrumentInvalid as invalid:
        db.session.rollback()
        return _version_page(version_id, problems=_problem_lines(invalid), status=422)
    except ServiceError as refused:
        db.session.rollback()
        return _version_page(version_id, error=str(refused), status=422)
    db.session.commit()
    flash(_("The draft was replaced; its earlier test answers were discarded."), "success")
    return redirect(url_for("instruments.version", version_id=version_id))


@bp.post("/<int:version_id>/publish")
@login_required
def publish(version_id: int) -> WerkzeugResponse | tuple[str, int]:
    user, version = _changed_version(version_id)
    form = PublishForm()
    require_sent(form)
    try:
        publish_version(user, version, form.release_notes.data or "")
    except CrosswalkIncomplete as incomplete:
        db.session.rollback()
        return _version_page(version_id, error=str(incomplete), gaps=incomplete.gaps,
                             publish_form=form, status=422)
    except ServiceError as refused:
        db.session.rollback()
        return _version_page(version_id, error=str(refused), publish_form=form, status=422)
    db.session.commit()
    flash(_("%(key)s %(version)s is published: new cycles of %(key)s use it, and cycles "
            "opened before keep their version.", key=version.key, version=version.version),
          "success")
    return redirect(url_for("instruments.version", version_id=version_id))


@bp.post("/<int:version_id>/retire")
@login_required
def retire(version_id: int) -> WerkzeugResponse | tuple[str, int]:
    user, version = _changed_version(version_id)
    require_sent(ConfirmForm())
    try:
        retire_version(user, version)
    except ServiceError as refused:
        db.session.rollback()
        return _version_page(version_id, error=str(refused), status=422)
    db.session.commit()
    flash(_("%(key)s %(version)s is retired: no new cycle opens on it; its cycles keep it.",
            key=version.key, version=version.version), "success")
    return redirect(url_for("instruments.version", version_id=version_id))


@bp.post("/<int:version_id>/delete")
@login_required
def delete(version_id: int) -> WerkzeugResponse | tuple[str, int]:
    user, version = _changed_version(version_id)
    require_sent(ConfirmForm())
    name = f"{version.key} {version.version}"
    try:
        delete_draft(user, version)
    except ServiceError as refused:
        db.session.rollback()
        return _version_page(version_id, error=str(refused), status=422)
    db.session.commit()
    flash(_("The draft %(name)s was deleted.", name=name), "success")
    return redirect(url_for("instruments.index"))


@bp.get("/compare")
@login_required
def compare_versions() -> str:
    user = signed_in_user()
    _access, old = readable_version(user, request.args.get("old", 0, type=int))
    _access, new = readable_version(user, request.args.get("new", 0, type=int))
    return render_template("instruments/compare.html", comparison=compare(old, new))


# --------------------------------------------------------------------------- overlays


@bp.post("/<int:version_id>/overlays")
@login_required
def add_overlay(version_id: int) -> WerkzeugResponse | tuple[str, int]:
    user, version = _changed_version(version_id)
    form = OverlayForm()
    form.unit.choices = [SelectChoice(unit.id, unit.code) for unit in units_for_new_cycles(user)]
    require(form.validate(), _l("Choose one of your units for the overlay."), status=403)
    unit = next(unit for unit in units_for_new_cycles(user) if unit.id == form.unit.data)
    data, filename = _upload(form.file.data)
    try:
        overlay = upload_overlay(user, unit, version, data, filename)
    except InstrumentInvalid as invalid:
        db.session.rollback()
        return _version_page(version_id, overlay_problems=_problem_lines(invalid), status=422)
    except ServiceError as refused:
        db.session.rollback()
        return _version_page(version_id, error=str(refused), status=422)
    db.session.commit()
    flash(_("The overlay %(overlay)s now adapts %(instrument)s for %(unit)s: new and draft "
            "cycles use it.", overlay=f"{overlay.key} {overlay.version}",
            instrument=f"{version.key} {version.version}", unit=unit.code), "success")
    return redirect(url_for("instruments.overlay", overlay_id=overlay.id))


def _managed_overlay(overlay_id: int) -> tuple[User, InstrumentOverlay]:
    user = signed_in_user()
    overlay = db.session.get(InstrumentOverlay, overlay_id)
    require(overlay is not None and may_manage_overlays(user, overlay.unit),
            _l("There is no such overlay among your units."), status=404)
    assert overlay is not None
    return user, overlay


@bp.get("/overlays/<int:overlay_id>")
@login_required
def overlay(overlay_id: int) -> str:
    _user, overlay = _managed_overlay(overlay_id)
    return render_template(
        "instruments/overlay.html", overlay=overlay, loaded=loaded_overlay(overlay),
        instrument=loaded_instrument(overlay.instrument_version).instrument,
        cycles=cycles_with(overlay), confirm_form=ConfirmForm(), localized=localized)


@bp.get("/overlays/<int:overlay_id>/overlay.yaml")
@login_required
def download_overlay(overlay_id: int) -> Response:
    _user, overlay = _managed_overlay(overlay_id)
    return _yaml_download(overlay.text, f"{overlay.key}-{overlay.version}.yaml")


@bp.post("/overlays/<int:overlay_id>/withdraw")
@login_required
def withdraw(overlay_id: int) -> WerkzeugResponse:
    user, overlay = _managed_overlay(overlay_id)
    require_sent(ConfirmForm())
    try:
        withdraw_overlay(user, overlay)
    except ServiceError as refused:
        db.session.rollback()
        flash(str(refused), "warning")
    else:
        db.session.commit()
        flash(_("The overlay is withdrawn: new and draft cycles no longer use it; opened "
                "cycles keep it."), "success")
    return redirect(url_for("instruments.overlay", overlay_id=overlay_id))

