"""Forms of the action plan pages: an action, a stock-take, a quarter, a recommendation."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
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
from surveyapp.models.plans import ACTION_STATUS_LABELS, RECOMMENDATION_KIND_LABELS
from surveyapp.services.plans import PROGRESS_STATUSES, SHORT_MAX, TEXT_MAX, TITLE_MAX

QUARTER_HINT = _l("Write the quarter like 2026-Q3.")


class ActionForm(FlaskForm):
    title = StringField(_l("Action"), validators=[
        DataRequired(message=_l("Say what will be done.")), Length(max=TITLE_MAX)])
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=TEXT_MAX)])
    nodes = CheckboxListField(
        _l("Linked to"), validators=[Optional()],
        description=_l("The functions, components or outputs the action improves. The next "
                       "cycle shows the action beside their questions."))
    responsible_organisation = StringField(
        _l("Responsible organisation"), validators=[Optional(), Length(max=SHORT_MAX)],
        description=_l("The organisation designated to follow the action up."))
    responsible_user = SelectField(
        _l("Person who records progress"), coerce=int, validators=[Optional()],
        description=_l("Someone with the focal point or coordinator role on the unit; "
                       "coordinators may always record progress too."))
    support_required = TextAreaField(_l("Support required"), validators=[Optional(),
                                                                         Length(max=TEXT_MAX)])
    support_from = StringField(
        _l("Support from whom"), validators=[Optional(), Length(max=SHORT_MAX)],
        description=_l("For example the HC/HCT, the cluster lead agency, partners, OCHA, the "
                       "global cluster or national authorities."))
    start_quarter = StringField(_l("Start quarter"), validators=[Optional(), Length(max=10)],
                                description=QUARTER_HINT)
    due_quarter = StringField(_l("Due quarter"), validators=[Optional(), Length(max=10)],
                              description=QUARTER_HINT)
    status = SelectField(_l("Status"), choices=[SelectChoice(s.value, ACTION_STATUS_LABELS[s])
                                                for s in ActionStatus])
    status_reason = TextAreaField(
        _l("Reason"), validators=[Optional(), Length(max=TEXT_MAX)],
        description=_l("Required when the action is dropped; useful when it is delayed."))
    completion_indicator = TextAreaField(
        _l("Indicator of completion"), validators=[Optional(), Length(max=TEXT_MAX)],
        description=_l("How everyone will know the action is done."))


class ProgressForm(FlaskForm):
    quarter = SelectField(_l("Quarter reported on"), validators=[DataRequired()])
    percent = IntegerField(
        _l("Progress (percent)"),
        validators=[InputRequired(message=_l("Give the progress as a percentage.")),
                    NumberRange(min=0, max=100, message=_l("Give a percentage from 0 to 100."))])
    status = SelectField(
        _l("Status"), validators=[Optional()],
        choices=[SelectChoice("", _l("Unchanged"))]
        + [SelectChoice(s.value, ACTION_STATUS_LABELS[s]) for s in PROGRESS_STATUSES])
    note = TextAreaField(_l("What was done"), validators=[Optional(), Length(max=TEXT_MAX)])
    link = StringField(_l("Link to evidence"), validators=[Optional(), Length(max=2000)],
                       description=_l("An address starting with https://, if the evidence is "
                                      "online."))
    document = FileField(_l("Or a document"), validators=[Optional()])


class QuarterForm(FlaskForm):
    quarter = SelectField(_l("Quarter to close"), validators=[DataRequired()])


class TargetForm(FlaskForm):
    node = SelectField(_l("Component"), validators=[Optional()])
    stage = SelectField(_l("Target stage"), validators=[Optional()])


class MergeForm(FlaskForm):
    actions = CheckboxListField(_l("Actions to merge"), coerce=int, validators=[Optional()])


class ConfirmForm(FlaskForm):
    """A bare POST (draft, delete) with its CSRF token."""

    confirm = HiddenField(default="yes")


class RecommendationForm(FlaskForm):
    node = SelectField(_l("Output"), validators=[DataRequired()])
    kind = RadioField(_l("Recommendation"),
                      choices=[SelectChoice(k.value, RECOMMENDATION_KIND_LABELS[k])
                               for k in RecommendationKind],
                      validators=[InputRequired(message=_l("Choose continue, end, adapt or "
                                                           "expand."))])
    text = TextAreaField(_l("The recommendation and its reasons"),
                         validators=[DataRequired(), Length(max=TEXT_MAX)])
    owner = StringField(_l("Who carries it out"), validators=[Optional(), Length(max=SHORT_MAX)])
    timeline = StringField(_l("By when (quarter)"), validators=[Optional(), Length(max=10)],
                           description=QUARTER_HINT)


class DecisionForm(FlaskForm):
    decision = RadioField(_l("Decision"), choices=[SelectChoice("approve", _l("Approve")),
                                                   SelectChoice("reject", _l("Reject"))],
                          validators=[InputRequired(message=_l("Approve or reject."))])
    reason = TextAreaField(_l("Reason"), validators=[DataRequired(message=_l("Give the reason.")),
                                                     Length(max=TEXT_MAX)])
