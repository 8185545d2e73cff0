"""Forms of the instrument pages; the services check the files and the rules."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import SelectField, TextAreaField
from wtforms.validators import InputRequired, Length

from surveyapp.services.instrument_library import RELEASE_NOTES_MAX


class InstrumentFileForm(FlaskForm):
    """A new instrument or version, or a draft's new text: YAML or the Excel workbook."""

    file = FileField(
        _l("Instrument file"),
        description=_l("A .yaml instrument file, or an .xlsx workbook in the layout that "
                       "`surveyapp instruments to-excel` writes. Nothing is stored until it is "
                       "valid."),
    )


class PublishForm(FlaskForm):
    release_notes = TextAreaField(
        _l("Release notes"),
        validators=[Length(max=RELEASE_NOTES_MAX)],
        description=_l("What changed and why, for the coordinators who open cycles on it."),
    )


class ConfirmForm(FlaskForm):
    """A button that changes something: retire, delete, withdraw, discard (CSRF only)."""


class OverlayForm(FlaskForm):
    unit = SelectField(_l("Unit"), coerce=int, validators=[InputRequired()],
                       description=_l("The overlay applies to its cycles and to those of the "
                                      "units below it."))
    file = FileField(
        _l("Overlay file"),
        description=_l("A .yaml overlay that hides optional items or adds local ones "
                       "(instruments/README.md, section 19)."),
    )
