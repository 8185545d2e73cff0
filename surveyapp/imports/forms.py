"""The upload form of a submissions export."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import SelectField
from wtforms.validators import InputRequired


class ImportForm(FlaskForm):
    questionnaire = SelectField(_l("Questionnaire the form asks"), validators=[
        InputRequired(message=_l("Choose the questionnaire the submissions answer."))])
    export = FileField(
        _l("Export of the submissions"),
        description=_l("KoboToolbox: the .xlsx or .csv export (XML values or labels). ODK "
                       "Central: the .csv or the submissions .zip."))


class ConfirmForm(FlaskForm):
    """Only the CSRF token: confirming is one button."""
