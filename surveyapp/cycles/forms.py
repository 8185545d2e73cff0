"""Forms of the cycle pages: a new cycle, its people, its state, its results framework."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    HiddenField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from surveyapp.services.cycles import TITLE_MAX


class CheckboxListField(SelectMultipleField):
    """Several choices as a list of checkboxes, easier on a phone than a multiple select."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class NewCycleForm(FlaskForm):
    unit = SelectField("Unit assessed", coerce=int, validators=[InputRequired()])
    instrument = SelectField(
        "Instrument",
        coerce=int,
        validators=[InputRequired()],
        description="The cycle keeps this exact version, even if the instrument changes later.",
    )
    title = StringField(
        "Title",
        validators=[DataRequired(message="Give the cycle a title."), Length(max=TITLE_MAX)],
        description="For example: Health cluster performance monitoring 2026.",
    )
    period_start = DateField("Period assessed: from", validators=[InputRequired()])
    period_end = DateField("Period assessed: to", validators=[InputRequired()])
    due_on = DateField("Answers due by", validators=[Optional()])
    review_due_on = DateField("Review due by", validators=[Optional()])
    anonymous = BooleanField(
        "Anonymous partner answers",
        description="Coordinators then see only counts of partner answers by organisation "
        "type, never who answered what.",
    )
    focal_point_ids = CheckboxListField(
        "Focal points",
        coerce=int,
        validators=[Optional()],
        description="They answer the questionnaire; each needs the focal point role on the unit.",
    )
    validator_ids = CheckboxListField(
        "Validators",
        coerce=int,
        validators=[Optional()],
        description="They review the submitted answers; each needs the validator role on the "
        "unit. Nobody can be both on one cycle.",
    )
    previous_cycle = SelectField(
        "Start from a previous cycle",
        coerce=int,
        validators=[Optional()],
        description="Copies the focal points' answers and the still-valid evidence of an "
        "earlier cycle of the same unit and instrument; each copied answer stays marked "
        "until its respondent confirms or changes it.",
    )


class PersonForm(FlaskForm):
    """Add one person; the page has one per role, told apart by a prefix and a ``role`` input."""

    user = SelectField("Person", coerce=int, validators=[InputRequired()])


class RemovePersonForm(FlaskForm):
    participant = HiddenField(validators=[DataRequired()])


class StateForm(FlaskForm):
    """Move the cycle to ``target``; the buttons on the cycle page set it."""

    target = HiddenField(validators=[DataRequired()])


class FrameworkNodeForm(FlaskForm):
    level = SelectField("Level", validators=[DataRequired()])
    code = StringField(
        "Code", validators=[DataRequired(), Length(max=64)], description="For example OP1.2."
    )
    title = TextAreaField("Title", validators=[DataRequired(), Length(max=500)])
    parent = SelectField("Contributes to", validators=[Optional()])
    section = StringField(
        "Responsible section or component",
        validators=[Optional(), Length(max=200)],
        description="For outputs: the section or component that delivers it.",
    )


class RemoveNodeForm(FlaskForm):
    code = HiddenField(validators=[DataRequired()])
