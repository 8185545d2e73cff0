"""Sign-in and password forms."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, RadioField, SubmitField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, EqualTo, Length

from surveyapp.i18n import LANGUAGE_NAMES, LANGUAGES
from surveyapp.services.users import MIN_PASSWORD_LENGTH


class LoginForm(FlaskForm):
    email = EmailField(_l("Email"), validators=[DataRequired(), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[DataRequired()])
    submit = SubmitField(_l("Sign in"))


class PasswordChangeForm(FlaskForm):
    current_password = PasswordField(_l("Current password"), validators=[DataRequired()])
    new_password = PasswordField(
        _l("New password"),
        description=_l("At least %(min_password_length)s characters.",
                       min_password_length=MIN_PASSWORD_LENGTH),
        validators=[
            DataRequired(),
            Length(
                min=MIN_PASSWORD_LENGTH,
                message=_l("Use at least %(min_password_length)s characters.",
                           min_password_length=MIN_PASSWORD_LENGTH),
            ),
        ],
    )
    confirm_password = PasswordField(
        _l("New password again"),
        validators=[
            DataRequired(),
            EqualTo("new_password", message=_l("The two new passwords are not the same.")),
        ],
    )
    submit = SubmitField(_l("Change password"))


class ProfileForm(FlaskForm):
    language = RadioField(
        _l("Language of your pages and reports"),
        choices=[SelectChoice(code, LANGUAGE_NAMES[code]) for code in LANGUAGES],
        description=_l("Arabic covers the sign-in, questionnaire and evidence pages; the "
                       "other pages are then shown in English, and reports in English."),
        validators=[DataRequired()],
    )
    submit = SubmitField(_l("Save"))
