"""Questionnaire pages built from an instrument, and how each item type is asked.

Three layers, each built from the one before:

- **Questions and slots.** A :class:`Question` is an item with what it needs resolved
  (options from its scale, stages from its node, parsed skip logic). A :class:`Slot` is
  one answer to give: the question, and for items asked ``per_level`` (CPAS), the code
  of one node of the cycle's own results framework.
- **Pages** (:class:`Layout`): the questionnaire's explicit ``pages``, else one page per
  node of the assessed tree (a JIU component, a CCPM sub-function or function), else, for
  items asked per framework level, one page per framework node (every output, then every
  outcome, then every impact, as reference/cpas.md and the CPAS instrument's introduction
  order the working group's analysis).
- **The question-type registry** (:data:`QUESTION_TYPES`): for each item type, the WTForms
  fields that ask it, how the raw text sent by the browser becomes a stored value, and how
  a stored value is shown. The page form and autosave both go through
  ``services.answers.save_answer``, which parses with this registry, so both accept and
  refuse exactly the same input.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from flask_babel import gettext as _
from flask_wtf import FlaskForm
from wtforms import BooleanField, Field, RadioField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.fields.core import UnboundField
from wtforms.widgets import DateInput

from instruments.checks import walk_nodes
from instruments.expressions import (
    Comparison,
    Expression,
    Not,
    Reference,
    evaluate,
    parse_expression,
)
from instruments.schema import Instrument, Item, Node, Option, Questionnaire, Stage
from surveyapp.i18n import localized as marked
from surveyapp.i18n import plain_text as localized
from surveyapp.models import Answer

#: Separates a slot's key from the name of one of its parts in form field names. Item ids
#: and framework codes cannot contain it (instruments.schema.ID_PATTERN).
PART = "~"
#: Longest free text accepted in any text box, so one request cannot fill the database.
MAX_TEXT_LENGTH = 20_000
#: The page title of items attached to no node (context questions, a closing comment).
GENERAL_TITLE = {"en": "General questions", "fr": "Questions générales", "ar": "أسئلة عامة"}
#: Questionnaire roles answered by the cycle's assigned focal points (web contract).
FOCAL_POINT_ROLES = frozenset({"focal_point", "coordinator", "working_group"})
YES_NO = (("yes", {"en": "Yes", "fr": "Oui", "ar": "نعم"}),
          ("no", {"en": "No", "fr": "Non", "ar": "لا"}))


class AnswerRejected(ValueError):
    """Input that cannot be stored; the message tells the respondent what to enter."""


# --------------------------------------------------------------------------- questions


@dataclass(frozen=True)
class Question:
    """An item with its options, stages and skip logic resolved once per instrument."""

    item: Item
    options: tuple[Option, ...] = ()
    stages: tuple[Stage, ...] = ()
    relevance: Expression | None = None

    @property
    def id(self) -> str:
        return self.item.id

    @property
    def type(self) -> str:
        return self.item.type

    @property
    def allows_not_applicable(self) -> bool:
        return bool(self.item.not_applicable and self.item.not_applicable.allowed)

    @property
    def asks_justification(self) -> bool:
        """Rubric items may demand a written justification; "not applicable" always does."""
        return self.item.justification_required or self.allows_not_applicable

    @property
    def evidence_required(self) -> bool:
        return bool(self.item.evidence and self.item.evidence.required)

    @property
    def scored_options(self) -> tuple[Option, ...]:
        return tuple(option for option in self.options if not option.excluded)

    @property
    def excluded_options(self) -> tuple[Option, ...]:
        """"Don't know", "does not exist" and the like: shown after the others."""
        return tuple(option for option in self.options if option.excluded)


def _questions(instrument: Instrument, questionnaire: Questionnaire) -> list[Question]:
    scales = {scale.id: scale.options for scale in instrument.scales}
    nodes = {node.id: node for node, _ in walk_nodes(instrument.nodes)}
    questions = []
    for item in questionnaire.items:
        node = nodes.get(item.node) if item.node else None
        questions.append(
            Question(
                item=item,
                options=item.options or scales.get(item.scale or "", ()),
                stages=item.stages or (node.stages if node else ()),
                relevance=parse_expression(item.relevant) if item.relevant else None,
            )
        )
    return questions


def expression_json(expression: Expression) -> dict[str, Any]:
    """Skip logic as a small JSON tree, which the browser evaluates without a parser."""
    if isinstance(expression, Comparison):
        sides = [
            {"ref": side.name} if isinstance(side, Reference) else {"value": side.value}
            for side in (expression.left, expression.right)
        ]
        return {"op": expression.operator, "left": sides[0], "right": sides[1]}
    if isinstance(expression, Not):
        return {"op": "not", "operand": expression_json(expression.operand)}
    operands = [expression_json(operand) for operand in expression.operands]
    return {"op": expression.operator, "operands": operands}


# --------------------------------------------------------------------------- pages


@dataclass(frozen=True)
class FrameworkEntry:
    """A node of a unit's own results framework (CPAS), detached from the database row."""

    code: str
    level: str
    title: str
    parent_code: str | None = None
    section: str | None = None


def slot_key(item_id: str, framework_node: str = "") -> str:
    """How a slot is named in forms, autosave messages and lookups."""
    return f"{item_id}@{framework_node}" if framework_node else item_id


@dataclass(frozen=True)
class Slot:
    """One answer to give: a question, for one framework node when asked per level."""

    question: Question
    framework_node: str = ""

    @property
    def item_id(self) -> str:
        return self.question.id

    @property
    def key(self) -> str:
        """Unique within a questionnaire; also the base name of the slot's form fields."""
        return slot_key(self.item_id, self.framework_node)

    def part(self, name: str) -> str:
        """The form field name of one part of the slot (``na``, ``comment``, a criterion)."""
        return f"{self.key}{PART}{name}"


@dataclass(frozen=True)
class Page:
    """One page of a questionnaire: the slots of one node, framework node or explicit page."""

    number: int
    title: Mapping[str, str]
    slots: tuple[Slot, ...]
    node: Node | None = None
    framework_entry: FrameworkEntry | None = None

    def label(self, language: str) -> str:
        title = localized(self.title, language)
        if self.node is not None:
            return f"{self.node.id} {title}"
        return title


@dataclass(frozen=True)
class Layout:
    """Every page of one questionnaire in one cycle."""

    instrument: Instrument
    questionnaire: Questionnaire
    pages: tuple[Page, ...]
    framework: tuple[FrameworkEntry, ...] = ()
    _page_of_slot: dict[str, int] = field(default_factory=dict, compare=False)
    _slot_by_key: dict[str, Slot] = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        for page in self.pages:
            for slot in page.slots:
                self._page_of_slot[slot.key] = page.number
                self._slot_by_key[slot.key] = slot

    @property
    def slots(self) -> Iterable[Slot]:
        for page in self.pages:
            yield from page.slots

    def page(self, number: int) -> Page | None:
        return self.pages[number - 1] if 1 <= number <= len(self.pages) else None

    def page_of(self, slot_key: str) -> int | None:
        return self._page_of_slot.get(slot_key)

    def slot_by_key(self, key: str) -> Slot | None:
        return self._slot_by_key.get(key)

    def slot(self, item_id: str, framework_node: str = "") -> Slot | None:
        return self._slot_by_key.get(slot_key(item_id, framework_node))


def _page_node_finder(instrument: Instrument) -> Callable[[str | None], Node | None]:
    """Map an item's node to the node whose page it goes on.

    A node judged as a whole (it has stages, like a JIU component) or with children is a
    page of its own; a leaf without stages is one measure among its siblings (a CCPM
    indicator) and goes on its parent's page.
    """
    nodes: dict[str, Node] = {}
    parents: dict[str, Node] = {}
    for node, _depth in walk_nodes(instrument.nodes):
        nodes[node.id] = node
        for child in node.children:
            parents[child.id] = node

    def page_node(node_id: str | None) -> Node | None:
        node = nodes.get(node_id) if node_id else None
        if node is not None and not node.children and not node.stages and node.id in parents:
            return parents[node.id]
        return node

    return page_node


def _is_under(node: Node, ancestor: Node) -> bool:
    return any(candidate.id == node.id for candidate, _ in walk_nodes(ancestor.children))


def _id_family(item_id: str) -> str:
    """``out.a1.q3`` -> ``out.a1``: how questions attached to no node are grouped."""
    return item_id.rpartition(".")[0]


def _node_pages(
    instrument: Instrument, questions: Sequence[Question]
) -> list[tuple[Node | None, list[Question]]]:
    """Group consecutive questions into pages.

    Questions on a node go on its page node's page; a question on an ancestor of the
    current page's node (a closing comment on a CCPM function) joins that page.
    Questions attached to no node are grouped by the family of their id (JIU's outcomes
    questionnaire: ``out.p1.*``, ``out.a1.*``...; CCPM's context questions: one page).
    """
    page_node = _page_node_finder(instrument)
    groups: list[tuple[Node | None, list[Question]]] = []
    for question in questions:
        node = page_node(question.item.node)
        if groups:
            current, members = groups[-1]
            if node is None and current is None:
                same = _id_family(members[-1].id) == _id_family(question.id)
            else:
                same = node is not None and current is not None and (
                    node.id == current.id or _is_under(current, node))
            if same:
                members.append(question)
                continue
        groups.append((node, [question]))
    return groups


def _framework_order(
    framework: Sequence[FrameworkEntry], level: str
) -> list[FrameworkEntry]:
    return [entry for entry in framework if entry.level == level]


def build_layout(
    instrument: Instrument, questionnaire_id: str, framework: Sequence[FrameworkEntry] = ()
) -> Layout:
    """Lay out one questionnaire's pages for a cycle with this results framework.

    :raises KeyError: for a questionnaire id the instrument does not have.
    """
    questionnaire = next(
        (q for q in instrument.questionnaires if q.id == questionnaire_id), None
    )
    if questionnaire is None:
        raise KeyError(questionnaire_id)
    questions = _questions(instrument, questionnaire)
    by_id = {question.id: question for question in questions}
    pages: list[Page] = []

    def add(title: Mapping[str, str], slots: list[Slot], **where: Any) -> None:
        if slots:
            pages.append(Page(len(pages) + 1, title, tuple(slots), **where))

    def slots_of(members: Iterable[Question]) -> list[Slot]:
        slots: list[Slot] = []
        for question in members:
            if question.item.per_level:
                slots.extend(
                    Slot(question, entry.code)
                    for entry in _framework_order(framework, question.item.per_level)
                )
            else:
                slots.append(Slot(question))
        return slots

    if questionnaire.pages:
        placed = {item_id for page in questionnaire.pages for item_id in page.items}
        for explicit in questionnaire.pages:
            add(explicit.title, slots_of(by_id[item_id] for item_id in explicit.items))
        add(GENERAL_TITLE, slots_of(q for q in questions if q.id not in placed))
    else:
        plain = [q for q in questions if not q.item.per_level]
        for node, members in _node_pages(instrument, plain):
            add(node.title if node else GENERAL_TITLE, slots_of(members), node=node)
        per_level = [q for q in questions if q.item.per_level]
        levels = instrument.framework.levels if instrument.framework else ()
        # The deepest level first: outputs are analysed before the outcomes they serve.
        for level in reversed(levels):
            asked = [q for q in per_level if q.item.per_level == level]
            for entry in _framework_order(framework, level) if asked else ():
                add(
                    {"en": entry.title},
                    [Slot(question, entry.code) for question in asked],
                    framework_entry=entry,
                )
    return Layout(instrument, questionnaire, tuple(pages), tuple(framework))


_layouts: dict[tuple[str, str, tuple[FrameworkEntry, ...]], Layout] = {}
#: Layouts kept in memory at most; an open cycle's layout is rebuilt in milliseconds.
LAYOUT_CACHE_SIZE = 256


def cached_layout(
    fingerprint: str,
    instrument: Instrument,
    questionnaire_id: str,
    framework: tuple[FrameworkEntry, ...] = (),
) -> Layout:
    """:func:`build_layout`, remembered per instrument (``LoadedInstrument.fingerprint``),
    questionnaire and framework."""
    key = (fingerprint, questionnaire_id, framework)
    layout = _layouts.get(key)
    if layout is None:
        if len(_layouts) >= LAYOUT_CACHE_SIZE:
            _layouts.clear()
        layout = _layouts[key] = build_layout(instrument, questionnaire_id, framework)
    return layout


# --------------------------------------------------------------------------- relevance


def slot_relevance(
    layout: Layout, values: Mapping[tuple[str, str], Any]
) -> dict[str, bool]:
    """Which slots apply, given stored values keyed by (item id, framework node).

    Evaluated in questionnaire order, as in XLSForm: an item that does not apply counts as
    unanswered for the skip logic of the items after it. Items asked per framework node
    see the answers given for that same node, and the questionnaire's other answers.
    """
    effective: dict[tuple[str, str], Any] = {}
    relevance: dict[str, bool] = {}
    for slot in layout.slots:
        expression = slot.question.relevance
        applies = True
        if expression is not None:
            answers: dict[str, Any] = {
                item_id: value for (item_id, node), value in effective.items() if node == ""
            }
            if slot.framework_node:
                answers.update(
                    (item_id, value)
                    for (item_id, node), value in effective.items()
                    if node == slot.framework_node
                )
            applies = evaluate(expression, answers)
        relevance[slot.key] = applies
        effective[(slot.item_id, slot.framework_node)] = (
            values.get((slot.item_id, slot.framework_node)) if applies else None
        )
    return relevance


# --------------------------------------------------------------------------- parsing


def _parse_code(question: Question, raw: str) -> int:
    codes = {option.code for option in question.options}
    try:
        code = int(raw)
    except ValueError:
        code = None
    if code not in codes:
        raise AnswerRejected(_("Choose one of the answers offered."))
    return code


def _parse_stage(question: Question, raw: str) -> int:
    numbers = [stage.stage for stage in question.stages]
    try:
        number = int(raw)
    except ValueError:
        number = None
    if number not in numbers:
        raise AnswerRejected(_("Choose one of the stages %(numbers)s to %(numbers2)s.",
                               numbers=numbers[0], numbers2=numbers[-1]))
    return number


def _parse_yes_no(_question: Question, raw: str) -> str:
    if raw not in ("yes", "no"):
        raise AnswerRejected(_("Choose yes or no."))
    return raw


def _number_range(item: Item) -> str:
    low, high = item.minimum, item.maximum
    shown = [f"{bound:g}" for bound in (low, high) if bound is not None]
    if low is not None and high is not None:
        return (_("a whole number from %(low)s to %(high)s") if item.integer else
                _("a number from %(low)s to %(high)s")) % {"low": shown[0], "high": shown[1]}
    if low is not None:
        return (_("a whole number of at least %(low)s") if item.integer else
                _("a number of at least %(low)s")) % {"low": shown[0]}
    if high is not None:
        return (_("a whole number of at most %(high)s") if item.integer else
                _("a number of at most %(high)s")) % {"high": shown[0]}
    return _("a whole number") if item.integer else _("a number")


def _parse_number(question: Question, raw: str) -> int | float:
    item = question.item
    text = raw.replace(" ", "").replace("\u00a0", "")
    if "," in text and "." not in text:
        text = text.replace(",", ".")  # a decimal comma, as typed in French
    try:
        number = float(text)
    except ValueError:
        number = math.nan
    if not math.isfinite(number):
        raise AnswerRejected(_("Enter %(item)s, in figures (e.g. 12).", item=_number_range(item)))
    if item.integer and not number.is_integer():
        raise AnswerRejected(_("Enter %(item)s: no decimals.", item=_number_range(item)))
    if (item.minimum is not None and number < item.minimum) or (
        item.maximum is not None and number > item.maximum
    ):
        raise AnswerRejected(_("Enter %(item)s.", item=_number_range(item)))
    return int(number) if item.integer or number.is_integer() else number


def check_text_length(text: str, limit: int = MAX_TEXT_LENGTH) -> str:
    if len(text) > limit:
        raise AnswerRejected(
            _("Use at most %(limit)s characters here; this text has %(count)s.",
              limit=limit, count=len(text))
        )
    return text


def _parse_text(question: Question, raw: str) -> str:
    return check_text_length(raw, question.item.max_length or MAX_TEXT_LENGTH)


def _parse_date(_question: Question, raw: str) -> str:
    try:
        return date.fromisoformat(raw).isoformat()
    except ValueError:
        raise AnswerRejected(_("Enter a date as year-month-day, e.g. 2026-03-31.")) from None


def parse_rubric(
    question: Question, raw: Mapping[str, str]
) -> tuple[dict[str, int], dict[str, str]]:
    """Rubric levels by criterion, and an error per criterion that could not be read."""
    levels: dict[str, int] = {}
    errors: dict[str, str] = {}
    for criterion in question.item.criteria:
        text = (raw.get(criterion.id) or "").strip()
        if not text:
            continue
        allowed = [level.level for level in criterion.levels]
        try:
            level = int(text)
        except ValueError:
            level = None
        if level in allowed:
            levels[criterion.id] = level
        else:
            errors[criterion.id] = _("Choose a level from %(allowed)s to %(allowed2)s.",
                                     allowed=allowed[0], allowed2=allowed[-1])
    return levels, errors


# --------------------------------------------------------------------------- display


def _show_code(question: Question, value: Any, language: str) -> str:
    option = next((o for o in question.options if o.code == value), None)
    return localized(option.label, language) if option else str(value)


def _show_stage(question: Question, value: Any, language: str) -> str:
    stage = next((s for s in question.stages if s.stage == value), None)
    if stage is None:
        return _("Stage %(value)s", value=value)
    return _("Stage %(value)s: %(stage)s", value=value, stage=localized(stage.title, language))


def _show_yes_no(_question: Question, value: Any, language: str) -> str:
    return next((localized(label, language) for code, label in YES_NO if code == value), "")


def _show_number(_question: Question, value: Any, _language: str) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def _show_text(_question: Question, value: Any, _language: str) -> str:
    return str(value)


def _show_rubric(question: Question, value: Any, language: str) -> str:
    if not isinstance(value, Mapping):
        return ""
    parts = [
        f"{localized(criterion.label, language)} {value[criterion.id]}"
        for criterion in question.item.criteria
        if criterion.id in value
    ]
    if len(parts) == len(question.item.criteria):
        parts.append(_("total %(sum)s", sum=sum(int(level) for level in value.values())))
    return ", ".join(parts)


# --------------------------------------------------------------------------- fields


def _choice_field(question: Question, language: str, render_kw: dict[str, Any]) -> UnboundField:
    choices = [SelectChoice(str(o.code), marked(o.label, language)) for o in question.options]
    return RadioField(
        localized(question.item.text, language),
        choices=choices,
        validate_choice=False,
        render_kw=render_kw,
    )


def _stage_field(question: Question, language: str, render_kw: dict[str, Any]) -> UnboundField:
    choices = [SelectChoice(str(s.stage), marked(s.title, language)) for s in question.stages]
    return RadioField(
        localized(question.item.text, language),
        choices=choices,
        validate_choice=False,
        render_kw=render_kw,
    )


def _yes_no_field(question: Question, language: str, render_kw: dict[str, Any]) -> UnboundField:
    choices = [SelectChoice(code, marked(label, language)) for code, label in YES_NO]
    return RadioField(
        localized(question.item.text, language),
        choices=choices,
        validate_choice=False,
        render_kw=render_kw,
    )


def _number_field(question: Question, language: str, render_kw: dict[str, Any]) -> UnboundField:
    mode = "numeric" if question.item.integer else "decimal"
    return StringField(
        localized(question.item.text, language),
        render_kw={**render_kw, "inputmode": mode, "autocomplete": "off"},
    )


def _text_field(question: Question, language: str, render_kw: dict[str, Any]) -> UnboundField:
    item = question.item
    limits = {"maxlength": item.max_length} if item.max_length else {}
    kind = TextAreaField if item.multiline else StringField
    rows = {"rows": 5} if item.multiline else {}
    return kind(localized(item.text, language), render_kw={**render_kw, **limits, **rows})


def _date_field(question: Question, language: str, render_kw: dict[str, Any]) -> UnboundField:
    return StringField(
        localized(question.item.text, language), widget=DateInput(), render_kw=render_kw
    )


@dataclass(frozen=True)
class QuestionType:
    """How one item type is asked (a WTForms field), read back and shown.

    ``parse`` turns the text a browser sends into the stored value, raising
    :class:`AnswerRejected`; rubric items, whose answer is several levels and a
    justification, have ``parse`` None and are read by :func:`parse_rubric`.
    """

    make_field: Callable[[Question, str, dict[str, Any]], UnboundField] | None
    parse: Callable[[Question, str], Any] | None
    display: Callable[[Question, Any, str], str]


QUESTION_TYPES: dict[str, QuestionType] = {
    "single_choice": QuestionType(_choice_field, _parse_code, _show_code),
    "stage": QuestionType(_stage_field, _parse_stage, _show_stage),
    "yes_no": QuestionType(_yes_no_field, _parse_yes_no, _show_yes_no),
    "number": QuestionType(_number_field, _parse_number, _show_number),
    "text": QuestionType(_text_field, _parse_text, _show_text),
    "date": QuestionType(_date_field, _parse_date, _show_text),
    "rubric": QuestionType(None, None, _show_rubric),
}


def parse_value(question: Question, raw: str) -> Any:
    """The stored value of ``raw`` (None when blank); :class:`AnswerRejected` if unreadable."""
    parse = QUESTION_TYPES[question.type].parse
    if parse is None:
        raise AnswerRejected(_("This question is answered level by level."))
    text = raw.strip()
    if not text:
        return None
    return parse(question, text)


def display_value(question: Question, value: Any, language: str = "en") -> str:
    """A stored value as the respondent would read it ("" when unanswered)."""
    if value is None:
        return ""
    return QUESTION_TYPES[question.type].display(question, value, language)


def slot_fields(slot: Slot, language: str, *, editable: bool) -> dict[str, UnboundField]:
    """The WTForms fields of one slot, keyed by form field name."""
    question = slot.question
    item = question.item
    render_kw: dict[str, Any] = {"form": "answers"}
    if not editable:
        render_kw["disabled"] = True
    fields: dict[str, UnboundField] = {}
    make_field = QUESTION_TYPES[question.type].make_field
    if make_field is not None:
        fields[slot.key] = make_field(question, language, render_kw)
    for criterion in item.criteria:
        fields[slot.part(criterion.id)] = RadioField(
            localized(criterion.label, language),
            choices=[SelectChoice(str(level.level)) for level in criterion.levels],
            validate_choice=False,
            render_kw=render_kw,
        )
    if question.allows_not_applicable:
        prompt = item.not_applicable.prompt if item.not_applicable else None
        fields[slot.part("na")] = BooleanField(
            marked(prompt, language) or _("Not applicable"), render_kw=render_kw
        )
    if question.asks_justification:
        label = _("Justification") if item.justification_required else _("Why does it not apply?")
        fields[slot.part("justification")] = TextAreaField(
            label, render_kw={**render_kw, "rows": 4}
        )
    if item.comment:
        fields[slot.part("comment")] = TextAreaField(
            _("Comment (optional)"), render_kw={**render_kw, "rows": 3}
        )
    return fields


class PageForm(FlaskForm):
    """Base of the page forms: only the CSRF token; the fields are added per page."""


def page_form_class(
    page: Page, language: str, editable_keys: frozenset[str] | None
) -> type[PageForm]:
    """A form class for one page; slots outside ``editable_keys`` (None: all) are disabled."""
    attributes: dict[str, Field | UnboundField] = {}
    for slot in page.slots:
        editable = editable_keys is None or slot.key in editable_keys
        attributes.update(slot_fields(slot, language, editable=editable))
    return type("QuestionnairePageForm", (PageForm,), attributes)


def form_data(page: Page, answers: Mapping[str, Answer]) -> dict[str, Any]:
    """Initial form data for a page from the stored answers, by slot key."""
    data: dict[str, Any] = {}
    for slot in page.slots:
        answer = answers.get(slot.key)
        if answer is None:
            continue
        if slot.question.type == "rubric":
            for criterion_id, level in (answer.value or {}).items():
                data[slot.part(criterion_id)] = str(level)
        elif answer.value is not None:
            data[slot.key] = answer.value if isinstance(answer.value, str) else str(answer.value)
        data[slot.part("na")] = answer.not_applicable
        data[slot.part("justification")] = answer.justification or ""
        data[slot.part("comment")] = answer.comment or ""
    return data
