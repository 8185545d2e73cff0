"""Answers made up with a seed, and the exports KoboToolbox and ODK Central would make of them.

The round-trip tests need submissions "as the servers export them" without a server: the
builders here lay answers out the way peers.md section 3 and the servers' own test suites
describe (Kobo: ``group/name`` headers, ``_uuid``, ``_index``, ``_submission_time``, answers
as XML values or as labels, ``;`` CSV; ODK Central: ``group-name`` headers,
``meta-instanceID``, ``KEY``, repeat tables linked by ``PARENT_KEY``), and the same answers
as the long format that ``surveyapp score`` reads directly.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import random
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal
from xml.etree import ElementTree

from openpyxl import Workbook
from pyxform.xls2xform import convert

from instruments.expressions import evaluate, parse_expression
from instruments.schema import Instrument, Item, Node, Option, Stage
from instruments.xlsform import XLSForm, field_name

Cell = str | int | float | None
_XFORMS = "{http://www.w3.org/2002/xforms}"
_TEMPLATE = "{http://openrosa.org/javarosa}template"
#: Awkward texts: separators, quotes, line breaks, accents and formula-like starts.
TEXTS = (
    "Weekly meetings; minutes shared by email",
    'The "4W" matrix, updated monthly',
    "Réunions mensuelles, compte rendu partagé",
    "Two lines:\nfirst, then second",
    "=not a formula",
    "plain",
)


@dataclass
class Respondent:
    """One submission: answers by item id (codes as text), comments by item id."""

    id: str
    answers: dict[str, str] = field(default_factory=dict)
    comments: dict[str, str] = field(default_factory=dict)
    #: Per framework level, the nodes with their answers.
    nodes: dict[str, list[FrameworkAnswers]] = field(default_factory=dict)


@dataclass
class FrameworkAnswers:
    """A node of the unit's framework; answers by item id, or criterion id for a rubric."""

    code: str
    title: str
    parent: str = ""
    section: str = ""
    answers: dict[str, str] = field(default_factory=dict)
    comments: dict[str, str] = field(default_factory=dict)


def make_answers(instrument: Instrument, questionnaire_id: str, count: int,
                 rng: random.Random, blank_rate: float = 0.15) -> list[Respondent]:
    """``count`` respondents answering at random, skip logic respected, some blanks."""
    questionnaire = next(q for q in instrument.questionnaires if q.id == questionnaire_id)
    scales = {scale.id: scale.options for scale in instrument.scales}
    stages = {node.id: node.stages for node in _nodes(instrument)}
    respondents = []
    for number in range(count):
        respondent = Respondent(f"uuid-{questionnaire_id}-{number:03d}")
        for item in questionnaire.items:
            if item.per_level:
                continue
            if item.relevant and not evaluate(parse_expression(item.relevant),
                                              respondent.answers):
                continue
            value = _value(item, scales, stages, rng, blank_rate)
            if value:
                respondent.answers[item.id] = value
            if item.comment and rng.random() < 0.5:
                respondent.comments[item.id] = rng.choice(TEXTS)
        respondents.append(respondent)
    return respondents


def _nodes(instrument: Instrument) -> list[Node]:
    pending, found = list(instrument.nodes), []
    while pending:
        node = pending.pop()
        found.append(node)
        pending.extend(node.children)
    return found


def _value(item: Item, scales: Mapping[str, tuple[Option, ...]],
           stages: Mapping[str, tuple[Stage, ...]], rng: random.Random, blank_rate: float) -> str:
    if not item.required and rng.random() < blank_rate:
        return ""
    if item.type == "single_choice":
        return str(rng.choice(item.options or scales[item.scale]).code)
    if item.type == "stage":
        return str(rng.choice(item.stages or stages[item.node]).stage)
    if item.type == "yes_no":
        return rng.choice(("yes", "no"))
    if item.type == "number":
        low = int(item.minimum if item.minimum is not None else 0)
        high = int(item.maximum if item.maximum is not None else low + 40)
        return str(rng.randint(low, high))
    if item.type == "date":
        return (dt.date(2025, 1, 1) + dt.timedelta(days=rng.randint(0, 700))).isoformat()
    return rng.choice(TEXTS)[: item.max_length]


def make_framework_answers(instrument: Instrument, questionnaire_id: str,
                           respondent: Respondent, rng: random.Random) -> None:
    """A small results framework (2 impacts, 3 outcomes, 5 outputs) answered at random."""
    questionnaire = next(q for q in instrument.questionnaires if q.id == questionnaire_id)
    shape = {"impact": ["IM1", "IM2"], "outcome": ["OC1", "OC2", "OC3"],
             "output": ["OP1", "OP2", "OP3", "OP4", "OP5"]}
    parents = {"outcome": ["IM1", "IM2", "IM2"], "output": ["OC1", "OC1", "OC2", "OC3", "OC3"]}
    for level, codes in shape.items():
        for position, code in enumerate(codes):
            entry = FrameworkAnswers(code, f"{level} {code}: {rng.choice(TEXTS)}",
                                     parents.get(level, [""] * 5)[position],
                                     "Civil Affairs" if level == "output" else "")
            for item in questionnaire.items:
                if item.per_level != level:
                    continue
                if item.relevant and not evaluate(parse_expression(item.relevant),
                                                  entry.answers):
                    continue
                if item.type == "rubric":
                    for criterion in item.criteria:
                        entry.answers[criterion.id] = str(rng.choice(criterion.levels).level)
                        entry.comments[criterion.id] = rng.choice(TEXTS)
                    continue
                entry.answers[item.id] = _value(item, {}, {}, rng, 0.0)
            respondent.nodes.setdefault(level, []).append(entry)


# --------------------------------------------------------------------------- the long format


def long_rows(questionnaire_id: str, respondents: Sequence[Respondent]) -> list[list[str]]:
    """The answers written directly in the long format, without organization_type."""
    rows = []
    for respondent in respondents:
        for item_id in sorted(set(respondent.answers) | set(respondent.comments)):
            rows.append([respondent.id, questionnaire_id, item_id,
                         respondent.answers.get(item_id, ""),
                         respondent.comments.get(item_id, "")])
        for level, entries in respondent.nodes.items():
            for entry in entries:
                details = [f"level={level}"] + [f"{key}={value}" for key, value in
                                                (("parent", entry.parent),
                                                 ("section", entry.section)) if value]
                rows.append([respondent.id, "framework", entry.code, entry.title,
                             "; ".join(details)])
                for key, value in entry.answers.items():
                    rows.append([respondent.id, questionnaire_id, f"{entry.code}.{key}",
                                 value, entry.comments.get(key, "")])
    return rows


def long_csv(rows: Sequence[Sequence[str]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["respondent", "questionnaire", "item", "value", "comment"])
    writer.writerows(rows)
    return buffer.getvalue()


# --------------------------------------------------------------------------- server exports


Server = Literal["kobo", "odk"]


@dataclass
class ExportStyle:
    """How the server writes the export.

    ``labels`` gives, per submission, the language its choices are written in (None: the
    codes); ``separator`` joins group names to question names.
    """

    server: Server = "kobo"
    separator: str = "/"
    labels: Sequence[str | None] = ()
    group_prefixes: bool = True


def _paths(form: XLSForm, separator: str, prefixed: bool) -> dict[str, tuple[str, str | None]]:
    """Each data field's header and the repeat (if any) that holds it."""
    return {name: (separator.join(steps) if prefixed else steps[-1], repeat)
            for name, (steps, repeat) in _instance(form).items()}


_instances: dict[str, dict[str, tuple[tuple[str, ...], str | None]]] = {}


def _instance(form: XLSForm) -> dict[str, tuple[tuple[str, ...], str | None]]:
    """The data fields of the XForm that pyxform makes of the written workbook.

    Read as a server reads it: the primary instance's elements below the root, with the
    groups and repeats above them. Notes hold no answer and are left out, as Kobo leaves
    them out; so is ``meta``. Kept per form, since pyxform takes a while on big forms.
    """
    if form.stamp in _instances:
        return _instances[form.stamp]
    xform = convert(io.BytesIO(form.workbook_bytes()), file_type=".xlsx").xform
    data = next(ElementTree.fromstring(xform).iter(f"{_XFORMS}instance"))[0]
    notes = {row["name"] for row in form.survey if row["type"] == "note"}
    found: dict[str, tuple[tuple[str, ...], str | None]] = {}

    def walk(element: ElementTree.Element, path: tuple[str, ...], repeat: str | None) -> None:
        for child in element:
            name = child.tag.removeprefix(_XFORMS)
            if name in found or name in notes or (not path and name == "meta"):
                continue  # a repeat's template and its first instance are both written
            if len(child):
                walk(child, (*path, name), name if _TEMPLATE in child.attrib else repeat)
            else:
                found[name] = ((*path, name), repeat)

    walk(data, (), None)
    return _instances.setdefault(form.stamp, found)


def _label(form: XLSForm, name: str, code: str, language: str | None) -> str:
    if language is None or not code:
        return code
    form_field = next(f for f in form.fields if f.name == name)
    choice = next((c for c in form_field.choices if c.name == code), None)
    if choice is None:
        return code
    return choice.label.get(language) or choice.label["en"]


def main_table(form: XLSForm, respondents: Sequence[Respondent], style: ExportStyle
               ) -> list[list[Cell]]:
    """The submissions table, one row per respondent, as the server lays it out."""
    paths = _paths(form, style.separator, style.group_prefixes)
    names = [name for name, (_, repeat) in paths.items() if repeat is None]
    if style.server == "kobo":
        header = ["start", "end", *(paths[n][0] for n in names), "meta/instanceID",
                  "formhub/uuid", "_id", "_uuid", "_submission_time", "_validation_status",
                  "_notes", "_status", "_submitted_by", "__version__", "_tags", "_index"]
    else:
        header = ["SubmissionDate", *(paths[n][0] for n in names), "meta-instanceID", "KEY",
                  "SubmitterID", "SubmitterName", "AttachmentsPresent", "AttachmentsExpected",
                  "Status", "ReviewState", "DeviceID", "Edits", "FormVersion"]
    table: list[list[Cell]] = [header]
    for position, respondent in enumerate(respondents):
        language = style.labels[position] if position < len(style.labels) else None
        values = [_field_value(form, name, respondent, language) for name in names]
        if style.server == "kobo":
            table.append(["2025-03-01T10:00:00", "2025-03-01T10:20:00", *values,
                          f"uuid:{respondent.id}", "f00d", 1000 + position, respondent.id,
                          "2025-03-01T10:21:00", "", "", "submitted_via_web", "", "vX1", "",
                          position + 1])
        else:
            table.append(["2025-03-01T10:21:00.000Z", *values, f"uuid:{respondent.id}",
                          f"uuid:{respondent.id}", 7, "collector", 0, 0, "", "approved",
                          "enketo", 0, form.settings["version"]])
    return table


def _field_value(form: XLSForm, name: str, respondent: Respondent, language: str | None
                 ) -> Cell:
    if name == "surveyapp_form":
        return form.stamp
    form_field = next(f for f in form.fields if f.name == name)
    item = form_field.item
    assert item is not None
    if form_field.part == "comment":
        return respondent.comments.get(item.id, "")
    return _label(form, name, respondent.answers.get(item.id, ""), language)


def repeat_tables(form: XLSForm, respondents: Sequence[Respondent], style: ExportStyle
                  ) -> dict[str, list[list[Cell]]]:
    """One table per repeat: the framework nodes of every respondent, linked to them."""
    paths = _paths(form, style.separator, style.group_prefixes)
    tables: dict[str, list[list[Cell]]] = {}
    repeats = dict.fromkeys(repeat for _, repeat in paths.values() if repeat)
    for repeat in repeats:
        names = [name for name, (_, inside) in paths.items() if inside == repeat]
        level = repeat.removeprefix("framework_")
        links = (["_index", "_parent_table_name", "_parent_index", "_submission__id",
                  "_submission__uuid"] if style.server == "kobo" else ["PARENT_KEY", "KEY"])
        table: list[list[Cell]] = [[*(paths[name][0] for name in names), *links]]
        counter = 0
        for position, respondent in enumerate(respondents):
            for entry in respondent.nodes.get(level, []):
                counter += 1
                values = [_node_value(form, name, level, entry) for name in names]
                link: list[Cell] = ([counter, "form", position + 1, 1000 + position,
                                     respondent.id] if style.server == "kobo" else
                                    [f"uuid:{respondent.id}",
                                     f"uuid:{respondent.id}/{repeat}[{counter}]"])
                table.append([*values, *link])
        key = repeat if style.server == "kobo" else f"{form.form_id}-{repeat}"
        tables[key] = table
    return tables


def _node_value(form: XLSForm, name: str, level: str, entry: FrameworkAnswers) -> Cell:
    prefix = field_name(level) + "_"
    if name.startswith(prefix) and name[len(prefix):] in ("id", "title", "parent", "section"):
        return {"id": entry.code, "title": entry.title, "parent": entry.parent,
                "section": entry.section}[name[len(prefix):]]
    form_field = next(f for f in form.fields if f.name == name)
    item = form_field.item
    assert item is not None
    key = form_field.criterion or item.id
    if form_field.part == "justification":
        return entry.comments.get(key, "")
    return entry.answers.get(key, "")


def xlsx_bytes(tables: dict[str, list[list[Cell]]]) -> bytes:
    """A workbook with one sheet per table, in order (Kobo: the submissions first)."""
    workbook = Workbook()
    for position, (title, rows) in enumerate(tables.items()):
        sheet = workbook.worksheets[0] if position == 0 else workbook.create_sheet()
        sheet.title = title[:31]
        for row in rows:
            sheet.append(row)
        for cells in sheet.iter_rows():
            for cell in cells:
                if isinstance(cell.value, str) and cell.value.startswith("="):
                    cell.data_type = "s"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def csv_bytes(rows: list[list[Cell]], delimiter: str = ",") -> bytes:
    buffer = io.StringIO()
    quoting = csv.QUOTE_ALL if delimiter == ";" else csv.QUOTE_MINIMAL  # as Kobo does
    csv.writer(buffer, delimiter=delimiter, quoting=quoting, lineterminator="\r\n").writerows(
        rows)
    return buffer.getvalue().encode("utf-8")


def odk_zip(form: XLSForm, main: list[list[Cell]], repeats: dict[str, list[list[Cell]]]
            ) -> bytes:
    """ODK Central's ``submissions.csv.zip``: FORM.csv and FORM-REPEAT.csv."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(f"{form.form_id}.csv", csv_bytes(main))
        for name, rows in repeats.items():
            archive.writestr(f"{name}.csv", csv_bytes(rows))
    return buffer.getvalue()
