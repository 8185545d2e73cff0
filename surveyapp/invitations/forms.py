"""The coordinator's form for making invitation links."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import DateField, IntegerField, RadioField, SelectField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, NumberRange, Optional

from surveyapp.services.invitations import BATCH_MAX

#: How a batch of links is made: links to hand out, or one per e-mail address.
MODES = [SelectChoice("count", "Make links to copy and hand out"),
         SelectChoice("emails", "One link per e-mail address")]


class InvitationForm(FlaskForm):
    """Choices of questionnaire and language are set per cycle by the view."""

    questionnaire = SelectField("Questionnaire", validate_choice=True)
    mode = RadioField("How", choices=MODES, default="count",
                      validators=[InputRequired(message="Choose how to make the links.")])
    count = IntegerField(
        "How many links", default=10,
        validators=[Optional(), NumberRange(min=1, max=BATCH_MAX,
                                            message=f"Make between 1 and {BATCH_MAX} links.")])
    emails = TextAreaField(
        "E-mail addresses",
        description="Paste the addresses, one per line (commas and semicolons work too).")
    email_file = FileField(
        "Or upload a list",
        description="A .txt or .csv file (UTF-8) with one address per line; a first line "
                    "without any address, such as a column heading, is skipped.")
    language = SelectField("Language of the questionnaire", validate_choice=True)
    expires_on = DateField(
        "Links work until",
        description="The last day a link can be used (to the end of that day, UTC).",
        validators=[InputRequired(message="Enter the last day the links work, e.g. "
                                          "2026-03-31.")])
