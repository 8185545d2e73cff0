"""The committed message catalogues cover every page string (docs/i18n.md).

``pybabel extract`` runs over the project as ``make translations`` runs it; then every
message must have a French translation, every message of the respondent pages an Arabic
one (the pages ``surveyapp.i18n.PARTIAL_COVERAGE`` gives Arabic), none may be fuzzy, each
translation keeps its placeholders, and the compiled ``.mo`` files match the ``.po`` files.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[1]
TRANSLATIONS = ROOT / "surveyapp" / "translations"
PYBABEL = Path(sys.executable).with_name("pybabel")
UPDATE = (
    "Run `make translations` (extract, update the catalogues, compile), fill in the empty "
    "msgstr entries of {po}, remove any `#, fuzzy` flag, then run `make translations` again."
)
#: The sources of the pages Arabic covers (surveyapp.i18n.PARTIAL_COVERAGE): sign-in,
#: questionnaires (with their offline workbook and the earlier actions shown beside the
#: questions), invitation links, evidence, and what every page shares.
ARABIC_SOURCES = (
    "templates/base.html", "templates/auth/login.html", "templates/respond/",
    "templates/evidence/", "templates/invitations/problem.html", "templates/errors/",
    "templates/plans/_earlier_actions.html",
    "templates/_macros/", "surveyapp/i18n.py", "surveyapp/auth/", "surveyapp/extensions.py",
    "surveyapp/errors.py", "surveyapp/respond/", "surveyapp/evidence/",
    "surveyapp/services/answers.py", "surveyapp/services/questionnaire.py",
    "surveyapp/services/evidence.py", "surveyapp/services/invitations.py",
    "surveyapp/services/offline_answers.py", "surveyapp/services/answer_workbook.py",
    "surveyapp/file_types.py", "surveyapp/storage.py", "surveyapp/models/",
    "surveyapp/rate_limits.py",
)
PLACEHOLDER = re.compile(r"%\((\w+)\)s|\{(\w+)\}")


@pytest.fixture(scope="module")
def extracted(tmp_path_factory: pytest.TempPathFactory) -> Catalog:
    """The page strings as the code has them now."""
    pot = tmp_path_factory.mktemp("extract") / "messages.pot"
    subprocess.run(
        [str(PYBABEL), "extract", "-F", "babel.cfg", "-k", "_l", "-o", str(pot), "."],
        cwd=ROOT, check=True, capture_output=True,
    )
    with pot.open("rb") as file:
        return read_po(file)


def catalogue(language: str) -> Catalog:
    with (TRANSLATIONS / language / "LC_MESSAGES" / "messages.po").open("rb") as file:
        return read_po(file, locale=language)


def translated(message: Message | None) -> bool:
    if message is None or message.fuzzy:
        return False
    strings = message.string if not isinstance(message.string, str) else (message.string,)
    return all(strings)


def untranslated(extracted: Catalog, language: str, wanted: tuple[str, ...] | None) -> list[str]:
    found = catalogue(language)
    gaps = []
    for message in extracted:
        if not message.id:
            continue
        files = {location for location, _line in message.locations}
        if wanted is not None and not any(name.startswith(wanted) for name in files):
            continue
        if not translated(found.get(message.id)):
            gaps.append(f"  {message.id!r} ({', '.join(sorted(files))})")
    return gaps


def plain(value: str | tuple[str, ...] | list[str]) -> str | tuple[str, ...]:
    """Plural ids and strings read from a .mo are lists; from a .po, tuples."""
    return value if isinstance(value, str) else tuple(value)


def report(language: str, gaps: list[str]) -> str:
    po = f"surveyapp/translations/{language}/LC_MESSAGES/messages.po"
    return (f"{len(gaps)} page string(s) have no {language} translation, or a fuzzy one:\n"
            + "\n".join(gaps) + "\n" + UPDATE.format(po=po))


def test_every_page_string_has_a_french_translation(extracted: Catalog) -> None:
    gaps = untranslated(extracted, "fr", None)
    assert not gaps, report("fr", gaps)


def test_every_respondent_page_string_has_an_arabic_translation(extracted: Catalog) -> None:
    gaps = untranslated(extracted, "ar", ARABIC_SOURCES)
    assert not gaps, report("ar", gaps)


def test_the_extraction_finds_the_page_strings(extracted: Catalog) -> None:
    """Guards the check above: an extraction that read nothing would pass it."""
    ids = {message.id for message in extracted}
    assert {"Sign in", "Save", "Review and submit", "Link expired"} <= ids
    assert any(isinstance(message_id, tuple) for message_id in ids)  # ngettext plurals


@pytest.mark.parametrize("language", ["fr", "ar"])
def test_translations_keep_their_placeholders(language: str) -> None:
    wrong = []
    for message in catalogue(language):
        if not message.id or not translated(message):
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        expected = {name for text in ids for name in PLACEHOLDER.findall(text)}
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        for text in strings:
            # A plural form may leave out the number ("Le lien"), never add a name.
            if not set(PLACEHOLDER.findall(text)) <= expected:
                wrong.append(f"  {message.id!r} -> {text!r}")
    assert not wrong, "Translations with placeholders the English text lacks:\n" + "\n".join(
        wrong)


@pytest.mark.parametrize("language", ["fr", "ar"])
def test_compiled_catalogues_match_their_sources(language: str) -> None:
    folder = TRANSLATIONS / language / "LC_MESSAGES"
    with (folder / "messages.mo").open("rb") as file:
        # pybabel compile writes an untranslated plural with the English forms: skip those.
        compiled = {plain(message.id): plain(message.string) for message in read_mo(file)
                    if message.id and translated(message)
                    and not (message.pluralizable and set(message.string) <= set(message.id))}
    source = {plain(message.id): plain(message.string) for message in catalogue(language)
              if message.id and translated(message)}
    assert compiled == source, (
        f"{folder / 'messages.mo'} is older than its .po file: run `make translations`.")
