"""Instruments authored in Excel: an instrument as a workbook, and a workbook as an instrument.

An M&E officer who writes or translates an instrument is at home in a spreadsheet, not in
YAML. :func:`instrument_to_workbook` lays an instrument out as one sheet per kind of thing
(nodes, items, options, stages, bands ...), one row each, one column per field and per
language (``title::en``, ``title::fr``); :func:`workbook_to_yaml` reads such a workbook back.
Nothing is lost on the way: YAML -> workbook -> YAML gives the same instrument (the parsed
models are equal; YAML comments are not carried). docs/interop.md documents the layout.

Reading is strict in the pyxform way (reference/style.md section 5): every problem is
reported with its sheet, row and column (``book.xlsx:items!C12: I012 ...``) and a stable
instrument error code; the YAML produced is then validated by
:func:`instruments.loader.parse_instrument`, so every cross-check of a YAML file applies,
and its problems are traced back to the cells they came from.
"""

from __future__ import annotations

import difflib
import io
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import yaml
from openpyxl import Workbook, load_workbook
from openpyxl.utils import get_column_letter
from pydantic import BaseModel

from instruments.archives import UNREADABLE_WORKBOOK, ZIP_MAGIC, archive_problem
from instruments.errors import ErrorCode, InstrumentInvalid, Problem
from instruments.loader import LoadedInstrument, parse_instrument, position_index
from instruments.schema import Instrument, Node
from instruments.xlsform import MAX_CELL_TEXT

Kind = Literal["text", "local", "number", "integer", "boolean", "ids", "lines", "raw"]
Location = tuple[str | int, ...]
LANGUAGE_SEPARATOR = "::"
_LANGUAGE = re.compile(r"^[a-z]{2}$")
_LIST_SEPARATOR = re.compile(r"[,\s]+")
_YES = frozenset({"yes", "y", "true", "1"})
_Dumper: type[yaml.SafeDumper] = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
_NO = frozenset({"no", "n", "false", "0"})


@dataclass(frozen=True)
class Column:
    """A column of a sheet: its header, how its cells are read, where its value goes.

    ``path`` is the place in the object's mapping, ``(name,)`` by default; a longer path
    puts the value in a sub-mapping (``evidence_required`` -> ``evidence.required``).
    """

    name: str
    kind: Kind = "text"
    path: tuple[str, ...] = ()

    @property
    def where(self) -> tuple[str, ...]:
        return self.path or (self.name,)


@dataclass(frozen=True)
class Sheet:
    """A sheet: ``owners`` say which object each row belongs to; ``columns`` its fields."""

    name: str
    columns: tuple[Column, ...]
    owners: tuple[str, ...] = ()
    required: bool = False

    @property
    def headers(self) -> tuple[str, ...]:
        return (*self.owners, *(column.name for column in self.columns))


def _local(name: str, path: tuple[str, ...] = ()) -> Column:
    return Column(name, "local", path)


_OPTION = (Column("code", "integer"), _local("label"), Column("score", "number"),
           Column("excluded"))
_STAGE = (Column("stage", "integer"), _local("title"), _local("descriptor"), Column("source"),
          Column("note"))

#: The layout of the workbook, in sheet order; docs/interop.md shows it with examples.
SHEETS = (
    Sheet("instrument", (Column("key"), Column("version"), _local("title"),
                         _local("description"), Column("languages", "ids"),
                         _local("framework_description", ("framework", "description"))),
          required=True),
    Sheet("sources", (Column("id"), Column("title"), Column("reference"), Column("url"))),
    Sheet("scales", _OPTION, owners=("scale",)),
    Sheet("band_sets", (Column("id"), Column("convention", "boolean"), _local("note"),
                        Column("source"))),
    Sheet("bands", (Column("key"), Column("lower", "number"), Column("upper", "number"),
                    _local("label"), Column("colour"), Column("text_colour"),
                    Column("action", "boolean")),
          owners=("band_set",)),
    Sheet("scoring", (Column("id"), Column("method"), Column("scale_min", "number"),
                      Column("scale_max", "number"), Column("percent_factor", "number"),
                      Column("decimals", "integer"), Column("min_respondents", "integer"),
                      Column("bands"), Column("pooled_questionnaires", "ids"),
                      Column("source"))),
    Sheet("framework", (Column("level"), Column("scoring"))),
    Sheet("nodes", (Column("id"), Column("level"), _local("title"), _local("short_title"),
                    _local("description"), _local("output_quality"), _local("characteristics"),
                    Column("scoring"), Column("other_activity_rows", "integer"),
                    Column("aliases", "lines"), Column("source"), Column("note")),
          owners=("parent",)),
    Sheet("stages", _STAGE, owners=("node", "questionnaire", "item")),
    Sheet("indicators", (_local("text"), Column("in_2004_framework", "boolean"),
                         Column("source")), owners=("node",)),
    Sheet("activities", (Column("id"), _local("text"), Column("source")), owners=("node",)),
    Sheet("questionnaires", (Column("id"), Column("role"), _local("title"),
                             _local("introduction"), Column("anonymous", "boolean"),
                             Column("min_group_size", "integer")),
          required=True),
    Sheet("pages", (Column("id"), _local("title"), Column("items", "ids")),
          owners=("questionnaire",)),
    Sheet("items", (
        Column("id"), Column("type"), Column("node"), Column("nodes", "ids"),
        Column("per_level"), Column("role"), Column("required", "boolean"), Column("relevant"),
        _local("text"), _local("help"), Column("scale"),
        Column("justification_required", "boolean"), Column("minimum", "number"),
        Column("maximum", "number"), Column("integer", "boolean"),
        Column("max_length", "integer"), Column("multiline", "boolean"),
        Column("comment", "boolean"),
        Column("not_applicable", "boolean", ("not_applicable", "allowed")),
        _local("not_applicable_prompt", ("not_applicable", "prompt")),
        Column("evidence_expected", "boolean", ("evidence", "expected")),
        Column("evidence_required", "boolean", ("evidence", "required")),
        _local("evidence_description", ("evidence", "description")),
        _local("evidence_alternative", ("evidence", "alternative")),
        Column("source"), Column("note"),
    ), owners=("questionnaire",), required=True),
    Sheet("options", _OPTION, owners=("questionnaire", "item")),
    Sheet("criteria", (Column("id"), _local("label"), _local("definition"), Column("source")),
          owners=("questionnaire", "item")),
    Sheet("levels", (Column("level", "integer"), _local("descriptor")),
          owners=("questionnaire", "item", "criterion")),
    Sheet("crosswalk", (Column("questionnaire"), Column("from"), Column("to"),
                        Column("note")), owners=("from_version",)),
    Sheet("notes", (Column("note"),)),
)
SHEETS_BY_NAME = {sheet.name: sheet for sheet in SHEETS}
#: How the ``instrument`` sheet is laid out: ``field | value`` rows, read per field later.
_VERTICAL = Sheet("instrument", (Column("field"), Column("value", "raw")))
READ_ME = "read_me"
_READ_ME_TEXT = (
    "This workbook is a surveyapp instrument: one sheet per kind of thing, one row each.",
    "Texts have one column per language: title::en, title::fr ... English is required.",
    "Rows of the nodes, items and other sheets are kept in their order.",
    "Yes/no cells take yes or no; lists of codes take commas; aliases take one per line.",
    "Check and convert it with: surveyapp instruments from-excel BOOK.xlsx -o FILE.yaml",
    "The layout of every sheet is described in docs/interop.md.",
)


@dataclass(frozen=True)
class CellProblem(Problem):
    """A problem in a workbook, located by sheet and cell rather than by line.

    ``line`` is the row and ``column`` the 1-based column; 0 means the whole sheet or row.
    """

    sheet: str | None = None

    def format(self) -> str:
        """``FILE:SHEET!C12: CODE message``, the way spreadsheets name a cell."""
        where = self.file
        if self.sheet:
            where += f":{self.sheet}"
            if self.line:
                where += f"!{get_column_letter(self.column or 1)}{self.line}"
        message = self.message.replace("\r", "\\r").replace("\n", "\\n")
        return f"{where}: {self.code.code} {message}"


# --------------------------------------------------------------------------- writing


def instrument_to_workbook(instrument: Instrument) -> bytes:
    """The .xlsx workbook of an instrument, every sheet of :data:`SHEETS` present.

    :raises InstrumentInvalid: when a text is longer than a cell can hold.
    """
    writer = _Writer(instrument)
    writer.vertical(instrument)
    for source in instrument.sources:
        writer.add("sources", source)
    for scale in instrument.scales:
        for option in scale.options:
            writer.add("scales", option, scale=scale.id)
    for band_set in instrument.bands:
        writer.add("band_sets", band_set)
        for band in band_set.bands:
            writer.add("bands", band, band_set=band_set.id)
    for rule in instrument.scoring:
        writer.add("scoring", rule)
    if instrument.framework is not None:
        for level in instrument.framework.levels:
            writer.row("framework", {"level": level,
                                     "scoring": instrument.framework.scoring.get(level)})
    for node, parent in _walk(instrument.nodes, None):
        writer.add("nodes", node, parent=parent)
        for stage in node.stages:
            writer.add("stages", stage, node=node.id)
        for indicator in node.indicators:
            writer.add("indicators", indicator, node=node.id)
        for activity in node.activities:
            writer.add("activities", activity, node=node.id)
    for questionnaire in instrument.questionnaires:
        writer.add("questionnaires", questionnaire)
        for page in questionnaire.pages:
            writer.add("pages", page, questionnaire=questionnaire.id)
        for item in questionnaire.items:
            owner = {"questionnaire": questionnaire.id, "item": item.id}
            writer.add("items", item, questionnaire=questionnaire.id)
            for option in item.options:
                writer.add("options", option, **owner)
            for stage in item.stages:
                writer.add("stages", stage, **owner)
            for criterion in item.criteria:
                writer.add("criteria", criterion, **owner)
                for level in criterion.levels:
                    writer.add("levels", level, criterion=criterion.id, **owner)
    for crosswalk in instrument.crosswalk:
        for entry in crosswalk.entries:
            writer.add("crosswalk", entry, from_version=crosswalk.from_version)
        if not crosswalk.entries:
            writer.row("crosswalk", {"from_version": crosswalk.from_version})
    for note in instrument.notes:
        writer.row("notes", {"note": note})
    return writer.save()


def _get(data: Mapping[str, Any], path: tuple[str, ...]) -> Any:
    value: Any = data
    for step in path:
        value = value.get(step) if isinstance(value, Mapping) else None
    return value


def _in_present_mapping(data: Mapping[str, Any], path: tuple[str, ...]) -> bool:
    """Whether ``path`` points into a sub-mapping that exists (``evidence`` of an item)."""
    return len(path) > 1 and isinstance(_get(data, path[:-1]), Mapping)


def _walk(nodes: Iterable[Node], parent: str | None) -> Iterator[tuple[Node, str | None]]:
    for node in nodes:
        yield node, parent
        yield from _walk(node.children, node.id)


def _languages(instrument: Instrument) -> tuple[str, ...]:
    """The instrument's languages, then any other language a text happens to carry."""
    found: set[str] = set()

    def visit(value: object) -> None:
        if isinstance(value, dict):
            if value and all(isinstance(key, str) and _LANGUAGE.match(key)
                             and isinstance(text, str) for key, text in value.items()):
                found.update(value)
            for inner in value.values():
                visit(inner)
        elif isinstance(value, list | tuple):
            for inner in value:
                visit(inner)

    visit(instrument.model_dump())
    return (*instrument.languages, *sorted(found - set(instrument.languages)))


class _Writer:
    """Collects the rows of every sheet, then writes the workbook."""

    def __init__(self, instrument: Instrument) -> None:
        self.key = instrument.key
        self.languages = _languages(instrument)
        self.rows: dict[str, list[dict[str, Any]]] = {sheet.name: [] for sheet in SHEETS}

    def headers(self, sheet: Sheet) -> list[str]:
        headers = list(sheet.owners)
        for column in sheet.columns:
            if column.kind == "local":
                headers += [f"{column.name}{LANGUAGE_SEPARATOR}{lang}" for lang in self.languages]
            else:
                headers.append(column.name)
        return headers

    def add(self, sheet_name: str, model: BaseModel, **owners: str | None) -> None:
        """A row from a model: each column's value taken from where its path points."""
        data = model.model_dump(by_alias=True)
        values: dict[str, Any] = dict(owners)
        for column in SHEETS_BY_NAME[sheet_name].columns:
            values.update(self._cells(column, _get(data, column.where),
                                      present=_in_present_mapping(data, column.where)))
        self.row(sheet_name, values)

    def _cells(self, column: Column, value: Any, present: bool) -> dict[str, Any]:
        if value is None:
            return {}
        if column.kind == "local":
            return {f"{column.name}{LANGUAGE_SEPARATOR}{lang}": text
                    for lang, text in value.items()}
        if column.kind == "boolean":
            # Top-level yes/no fields default to no; those of a sub-mapping (evidence,
            # not_applicable) are written out, so that its presence survives the trip.
            return {column.name: "yes" if value else "no"} if value or present else {}
        if column.kind == "ids":
            return {column.name: ", ".join(value)} if value else {}
        if column.kind == "lines":
            return {column.name: "\n".join(value)} if value else {}
        if column.kind == "integer" or (column.kind == "number" and float(value).is_integer()):
            return {column.name: int(value)}
        return {column.name: value}

    def row(self, sheet_name: str, values: dict[str, Any]) -> None:
        self.rows[sheet_name].append(values)

    def vertical(self, instrument: Instrument) -> None:
        """The ``instrument`` sheet: one ``field | value`` row per metadata field."""
        data = instrument.model_dump(by_alias=True)
        for column in SHEETS_BY_NAME["instrument"].columns:
            cells = self._cells(column, _get(data, column.where), present=True)
            for name, cell in cells.items():
                self.row("instrument", {"field": name, "value": cell})

    def save(self) -> bytes:
        workbook = Workbook()
        read_me = workbook.worksheets[0]
        read_me.title = READ_ME
        for line in _READ_ME_TEXT:
            read_me.append([line])
        read_me.column_dimensions["A"].width = 100
        for sheet in SHEETS:
            worksheet = workbook.create_sheet(sheet.name)
            headers = (["field", "value"] if sheet.name == "instrument"
                       else self.headers(sheet))
            worksheet.append(headers)
            for number, values in enumerate(self.rows[sheet.name], start=2):
                cells = [values.get(header) for header in headers]
                self._check_lengths(cells, sheet.name, number)
                worksheet.append(cells)
            worksheet.freeze_panes = "A2"
            for position, header in enumerate(headers, start=1):
                wide = LANGUAGE_SEPARATOR in header or header in ("value", "note", "source")
                worksheet.column_dimensions[get_column_letter(position)].width = (
                    50 if wide else max(12, len(header) + 2))
            self._as_text(worksheet)
        buffer = io.BytesIO()
        workbook.save(buffer)
        return buffer.getvalue()

    def _check_lengths(self, cells: list[Any], sheet_name: str, row: int) -> None:
        """Refuse a text longer than a cell holds (openpyxl would cut it short silently)."""
        for column, value in enumerate(cells, start=1):
            if isinstance(value, str) and len(value) > MAX_CELL_TEXT:
                raise InstrumentInvalid([CellProblem(
                    self.key, row, column, ErrorCode.INVALID_VALUE,
                    f"this text has {len(value)} characters; an Excel cell holds at most "
                    f"{MAX_CELL_TEXT}: shorten it in the instrument", sheet_name)])

    @staticmethod
    def _as_text(worksheet: Any) -> None:
        """Texts that look like formulas stay texts (reference/style.md section 7.11)."""
        for cells in worksheet.iter_rows(min_row=2):
            for cell in cells:
                if isinstance(cell.value, str) and cell.value.startswith("="):
                    cell.data_type = "s"


# --------------------------------------------------------------------------- reading


@dataclass(frozen=True)
class Cell:
    """Where a value came from: sheet, row and column (0 for a whole sheet or row)."""

    sheet: str | None
    row: int = 0
    column: int = 0


@dataclass(frozen=True)
class _Formula:
    """A cell holding a formula: its result is unknown to a file reader, so it is refused."""

    text: str


@dataclass(frozen=True)
class _Slot:
    """What a column of a sheet holds: an owner reference, or a field (in one language)."""

    owner: str | None = None
    column: Column | None = None
    language: str | None = None


@dataclass
class _Row:
    """A data row of a sheet: its owners' values, its fields' raw mapping, their cells."""

    sheet: str
    number: int
    owners: dict[str, str] = field(default_factory=dict)
    data: dict[str, Any] = field(default_factory=dict)
    cells: dict[Location, Cell] = field(default_factory=dict)
    owner_cells: dict[str, Cell] = field(default_factory=dict)

    def owner_cell(self, owner: str) -> Cell:
        return self.owner_cells.get(owner, Cell(self.sheet, self.number, 1))


@dataclass
class _Reader:
    """Reads sheets into raw mappings, noting the cell of every value for later messages."""

    file: str
    problems: list[CellProblem] = field(default_factory=list)
    index: dict[Location, Cell] = field(default_factory=dict)
    #: A sheet or column is missing: rows cannot be put together, so stop after reading.
    structural: bool = False

    def problem(self, cell: Cell, code: ErrorCode, message: str) -> None:
        self.problems.append(CellProblem(self.file, cell.row, cell.column, code, message,
                                         cell.sheet))

    # ------------------------------------------------------------------ cells

    def value(self, raw: Any, kind: Kind, cell: Cell, header: str) -> Any:
        """A cell's value read as ``kind``; None for a blank or a refused cell."""
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            return None
        if isinstance(raw, _Formula):
            self.problem(cell, ErrorCode.INVALID_VALUE, f"`{header}` holds the formula "
                         f"{raw.text}: type the value itself")
            return None
        if kind == "raw":
            return raw
        if kind == "boolean":
            word = str(raw).strip().lower()
            if word in _YES:
                return True
            if word in _NO:
                return False
            self.problem(cell, ErrorCode.INVALID_VALUE,
                         f"`{header}` is a yes/no column: write yes or no, not {raw!r}")
            return None
        if kind in ("number", "integer"):
            return self._number(raw, kind, cell, header)
        text = self._text(raw, cell, header)
        if text is None or kind in ("text", "local"):
            return text
        parts = text.splitlines() if kind == "lines" else _LIST_SEPARATOR.split(text)
        return [part.strip() for part in parts if part.strip()]

    def _text(self, raw: Any, cell: Cell, header: str) -> str | None:
        if isinstance(raw, bool) or not isinstance(raw, str | int | float):
            self.problem(cell, ErrorCode.INVALID_VALUE, f"`{header}` should be text, not "
                         f"{raw!r}: format the cell as Text and type it again")
            return None
        if isinstance(raw, float):
            return str(int(raw)) if raw.is_integer() else repr(raw)
        return str(raw).strip()

    def _number(self, raw: Any, kind: Kind, cell: Cell, header: str) -> int | float | None:
        number: float | None = None
        if isinstance(raw, int | float) and not isinstance(raw, bool):
            number = float(raw)
        elif isinstance(raw, str):
            try:
                number = float(raw.strip().replace(",", "."))
            except ValueError:
                number = None
        if number is None:
            self.problem(cell, ErrorCode.INVALID_VALUE, f"`{header}` takes a number, not {raw!r}")
            return None
        if kind == "integer":
            if not number.is_integer():
                self.problem(cell, ErrorCode.INVALID_VALUE,
                             f"`{header}` takes a whole number, not {raw!r}")
                return None
            return int(number)
        return int(number) if isinstance(raw, int) else number

    # ------------------------------------------------------------------ sheets

    def rows(self, sheet: Sheet, grid: list[tuple[Any, ...]]) -> list[_Row]:
        """Every non-blank data row of a sheet, read column by column."""
        if not grid:
            return []
        slots = self._header(sheet, grid[0])
        headed = {position for position, raw in enumerate(grid[0]) if not _blank(raw)}
        rows: list[_Row] = []
        for number, cells in enumerate(grid[1:], start=2):
            if all(_blank(value) for value in cells):
                continue
            row = _Row(sheet.name, number)
            for position, raw in enumerate(cells):
                cell = Cell(sheet.name, number, position + 1)
                slot = slots.get(position)
                if slot is None:
                    if not _blank(raw) and position not in headed:
                        headed.add(position)  # once per column
                        self.problem(cell, ErrorCode.MISSING_KEY, (
                            f"column {get_column_letter(position + 1)} has values but no "
                            "header in row 1: add the header or delete the values"))
                        self.structural = True
                    continue
                if slot.owner is not None:
                    row.owner_cells[slot.owner] = cell
                    owner = self.value(raw, "text", cell, slot.owner)
                    if owner is not None:
                        row.owners[slot.owner] = owner
                    continue
                assert slot.column is not None
                value = self.value(raw, slot.column.kind, cell, slot.column.name)
                path = slot.column.where + ((slot.language,) if slot.language else ())
                row.cells.setdefault(slot.column.where[:1], cell)
                row.cells[path] = cell
                if value is not None:
                    _put(row.data, path, value)
            rows.append(row)
        present = {slot.owner for slot in slots.values()}
        needed = () if sheet.name in ("nodes", "stages") else sheet.owners
        for owner in (owner for owner in needed if rows and owner not in present):
            self.problem(Cell(sheet.name), ErrorCode.MISSING_KEY,
                         f"sheet {sheet.name} needs a `{owner}` column: it says which "
                         f"{owner.replace('_', ' ')} each row belongs to")
            self.structural = True
        return rows

    def _header(self, sheet: Sheet, cells: tuple[Any, ...]) -> dict[int, _Slot]:
        """Column position -> what the column holds; unknown columns are problems."""
        known = {column.name: column for column in sheet.columns}
        slots: dict[int, _Slot] = {}
        seen: dict[str, int] = {}
        for position, raw in enumerate(cells):
            header = "" if _blank(raw) else str(raw).strip()
            if not header:
                continue
            cell = Cell(sheet.name, 1, position + 1)
            if header in seen:
                self.problem(cell, ErrorCode.DUPLICATE_KEY, f"column `{header}` appears twice "
                             f"(first in column {get_column_letter(seen[header] + 1)}): keep one")
                continue
            seen[header] = position
            name, _, language = header.partition(LANGUAGE_SEPARATOR)
            column = known.get(name)
            if name in sheet.owners and not language:
                slots[position] = _Slot(owner=name)
            elif column is not None and (column.kind == "local") == bool(language):
                if language and not _LANGUAGE.match(language):
                    self.problem(cell, ErrorCode.INVALID_VALUE, f"`{language}` in `{header}` "
                                 "is not a two-letter language code such as en or fr")
                    continue
                slots[position] = _Slot(column=column, language=language or None)
            else:
                self.problem(cell, ErrorCode.UNKNOWN_KEY,
                             f"unknown column `{header}` in sheet {sheet.name}: "
                             f"{_did_you_mean(header, sheet)}")
        return slots

    def record(self, base: Location, row: _Row) -> None:
        """Note the cell of every value a row puts at ``base``."""
        self.index[base] = Cell(row.sheet, row.number, 1)
        for path, cell in row.cells.items():
            self.index[(*base, *path)] = cell


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _did_you_mean(header: str, sheet: Sheet) -> str:
    choices = [*sheet.owners, *(column.name + (LANGUAGE_SEPARATOR + "en" if
                                               column.kind == "local" else "")
                                for column in sheet.columns)]
    guess = difflib.get_close_matches(header, choices, n=1)
    return f"did you mean `{guess[0]}`?" if guess else f"the columns are {', '.join(choices)}"


def _put(target: dict[str, Any], path: tuple[str, ...], value: Any) -> None:
    for step in path[:-1]:
        target = target.setdefault(step, {})
    target[path[-1]] = value


def workbook_to_yaml(data: bytes, filename: str) -> tuple[str, LoadedInstrument]:
    """Read an instrument workbook: the YAML text it gives, and that text validated.

    :raises InstrumentInvalid: listing every problem as a :class:`CellProblem`.
    """
    grids = _open(data, filename)
    reader = _Reader(filename)
    for name in grids:
        if name not in SHEETS_BY_NAME and name != READ_ME:
            guess = difflib.get_close_matches(name, list(SHEETS_BY_NAME), n=1)
            hint = (f"did you mean `{guess[0]}`?" if guess else
                    f"the sheets are {', '.join(SHEETS_BY_NAME)}")
            reader.problem(Cell(name), ErrorCode.UNKNOWN_KEY, f"unknown sheet `{name}`: {hint}")
    for sheet in SHEETS:
        if sheet.required and sheet.name not in grids:
            reader.problem(Cell(None), ErrorCode.MISSING_KEY,
                           f"the workbook has no `{sheet.name}` sheet: add it (surveyapp "
                           "instruments to-excel writes a complete workbook to start from)")
            reader.structural = True
    rows = {sheet.name: reader.rows(_VERTICAL if sheet.name == "instrument" else sheet,
                                    grids.get(sheet.name, []))
            for sheet in SHEETS}
    if reader.structural:
        raise InstrumentInvalid(_sorted(reader.problems))
    raw = _Assembler(reader, rows).instrument()
    if reader.problems:
        raise InstrumentInvalid(_sorted(reader.problems))
    ordered = {name: raw[name] for name in Instrument.model_fields if name in raw}
    text = (f"# Written by `surveyapp instruments from-excel` from {filename}.\n"
            + yaml.dump(ordered, Dumper=_Dumper, sort_keys=False, allow_unicode=True,
                        width=100))
    try:
        loaded = parse_instrument(text.encode("utf-8"), filename)
    except InstrumentInvalid as invalid:
        raise InstrumentInvalid(_sorted(_traced(invalid.problems, text, reader))) from None
    return text, loaded


def _open(data: bytes, filename: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every sheet's rows of values; a formula comes back as :class:`_Formula`."""

    def fail(code: ErrorCode, message: str) -> InstrumentInvalid:
        return InstrumentInvalid([CellProblem(filename, 0, 0, code, message)])

    if not data.strip():
        raise fail(ErrorCode.EMPTY_FILE, "the file is empty: start from the workbook that "
                   "`surveyapp instruments to-excel` writes")
    if not data.startswith(ZIP_MAGIC):
        raise fail(ErrorCode.NOT_TEXT, "this is not an .xlsx workbook: save it from your "
                   "spreadsheet program as Excel Workbook (.xlsx)")
    problem = archive_problem(data)
    if problem:
        raise fail(ErrorCode.UNREADABLE, f"the workbook cannot be opened safely: {problem}; "
                   "save it again as .xlsx")
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
        try:  # read-only sheets are parsed while their rows are read: damage shows here too
            return {sheet.title: [tuple(_Formula(str(cell.value)) if cell.data_type == "f"
                                        else cell.value for cell in row)
                                  for row in sheet.iter_rows()]
                    for sheet in workbook.worksheets}
        finally:
            workbook.close()
    except UNREADABLE_WORKBOOK as error:
        raise fail(ErrorCode.UNREADABLE, f"the workbook cannot be opened "
                   f"({error.__class__.__name__}): save it again as .xlsx") from None


def _sorted(problems: Iterable[CellProblem]) -> list[Problem]:
    order = {name: position for position, name in enumerate(SHEETS_BY_NAME)}
    return sorted(problems, key=lambda p: (order.get(p.sheet or "", -1), p.line, p.column,
                                           p.message))


def _traced(problems: Iterable[Problem], text: str, reader: _Reader) -> list[CellProblem]:
    """Problems of the generated YAML, moved to the cells their values came from.

    The YAML gives each problem a line and column; the paths found there (an entry and its
    first key share a position) lead, through the reader's index, to the cell.
    """
    paths_at: dict[tuple[int, int], list[Location]] = {}
    for path, position in position_index(text).items():
        paths_at.setdefault(position, []).append(path)
    traced: list[CellProblem] = []
    for problem in problems:
        longest = max(paths_at.get((problem.line, problem.column), [()]), key=len)
        cell = _nearest(reader.index, longest)
        traced.append(CellProblem(reader.file, cell.row, cell.column, problem.code,
                                  problem.message, cell.sheet))
    return traced


def _nearest(index: Mapping[Location, Cell], path: Location) -> Cell:
    for length in range(len(path), -1, -1):
        cell = index.get(path[:length])
        if cell is not None:
            return cell
    return Cell(None)


class _Assembler:
    """Puts the rows of every sheet together into one raw instrument mapping."""

    def __init__(self, reader: _Reader, rows: dict[str, list[_Row]]) -> None:
        self.reader = reader
        self.rows = rows
        self.nodes: dict[str, tuple[dict[str, Any], Location]] = {}
        self.questionnaires: dict[str, tuple[dict[str, Any], Location]] = {}
        self.items: dict[tuple[str, str], tuple[dict[str, Any], Location]] = {}

    def instrument(self) -> dict[str, Any]:
        raw: dict[str, Any] = {}
        self._metadata(raw)
        self._list(raw, "sources", self.rows["sources"])
        self._grouped(raw, "scales", "scale", "options", self.rows["scales"])
        self._list(raw, "bands", self.rows["band_sets"])
        self._attach("bands", ("band_set",), "bands",
                     {entry["id"]: (entry, ("bands", i)) for i, entry in
                      enumerate(raw.get("bands", ())) if isinstance(entry.get("id"), str)})
        self._list(raw, "scoring", self.rows["scoring"])
        self._framework(raw)
        self._nodes(raw)
        self._list(raw, "questionnaires", self.rows["questionnaires"])
        for position, entry in enumerate(raw.get("questionnaires", ())):
            self.questionnaires.setdefault(str(entry.get("id")),
                                           (entry, ("questionnaires", position)))
        self._attach("pages", ("questionnaire",), "pages", self.questionnaires)
        self._attach("items", ("questionnaire",), "items", self.questionnaires)
        for (entry, location) in self.questionnaires.values():
            for position, item in enumerate(entry.get("items", ())):
                self.items.setdefault((str(entry.get("id")), str(item.get("id"))),
                                      (item, (*location, "items", position)))
        self._stages()
        self._attach("options", ("questionnaire", "item"), "options", self.items)
        self._attach("criteria", ("questionnaire", "item"), "criteria", self.items)
        criteria = {(*key, str(criterion.get("id"))): (criterion, (*location, "criteria", i))
                    for key, (item, location) in self.items.items()
                    for i, criterion in enumerate(item.get("criteria", ()))}
        self._attach("levels", ("questionnaire", "item", "criterion"), "levels", criteria)
        self._crosswalk(raw)
        notes = [row.data["note"] for row in self.rows["notes"] if "note" in row.data]
        if notes:
            raw["notes"] = notes
            for position, row in enumerate(self.rows["notes"]):
                self.reader.record(("notes", position), row)
        return raw

    def _metadata(self, raw: dict[str, Any]) -> None:
        """The ``instrument`` sheet: ``field`` names a column of its spec, ``value`` holds it."""
        fields = {column.name: column for column in SHEETS_BY_NAME["instrument"].columns}
        self.reader.index[()] = Cell("instrument")
        for row in self.rows["instrument"]:
            name = str(row.data.get("field", ""))
            base, _, language = name.partition(LANGUAGE_SEPARATOR)
            column = fields.get(base)
            value_cell = row.cells.get(("value",), Cell("instrument", row.number, 2))
            if column is None or (column.kind == "local") != bool(language):
                guess = difflib.get_close_matches(name, list(fields), n=1)
                hint = (f"did you mean `{guess[0]}`?" if guess
                        else "the fields are " + ", ".join(fields))
                self.reader.problem(row.cells.get(("field",), Cell("instrument", row.number, 1)),
                                    ErrorCode.UNKNOWN_KEY, f"unknown field `{name}`: {hint}")
                continue
            value = self.reader.value(row.data.get("value"), column.kind, value_cell, name)
            path = column.where + ((language,) if language else ())
            if value is not None:
                _put(raw, path, value)
            self.reader.index[path] = value_cell
            self.reader.index.setdefault(column.where[:1], value_cell)

    def _list(self, raw: dict[str, Any], key: str, rows: list[_Row]) -> None:
        if rows:
            raw[key] = [row.data for row in rows]
            self.reader.index[(key,)] = Cell(key if key != "bands" else "band_sets")
        for position, row in enumerate(rows):
            self.reader.record((key, position), row)

    def _grouped(self, raw: dict[str, Any], key: str, owner: str, child: str,
                 rows: list[_Row]) -> None:
        """Rows of one sheet that share an owner cell form one object (scales)."""
        groups: dict[str, dict[str, Any]] = {}
        for row in rows:
            name = row.owners.get(owner)
            if name is None:
                self.reader.problem(row.owner_cell(owner), ErrorCode.MISSING_KEY,
                                    f"the {owner} of this row is blank: fill it in")
                continue
            if name not in groups:
                groups[name] = {"id": name, child: []}
                position = len(groups) - 1
                self.reader.index[(key, position)] = row.owner_cell(owner)
                self.reader.index[(key, position, "id")] = row.owner_cell(owner)
            group = groups[name]
            position = list(groups).index(name)
            self.reader.record((key, position, child, len(group[child])), row)
            group[child].append(row.data)
        if groups:
            raw[key] = list(groups.values())

    def _attach(self, sheet: str, owners: tuple[str, ...], child: str,
                targets: Mapping[Any, tuple[dict[str, Any], Location]]) -> None:
        """Append each row of ``sheet`` to the object its owner columns name."""
        for row in self.rows[sheet]:
            key = tuple(row.owners.get(owner) for owner in owners)
            target = targets.get(key if len(key) > 1 else key[0])
            if target is None:
                self._unknown_owner(row, owners, key)
                continue
            entry, location = target
            children = entry.setdefault(child, [])
            self.reader.record((*location, child, len(children)), row)
            children.append(row.data)

    def _unknown_owner(self, row: _Row, owners: tuple[str, ...],
                       key: tuple[str | None, ...]) -> None:
        missing = [owner for owner, value in zip(owners, key, strict=True) if value is None]
        if missing:
            self.reader.problem(row.owner_cell(missing[0]),
                                ErrorCode.MISSING_KEY, f"the {missing[0].replace('_', ' ')} "
                                "of this row is blank: fill it in")
            return
        named = " / ".join(f"{owner} `{value}`" for owner, value in zip(owners, key, strict=True))
        self.reader.problem(row.owner_cell(owners[-1]),
                            ErrorCode.UNKNOWN_REFERENCE,
                            f"{named} is not defined in its sheet: check the spelling")

    def _framework(self, raw: dict[str, Any]) -> None:
        rows = self.rows["framework"]
        if not rows:
            return
        framework = raw.setdefault("framework", {})
        framework["levels"] = [row.data.get("level") for row in rows]
        scoring = {row.data["level"]: row.data["scoring"] for row in rows
                   if "scoring" in row.data and "level" in row.data}
        if scoring:
            framework["scoring"] = scoring
        self.reader.index[("framework",)] = Cell("framework")
        for position, row in enumerate(rows):
            level_cell = row.cells.get(("level",), Cell("framework", row.number, 1))
            self.reader.index[("framework", "levels", position)] = level_cell
            if "level" in row.data:
                self.reader.index[("framework", "scoring", row.data["level"])] = row.cells.get(
                    ("scoring",), level_cell)

    def _nodes(self, raw: dict[str, Any]) -> None:
        """The tree: a row's ``parent`` is a node on an earlier row (blank at the top)."""
        for row in self.rows["nodes"]:
            parent = row.owners.get("parent")
            if parent is None:
                siblings, location = raw.setdefault("nodes", []), ("nodes",)
                self.reader.index.setdefault(("nodes",), Cell("nodes"))
            elif parent in self.nodes:
                entry, parent_location = self.nodes[parent]
                siblings, location = entry.setdefault("children", []), (*parent_location,
                                                                        "children")
            else:
                self.reader.problem(row.owner_cell("parent"),
                                    ErrorCode.UNKNOWN_REFERENCE,
                                    f"parent `{parent}` is not a node on a row above this one: "
                                    "list every node after its parent")
                continue
            here = (*location, len(siblings))
            siblings.append(row.data)
            self.reader.record(here, row)
            if isinstance(row.data.get("id"), str):
                self.nodes.setdefault(row.data["id"], (row.data, here))
        for sheet in ("indicators", "activities"):
            self._attach(sheet, ("node",), sheet, self.nodes)

    def _stages(self) -> None:
        """A stage belongs to a node (column ``node``) or to an item (questionnaire, item)."""
        for row in self.rows["stages"]:
            if "node" in row.owners:
                target = self.nodes.get(row.owners["node"])
                key: tuple[str | None, ...] = (row.owners["node"],)
                owners: tuple[str, ...] = ("node",)
            else:
                key = (row.owners.get("questionnaire"), row.owners.get("item"))
                owners = ("questionnaire", "item")
                target = self.items.get((str(key[0]), str(key[1]))) if None not in key else None
            if target is None:
                if key == (None, None):
                    self.reader.problem(Cell("stages", row.number, 1), ErrorCode.MISSING_KEY,
                                        "a stage needs its node, or its questionnaire and item")
                else:
                    self._unknown_owner(row, owners, key)
                continue
            entry, location = target
            stages = entry.setdefault("stages", [])
            self.reader.record((*location, "stages", len(stages)), row)
            stages.append(row.data)

    def _crosswalk(self, raw: dict[str, Any]) -> None:
        """Entries grouped by ``from_version``; a row with only the version declares it."""
        walks: dict[str, dict[str, Any]] = {}
        for row in self.rows["crosswalk"]:
            version = row.owners.get("from_version")
            if version is None:
                self.reader.problem(row.owner_cell("from_version"),
                                    ErrorCode.MISSING_KEY, "the from_version of this row is "
                                    "blank: fill it in")
                continue
            if version not in walks:
                position = len(walks)
                walks[version] = {"from_version": version, "entries": []}
                self.reader.index[("crosswalk", position)] = row.owner_cell("from_version")
            entries = walks[version]["entries"]
            if row.data:
                position = list(walks).index(version)
                self.reader.record(("crosswalk", position, "entries", len(entries)), row)
                entries.append(row.data)
        if walks:
            raw["crosswalk"] = list(walks.values())
