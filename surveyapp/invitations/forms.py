"""The coordinator's form for making invitation links."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import DateField, IntegerField, RadioField, SelectField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, NumberRange, Optional

from surveyapp.services.invitations import BATCH_MAX

#: How a batch of links is made: links to hand out, or one per e-mail address.
MODES = [SelectChoice("count", _l("Make links to copy and hand out")),
         SelectChoice("emails", _l("One link per e-mail address"))]


class InvitationForm(FlaskForm):
    """Choices of questionnaire and language are set per cycle by the view."""

    questionnaire = SelectField(_l("Questionnaire"), validate_choice=True)
    mode = RadioField(_l("How"), choices=MODES, default="count",
                      validators=[InputRequired(message=_l("Choose how to make the links."))])
    count = IntegerField(
        _l("How many links"), default=10,
        validators=[Optional(), NumberRange(min=1, max=BATCH_MAX,
                                            message=_l("Make between 1 and %(batch_max)s links.",
                                                       batch_max=BATCH_MAX))])
    emails = TextAreaField(
        _l("E-mail addresses"),
        description=_l("Paste the addresses, one per line (commas and semicolons work too)."))
    email_file = FileField(
        _l("Or upload a list"),
        description=_l("A .txt or .csv file (UTF-8) with one address per line; a first line "
                       "without any address, such as a column heading, is skipped."))
    language = SelectField(_l("Language of the questionnaire"), validate_choice=True)
    expires_on = DateField(
        _l("Links work until"),
        description=_l("The last day a link can be used (to the end of that day, UTC)."),
        validators=[InputRequired(message=_l("Enter the last day the links work, e.g. "
                                             "2026-03-31."))])
