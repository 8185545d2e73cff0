"""Forms of the action plan pages: an action, a stock-take, a quarter, a recommendation."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    HiddenField,
    IntegerField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from surveyapp.cycles.forms import CheckboxListField
from surveyapp.models import ActionStatus, RecommendationKind
from surveyapp.services.plans import PROGRESS_STATUSES, SHORT_MAX, TEXT_MAX, TITLE_MAX

QUARTER_HINT = "Write the quarter like 2026-Q3."


class ActionForm(FlaskForm):
    title = StringField("Action", validators=[DataRequired(message="Say what will be done."),
                                              Length(max=TITLE_MAX)])
    description = TextAreaField("Description", validators=[Optional(), Length(max=TEXT_MAX)])
    nodes = CheckboxListField(
        "Linked to", validators=[Optional()],
        description="The functions, components or outputs the action improves. The next "
        "cycle shows the action beside their questions.")
    responsible_organisation = StringField(
        "Responsible organisation", validators=[Optional(), Length(max=SHORT_MAX)],
        description="The organisation designated to follow the action up.")
    responsible_user = SelectField(
        "Person who records progress", coerce=int, validators=[Optional()],
        description="Someone with the focal point or coordinator role on the unit; "
        "coordinators may always record progress too.")
    support_required = TextAreaField("Support required", validators=[Optional(),
                                                                     Length(max=TEXT_MAX)])
    support_from = StringField(
        "Support from whom", validators=[Optional(), Length(max=SHORT_MAX)],
        description="For example the HC/HCT, the cluster lead agency, partners, OCHA, the "
        "global cluster or national authorities.")
    start_quarter = StringField("Start quarter", validators=[Optional(), Length(max=10)],
                                description=QUARTER_HINT)
    due_quarter = StringField("Due quarter", validators=[Optional(), Length(max=10)],
                              description=QUARTER_HINT)
    status = SelectField("Status", choices=[SelectChoice(s.value, s.label) for s in ActionStatus])
    status_reason = TextAreaField(
        "Reason", validators=[Optional(), Length(max=TEXT_MAX)],
        description="Required when the action is dropped; useful when it is delayed.")
    completion_indicator = TextAreaField(
        "Indicator of completion", validators=[Optional(), Length(max=TEXT_MAX)],
        description="How everyone will know the action is done.")


class ProgressForm(FlaskForm):
    quarter = SelectField("Quarter reported on", validators=[DataRequired()])
    percent = IntegerField(
        "Progress (percent)",
        validators=[InputRequired(message="Give the progress as a percentage."),
                    NumberRange(min=0, max=100, message="Give a percentage from 0 to 100.")])
    status = SelectField(
        "Status", validators=[Optional()],
        choices=[SelectChoice("", "Unchanged")]
        + [SelectChoice(s.value, s.label) for s in PROGRESS_STATUSES])
    note = TextAreaField("What was done", validators=[Optional(), Length(max=TEXT_MAX)])
    link = StringField("Link to evidence", validators=[Optional(), Length(max=2000)],
                       description="An address starting with https://, if the evidence is "
                       "online.")
    document = FileField("Or a document", validators=[Optional()])


class QuarterForm(FlaskForm):
    quarter = SelectField("Quarter to close", validators=[DataRequired()])


class TargetForm(FlaskForm):
    node = SelectField("Component", validators=[Optional()])
    stage = SelectField("Target stage", validators=[Optional()])


class MergeForm(FlaskForm):
    actions = CheckboxListField("Actions to merge", coerce=int, validators=[Optional()])


class ConfirmForm(FlaskForm):
    """A bare POST (draft, delete) with its CSRF token."""

    confirm = HiddenField(default="yes")


class RecommendationForm(FlaskForm):
    node = SelectField("Output", validators=[DataRequired()])
    kind = RadioField("Recommendation",
                      choices=[SelectChoice(k.value, k.label) for k in RecommendationKind],
                      validators=[InputRequired(message="Choose continue, end, adapt or "
                                                        "expand.")])
    text = TextAreaField("The recommendation and its reasons",
                         validators=[DataRequired(), Length(max=TEXT_MAX)])
    owner = StringField("Who carries it out", validators=[Optional(), Length(max=SHORT_MAX)])
    timeline = StringField("By when (quarter)", validators=[Optional(), Length(max=10)],
                           description=QUARTER_HINT)


class DecisionForm(FlaskForm):
    decision = RadioField("Decision", choices=[SelectChoice("approve", "Approve"),
                                               SelectChoice("reject", "Reject")],
                          validators=[InputRequired(message="Approve or reject.")])
    reason = TextAreaField("Reason", validators=[DataRequired(message="Give the reason."),
                                                 Length(max=TEXT_MAX)])
