"""The invitation landing form and the submit button; questionnaire pages build their own."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import RadioField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired

from instruments.schema import Questionnaire
from surveyapp.extensions import db
from surveyapp.models import Cycle, Invitation
from surveyapp.services.cycles import instrument_of
from surveyapp.services.invitations import organisation_type_item
from surveyapp.services.questionnaire import localized

#: Names of the languages instruments are written in (the six official UN languages).
LANGUAGE_NAMES = {
    "ar": "العربية", "en": "English", "es": "Español", "fr": "Français", "ru": "Русский",
    "zh": "中文",
}


class LandingForm(FlaskForm):
    """A partner's first visit: their organisation type (when asked) and language."""

    organization_type = RadioField(validators=[InputRequired(
        message=_l("Choose the type of organisation you represent."))])
    language = RadioField(_l("Language"), validators=[InputRequired()])

    @classmethod
    def for_invitation(cls, invitation: Invitation, questionnaire: Questionnaire) -> LandingForm:
        """The form for this link, in the link's language, without the type when not asked."""
        form = cls(language=invitation.language)
        cycle = db.session.get_one(Cycle, invitation.cycle_id)
        languages = instrument_of(cycle).languages
        form.language.choices = [
            SelectChoice(code, LANGUAGE_NAMES.get(code, code)) for code in languages
        ]
        item = organisation_type_item(questionnaire)
        if item is None:
            del form.organization_type
        else:
            form.organization_type.label.text = localized(item.text, invitation.language)
            form.organization_type.choices = [
                SelectChoice(str(option.code), localized(option.label, invitation.language))
                for option in item.options
            ]
        return form


class SubmitForm(FlaskForm):
    """Only the CSRF token: submitting is one button."""
