"""The language of each page: which one a request is in, and instrument text shown in it.

Page text goes through Flask-Babel (catalogues in ``surveyapp/translations``, workflow in
docs/i18n.md). English and French cover every page; Arabic covers the pages a respondent
sees (sign-in, questionnaires with their offline workbook, invitation links, evidence), and
is written right to left. The JSON API answers in English, like the command line.
A page that Arabic does not cover is shown in English rather than half translated.

The language of a request is, first found: the one chosen with the switcher in the
header (kept in the session), the language of the invitation link being answered, the
signed-in user's profile language, the browser's preference, English.
Instrument text (questions, options, stage descriptors) is shown in the same language,
or in English with a visible "EN" mark where the instrument file has no translation.
"""

from __future__ import annotations

from collections.abc import Mapping

from flask import Blueprint, Flask, g, has_request_context, redirect, request, session
from flask_babel import Babel, get_locale
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from markupsafe import Markup, escape
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.wrappers import Response

#: Languages of the web pages, in the order the switcher lists them.
LANGUAGES = ("en", "fr", "ar")
#: Each language's name in itself, as the switcher and the forms offer it.
LANGUAGE_NAMES = {
    "ar": "العربية", "en": "English", "es": "Español", "fr": "Français", "ru": "Русский",
    "zh": "中文",
}
RIGHT_TO_LEFT = frozenset({"ar"})
#: Languages that cover only some pages: the endpoints (or endpoint prefixes, ending in a
#: dot) they cover. Other pages are shown in English.
PARTIAL_COVERAGE: dict[str, tuple[str, ...]] = {
    "ar": ("respond.", "evidence.", "auth.login", "i18n."),
}
SESSION_KEY = "language"

bp = Blueprint("i18n", __name__)
babel = Babel()


def covers(language: str, endpoint: str | None) -> bool:
    """Whether ``language`` has the text of the page served by ``endpoint``."""
    covered = PARTIAL_COVERAGE.get(language)
    if covered is None:
        return True
    endpoint = endpoint or ""
    return any(endpoint == entry or (entry.endswith(".") and endpoint.startswith(entry))
               for entry in covered)


def respondent_languages(instrument_languages: tuple[str, ...]) -> list[str]:
    """Languages a questionnaire can be answered in: the pages' and the instrument's own.

    A page language the instrument lacks shows the instrument's English text, marked.
    """
    return list(dict.fromkeys((*LANGUAGES, *instrument_languages)))


def _profile_language() -> str | None:
    try:
        if current_user.is_authenticated:
            return current_user.preferred_language
    except SQLAlchemyError:  # an error page while the database is down still renders
        return None
    return None


def wanted_language() -> str:
    """The language this request asks for, before checking the page has it."""
    for candidate in (session.get(SESSION_KEY), g.get("page_language"), _profile_language()):
        if candidate in LANGUAGES:
            return candidate
    return request.accept_languages.best_match(LANGUAGES) or "en"


def select_language() -> str:
    """Flask-Babel's locale selector; English outside requests (CLI, e-mails in jobs) and in
    the JSON API, whose problem details stay English like the command line's output."""
    from surveyapp.api.problems import is_api_request  # the API's modules import this one

    if not has_request_context() or is_api_request():
        return "en"
    language = wanted_language()
    return language if covers(language, request.endpoint) else "en"


def current_language() -> str:
    """The language of this page as a two-letter code."""
    locale = get_locale()
    return locale.language if locale is not None else "en"


def text_direction() -> str:
    return "rtl" if current_language() in RIGHT_TO_LEFT else "ltr"


def fallback_marker() -> Markup:
    """The badge beside instrument text shown in English because it has no translation."""
    title = escape(_l("Not translated yet: shown in English"))
    return Markup(f' <abbr class="lang-badge" lang="en" title="{title}">EN</abbr>')


def localized(text: Mapping[str, str] | None, language: str | None = None) -> Markup:
    """Instrument text in the page's language, else its English text marked "EN".

    For page content only: the result is HTML (``lang="en" dir="ltr"`` on the English text).
    """
    if not text:
        return Markup("")
    language = language or current_language()
    if text.get(language):
        return escape(text[language])
    # dir isolates the English run, so its punctuation stays in place on right-to-left pages.
    return (Markup('<span lang="en" dir="ltr">') + escape(text["en"]) + Markup("</span>")
            + fallback_marker())


def plain_text(text: Mapping[str, str] | None, language: str | None = None) -> str:
    """Instrument text in ``language`` (default: the page's), else in English, as plain
    text: for page titles, shortened lists and anything that is not HTML."""
    if not text:
        return ""
    return text.get(language or current_language()) or text["en"]


@bp.post("/language")
def choose() -> Response:
    """The header's language switcher: remember the choice in the session, go back."""
    from surveyapp.auth.views import local_target  # auth.views imports this module

    language = request.form.get("language", "")
    if language in LANGUAGES:
        session[SESSION_KEY] = language
    return redirect(local_target(request.form.get("next")))


def init_app(app: Flask) -> None:
    babel.init_app(app, locale_selector=select_language)
    app.register_blueprint(bp)
    app.jinja_env.globals.update(
        current_language=current_language, text_direction=text_direction,
        language_names=LANGUAGE_NAMES, page_languages=LANGUAGES, localized=localized,
        covers=covers, plain_text=plain_text,
    )
