"""XLSForm export: one questionnaire of an instrument as a form for KoboToolbox, ODK and Enketo.

Respondents far from a reliable connection answer on phones and tablets with ODK Collect or
KoboCollect, or in Enketo web forms that work offline. The form built here asks the same
questions as the web app, with the same option codes, the same skip logic (our ``relevant``
syntax is the XLSForm one, instruments/expressions.py) and the same required items, in every
language of the instrument. :mod:`scoring.submissions` reads the server's export of the
answers back with the very :class:`FormField` list built here, so the names chosen below are
the contract between the two; docs/interop.md describes the layout for people.

Column semantics follow the XLSForm specification as summarised in
/work/shared/reference/peers.md section 3 (labels ``label::English (en)``, ``hint``,
``required``, ``relevant``, ``constraint``, ``begin_group``/``begin_repeat``, the ``choices``
and ``settings`` sheets).
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Literal

from openpyxl import Workbook

from instruments.checks import walk_nodes
from instruments.schema import Instrument, Item, Node, Option, Questionnaire

#: The longest text a spreadsheet cell holds (openpyxl would cut longer ones short).
MAX_CELL_TEXT = 32_767
#: What XLSForm accepts as a name (peers.md section 3.1).
XLSFORM_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9._-]*$")
#: The form's own hidden field naming instrument, questionnaire and version.
STAMP_FIELD = "surveyapp_form"
INTRODUCTION_FIELD = "introduction"
YES_NO_LIST = "surveyapp_yes_no"
#: Suffixes of the fields an item may bring besides its answer.
COMMENT_SUFFIX = "__comment"
APPLIES_SUFFIX = "__applies"
WHY_NOT_SUFFIX = "__why_not"
JUSTIFICATION_SUFFIX = "__why"

#: English names of language codes, for XLSForm's ``label::English (en)`` columns; a code
#: missing here is named by itself (``label::xx (xx)``), which pyxform and Kobo accept.
LANGUAGE_NAMES = {
    "am": "Amharic", "ar": "Arabic", "bn": "Bengali", "de": "German", "en": "English",
    "es": "Spanish", "fa": "Persian", "fr": "French", "ha": "Hausa", "hi": "Hindi",
    "ht": "Haitian Creole", "id": "Indonesian", "it": "Italian", "ja": "Japanese",
    "km": "Khmer", "ko": "Korean", "ku": "Kurdish", "ln": "Lingala", "mg": "Malagasy",
    "my": "Burmese", "ne": "Nepali", "nl": "Dutch", "ps": "Pashto", "pt": "Portuguese",
    "ru": "Russian", "rw": "Kinyarwanda", "so": "Somali", "sw": "Swahili", "th": "Thai",
    "ti": "Tigrinya", "tr": "Turkish", "uk": "Ukrainian", "ur": "Urdu", "vi": "Vietnamese",
    "zh": "Chinese",
}

#: The few words the form adds to the instrument's own texts. Other languages fall back to
#: English, as every instrument text does (instruments/schema.py, LocalText).
WORDS: dict[str, dict[str, str]] = {
    "yes": {"en": "Yes", "fr": "Oui", "es": "Sí"},
    "no": {"en": "No", "fr": "Non", "es": "No"},
    "applies": {
        "en": "Does the next question apply?",
        "fr": "La question suivante s'applique-t-elle ?",
        "es": "¿Se aplica la pregunta siguiente?",
    },
    "why_not": {
        "en": "Why does it not apply?",
        "fr": "Pourquoi ne s'applique-t-elle pas ?",
        "es": "¿Por qué no se aplica?",
    },
    "comment": {"en": "Comment", "fr": "Commentaire", "es": "Comentario"},
    "justification": {
        "en": "{criterion}: why this level?",
        "fr": "{criterion} : pourquoi ce niveau ?",
        "es": "{criterion}: ¿por qué este nivel?",
    },
    "between": {
        "en": "Enter a number from {minimum} to {maximum}.",
        "fr": "Saisissez un nombre de {minimum} à {maximum}.",
        "es": "Escriba un número de {minimum} a {maximum}.",
    },
    "at_least": {
        "en": "Enter a number of at least {minimum}.",
        "fr": "Saisissez un nombre au moins égal à {minimum}.",
        "es": "Escriba un número mayor o igual que {minimum}.",
    },
    "at_most": {
        "en": "Enter a number of at most {maximum}.",
        "fr": "Saisissez un nombre au plus égal à {maximum}.",
        "es": "Escriba un número menor o igual que {maximum}.",
    },
    "length": {
        "en": "At most {length} characters.",
        "fr": "{length} caractères au maximum.",
        "es": "Como máximo {length} caracteres.",
    },
    "each": {"en": "Each {level}", "fr": "Chaque {level}", "es": "Cada {level}"},
    "framework_id": {"en": "{level}: code", "fr": "{level} : code", "es": "{level}: código"},
    "framework_title": {
        "en": "{level}: title", "fr": "{level} : intitulé", "es": "{level}: título",
    },
    "framework_parent": {
        "en": "{level}: code of the {parent} it belongs to",
        "fr": "{level} : code de l'élément {parent} de rattachement",
        "es": "{level}: código del elemento {parent} al que pertenece",
    },
    "framework_section": {
        "en": "{level}: responsible section",
        "fr": "{level} : section responsable",
        "es": "{level}: sección responsable",
    },
    "code_rule": {
        "en": "Letters, digits, '.', '_' or '-', starting with a letter or a digit.",
        "fr": "Lettres, chiffres, '.', '_' ou '-', en commençant par une lettre ou un chiffre.",
        "es": "Letras, cifras, '.', '_' o '-', empezando por una letra o una cifra.",
    },
}

#: The framework codes the scoring engine accepts (instruments/schema.py, ID_PATTERN).
_CODE_CONSTRAINT = r"regex(., '^[A-Za-z0-9][A-Za-z0-9_.\-]*$')"
_REFERENCE_OR_STRING = re.compile(r"""('[^']*'|"[^"]*")|\$\{([^}]*)\}""")

FieldPart = Literal[
    "answer", "comment", "applies", "why_not", "justification",
    "framework_id", "framework_title", "framework_parent", "framework_section",
]
Text = Mapping[str, str]


class ExportRefused(ValueError):
    """The questionnaire cannot be written as an XLSForm; the message says why and what to do."""


def language_label(language: str) -> str:
    """``English (en)``: the form of language name that ODK and Kobo read the code from."""
    return f"{LANGUAGE_NAMES.get(language, language)} ({language})"


def field_name(identifier: str) -> str:
    """The XLSForm name of an item or level: ``1.1.rationale`` -> ``q1_1_rationale``.

    Dots become underscores because Kobo can be told to join group names with dots in its
    exports (peers.md section 3.1 allows dots in names, so the headers would be ambiguous);
    a leading digit gets a ``q`` because names must start with a letter. Different ids that
    end up with the same name are refused at export, so the mapping is one to one.
    """
    name = _name_part(identifier)
    return name if name[0].isalpha() else f"q{name}"


def _name_part(identifier: str) -> str:
    """An id as part of a longer name (``node_1_1``): only the dots need replacing."""
    return identifier.replace(".", "_")


def word(key: str, language: str, **values: str) -> str:
    """One of the form's own words in ``language`` (English when it has no translation)."""
    texts = WORDS[key]
    return texts.get(language, texts["en"]).format(**values)


def _words(key: str, languages: Iterable[str], **values: Text) -> dict[str, str]:
    """A word in every language, with multilingual values filled in per language."""
    return {language: word(key, language, **{name: _in(text, language)
                                             for name, text in values.items()})
            for language in languages}


def _in(text: Text, language: str) -> str:
    return text.get(language) or text["en"]


def _plain(value: str) -> Text:
    """A text that is the same in every language (a level name, a number)."""
    return {"en": value}


@dataclass(frozen=True)
class Choice:
    """One option of a choice list: the stored ``name`` (our code) and its labels."""

    name: str
    label: Text


@dataclass(frozen=True)
class FormField:
    """A question of the form that holds data, and what that data is to surveyapp.

    ``item`` is the instrument item the field belongs to (None for the framework fields of a
    repeat); ``criterion`` names the rubric criterion; ``level`` is the framework level of the
    repeat holding the field, None outside repeats; ``choices`` are the options a select
    question offers; ``label`` is the question's text in every language.
    """

    name: str
    part: FieldPart
    label: Text
    item: Item | None = None
    criterion: str | None = None
    level: str | None = None
    choices: tuple[Choice, ...] = ()


@dataclass
class _Section:
    """A group or repeat being filled, before it is written out as rows."""

    kind: Literal["group", "repeat"]
    name: str
    label: Text
    node_id: str | None = None
    content: list[_Section | dict[str, str]] = field(default_factory=list)


@dataclass(frozen=True)
class XLSForm:
    """A questionnaire as an XLSForm: the three sheets, and the fields that hold data."""

    form_id: str
    stamp: str
    languages: tuple[str, ...]
    survey: tuple[dict[str, str], ...]
    choices: tuple[dict[str, str], ...]
    settings: dict[str, str]
    fields: tuple[FormField, ...]

    def workbook_bytes(self) -> bytes:
        """The .xlsx file: sheets ``survey``, ``choices`` and ``settings``."""
        workbook = Workbook()
        sheets = (("survey", self.survey, _SURVEY_COLUMNS),
                  ("choices", self.choices, ("list_name", "name", "label")),
                  ("settings", (self.settings,), tuple(self.settings)))
        for position, (title, rows, columns) in enumerate(sheets):
            sheet = workbook.worksheets[0] if position == 0 else workbook.create_sheet()
            sheet.title = title
            header = self._header(columns, rows)
            sheet.append(header)
            for row in rows:
                cells = [row.get(column, "") for column in header]
                if any(len(cell) > MAX_CELL_TEXT for cell in cells):
                    raise ExportRefused(f"a text of `{row.get('name')}` is longer than the "
                                        f"{MAX_CELL_TEXT} characters a spreadsheet cell holds: "
                                        "shorten it in the instrument")
                sheet.append(cells)
            for cells in sheet.iter_rows(min_row=2):
                for cell in cells:
                    if isinstance(cell.value, str) and cell.value.startswith("="):
                        cell.data_type = "s"  # text, never a formula (style.md section 7.11)
        buffer = io.BytesIO()
        workbook.save(buffer)
        return buffer.getvalue()

    def _header(self, columns: Iterable[str], rows: Iterable[dict[str, str]]) -> list[str]:
        """The columns in use, each translatable one once per language."""
        used = {column for row in rows for column, value in row.items() if value}
        header: list[str] = []
        for column in columns:
            if column in _TRANSLATABLE:
                header += [f"{column}::{language_label(lang)}" for lang in self.languages
                           if f"{column}::{language_label(lang)}" in used]
            elif column in used:
                header.append(column)
        return header


_TRANSLATABLE = ("label", "hint", "guidance_hint", "constraint_message")
_SURVEY_COLUMNS = ("type", "name", "label", "hint", "guidance_hint", "required", "relevant",
                   "constraint", "constraint_message", "appearance", "calculation",
                   "surveyapp_id")


def questionnaire_of(instrument: Instrument, questionnaire_id: str | None) -> Questionnaire:
    """The questionnaire named, or the only one; otherwise a message listing the choices."""
    known = ", ".join(q.id for q in instrument.questionnaires)
    if questionnaire_id is None:
        if len(instrument.questionnaires) == 1:
            return instrument.questionnaires[0]
        raise ExportRefused(f"instrument `{instrument.key}` has several questionnaires: name one "
                            f"with --questionnaire ({known})")
    for questionnaire in instrument.questionnaires:
        if questionnaire.id == questionnaire_id:
            return questionnaire
    raise ExportRefused(f"instrument `{instrument.key}` has no questionnaire "
                        f"`{questionnaire_id}`: use one of {known}")


def form_stamp(instrument: Instrument, questionnaire: Questionnaire) -> str:
    """What the form's hidden ``surveyapp_form`` field records in every submission."""
    return f"{instrument.key} {questionnaire.id} {instrument.version}".replace("'", "")


def build_xlsform(instrument: Instrument, questionnaire_id: str | None = None) -> XLSForm:
    """The XLSForm of one questionnaire (the only one when ``questionnaire_id`` is None).

    :raises ExportRefused: for an unknown questionnaire, or names that would clash.
    """
    questionnaire = questionnaire_of(instrument, questionnaire_id)
    return _FormBuilder(instrument, questionnaire).build()


class _FormBuilder:
    """Walks a questionnaire once, collecting survey rows, choice lists and data fields."""

    def __init__(self, instrument: Instrument, questionnaire: Questionnaire) -> None:
        self.instrument = instrument
        self.questionnaire = questionnaire
        self.languages = instrument.languages
        self.nodes = {node.id: node for node, _ in walk_nodes(instrument.nodes)}
        self.parents = {child.id: node for node in self.nodes.values()
                        for child in node.children}
        self.scales = {scale.id: scale.options for scale in instrument.scales}
        self.names = {item.id: field_name(item.id) for item in questionnaire.items}
        self.level_of = {item.id: item.per_level for item in questionnaire.items}
        self.lists: dict[str, tuple[Choice, ...]] = {}
        self.fields: list[FormField] = []

    # ------------------------------------------------------------------ texts

    def _labels(self, text: Text | None) -> dict[str, str]:
        """``label::English (en)`` ... for a text; untranslated languages show the English."""
        if not text:
            return {}
        return {language_label(lang): _in(text, lang) for lang in self.languages}

    def _columns(self, column: str, text: Text | None) -> dict[str, str]:
        return {f"{column}::{key}": value for key, value in self._labels(text).items()}

    # ------------------------------------------------------------------ structure

    def build(self) -> XLSForm:
        root = _Section("group", "", {})
        if self.questionnaire.introduction:
            root.content.append({"type": "note", "name": INTRODUCTION_FIELD,
                                 **self._columns("label", self.questionnaire.introduction)})
        self._lay_out(root)
        stamp = form_stamp(self.instrument, self.questionnaire)
        root.content.append({"type": "calculate", "name": STAMP_FIELD,
                             "calculation": f"'{stamp}'"})
        survey = list(self._emit(root.content))
        self._check_names(survey)
        choices = [{"list_name": name, "name": choice.name,
                    **self._columns("label", choice.label)}
                   for name, options in self.lists.items() for choice in options]
        form_id = f"{self.instrument.key}_{self.questionnaire.id}"
        settings = {"form_title": self.questionnaire.title["en"], "form_id": form_id,
                    "version": self.instrument.version,
                    "default_language": language_label(self.languages[0])}
        return XLSForm(form_id, stamp, self.languages, tuple(survey), tuple(choices),
                       settings, tuple(self.fields))

    def _lay_out(self, root: _Section) -> None:
        """Place every item: on its page, in its node's groups, or in its level's repeat."""
        repeats: dict[str, _Section] = {}
        open_groups: list[_Section] = []

        def place(item: Item, target: _Section) -> None:
            if item.per_level:
                repeat = repeats.get(item.per_level)
                if repeat is None:
                    repeat = repeats[item.per_level] = self._repeat(item.per_level)
                    root.content.append(repeat)
                repeat.content += self._item_rows(item)
            else:
                target.content += self._item_rows(item)

        items = {item.id: item for item in self.questionnaire.items}
        on_pages: set[str] = set()
        for page in self.questionnaire.pages:
            group = _Section("group", f"page_{_name_part(page.id)}", page.title)
            root.content.append(group)
            for item_id in page.items:
                on_pages.add(item_id)
                place(items[item_id], group)
        for item in self.questionnaire.items:
            if item.id in on_pages:
                continue
            path = () if item.per_level else self._section_path(item.node)
            shared = 0
            while (shared < min(len(open_groups), len(path))
                   and open_groups[shared].node_id == path[shared].id):
                shared += 1
            del open_groups[shared:]
            for node in path[shared:]:
                group = _Section("group", f"node_{_name_part(node.id)}",
                                 {lang: f"{node.id} {title}" for lang, title in
                                  self._text_of(node.title).items()}, node.id)
                (open_groups[-1] if open_groups else root).content.append(group)
                open_groups.append(group)
            place(item, open_groups[-1] if open_groups else root)

    def _text_of(self, text: Text) -> dict[str, str]:
        return {lang: _in(text, lang) for lang in self.languages}

    def _section_path(self, node_id: str | None) -> tuple[Node, ...]:
        """The groups an item sits in: its page node and that node's ancestors, top first.

        As in the web questionnaire, a node judged as a whole (it has stages) or with
        children is a page of its own; a leaf without stages (a CCPM indicator) is one
        measure among its siblings and shares its parent's page.
        """
        node = self.nodes.get(node_id) if node_id else None
        if node is None:
            return ()
        if not node.children and not node.stages and node.id in self.parents:
            node = self.parents[node.id]
        path = [node]
        while path[0].id in self.parents:
            path.insert(0, self.parents[path[0].id])
        return tuple(path)

    def _repeat(self, level: str) -> _Section:
        """A repeat over the unit's own framework nodes of ``level``, with their code and title.

        Items asked ``per_level`` cannot be laid out in advance because every unit defines
        its own nodes (instruments/README.md section 13); the repeat asks for each node's
        code, title and parent, which become the framework rows of the long format.
        """
        framework = self.instrument.framework
        levels = framework.levels if framework else (level,)
        rank = levels.index(level) if level in levels else 0
        name = field_name(level)
        repeat = _Section("repeat", f"framework_{name}",
                          _words("each", self.languages, level=_plain(level)))
        specs: list[tuple[FieldPart, dict[str, str], str]] = [
            ("framework_id", _words("framework_id", self.languages, level=_plain(level)), "yes"),
            ("framework_title", _words("framework_title", self.languages, level=_plain(level)),
             "yes"),
        ]
        if rank > 0:
            specs.append(("framework_parent", _words(
                "framework_parent", self.languages, level=_plain(level),
                parent=_plain(levels[rank - 1])), "yes"))
        if rank == len(levels) - 1:
            specs.append(("framework_section", _words(
                "framework_section", self.languages, level=_plain(level)), ""))
        for part, label, required in specs:
            field_id = f"{name}_{part.removeprefix('framework_')}"
            row = {"type": "text", "name": field_id, **self._columns("label", label),
                   "required": required}
            if part in ("framework_id", "framework_parent"):
                row["constraint"] = _CODE_CONSTRAINT
                row.update(self._columns("constraint_message",
                                         _words("code_rule", self.languages)))
            repeat.content.append(row)
            self.fields.append(FormField(field_id, part, label, level=level))
        return repeat

    # ------------------------------------------------------------------ items

    def _expression(self, item: Item, expression: str) -> str:
        """Our skip logic with item ids replaced by form names (strings left untouched)."""

        def rename(match: re.Match[str]) -> str:
            if match.group(1):
                return match.group(1)
            target = match.group(2)
            if self.level_of.get(target) not in (None, item.per_level):
                raise ExportRefused(
                    f"item `{item.id}` depends on `{target}`, which is asked once per "
                    f"{self.level_of[target]}: XLSForm cannot refer from one repeat to another")
            return "${" + self.names[target] + "}"

        return _REFERENCE_OR_STRING.sub(rename, expression)

    def _item_rows(self, item: Item) -> list[dict[str, str]]:
        """The survey rows of one item: its question(s), and its comment or n/a questions."""
        name = self.names[item.id]
        relevant = self._expression(item, item.relevant) if item.relevant else ""
        rows: list[dict[str, str]] = []
        asks_not_applicable = (item.not_applicable is not None and item.not_applicable.allowed
                               and item.type != "rubric")
        shown = relevant
        if asks_not_applicable:
            applies = name + APPLIES_SUFFIX
            yes_no = self._yes_no()
            rows.append(self._field(item, applies, "applies", self._words("applies"),
                                    f"select_one {yes_no}", relevant=relevant,
                                    choices=self.lists[yes_no]))
            shown = _both(relevant, f"${{{applies}}} != 'no'")
        common = {"hint": item.help, "guidance_hint": _evidence_note(item)}
        if item.type == "rubric":
            rows.append({"type": "note", "name": name, **self._columns("label", item.text),
                         **self._columns("hint", item.help), "relevant": shown,
                         "surveyapp_id": item.id})
            for criterion in item.criteria:
                levels = tuple(Choice(str(level.level), {
                    lang: f"{level.level}. {_in(level.descriptor, lang)}"
                    for lang in self.languages}) for level in criterion.levels)
                criterion_name = f"{name}__{_name_part(criterion.id)}"
                list_name = self._choices(criterion_name, levels)
                rows.append(self._field(
                    item, criterion_name, "answer", criterion.label, f"select_one {list_name}",
                    relevant=shown, required=item.required, hint=criterion.definition,
                    criterion=criterion.id, choices=levels))
                # The justification is asked once a level is chosen, so that an optional
                # rubric left blank does not block the form with a required justification.
                rows.append(self._field(
                    item, criterion_name + JUSTIFICATION_SUFFIX, "justification",
                    self._words("justification", criterion=criterion.label), "text",
                    relevant=_both(shown, f"${{{criterion_name}}} != ''"),
                    required=item.justification_required, criterion=criterion.id,
                    appearance="multiline"))
        else:
            rows.append(self._answer(item, name, shown, common))
        if asks_not_applicable:
            prompt = item.not_applicable.prompt if item.not_applicable else None
            rows.append(self._field(
                item, name + WHY_NOT_SUFFIX, "why_not", prompt or self._words("why_not"), "text",
                relevant=_both(relevant, f"${{{name + APPLIES_SUFFIX}}} = 'no'"), required=True,
                appearance="multiline"))
        if item.comment:
            rows.append(self._field(item, name + COMMENT_SUFFIX, "comment",
                                    self._words("comment"), "text", relevant=shown,
                                    appearance="multiline"))
        return rows

    def _answer(self, item: Item, name: str, relevant: str,
                common: dict[str, Text | None]) -> dict[str, str]:
        """The question that holds the item's answer, typed as XLSForm types it."""
        extra: dict[str, str] = {}
        choices: tuple[Choice, ...] = ()
        if item.type in ("single_choice", "stage"):
            choices = self._item_choices(item)
            kind = f"select_one {self._choices(self._list_name(item, name), choices)}"
        elif item.type == "yes_no":
            list_name = self._yes_no()
            kind, choices = f"select_one {list_name}", self.lists[list_name]
        elif item.type == "number":
            kind = "integer" if item.integer else "decimal"
            extra = self._number_constraint(item)
        elif item.type == "text":
            kind = "text"
            if item.max_length is not None:
                extra = {"constraint": f"string-length(.) <= {item.max_length}",
                         **self._columns("constraint_message", self._words(
                             "length", length=_plain(str(item.max_length))))}
            if item.multiline:
                extra["appearance"] = "multiline"
        else:
            kind = "date"
        row = self._field(item, name, "answer", item.text, kind, relevant=relevant,
                          required=item.required, choices=choices, **common)
        row.update(extra)
        return row

    def _number_constraint(self, item: Item) -> dict[str, str]:
        low, high = (_number_text(bound) for bound in (item.minimum, item.maximum))
        tests = [test for bound, test in ((low, f". >= {low}"), (high, f". <= {high}")) if bound]
        if not tests:
            return {}
        key = "between" if low and high else "at_least" if low else "at_most"
        message = self._words(key, minimum=_plain(low), maximum=_plain(high))
        return {"constraint": " and ".join(tests), **self._columns("constraint_message", message)}

    def _field(self, item: Item, name: str, part: FieldPart, label: Text, kind: str, *,
               relevant: str = "", required: bool = False, criterion: str | None = None,
               choices: tuple[Choice, ...] = (), hint: Text | None = None,
               guidance_hint: Text | None = None, appearance: str = "") -> dict[str, str]:
        """One survey row that holds data, recorded as a :class:`FormField` too."""
        self.fields.append(FormField(name, part, label, item, criterion, item.per_level,
                                     choices))
        row = {"type": kind, "name": name, **self._columns("label", label),
               **self._columns("hint", hint), **self._columns("guidance_hint", guidance_hint),
               "required": "yes" if required else "", "relevant": relevant,
               "appearance": appearance,
               "surveyapp_id": item.id + (f".{criterion}" if criterion else "")}
        return row

    def _words(self, key: str, **values: Text) -> dict[str, str]:
        return _words(key, self.languages, **values)

    # ------------------------------------------------------------------ choice lists

    def _item_choices(self, item: Item) -> tuple[Choice, ...]:
        if item.type == "stage":
            node = self.nodes.get(item.node) if item.node else None
            stages = item.stages or (node.stages if node else ())
            return tuple(Choice(str(stage.stage), {
                lang: f"{stage.stage}. {_in(stage.title, lang)} — {_in(stage.descriptor, lang)}"
                for lang in self.languages}) for stage in stages)
        options: tuple[Option, ...] = item.options or self.scales.get(item.scale or "", ())
        return tuple(Choice(str(option.code), option.label) for option in options)

    def _list_name(self, item: Item, name: str) -> str:
        """Shared answers share a list: a scale's, or a node's stages; else the item's own."""
        if item.type == "single_choice" and item.scale and not item.options:
            return f"scale_{_name_part(item.scale)}"
        if item.type == "stage" and not item.stages and item.node:
            return f"stages_{_name_part(item.node)}"
        return name

    def _choices(self, list_name: str, choices: tuple[Choice, ...]) -> str:
        known = self.lists.setdefault(list_name, choices)
        if known != choices:
            raise ExportRefused(f"two different choice lists would both be called `{list_name}`: "
                                "rename the scale, node or item that causes it")
        return list_name

    def _yes_no(self) -> str:
        return self._choices(YES_NO_LIST, (Choice("yes", self._words("yes")),
                                           Choice("no", self._words("no"))))

    # ------------------------------------------------------------------ rows

    def _emit(self, content: list[_Section | dict[str, str]]) -> Iterable[dict[str, str]]:
        for entry in content:
            if isinstance(entry, dict):
                yield entry
                continue
            # A group of questions only is one screen (ODK's field-list); a group holding
            # other groups would break that rule, so it pages through them instead.
            flat = not any(isinstance(inner, _Section) for inner in entry.content)
            yield {"type": f"begin_{entry.kind}", "name": entry.name,
                   **self._columns("label", entry.label),
                   "appearance": "field-list" if flat else ""}
            yield from self._emit(entry.content)
            yield {"type": f"end_{entry.kind}"}

    def _check_names(self, survey: list[dict[str, str]]) -> None:
        seen: dict[str, str] = {}
        for row in survey:
            name = row.get("name")
            if not name:
                continue
            owner = row.get("surveyapp_id") or name
            if not XLSFORM_NAME.match(name):
                raise ExportRefused(f"`{owner}` gives the XLSForm name `{name}`, which XLSForm "
                                    "does not accept: rename it")
            if name in seen:
                raise ExportRefused(
                    f"`{owner}` and `{seen[name]}` would both be called `{name}` in the form: "
                    "rename one of them")
            seen[name] = owner


def _both(first: str, second: str) -> str:
    return f"({first}) and {second}" if first else second


def _number_text(value: float | None) -> str:
    if value is None:
        return ""
    return str(int(value)) if float(value).is_integer() else repr(value)


def _evidence_note(item: Item) -> Text | None:
    """What counts as evidence, shown as guidance: files are attached in the web app."""
    evidence = item.evidence
    if evidence is None or not evidence.expected or evidence.description is None:
        return None
    if evidence.alternative is None:
        return evidence.description
    return {lang: f"{text} {_in(evidence.alternative, lang)}".strip()
            for lang, text in evidence.description.items()}
