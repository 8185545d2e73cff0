"""Cross-field rules of the instrument format.

pydantic checks each field; these checks look at the whole instrument: ids
are unique, references resolve, bands tile their scale, skip logic parses and
only reads earlier answers, and each item has the fields its type needs.
Each issue carries the path of the offending element so the loader can turn
it into a line and column.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from instruments.errors import ErrorCode
from instruments.expressions import ExpressionError, parse_expression, references
from instruments.schema import (
    BandSet,
    Instrument,
    Item,
    Node,
    Option,
    Questionnaire,
    ScoringRule,
)

Location = tuple[str | int, ...]


@dataclass(frozen=True)
class Issue:
    location: Location
    code: ErrorCode
    message: str


def walk_nodes(
    nodes: Iterable[Node], path: Location = ("nodes",)
) -> Iterator[tuple[Node, Location]]:
    """Every node of the tree, depth first, with its path in the file."""
    for position, node in enumerate(nodes):
        here = (*path, position)
        yield node, here
        yield from walk_nodes(node.children, (*here, "children"))


def _duplicates(
    entries: Iterable[tuple[str, Location]], kind: str, field: str = "id"
) -> Iterator[Issue]:
    first_seen: dict[str, Location] = {}
    for identifier, location in entries:
        if identifier in first_seen:
            yield Issue((*location, field), ErrorCode.DUPLICATE_ID,
                        f"{kind} {field} `{identifier}` is used twice: give each {kind} its own "
                        f"{field}")
        else:
            first_seen[identifier] = location


def check_reference(
    value: str | None, known: set[str], location: Location, kind: str
) -> Iterator[Issue]:
    if value is not None and value not in known:
        guess = difflib.get_close_matches(value, sorted(known), n=1)
        hint = f"did you mean `{guess[0]}`?" if guess else f"define the {kind} first"
        yield Issue(location, ErrorCode.UNKNOWN_REFERENCE,
                    f"no {kind} has the id `{value}`: {hint}")


def _check_bands(
    band_set: BandSet, location: Location, rules: list[ScoringRule]
) -> Iterator[Issue]:
    bands = band_set.bands
    for position, band in enumerate(bands):
        if band.lower >= band.upper:
            yield Issue((*location, "bands", position, "upper"), ErrorCode.BAND_RANGE,
                        f"band `{band.key}` has lower {band.lower:g} >= upper {band.upper:g}")
    for position in range(1, len(bands)):
        previous, band = bands[position - 1], bands[position]
        here = (*location, "bands", position, "lower")
        if band.lower > previous.upper:
            yield Issue(here, ErrorCode.BAND_GAP,
                        f"band `{band.key}` starts at {band.lower:g} but `{previous.key}` ends at "
                        f"{previous.upper:g}: set lower to {previous.upper:g}")
        elif band.lower < previous.upper:
            yield Issue(here, ErrorCode.BAND_OVERLAP,
                        f"band `{band.key}` starts at {band.lower:g}, inside `{previous.key}` "
                        f"(which ends at {previous.upper:g}): set lower to {previous.upper:g}")
    yield from _duplicates(((b.key, (*location, "bands", i)) for i, b in enumerate(bands)),
                           "band", "key")
    for rule in rules:
        if rule.bands != band_set.id or rule.scale_min is None or rule.scale_max is None:
            continue
        low, high = rule.scale_min, rule.scale_max
        if rule.percent_factor is not None:
            low, high = low * rule.percent_factor, high * rule.percent_factor
        if bands[0].lower != low or bands[-1].upper != high:
            yield Issue((*location, "bands"), ErrorCode.BAND_RANGE,
                        f"bands run from {bands[0].lower} to {bands[-1].upper} but scoring rule "
                        f"`{rule.id}` produces values from {low} to {high}: make them match")


def _check_options(options: tuple[Option, ...], location: Location) -> Iterator[Issue]:
    codes: dict[int, int] = {}
    for position, option in enumerate(options):
        here = (*location, position)
        if option.code in codes:
            yield Issue((*here, "code"), ErrorCode.OPTION_SCORING,
                        f"option code {option.code} is used twice: codes must be unique")
        codes[option.code] = position
        if option.excluded is not None and option.score is not None:
            yield Issue((*here, "score"), ErrorCode.OPTION_SCORING,
                        f"option {option.code} is excluded ({option.excluded}) and also has a "
                        "score: remove one of them")


def _numbered(numbers: list[int], location: Location, what: str) -> Iterator[Issue]:
    start = numbers[0] if numbers else 1
    if numbers != list(range(start, start + len(numbers))):
        yield Issue(location, ErrorCode.STAGE_NUMBERING,
                    f"{what} are numbered {numbers}: number them consecutively in order")


_TYPE_FIELDS: dict[str, set[str]] = {
    "single_choice": {"options", "scale"},
    "stage": {"stages"},
    "rubric": {"criteria", "justification_required"},
    "yes_no": set(),
    "number": {"minimum", "maximum", "integer"},
    "text": {"max_length", "multiline"},
    "date": set(),
}
_TYPED_FIELDS = set().union(*_TYPE_FIELDS.values())


def _check_item(
    item: Item,
    location: Location,
    instrument: Instrument,
    nodes_by_id: dict[str, Node],
    scales: set[str],
) -> Iterator[Issue]:
    allowed = _TYPE_FIELDS[item.type]
    for field in sorted(_TYPED_FIELDS - allowed):
        if field in item.model_fields_set:
            yield Issue((*location, field), ErrorCode.ITEM_TYPE_MISMATCH,
                        f"item `{item.id}` is of type {item.type}, which does not use `{field}`: "
                        "remove it or change the type")
    for position, node_id in enumerate(item.node_ids):
        field_location = (*location, "node") if position == 0 and item.node else (
            *location, "nodes", position - (1 if item.node else 0))
        yield from check_reference(node_id, set(nodes_by_id), field_location, "node")
    levels = set(instrument.framework.levels) if instrument.framework else set()
    yield from check_reference(item.per_level, levels, (*location, "per_level"), "framework level")
    if item.type == "single_choice":
        if bool(item.options) == bool(item.scale):
            yield Issue(location, ErrorCode.ITEM_TYPE_MISMATCH,
                        f"single_choice item `{item.id}` needs either `options` or `scale` "
                        "(exactly one of them)")
        yield from check_reference(item.scale, scales, (*location, "scale"), "scale")
        yield from _check_options(item.options, (*location, "options"))
    elif item.type == "stage":
        stages = item.stages or (nodes_by_id[item.node].stages
                                 if item.node in nodes_by_id else ())
        if not stages:
            yield Issue(location, ErrorCode.ITEM_TYPE_MISMATCH,
                        f"stage item `{item.id}` has no stages: list `stages` on the item or on "
                        "its node")
        yield from _numbered([s.stage for s in item.stages], (*location, "stages"), "stages")
    elif item.type == "rubric":
        if not item.criteria:
            yield Issue(location, ErrorCode.ITEM_TYPE_MISMATCH,
                        f"rubric item `{item.id}` needs `criteria`")
        yield from _duplicates(((c.id, (*location, "criteria", i))
                                for i, c in enumerate(item.criteria)), "criterion")
        for position, criterion in enumerate(item.criteria):
            yield from _numbered([level.level for level in criterion.levels],
                                 (*location, "criteria", position, "levels"), "rubric levels")
    elif (item.type == "number" and item.minimum is not None and item.maximum is not None
          and item.minimum > item.maximum):
        yield Issue((*location, "minimum"), ErrorCode.INVALID_VALUE,
                    f"item `{item.id}` has minimum {item.minimum} above maximum {item.maximum}")


def _check_skip_logic(questionnaire: Questionnaire, location: Location) -> Iterator[Issue]:
    position_of: dict[str, int] = {}
    for position, item in enumerate(questionnaire.items):
        position_of.setdefault(item.id, position)  # a duplicated id is reported once, as I020
    for position, item in enumerate(questionnaire.items):
        if item.relevant is None:
            continue
        here = (*location, "items", position, "relevant")
        try:
            expression = parse_expression(item.relevant)
        except ExpressionError as error:
            yield Issue(here, ErrorCode.SKIP_LOGIC_SYNTAX,
                        f"skip logic of `{item.id}` cannot be read at character "
                        f"{error.position + 1}: {error} "
                        "(write e.g. `${q1} = 4 and ${q2} != 0`)")
            continue
        for name in references(expression):
            if name not in position_of:
                yield Issue(here, ErrorCode.SKIP_LOGIC_UNKNOWN_ITEM,
                            f"skip logic of `{item.id}` reads `${{{name}}}`, which is not an item "
                            f"of questionnaire `{questionnaire.id}`")
            elif position_of[name] >= position:
                yield Issue(here, ErrorCode.SKIP_LOGIC_LATER_ITEM,
                            f"skip logic of `{item.id}` reads `${{{name}}}`, which is asked at or "
                            "after this item: only earlier answers are known")


def cross_check(instrument: Instrument) -> list[Issue]:
    """Every cross-field problem of a schema-valid instrument."""
    issues: list[Issue] = []
    add = issues.extend
    node_entries = list(walk_nodes(instrument.nodes))
    nodes_by_id = {node.id: node for node, _ in node_entries}
    rules = {rule.id for rule in instrument.scoring}
    band_sets = {band_set.id for band_set in instrument.bands}
    scales = {scale.id for scale in instrument.scales}

    add(_duplicates(((n.id, loc) for n, loc in node_entries), "node"))
    for kind, entries in (
        ("source", instrument.sources), ("scale", instrument.scales),
        ("band set", instrument.bands), ("scoring rule", instrument.scoring),
        ("questionnaire", instrument.questionnaires),
    ):
        field = {"source": "sources", "scale": "scales", "band set": "bands",
                 "scoring rule": "scoring", "questionnaire": "questionnaires"}[kind]
        add(_duplicates(((e.id, (field, i)) for i, e in enumerate(entries)), kind))

    for position, rule in enumerate(instrument.scoring):
        add(check_reference(rule.bands, band_sets, ("scoring", position, "bands"), "band set"))
        questionnaires = {q.id for q in instrument.questionnaires}
        for q_position, questionnaire_id in enumerate(rule.pooled_questionnaires):
            add(check_reference(questionnaire_id, questionnaires,
                           ("scoring", position, "pooled_questionnaires", q_position),
                           "questionnaire"))
    for position, band_set in enumerate(instrument.bands):
        add(_check_bands(band_set, ("bands", position), list(instrument.scoring)))
    for position, scale in enumerate(instrument.scales):
        add(_check_options(scale.options, ("scales", position, "options")))
    for node, location in node_entries:
        add(check_reference(node.scoring, rules, (*location, "scoring"), "scoring rule"))
        add(_numbered([s.stage for s in node.stages], (*location, "stages"), "stages"))
        add(_duplicates(((a.id, (*location, "activities", i))
                         for i, a in enumerate(node.activities)), "activity"))
    if instrument.framework is not None:
        for level, rule_id in instrument.framework.scoring.items():
            add(check_reference(level, set(instrument.framework.levels),
                           ("framework", "scoring", level), "framework level"))
            add(check_reference(rule_id, rules, ("framework", "scoring", level), "scoring rule"))

    for q_position, questionnaire in enumerate(instrument.questionnaires):
        location: Location = ("questionnaires", q_position)
        add(_duplicates(((item.id, (*location, "items", i))
                         for i, item in enumerate(questionnaire.items)), "item"))
        for i, item in enumerate(questionnaire.items):
            add(_check_item(item, (*location, "items", i), instrument, nodes_by_id, scales))
        add(_check_skip_logic(questionnaire, location))
        item_ids = {item.id for item in questionnaire.items}
        for p_position, page in enumerate(questionnaire.pages):
            for i, item_id in enumerate(page.items):
                add(check_reference(item_id, item_ids, (*location, "pages", p_position, "items", i),
                               "item"))
    add(_check_crosswalk(instrument, set(nodes_by_id)))
    return issues


def _check_crosswalk(instrument: Instrument, node_ids: set[str]) -> Iterator[Issue]:
    """A crosswalk's ``to`` must name an item of its questionnaire (or, without one, a node)."""
    items = {q.id: {item.id for item in q.items} for q in instrument.questionnaires}
    all_items = set().union(*items.values())
    for c_position, crosswalk in enumerate(instrument.crosswalk):
        for e_position, entry in enumerate(crosswalk.entries):
            location = ("crosswalk", c_position, "entries", e_position)
            if entry.questionnaire is not None and entry.questionnaire not in items:
                yield from check_reference(entry.questionnaire, set(items),
                                      (*location, "questionnaire"), "questionnaire")
                continue
            known = (items[entry.questionnaire] if entry.questionnaire is not None
                     else all_items | node_ids)
            yield from check_reference(entry.to, known, (*location, "to"), "item")


def missing_translations(instrument: Instrument, language: str) -> list[Issue]:
    """Every text that has English but lacks ``language`` (``validate --require-lang``)."""
    issues: list[Issue] = []

    def visit(value: object, path: Location) -> None:
        if isinstance(value, dict):
            if "en" in value and all(isinstance(v, str) for v in value.values()):
                if language not in value:
                    issues.append(Issue(path, ErrorCode.MISSING_TRANSLATION,
                                        f"{_path_text(path)} has no `{language}` text: add "
                                        f"`{language}: ...` beside `en:`"))
                return
            for key, child in value.items():
                visit(child, (*path, key))
        elif isinstance(value, list | tuple):
            for position, child in enumerate(value):
                visit(child, (*path, position))

    visit(instrument.model_dump(by_alias=True, exclude_none=True), ())
    return issues


def _path_text(path: Location) -> str:
    text = "".join(f"[{step}]" if isinstance(step, int) else f".{step}" for step in path)
    return text.lstrip(".")
