"""Local adaptations of a published instrument: hide optional items, add local ones.

An organisation that needs one more question, or has no use for an optional one, should
not fork the instrument: forks are how CPIMS+ ended up with "different non-compatible
versions" (reference/cpims.md sections 2.3 and 2.8). An *overlay* is a small file, kept
beside the instrument, that names the items it hides and the items it adds. The core
stays locked: an overlay cannot hide an item that is required or that scoring, response
rates or the action plan read, and the items it adds can count in no score: scoring reads
items by their role and type (score, stage, rubric ...), and an added item may have only a
narrative role. It may name a ``node`` to be asked on that node's page. So results
stay comparable across every unit that answered the same instrument version.

Everything here is pure: :func:`parse_overlay` checks an overlay file against the
instrument it adapts and reports every problem located by line and column, like an
instrument file; :func:`apply_overlay` turns instrument + overlay into the instrument the
unit's questionnaire pages are built from. Scoring and reports never need to know.
``instruments/README.md`` section 19 documents the format.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Annotated

from pydantic import Field, ValidationError, field_validator

from instruments.checks import Issue, Location, check_reference, cross_check
from instruments.errors import ErrorCode, InstrumentInvalid, Problem
from instruments.expressions import parse_expression, references
from instruments.loader import (
    LoadedInstrument,
    decode_text,
    locate,
    position_index,
    pydantic_problems,
    read_yaml,
    refuse_float_version,
)
from instruments.schema import (
    KEY_PATTERN,
    Identifier,
    Instrument,
    Item,
    LocalText,
    Model,
    Questionnaire,
)

#: Roles whose answers scores, response rates or the action plan read: never hidden or added.
CORE_ROLES = frozenset({
    "score", "stage", "validated_stage", "activity", "organisation_type", "member_count",
    "attendance_count", "recommendation",
})
#: What an added item may be: narrative only (instruments/README.md section 6).
ADDABLE_ROLES = frozenset({"context", "comment", "open_answer"})
#: Item types that are scored by their type whatever their role.
SCORED_TYPES = frozenset({"stage", "rubric"})
EMPTY_MESSAGE = "the overlay file is empty: start from the example in instruments/README.md"


class HiddenItem(Model):
    """An optional item the unit does not ask."""

    questionnaire: Identifier
    item: Identifier
    reason: str | None = None


class AddedItem(Model):
    """An item of the unit's own, placed after ``after`` (an item of the instrument), or last."""

    questionnaire: Identifier
    after: Identifier | None = None
    item: Item


class Overlay(Model):
    """A whole overlay file."""

    key: Annotated[str, Field(pattern=KEY_PATTERN, max_length=40)]
    version: Annotated[str, Field(min_length=1, max_length=40)]
    instrument: Annotated[str, Field(pattern=KEY_PATTERN, max_length=40)]
    instrument_version: Annotated[str, Field(min_length=1, max_length=40)]
    title: LocalText
    description: LocalText | None = None
    hide: tuple[HiddenItem, ...] = ()
    add: tuple[AddedItem, ...] = ()
    notes: tuple[str, ...] = ()

    @field_validator("version", "instrument_version", mode="before")
    @classmethod
    def _version_as_text(cls, value: object) -> object:
        return str(value) if isinstance(value, int) else value


@dataclass(frozen=True)
class LoadedOverlay:
    """A validated overlay, its text (a byte-order mark dropped) and that text's UTF-8 sha256."""

    overlay: Overlay
    sha256: str
    text: str
    path: str

    @property
    def hidden(self) -> tuple[str, ...]:
        """``questionnaire/item`` of every hidden item, in file order."""
        return tuple(f"{entry.questionnaire}/{entry.item}" for entry in self.overlay.hide)

    @property
    def added(self) -> tuple[str, ...]:
        """``questionnaire/item`` of every added item, in file order."""
        return tuple(f"{entry.questionnaire}/{entry.item.id}" for entry in self.overlay.add)


# --------------------------------------------------------------------------- applying


def apply_overlay(instrument: Instrument, overlay: Overlay) -> Instrument:
    """The instrument as the overlay's unit asks it: hidden items out, added items in.

    An added item goes right after the item named by ``after`` (also when that item is
    hidden: the local question then takes its place), or at the end of the questionnaire;
    in a questionnaire with explicit pages it joins the page of ``after``.
    """
    hidden = {(entry.questionnaire, entry.item) for entry in overlay.hide}
    return instrument.model_copy(update={"questionnaires": tuple(
        _adapted(questionnaire, {item for q, item in hidden if q == questionnaire.id},
                 [entry for entry in overlay.add if entry.questionnaire == questionnaire.id])
        for questionnaire in instrument.questionnaires)})


def _adapted(questionnaire: Questionnaire, hidden: set[str], added: list[AddedItem]
             ) -> Questionnaire:
    if not hidden and not added:
        return questionnaire
    following: dict[str | None, list[Item]] = {}
    for entry in added:
        following.setdefault(entry.after, []).append(entry.item)
    items: list[Item] = []
    for item in questionnaire.items:
        if item.id not in hidden:
            items.append(item)
        items.extend(following.get(item.id, ()))
    items.extend(following.get(None, ()))
    pages = []
    for page in questionnaire.pages:
        ids: list[str] = []
        for item_id in page.items:
            if item_id not in hidden:
                ids.append(item_id)
            ids.extend(item.id for item in following.get(item_id, ()))
        if ids:
            pages.append(page.model_copy(update={"items": tuple(ids)}))
    return questionnaire.model_copy(update={"items": tuple(items), "pages": tuple(pages)})


def adapt(loaded: LoadedInstrument, overlay: LoadedOverlay) -> LoadedInstrument:
    """``loaded`` as ``overlay`` adapts it: the file's text and sha256, the overlay's sha256."""
    return replace(loaded, instrument=apply_overlay(loaded.instrument, overlay.overlay),
                   overlay_sha256=overlay.sha256)


# --------------------------------------------------------------------------- checking


def locked_because(item: Item) -> str | None:
    """Why an overlay may not hide ``item``, or None when it is optional and unscored."""
    if item.required:
        return "it is required"
    if item.role in CORE_ROLES:
        return f"it is a `{item.role}` item, which scores, response rates or the action plan read"
    if item.type in SCORED_TYPES:
        return f"it is a {item.type} item, which is scored"
    return None


def _hide_issues(instrument: Instrument, overlay: Overlay) -> Iterator[Issue]:
    questionnaires = {q.id: q for q in instrument.questionnaires}
    hidden = {(entry.questionnaire, entry.item) for entry in overlay.hide}
    seen: set[tuple[str, str]] = set()
    for position, entry in enumerate(overlay.hide):
        here: Location = ("hide", position)
        questionnaire = questionnaires.get(entry.questionnaire)
        if questionnaire is None:
            yield from check_reference(entry.questionnaire, set(questionnaires),
                                       (*here, "questionnaire"), "questionnaire")
            continue
        items = {item.id: item for item in questionnaire.items}
        item = items.get(entry.item)
        if item is None:
            yield from check_reference(entry.item, set(items), (*here, "item"), "item")
            continue
        if (entry.questionnaire, entry.item) in seen:
            yield Issue((*here, "item"), ErrorCode.DUPLICATE_ID,
                        f"item `{entry.item}` is hidden twice: delete one of the entries")
        seen.add((entry.questionnaire, entry.item))
        reason = locked_because(item)
        if reason is not None:
            yield Issue((*here, "item"), ErrorCode.LOCKED_ITEM,
                        f"item `{entry.item}` cannot be hidden: {reason}. Core items stay in "
                        "every unit's questionnaire so that results stay comparable; remove "
                        "this entry")
            continue
        readers = [other.id for other in questionnaire.items
                   if other.relevant and (entry.questionnaire, other.id) not in hidden
                   and entry.item in references(parse_expression(other.relevant))]
        if readers:
            yield Issue((*here, "item"), ErrorCode.LOCKED_ITEM,
                        f"item `{entry.item}` cannot be hidden: the skip logic of "
                        f"`{readers[0]}` reads its answer. Hide `{readers[0]}` as well, or "
                        "keep this item")
    for questionnaire in instrument.questionnaires:
        if all((questionnaire.id, item.id) in hidden for item in questionnaire.items) and not any(
                entry.questionnaire == questionnaire.id for entry in overlay.add):
            last = max(i for i, entry in enumerate(overlay.hide)
                       if entry.questionnaire == questionnaire.id)
            yield Issue(("hide", last), ErrorCode.INVALID_VALUE,
                        f"every item of questionnaire `{questionnaire.id}` would be hidden: "
                        "keep at least one")


def _add_issues(instrument: Instrument, overlay: Overlay) -> Iterator[Issue]:
    questionnaires = {q.id: q for q in instrument.questionnaires}
    taken = {item.id: q.id for q in instrument.questionnaires for item in q.items}
    for position, entry in enumerate(overlay.add):
        here: Location = ("add", position)
        questionnaire = questionnaires.get(entry.questionnaire)
        if questionnaire is None:
            yield from check_reference(entry.questionnaire, set(questionnaires),
                                       (*here, "questionnaire"), "questionnaire")
            continue
        yield from check_reference(entry.after, {item.id for item in questionnaire.items},
                                   (*here, "after"), "item")
        item = entry.item
        if item.id in taken:
            yield Issue((*here, "item", "id"), ErrorCode.DUPLICATE_ID,
                        f"`{item.id}` is already an item of questionnaire `{taken[item.id]}`: "
                        "give the local item an id of its own, e.g. with your unit's code as "
                        f"prefix (`local.{item.id}`)")
        if item.type in SCORED_TYPES:
            yield Issue((*here, "item", "type"), ErrorCode.LOCKED_ITEM,
                        f"an added item cannot be of type {item.type}, which is scored: use "
                        "single_choice, yes_no, number, text or date")
        if item.role is not None and item.role not in ADDABLE_ROLES:
            yield Issue((*here, "item", "role"), ErrorCode.LOCKED_ITEM,
                        f"an added item cannot have the role `{item.role}`: added items are "
                        f"narrative only; use one of {', '.join(sorted(ADDABLE_ROLES))} or "
                        "leave `role` out")


def _traced_to_overlay(issues: list[Issue], adapted: Instrument, overlay: Overlay
                       ) -> list[Issue]:
    """Issues of the adapted instrument, moved to the added items they come from."""
    origin: dict[tuple[int, int], int] = {}
    for q_position, questionnaire in enumerate(adapted.questionnaires):
        for i_position, item in enumerate(questionnaire.items):
            for a_position, entry in enumerate(overlay.add):
                if entry.questionnaire == questionnaire.id and entry.item is item:
                    origin[(q_position, i_position)] = a_position
    traced = []
    for issue in issues:
        location = issue.location
        if (len(location) >= 4 and location[0] == "questionnaires" and location[2] == "items"
                and (location[1], location[3]) in origin):
            position = origin[(location[1], location[3])]  # type: ignore[index]
            traced.append(Issue(("add", position, "item", *location[4:]), issue.code,
                                issue.message))
        else:
            traced.append(Issue((), issue.code, f"{issue.message} (in the instrument as "
                                "adapted by this overlay)"))
    return traced


def overlay_issues(instrument: Instrument, overlay: Overlay) -> list[Issue]:
    """Every problem of a schema-valid overlay for ``instrument``, located in the overlay."""
    issues: list[Issue] = []
    if overlay.instrument != instrument.key:
        issues.append(Issue(("instrument",), ErrorCode.WRONG_INSTRUMENT,
                            f"this overlay adapts `{overlay.instrument}`, not `{instrument.key}`"
                            f": write `instrument: {instrument.key}`, or upload it beside "
                            f"{overlay.instrument}"))
    elif overlay.instrument_version != instrument.version:
        issues.append(Issue(("instrument_version",), ErrorCode.WRONG_INSTRUMENT,
                            f"this overlay was written for version {overlay.instrument_version} "
                            f"of {instrument.key}, not {instrument.version}: check that its "
                            "items still exist, then write "
                            f"`instrument_version: \"{instrument.version}\"`"))
    if not overlay.hide and not overlay.add:
        issues.append(Issue((), ErrorCode.MISSING_KEY,
                            "the overlay changes nothing: add `hide:` or `add:` entries"))
    if issues:
        return issues
    issues = [*_hide_issues(instrument, overlay), *_add_issues(instrument, overlay)]
    if issues:
        return issues
    adapted = apply_overlay(instrument, overlay)
    return _traced_to_overlay(cross_check(adapted), adapted, overlay)


def parse_overlay(data: bytes, filename: str, instrument: Instrument) -> LoadedOverlay:
    """Validate overlay bytes against the instrument they adapt.

    :raises InstrumentInvalid: listing every problem as ``FILE:LINE:COLUMN: CODE message``.
    """

    def fail(code: ErrorCode, message: str, line: int = 1, column: int = 1) -> InstrumentInvalid:
        return InstrumentInvalid([Problem(filename, line, column, code, message)])

    text = decode_text(data, fail, EMPTY_MESSAGE, "save the overlay as a UTF-8 .yaml text file")
    raw = read_yaml(text, fail)
    if raw is None:
        raise fail(ErrorCode.EMPTY_FILE, EMPTY_MESSAGE)
    if not isinstance(raw, dict):
        raise fail(ErrorCode.NOT_A_MAPPING, "an overlay is a mapping that starts with `key:`, "
                   "`version:`, `instrument:`, `instrument_version:` ...")
    for field in ("version", "instrument_version"):
        refuse_float_version(raw, text, fail, field)
    index = position_index(text)
    try:
        overlay = Overlay.model_validate(raw)
    except ValidationError as error:
        problems = pydantic_problems(error, filename, index, root=Overlay)
        raise InstrumentInvalid(sorted(problems, key=lambda p: (p.line, p.column))) from None
    issues = overlay_issues(instrument, overlay)
    if issues:
        problems = [Problem(filename, *locate(index, issue.location), issue.code, issue.message)
                    for issue in issues]
        raise InstrumentInvalid(sorted(problems, key=lambda p: (p.line, p.column)))
    return LoadedOverlay(overlay, hashlib.sha256(text.encode("utf-8")).hexdigest(), text,
                         filename)
