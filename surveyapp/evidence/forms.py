"""Forms of the evidence routes; the questionnaire page renders them through a partial.

The services check the content (description, date, file, address); these forms only read
the request and say which question the evidence is for.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import DateField, IntegerField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional

from surveyapp.services.evidence import DESCRIPTION_MAX, URL_MAX

DATE_MESSAGE = _l("Enter the document date as year-month-day, e.g. 2026-03-31, or leave it "
                  "empty.")


class TargetForm(FlaskForm):
    """Which answer evidence is for: an answer, or an item of a response not answered yet."""

    answer_id = IntegerField(validators=[Optional()])
    response_id = IntegerField(validators=[Optional()])
    item_id = StringField(validators=[Optional(), Length(max=64)])
    framework_node = StringField(validators=[Optional(), Length(max=64)])
    #: Where to return to: the questionnaire page the form was on (local paths only).
    next = StringField(validators=[Optional(), Length(max=2000)])


class DescribedForm(TargetForm):
    description = TextAreaField(_l("Description"), validators=[Length(max=DESCRIPTION_MAX)])
    document_date = DateField(_l("Document date"), validators=[Optional()])


class UploadForm(DescribedForm):
    file = FileField(_l("File"))


class LinkForm(DescribedForm):
    url = StringField(_l("Web address"), validators=[Length(max=URL_MAX)])


class AttachForm(TargetForm):
    evidence_id = IntegerField(
        _l("Evidence already in this cycle"),
        validators=[InputRequired(message=_l("Choose the evidence to attach."))])


class VersionForm(FlaskForm):
    file = FileField(_l("New version"))
    description = TextAreaField(_l("Description (leave empty to keep it)"),
                                validators=[Length(max=DESCRIPTION_MAX)])
    document_date = DateField(_l("Document date"), validators=[Optional()])
    next = StringField(validators=[Optional(), Length(max=2000)])
