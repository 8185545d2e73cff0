"""The invitation landing form and the submit button; questionnaire pages build their own."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import RadioField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired

from instruments.schema import Questionnaire
from surveyapp.extensions import db
from surveyapp.i18n import LANGUAGE_NAMES, current_language, respondent_languages
from surveyapp.i18n import localized as marked
from surveyapp.models import Cycle, Invitation
from surveyapp.services.cycles import instrument_of
from surveyapp.services.invitations import organisation_type_item


class LandingForm(FlaskForm):
    """A partner's first visit: their organisation type (when asked) and language."""

    organization_type = RadioField(validators=[InputRequired(
        message=_l("Choose the type of organisation you represent."))])
    language = RadioField(_l("Language"), validators=[InputRequired()])

    @classmethod
    def for_invitation(cls, invitation: Invitation, questionnaire: Questionnaire) -> LandingForm:
        """The form for this link, in the page's language, without the type when not asked."""
        language = current_language()
        form = cls(language=language)
        cycle = db.session.get_one(Cycle, invitation.cycle_id)
        form.language.choices = [
            SelectChoice(code, LANGUAGE_NAMES.get(code, code))
            for code in respondent_languages(instrument_of(cycle).languages)
        ]
        item = organisation_type_item(questionnaire)
        if item is None:
            del form.organization_type
        else:
            form.organization_type.label.text = marked(item.text, language)
            form.organization_type.choices = [
                SelectChoice(str(option.code), marked(option.label, language))
                for option in item.options
            ]
        return form


class SubmitForm(FlaskForm):
    """Only the CSRF token: submitting is one button."""


class WorkbookForm(FlaskForm):
    """The upload of an answers workbook filled in offline."""

    workbook = FileField(_l("The workbook you filled in (.xlsx)"))
