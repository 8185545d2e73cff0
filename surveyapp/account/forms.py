"""The form that creates a personal API token."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, StringField
from wtforms.validators import DataRequired, Length, Optional

from surveyapp.services.api_tokens import NAME_MAX


class TokenForm(FlaskForm):
    name = StringField(
        _l("Name"), description=_l("What will use the token, e.g. “Kobo sync script”."),
        validators=[DataRequired(message=_l("Name the token.")), Length(max=NAME_MAX)])
    expires_on = DateField(
        _l("Works until (optional)"),
        description=_l("The last day the token works (to the end of that day, UTC). Leave "
                       "empty for a token that works until you revoke it."),
        validators=[Optional()])
