"""The offline answers workbook: one respondent's questionnaire as a locked, signed .xlsx.

A focal point or partner without a steady connection downloads their own response as a
workbook, fills it in Excel or LibreOffice, and uploads it again. The workbook has:

- an answers sheet with one row per question (a rubric: a row for the question, then one
  per criterion), pre-filled with the stored answers; drop-down lists of the allowed
  answers, labelled in the respondent's language; only the answer, "not applicable",
  justification and comment cells unlocked, the rest protected;
- a read-me sheet saying how to fill it and how it is checked;
- two very hidden sheets: the drop-down lists, and the workbook's identity (cycle,
  response, questionnaire, instrument sha256, the sha256 of its rows) signed with an HMAC
  of the site's ``SECRET_KEY``, so that a workbook of another cycle or respondent, or one
  whose hidden data was edited, is recognised and refused.

Reading back (:func:`read_workbook`) checks the structure (sheets, header, every row's
hidden id) and refuses formulas, then hands each row's cells over as text. It checks no
answer itself: ``services.offline_answers`` passes the cells to
``services.answers.save_answer``, the same rules as the web questionnaire. Sheet protection
is a convenience for the respondent, not a safeguard: everything is checked on upload.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import io
import json
import secrets
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NoReturn

from flask_babel import gettext as _
from openpyxl import Workbook, load_workbook
from openpyxl.cell.cell import ERROR_CODES, ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font, PatternFill, Protection
from openpyxl.utils import get_column_letter
from openpyxl.workbook.protection import WorkbookProtection
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from instruments.schema import RubricCriterion
from scoring.submissions import cell_text
from surveyapp.i18n import RIGHT_TO_LEFT
from surveyapp.models import Answer
from surveyapp.services import ServiceError
from surveyapp.services.questionnaire import YES_NO, Layout, Question, Slot, localized

FORMAT = "surveyapp-answers-1"
LISTS_SHEET = "lists"
IDENTITY_SHEET = "surveyapp"
#: The columns of the answers sheet, in order; ``key`` (the hidden id) is hidden.
COLUMNS = ("key", "question_id", "section", "question", "answer", "not_applicable",
           "justification", "comment", "guide")
#: The columns a respondent fills; every other cell is protected.
ANSWER_COLUMNS = ("answer", "not_applicable", "justification", "comment")
WIDTHS = {"key": 12, "question_id": 14, "section": 24, "question": 60, "answer": 28,
          "not_applicable": 14, "justification": 40, "comment": 40, "guide": 40}
#: Rows read beyond the expected ones before the sheet is refused as too long.
EXTRA_ROWS_READ = 500
#: The identity fields covered by the signature, in order.
IDENTITY_FIELDS = ("format", "cycle", "response", "questionnaire", "instrument", "language",
                   "rows", "created")

HEADER_FONT = Font(bold=True)
HEADER_FILL = PatternFill("solid", fgColor="E8EDF4")
OPEN_FILL = PatternFill("solid", fgColor="FFF8DC")
CLOSED_FILL = PatternFill("solid", fgColor="EEEEEE")
WRAP = Alignment(wrap_text=True, vertical="top")
UNLOCKED = Protection(locked=False)

#: Every word the workbook shows, in English, French and Arabic (other languages read
#: English); an Arabic workbook reads right to left.
TEXTS: dict[str, dict[str, Any]] = {
    "en": {
        "answers_sheet": "Answers",
        "readme_sheet": "Read me",
        "headers": ("Hidden id", "Question id", "Section", "Question", "Answer",
                    "Not applicable", "Justification / why it does not apply", "Comment",
                    "How to answer"),
        "choose": "Choose from the list: {choices}.",
        "stages": "Choose a stage from the list ({first} to {last}).",
        "levels": "Choose a level: {levels}.",
        "number": "A number", "whole": "A whole number", "from_to": " from {low} to {high}",
        "at_least": " of at least {low}", "at_most": " of at most {high}",
        "date": "A date, as year-month-day (2026-03-31).",
        "text": "Text.", "text_max": "Text of at most {count} characters.",
        "required": "Required.",
        "only_if": "Asked only when {condition}; otherwise leave it empty.",
        "na": "If it does not apply, choose “{yes}” under “Not applicable” and say why.",
        "justify": "Write the justification of the scores in this row.",
        "comment": "A comment is welcome.",
        "criterion": "{criterion}: score this criterion in the Answer column.",
        "locked": "Locked: only the items a validator returned can change.",
        "invalid_title": "Not an allowed answer",
        "invalid": "Choose one of the answers in the list, or leave the cell empty.",
        "readme": (
            "How to fill in this workbook",
            "1. Answer in the “Answer” column of the “Answers” sheet. Where the cell has a "
            "list, choose from it; the “How to answer” column says what each question takes.",
            "2. If a question does not apply, choose “{yes}” under “Not applicable” and "
            "write why under “Justification”.",
            "3. Do not add, delete, move or rename rows, columns or sheets, and do not type "
            "formulas: the structure is checked when you upload the workbook.",
            "4. Save it as an Excel workbook (.xlsx), then upload it on the questionnaire's "
            "“Work offline in Excel” page.",
            "5. Every cell is checked as the web questionnaire checks it. Nothing is saved "
            "until all of it is valid; problems are listed by sheet, row and column.",
            "6. Answers to questions that do not apply, given your other answers, are cleared "
            "when you submit. Evidence files are attached in the web questionnaire.",
            "7. Submit your answers in the web questionnaire once they are complete.",
        ),
        "facts": ("Cycle", "Unit", "Questionnaire", "Respondent", "Downloaded"),
    },
    "fr": {
        "answers_sheet": "Réponses",
        "readme_sheet": "À lire",
        "headers": ("Identifiant caché", "Question n°", "Section", "Question", "Réponse",
                    "Sans objet", "Justification / pourquoi sans objet", "Commentaire",
                    "Comment répondre"),
        "choose": "Choisissez dans la liste : {choices}.",
        "stages": "Choisissez une étape dans la liste ({first} à {last}).",
        "levels": "Choisissez un niveau : {levels}.",
        "number": "Un nombre", "whole": "Un nombre entier", "from_to": " de {low} à {high}",
        "at_least": " d'au moins {low}", "at_most": " d'au plus {high}",
        "date": "Une date, sous la forme année-mois-jour (2026-03-31).",
        "text": "Texte.", "text_max": "Texte d'au plus {count} caractères.",
        "required": "Obligatoire.",
        "only_if": "Posée seulement si {condition} ; sinon laissez vide.",
        "na": "Si la question est sans objet, choisissez « {yes} » sous « Sans objet » et "
              "expliquez pourquoi.",
        "justify": "Écrivez la justification des notes dans cette ligne.",
        "comment": "Un commentaire est bienvenu.",
        "criterion": "{criterion} : notez ce critère dans la colonne Réponse.",
        "locked": "Verrouillée : seuls les éléments renvoyés par un validateur peuvent changer.",
        "invalid_title": "Réponse non prévue",
        "invalid": "Choisissez une des réponses de la liste, ou laissez la cellule vide.",
        "readme": (
            "Comment remplir ce classeur",
            "1. Répondez dans la colonne « Réponse » de la feuille « Réponses ». Quand la "
            "cellule propose une liste, choisissez-y ; la colonne « Comment répondre » dit ce "
            "que chaque question attend.",
            "2. Si une question est sans objet, choisissez « {yes} » sous « Sans objet » et "
            "expliquez pourquoi sous « Justification ».",
            "3. N'ajoutez, ne supprimez, ne déplacez ni ne renommez de lignes, de colonnes ou "
            "de feuilles, et ne saisissez pas de formules : la structure est vérifiée au "
            "dépôt du classeur.",
            "4. Enregistrez-le au format classeur Excel (.xlsx), puis déposez-le sur la page "
            "« Travailler hors ligne dans Excel » du questionnaire.",
            "5. Chaque cellule est vérifiée comme dans le questionnaire en ligne. Rien n'est "
            "enregistré tant que tout n'est pas valide ; les problèmes sont listés par "
            "feuille, ligne et colonne.",
            "6. Les réponses aux questions qui ne s'appliquent pas, vu vos autres réponses, "
            "sont effacées à l'envoi. Les pièces justificatives se joignent en ligne.",
            "7. Envoyez vos réponses dans le questionnaire en ligne une fois complètes.",
        ),
        "facts": ("Cycle", "Unité", "Questionnaire", "Répondant", "Téléchargé le"),
    },
    "ar": {
        "answers_sheet": "الإجابات",
        "readme_sheet": "اقرأ أولًا",
        "headers": ("المعرّف المخفي", "رقم السؤال", "القسم", "السؤال", "الإجابة",
                    "لا ينطبق", "التبرير / سبب عدم الانطباق", "تعليق", "طريقة الإجابة"),
        "choose": "اختر من القائمة: {choices}.",
        "stages": "اختر مرحلة من القائمة (من {first} إلى {last}).",
        "levels": "اختر مستوى: {levels}.",
        "number": "رقم", "whole": "عدد صحيح", "from_to": " من {low} إلى {high}",
        "at_least": " لا يقل عن {low}", "at_most": " لا يزيد على {high}",
        "date": "تاريخ، بصيغة السنة-الشهر-اليوم (2026-03-31).",
        "text": "نص.", "text_max": "نص لا يتجاوز {count} حرفًا.",
        "required": "مطلوب.",
        "only_if": "يُطرح فقط عندما {condition}؛ وإلا فاترك الخلية فارغة.",
        "na": "إذا كان السؤال لا ينطبق، فاختر «{yes}» في عمود «لا ينطبق» واذكر السبب.",
        "justify": "اكتب تبرير الدرجات في هذا الصف.",
        "comment": "التعليق مرحَّب به.",
        "criterion": "{criterion}: قيّم هذا المعيار في عمود الإجابة.",
        "locked": "مقفل: لا يمكن تغيير إلا البنود التي أعادها المدقق.",
        "invalid_title": "إجابة غير مسموح بها",
        "invalid": "اختر إحدى الإجابات الواردة في القائمة، أو اترك الخلية فارغة.",
        "readme": (
            "طريقة ملء هذا المصنف",
            "1. أجب في عمود «الإجابة» في ورقة «الإجابات». حيثما تتضمن الخلية قائمة، فاختر "
            "منها؛ ويبيّن عمود «طريقة الإجابة» ما يتطلبه كل سؤال.",
            "2. إذا كان السؤال لا ينطبق، فاختر «{yes}» في عمود «لا ينطبق» واكتب السبب في عمود "
            "«التبرير».",
            "3. لا تُضف صفوفًا أو أعمدة أو أوراقًا ولا تحذفها ولا تنقلها ولا تغيّر أسماءها، ولا "
            "تكتب صيغًا: يُتحقق من البنية عند رفع المصنف.",
            "4. احفظه بصيغة مصنف Excel ‏(‎.xlsx)، ثم ارفعه في صفحة «العمل دون اتصال في Excel» "
            "الخاصة بالاستبيان.",
            "5. يُتحقق من كل خلية كما يتحقق منها الاستبيان على الإنترنت. لا يُحفظ شيء ما لم يكن "
            "المصنف كله صحيحًا؛ وتُسرد المشكلات حسب الورقة والصف والعمود.",
            "6. تُمحى عند الإرسال الإجابات عن الأسئلة التي لا تنطبق بالنظر إلى إجاباتك الأخرى. "
            "وتُرفق ملفات الأدلة في الاستبيان على الإنترنت.",
            "7. أرسل إجاباتك في الاستبيان على الإنترنت متى اكتملت.",
        ),
        "facts": ("الدورة", "الوحدة", "الاستبيان", "المجيب", "تاريخ التنزيل"),
    },
}


def texts(language: str) -> dict[str, Any]:
    return TEXTS.get(language, TEXTS["en"])


# --------------------------------------------------------------------------- rows


@dataclass(frozen=True)
class SheetRow:
    """One row of the answers sheet: a question, or one criterion of a rubric question."""

    slot: Slot
    criterion: RubricCriterion | None = None

    @property
    def key(self) -> str:
        """The hidden id: the slot's key, or its criterion part (``red@OP1~extent``)."""
        return self.slot.part(self.criterion.id) if self.criterion else self.slot.key

    @property
    def question(self) -> Question:
        return self.slot.question

    @property
    def shown_id(self) -> str:
        """The question's id as the respondent reads it in the row."""
        shown = self.slot.item_id
        if self.slot.framework_node:
            shown += f" ({self.slot.framework_node})"
        return f"{shown}: {self.criterion.id}" if self.criterion else shown

    def opens(self, column: str) -> bool:
        """Whether the row has a cell to fill in ``column``."""
        question, item = self.question, self.question.item
        if self.criterion is not None:
            return column == "answer"
        return {
            "answer": question.type != "rubric",
            "not_applicable": question.allows_not_applicable,
            "justification": question.asks_justification,
            "comment": bool(item.comment),
        }.get(column, False)


def sheet_rows(layout: Layout) -> list[SheetRow]:
    rows = []
    for slot in layout.slots:
        rows.append(SheetRow(slot))
        rows.extend(SheetRow(slot, criterion) for criterion in slot.question.item.criteria)
    return rows


def rows_digest(rows: Iterable[SheetRow]) -> str:
    """sha256 of the hidden ids in order: changes whenever the questions asked change."""
    return hashlib.sha256("\n".join(row.key for row in rows).encode("utf-8")).hexdigest()


# --------------------------------------------------------------------------- choices


def choices(question: Question, language: str,
            criterion: RubricCriterion | None = None) -> list[tuple[str, str]]:
    """The (label, code) of each allowed answer, as the drop-down list offers them."""
    if criterion is not None:
        return [(str(level.level), str(level.level)) for level in criterion.levels]
    if question.type == "single_choice":
        return [(localized(option.label, language), str(option.code))
                for option in question.options]
    if question.type == "stage":
        return [(f"{stage.stage} – {localized(stage.title, language)}", str(stage.stage))
                for stage in question.stages]
    if question.type == "yes_no":
        return [(localized(label, language), code) for code, label in YES_NO]
    return []


def _folded(text: str) -> str:
    return " ".join(text.split()).casefold()


def code_of(text: str, question: Question, languages: Sequence[str],
            criterion: RubricCriterion | None = None) -> str | set[str]:
    """The code a cell means: a code as itself, a label (in any language) as its code.

    A label shared by several answers gives the set of their codes; text that is neither
    a code nor a label is returned as typed, for the questionnaire's rules to refuse.
    """
    folded = _folded(text)
    found: dict[str, set[str]] = {}
    for language in languages:
        for label, code in choices(question, language, criterion):
            found.setdefault(_folded(label), set()).add(code)
    for stage in question.stages if criterion is None else ():
        for language in languages:
            found.setdefault(_folded(localized(stage.title, language)), set()).add(
                str(stage.stage))
    codes = {code for entries in found.values() for code in entries}
    if folded in {_folded(code) for code in codes}:
        return next(code for code in codes if _folded(code) == folded)
    matches = found.get(folded, set())
    if len(matches) > 1:
        return matches
    return matches.pop() if matches else text


def yes_words(languages: Iterable[str]) -> tuple[set[str], set[str]]:
    """What a "Not applicable" cell may say for yes and for no, folded."""
    yes_label, no_label = dict(YES_NO)["yes"], dict(YES_NO)["no"]
    yes = {"yes", "x", "true"} | {_folded(localized(yes_label, lang)) for lang in languages}
    no = {"no", "false"} | {_folded(localized(no_label, lang)) for lang in languages}
    return yes, no


# --------------------------------------------------------------------------- identity


@dataclass(frozen=True)
class WorkbookIdentity:
    """Whose answers a workbook holds, and what it was made from."""

    cycle_id: int
    response_id: int
    questionnaire: str
    instrument_sha256: str
    language: str
    rows_sha256: str
    created: str

    def fields(self) -> dict[str, str]:
        values = (FORMAT, self.cycle_id, self.response_id, self.questionnaire,
                  self.instrument_sha256, self.language, self.rows_sha256, self.created)
        return {name: str(value) for name, value in zip(IDENTITY_FIELDS, values, strict=True)}


def signature(secret: str, fields: Mapping[str, str]) -> str:
    """HMAC-SHA256 of the identity fields with the site's secret key."""
    message = json.dumps({name: fields.get(name, "") for name in IDENTITY_FIELDS},
                         sort_keys=True, ensure_ascii=False).encode("utf-8")
    return hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


# --------------------------------------------------------------------------- writing


@dataclass(frozen=True)
class WorkbookFacts:
    """What the read-me sheet says about the workbook."""

    cycle_title: str
    unit_name: str
    questionnaire_title: str
    respondent: str


def cell_values(row: SheetRow, answer: Answer | None, language: str) -> dict[str, Any]:
    """The answer cells of a row as written from the stored answer (None: empty)."""
    if answer is None:
        return {}
    question = row.question
    if row.criterion is not None:
        levels = answer.value if isinstance(answer.value, Mapping) else {}
        return {"answer": levels.get(row.criterion.id)}
    values: dict[str, Any] = {
        "not_applicable": localized(dict(YES_NO)["yes"], language)
        if answer.not_applicable else None,
        "justification": answer.justification,
        "comment": answer.comment,
    }
    value = answer.value
    if question.type == "rubric" or value is None:
        return values
    labels = {code: label for label, code in choices(question, language)}
    if labels:
        values["answer"] = labels.get(str(value), str(value))
    elif question.type == "date":
        values["answer"] = dt.date.fromisoformat(str(value))
    else:
        values["answer"] = value
    return values


def build_workbook(layout: Layout, answers: Mapping[str, Answer], identity: WorkbookIdentity,
                   facts: WorkbookFacts, *, secret: str,
                   editable: frozenset[str] | None) -> bytes:
    """The workbook of one response; slots outside ``editable`` (None: all) stay locked."""
    language = identity.language
    words = texts(language)
    workbook = Workbook()
    readme = workbook.active
    readme.title = words["readme_sheet"]
    sheet = workbook.create_sheet(words["answers_sheet"])
    lists = workbook.create_sheet(LISTS_SHEET)
    hidden = workbook.create_sheet(IDENTITY_SHEET)
    _write_readme(readme, facts, identity, words)
    _write_answers(sheet, lists, layout, answers, language, editable)
    if language in RIGHT_TO_LEFT:
        for shown in (readme, sheet):
            shown.sheet_view.rightToLeft = True
    for name, value in (*identity.fields().items(),
                        ("signature", signature(secret, identity.fields()))):
        hidden.append([name, value])
    for sheet_ in (lists, hidden):
        sheet_.sheet_state = "veryHidden"
        sheet_.protection.sheet = True
    workbook.active = 1
    # Not a secret to keep: the password only stops accidental changes to the structure;
    # the signature and the checks on upload are what protect the answers.
    workbook.security = WorkbookProtection(workbookPassword=secrets.token_urlsafe(12),
                                           lockStructure=True)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _text_cell(cell: Any, value: Any) -> None:
    """Write a value; a text that looks like a formula or an error stays text."""
    if isinstance(value, str):
        value = ILLEGAL_CHARACTERS_RE.sub("", value)
    cell.value = value
    if isinstance(value, str) and (value.startswith("=") or value in ERROR_CODES):
        cell.data_type = "s"


def _write_readme(sheet: Worksheet, facts: WorkbookFacts, identity: WorkbookIdentity,
                  words: dict[str, Any]) -> None:
    yes = localized(dict(YES_NO)["yes"], identity.language)
    title, *steps = words["readme"]
    _text_cell(sheet.cell(1, 1), title)
    sheet.cell(1, 1).font = Font(bold=True, size=14)
    values = (facts.cycle_title, facts.unit_name, facts.questionnaire_title,
              facts.respondent, identity.created)
    for position, (label, value) in enumerate(zip(words["facts"], values, strict=True),
                                              start=3):
        _text_cell(sheet.cell(position, 1), label)
        sheet.cell(position, 1).font = HEADER_FONT
        _text_cell(sheet.cell(position, 2), value)
    for position, step in enumerate(steps, start=4 + len(values)):
        _text_cell(sheet.cell(position, 1), step.format(yes=yes))
    sheet.column_dimensions["A"].width = 100
    sheet.column_dimensions["B"].width = 50
    sheet.protection.sheet = True


def _write_answers(sheet: Worksheet, lists: Worksheet, layout: Layout,
                   answers: Mapping[str, Answer], language: str,
                   editable: frozenset[str] | None) -> None:
    words = texts(language)
    position = {name: index for index, name in enumerate(COLUMNS, start=1)}
    for index, title in enumerate(words["headers"], start=1):
        cell = sheet.cell(1, index)
        _text_cell(cell, title)
        cell.font, cell.fill, cell.alignment = HEADER_FONT, HEADER_FILL, WRAP
    for name, width in WIDTHS.items():
        sheet.column_dimensions[get_column_letter(position[name])].width = width
    sheet.column_dimensions["A"].hidden = True
    sheet.freeze_panes = "E2"
    validations = _Validations(sheet, lists, words)
    pages = {slot.key: page for page in layout.pages for slot in page.slots}
    for number, row in enumerate(sheet_rows(layout), start=2):
        slot = row.slot
        may_change = editable is None or slot.key in editable
        values = cell_values(row, answers.get(slot.key), language)
        shown = {
            "key": row.key,
            "question_id": row.shown_id,
            "section": pages[slot.key].label(language),
            "question": _question_text(row, language),
            "guide": _guide(row, language, may_change),
            **values,
        }
        for name in COLUMNS:
            cell = sheet.cell(number, position[name])
            _text_cell(cell, shown.get(name))
            cell.alignment = WRAP
            if name not in ANSWER_COLUMNS:
                continue
            if not (row.opens(name) and may_change):
                cell.fill = CLOSED_FILL
                continue
            cell.protection = UNLOCKED
            cell.fill = OPEN_FILL
            if name == "answer" and row.question.type == "date" and row.criterion is None:
                cell.number_format = "yyyy-mm-dd"
            validations.add(row, name, cell.coordinate, language)
    sheet.protection.sheet = True
    sheet.protection.formatColumns = False
    sheet.protection.formatRows = False
    sheet.protection.password = secrets.token_urlsafe(12)


def _question_text(row: SheetRow, language: str) -> str:
    item = row.question.item
    if row.criterion is not None:
        criterion = row.criterion
        parts = [localized(criterion.label, language)]
        if criterion.definition:
            parts.append(localized(criterion.definition, language))
        parts += [f"{level.level}: {localized(level.descriptor, language)}"
                  for level in criterion.levels]
        return "\n".join(parts)
    text = localized(item.text, language)
    if item.help:
        text += "\n" + localized(item.help, language)
    return text


def _condition(expression: str) -> str:
    return expression.replace("${", "").replace("}", "")


def _guide(row: SheetRow, language: str, may_change: bool) -> str:
    """What the question takes, in words: the drop-down, the range, when it is asked."""
    words = texts(language)
    question, item = row.question, row.question.item
    if not may_change:
        return words["locked"]
    if row.criterion is not None:
        return words["criterion"].format(criterion=localized(row.criterion.label, language))
    parts = []
    if item.required:
        parts.append(words["required"])
    if question.type in ("single_choice", "yes_no"):
        labels = ", ".join(label for label, _ in choices(question, language))
        parts.append(words["choose"].format(choices=labels))
    elif question.type == "stage":
        numbers = [stage.stage for stage in question.stages]
        parts.append(words["stages"].format(first=numbers[0], last=numbers[-1]))
    elif question.type == "number":
        low, high = item.minimum, item.maximum
        text = words["whole" if item.integer else "number"]
        if low is not None and high is not None:
            text += words["from_to"].format(low=f"{low:g}", high=f"{high:g}")
        elif low is not None:
            text += words["at_least"].format(low=f"{low:g}")
        elif high is not None:
            text += words["at_most"].format(high=f"{high:g}")
        parts.append(text + ".")
    elif question.type == "date":
        parts.append(words["date"])
    elif question.type == "text":
        parts.append(words["text_max"].format(count=item.max_length)
                     if item.max_length else words["text"])
    elif question.type == "rubric" and item.justification_required:
        parts.append(words["justify"])
    if item.relevant:
        parts.append(words["only_if"].format(condition=_condition(item.relevant)))
    if question.allows_not_applicable:
        parts.append(words["na"].format(yes=localized(dict(YES_NO)["yes"], language)))
    if item.comment:
        parts.append(words["comment"])
    return " ".join(parts)


@dataclass
class _Validations:
    """Data validations of the answers sheet, one per list or rule, each over many cells."""

    sheet: Worksheet
    lists: Worksheet
    words: dict[str, Any]
    by_rule: dict[tuple[Any, ...], DataValidation] = field(default_factory=dict)

    def add(self, row: SheetRow, column: str, coordinate: str, language: str) -> None:
        rule = self._rule(row, column, language)
        if rule is None:
            return
        validation = self.by_rule.get(rule)
        if validation is None:
            validation = self.by_rule[rule] = self._validation(rule)
            self.sheet.add_data_validation(validation)
        validation.add(coordinate)

    def _rule(self, row: SheetRow, column: str, language: str) -> tuple[Any, ...] | None:
        question, item = row.question, row.question.item
        if column == "not_applicable":
            return ("list", tuple(localized(label, language) for _, label in YES_NO))
        if column != "answer":
            return None
        labels = tuple(label for label, _ in choices(question, language, row.criterion))
        if labels:
            return ("list", labels)
        if question.type == "number" and (item.minimum is not None or item.maximum is not None):
            return ("whole" if item.integer else "decimal", item.minimum, item.maximum)
        if question.type == "text" and item.max_length:
            return ("textLength", None, item.max_length)
        return None

    def _validation(self, rule: tuple[Any, ...]) -> DataValidation:
        kind = rule[0]
        common = {"allow_blank": True, "showErrorMessage": True, "errorStyle": "stop",
                  "errorTitle": self.words["invalid_title"]}
        if kind == "list":
            column = get_column_letter(len(self.by_rule) + 1)
            for index, label in enumerate(rule[1], start=1):
                _text_cell(self.lists[f"{column}{index}"], label)
            return DataValidation(
                type="list", formula1=f"'{LISTS_SHEET}'!${column}$1:${column}${len(rule[1])}",
                error=self.words["invalid"], **common)
        low, high = rule[1], rule[2]
        if low is not None and high is not None:
            operator, first, second = "between", low, high
        elif low is not None:
            operator, first, second = "greaterThanOrEqual", low, None
        else:
            operator, first, second = "lessThanOrEqual", high, None
        return DataValidation(type=kind, operator=operator, formula1=f"{first:g}",
                              formula2=None if second is None else f"{second:g}",
                              error=self.words["invalid"], **common)


# --------------------------------------------------------------------------- reading


@dataclass(frozen=True)
class CellProblem:
    """Something to fix in the uploaded workbook, where it is and what to do.

    ``sheet`` and ``cell`` are None for a problem with the whole file; ``question`` is the
    question's id as the row shows it.
    """

    message: str
    sheet: str | None = None
    cell: str | None = None
    column: str | None = None
    question: str | None = None

    @property
    def where(self) -> str:
        if self.sheet is None:
            return _("Workbook")
        return f"{self.sheet}!{self.cell}" if self.cell else _("Sheet %(sheet)s",
                                                                sheet=self.sheet)

    def format(self) -> str:
        about = [part for part in (
            self.column, self.question and _("question %(question)s", question=self.question))
            if part]
        shown = f" ({', '.join(about)})" if about else ""
        return f"{self.where}{shown}: {self.message}"


class WorkbookRefused(ServiceError):
    """The upload is refused as a whole; ``problems`` lists everything to fix."""

    def __init__(self, problems: Sequence[CellProblem]) -> None:
        self.problems = tuple(problems)
        super().__init__("\n".join(problem.format() for problem in self.problems))


@dataclass(frozen=True)
class ReadRow:
    """The cells of one row of the uploaded answers sheet, as text ("" when empty)."""

    row: SheetRow
    number: int
    cells: dict[str, str]
    sheet: str
    headers: tuple[str, ...]

    def problem(self, column: str, message: str) -> CellProblem:
        """A problem located at this row's cell in ``column``."""
        index = COLUMNS.index(column)
        return CellProblem(message, self.sheet, f"{get_column_letter(index + 1)}{self.number}",
                           self.headers[index], self.row.shown_id)


def read_workbook(data: bytes, identity: WorkbookIdentity, rows: Sequence[SheetRow], *,
                  secret: str, cycle_title: str) -> dict[str, ReadRow]:
    """Check an uploaded workbook against the response it must belong to; its rows by key.

    :raises WorkbookRefused: when the workbook cannot be read, is not this response's, or
        its structure changed, listing every problem found at that stage.
    """
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=False,
                                 keep_links=False)
    except UNREADABLE as error:
        raise _unreadable(error) from None
    try:
        sheets = {sheet.title: sheet for sheet in workbook.worksheets}
        # The workbook's own (signed) language names its sheets, even if the respondent
        # has chosen another language since.
        words = texts(_check_identity(sheets, identity, secret, cycle_title))
        _check_sheets(sheets, words)
        return _read_rows(sheets[words["answers_sheet"]], words, rows)
    except UNREADABLE as error:  # sheets are parsed as they are read
        raise _unreadable(error) from None
    finally:
        workbook.close()


#: What a damaged workbook makes openpyxl raise (SyntaxError covers XML parse errors).
UNREADABLE = (zipfile.BadZipFile, KeyError, ValueError, TypeError, IndexError, SyntaxError,
              EOFError, OSError)


def _unreadable(error: Exception) -> WorkbookRefused:
    return WorkbookRefused([CellProblem(
        _("The workbook cannot be read (%(error)s). Open it in Excel or LibreOffice, save it "
          "again as Excel Workbook (.xlsx), and upload the new copy.",
          error=error.__class__.__name__))])


def _refuse(message: str) -> NoReturn:
    raise WorkbookRefused([CellProblem(message)])


def _check_identity(sheets: Mapping[str, Any], expected: WorkbookIdentity, secret: str,
                    cycle_title: str) -> str:
    """Refuse a workbook that is not this response's; return the language it was made in."""
    if IDENTITY_SHEET not in sheets:
        _refuse(_("This is not a workbook downloaded from this questionnaire (it has no "
                  "surveyapp identity). Download the workbook on the questionnaire's “Work "
                  "offline in Excel” page, fill that one in and upload it."))
    found: dict[str, str] = {}
    for values in sheets[IDENTITY_SHEET].iter_rows(max_row=len(IDENTITY_FIELDS) + 5,
                                                  max_col=2, values_only=True):
        if values and values[0] is not None:
            found[str(values[0])] = "" if len(values) < 2 else cell_text(values[1])
    if found.get("format") != FORMAT:
        _refuse(_("This workbook was made by another version of surveyapp or is not an "
                  "answers workbook. Download a new workbook and copy your answers into it."))
    if not hmac.compare_digest(found.get("signature", "").encode("utf-8"),
                               signature(secret, found).encode("utf-8")):
        _refuse(_("The workbook's hidden identity was changed, or the workbook was made by "
                  "another site: its signature does not match. Download a new workbook from "
                  "the questionnaire and copy your answers into it."))
    wanted = expected.fields()
    if found["cycle"] != wanted["cycle"]:
        _refuse(_("This workbook belongs to another assessment cycle, not to “%(cycle)s”. "
                  "Download this cycle's workbook from its questionnaire and fill that one in.",
                  cycle=cycle_title))
    if found["response"] != wanted["response"] or found["questionnaire"] != wanted[
            "questionnaire"]:
        _refuse(_("This workbook holds another respondent's answers or another questionnaire "
                  "of this cycle, not yours. Upload the workbook you downloaded from your own "
                  "questionnaire."))
    if found["instrument"] != wanted["instrument"]:
        _refuse(_("This workbook was made from another version of the instrument. Download a "
                  "new workbook and copy your answers into it."))
    if found["rows"] != wanted["rows"]:
        _refuse(_("The questions of this questionnaire changed after the workbook was "
                  "downloaded (%(created)s). Download a new workbook and copy your answers into "
                  "it.", created=found.get("created") or _("earlier")))
    return found["language"]


def _check_sheets(sheets: Mapping[str, Any], words: dict[str, Any]) -> None:
    expected = [words["readme_sheet"], words["answers_sheet"], LISTS_SHEET, IDENTITY_SHEET]
    extra = [name for name in sheets if name not in expected]
    missing = [name for name in expected if name not in sheets]
    problems = []
    for name in missing:
        problems.append(CellProblem(
            _("The sheet “%(name)s” is missing. Was it renamed (this workbook has %(sheets)s)? "
              "Give it back its name.", name=name, sheets=_quoted(extra)) if extra else
            _("The sheet “%(name)s” is missing. Download a new workbook and copy your answers "
              "into it.", name=name)))
    if not missing:
        problems += [CellProblem(_("The sheet “%(name)s” was added: delete it. Answers are read "
                                   "from the “%(answers)s” sheet only.", name=name,
                                   answers=words["answers_sheet"]), name)
                     for name in extra]
    if problems:
        raise WorkbookRefused(problems)


def _quoted(names: Iterable[str]) -> str:
    return ", ".join(f"“{name}”" for name in names)


def _read_rows(sheet: Any, words: dict[str, Any], rows: Sequence[SheetRow]
               ) -> dict[str, ReadRow]:
    title = sheet.title
    by_key = {row.key: row for row in rows}
    problems: list[CellProblem] = []
    found: dict[str, ReadRow] = {}
    first_seen: dict[str, int] = {}
    #: A changed or added row: the rows it replaced are then not reported missing as well.
    changed_rows = False
    last_row = len(rows) + 1 + EXTRA_ROWS_READ
    for number, cells in enumerate(sheet.iter_rows(max_row=last_row + 1), start=1):
        if number > last_row:
            problems.append(CellProblem(
                _("The sheet has more than %(count)s rows: only the rows of the questions "
                  "belong in it. Delete the rows added below them.", count=last_row), title))
            break
        values = [cell.value for cell in cells]
        known = by_key.get(cell_text(values[0])) if values else None
        problems += _formulas(cells, title, number, words["headers"],
                              known.shown_id if known else None)
        if len(values) > len(COLUMNS) and any(cell_text(v) for v in values[len(COLUMNS):]):
            problems.append(CellProblem(
                _("This row has cells beyond the “%(last)s” column: delete them (columns must "
                  "stay as downloaded).", last=words["headers"][-1]), title,
                f"{get_column_letter(len(COLUMNS) + 1)}{number}"))
        text = {name: cell_text(values[index]) if index < len(values) else ""
                for index, name in enumerate(COLUMNS)}
        if number == 1:
            problems += _header_problems(text, words, title)
            continue
        key = text["key"]
        if not key:
            if any(text[name] for name in COLUMNS if name != "key"):
                problems.append(CellProblem(
                    _("This row was added: it has no hidden question id. Delete it; answers go "
                      "in the rows of the questions."), title, f"A{number}"))
                changed_rows = True
            continue
        row = by_key.get(key)
        if row is None:
            problems.append(CellProblem(
                _("The hidden question id of this row was changed (it reads “%(key)s”, which is "
                  "no question of this questionnaire). Download a new workbook and copy your "
                  "answers into it.", key=key), title, f"A{number}"))
            changed_rows = True
            continue
        if key in first_seen:
            problems.append(CellProblem(
                _("This row repeats the question of row %(row)s (%(question)s): delete one of "
                  "the two rows.", row=first_seen[key], question=row.shown_id), title,
                f"A{number}"))
            continue
        if text["question_id"] != row.shown_id:
            problems.append(CellProblem(
                _("The hidden question id of this row (%(question)s) does not match the "
                  "question id shown in it (%(shown)s): rows or ids were changed. Download a "
                  "new workbook and copy your answers into it.", question=row.shown_id,
                  shown=text["question_id"] or _("empty")), title, f"A{number}"))
            changed_rows = True
            continue
        first_seen[key] = number
        found[key] = ReadRow(row, number, text, title, words["headers"])
    for row in rows if not changed_rows else ():
        if row.key not in found:
            problems.append(CellProblem(
                _("The row of question %(question)s (“%(text)s”) is missing: it was deleted. "
                  "Download a new workbook and copy your answers into it.",
                  question=row.shown_id, text=_short(row)), title))
    if problems:
        raise WorkbookRefused(problems)
    return found


def _short(row: SheetRow) -> str:
    text = _question_text(row, "en").splitlines()[0]
    return text if len(text) <= 60 else text[:57] + "..."


def _formulas(cells: Sequence[Any], title: str, number: int, headers: Sequence[str],
              question: str | None) -> list[CellProblem]:
    """Formulas are refused, never evaluated: a file reader cannot know their result."""
    return [CellProblem(
        _("This cell holds the formula %(formula)s; formulas are not read. Type the answer "
          "itself (to write a text that starts with “=”, type an apostrophe before it).",
          formula=str(cell.value)[:80]), title, f"{get_column_letter(position)}{number}",
        headers[position - 1] if position <= len(headers) else None, question)
        for position, cell in enumerate(cells, start=1)
        if getattr(cell, "data_type", None) == "f"]


def _header_problems(text: Mapping[str, str], words: dict[str, Any], title: str
                     ) -> list[CellProblem]:
    return [CellProblem(
        _("The column heading was changed to “%(found)s”; it must read “%(heading)s”. The "
          "columns must stay as downloaded.", found=text[name], heading=heading), title,
        f"{get_column_letter(index)}1")
        for index, (name, heading) in enumerate(zip(COLUMNS, words["headers"], strict=True),
                                                start=1)
        if text[name] != heading]
