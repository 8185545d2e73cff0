"""Forms of the cycle pages: a new cycle, its people, its state, its results framework."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
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
    unit = SelectField(_l("Unit assessed"), coerce=int, validators=[InputRequired()])
    instrument = SelectField(
        _l("Instrument"),
        coerce=int,
        validators=[InputRequired()],
        description=_l("The cycle keeps this exact version, even if the instrument changes later."),
    )
    title = StringField(
        _l("Title"),
        validators=[DataRequired(message=_l("Give the cycle a title.")), Length(max=TITLE_MAX)],
        description=_l("For example: Health cluster performance monitoring 2026."),
    )
    period_start = DateField(_l("Period assessed: from"), validators=[InputRequired()])
    period_end = DateField(_l("Period assessed: to"), validators=[InputRequired()])
    due_on = DateField(_l("Answers due by"), validators=[Optional()])
    review_due_on = DateField(_l("Review due by"), validators=[Optional()])
    anonymous = BooleanField(
        _l("Anonymous partner answers"),
        description=_l("Coordinators then see only counts of partner answers by organisation "
           "type, never who answered what."),
    )
    focal_point_ids = CheckboxListField(
        _l("Focal points"),
        coerce=int,
        validators=[Optional()],
        description=_l("They answer the questionnaire; each needs the focal point role on the "
                       "unit."),
    )
    validator_ids = CheckboxListField(
        _l("Validators"),
        coerce=int,
        validators=[Optional()],
        description=_l("They review the submitted answers; each needs the validator role on the "
                       "unit. Nobody can be both on one cycle."),
    )
    previous_cycle = SelectField(
        _l("Start from a previous cycle"),
        coerce=int,
        validators=[Optional()],
        description=_l("Copies the focal points' answers and the still-valid evidence of an "
           "earlier cycle of the same unit and instrument; each copied answer stays marked "
           "until its respondent confirms or changes it."),
    )


class PersonForm(FlaskForm):
    """Add one person; the page has one per role, told apart by a prefix and a ``role`` input."""

    user = SelectField(_l("Person"), coerce=int, validators=[InputRequired()])


class RemovePersonForm(FlaskForm):
    participant = HiddenField(validators=[DataRequired()])


class StateForm(FlaskForm):
    """Move the cycle to ``target``; the buttons on the cycle page set it."""

    target = HiddenField(validators=[DataRequired()])


class FrameworkNodeForm(FlaskForm):
    level = SelectField(_l("Level"), validators=[DataRequired()])
    code = StringField(
        _l("Code"), validators=[DataRequired(), Length(max=64)],
        description=_l("For example OP1.2.")
    )
    title = TextAreaField(_l("Title"), validators=[DataRequired(), Length(max=500)])
    parent = SelectField(_l("Contributes to"), validators=[Optional()])
    section = StringField(
        _l("Responsible section or component"),
        validators=[Optional(), Length(max=200)],
        description=_l("For outputs: the section or component that delivers it."),
    )


class RemoveNodeForm(FlaskForm):
    code = HiddenField(validators=[DataRequired()])
