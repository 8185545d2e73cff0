"""The building blocks of a report page: headings, paragraphs, tables, charts, quotes.

Section builders (reports/sections/) turn results into a flat list of blocks,
already worded in the report's language; the Jinja templates in
templates/reports/ only lay them out. Keeping the decisions in Python keeps
the templates small and lets tests inspect a report without rendering it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from reports.labels import Rating


@dataclass(frozen=True)
class Heading:
    """A heading; levels 1 and 2 go into the table of contents, level 1 starts a page."""

    level: int
    text: str
    anchor: str = ""


@dataclass(frozen=True)
class Paragraph:
    text: str
    style: str = ""


@dataclass(frozen=True)
class Cell:
    """A table cell; a rating cell is filled with its band colour and shows its words."""

    text: str
    rating: Rating | None = None
    style: str = ""
    span: int = 1


@dataclass(frozen=True)
class Row:
    cells: tuple[Cell, ...]
    style: str = ""


@dataclass(frozen=True)
class Table:
    """``numeric`` holds the positions of right-aligned columns; ``widths`` are CSS widths."""

    columns: tuple[str, ...]
    rows: tuple[Row, ...]
    numeric: frozenset[int] = frozenset()
    widths: tuple[str, ...] = ()
    style: str = ""


@dataclass(frozen=True)
class Chart:
    """An SVG chart and the text a screen reader gets instead."""

    svg: str
    description: str


@dataclass(frozen=True)
class Quote:
    who: str
    text: str


@dataclass(frozen=True)
class Quotes:
    """Answers written by respondents, under a title; ``empty`` is shown when there are none."""

    title: str
    quotes: tuple[Quote, ...]
    empty: str = ""


@dataclass(frozen=True)
class Facts:
    """Label and value pairs (a stage, a score and its rating...), side by side."""

    pairs: tuple[tuple[str, Cell], ...]


@dataclass(frozen=True)
class Items:
    """A bulleted list (evidence documents, follow-up actions)."""

    title: str
    entries: tuple[str, ...]
    empty: str = ""


Block = Heading | Paragraph | Table | Chart | Quotes | Facts | Items


@dataclass(frozen=True)
class Section:
    """A titled part of the report and its blocks."""

    heading: Heading
    blocks: tuple[Block, ...] = field(default_factory=tuple)


def text_cells(*texts: str) -> tuple[Cell, ...]:
    return tuple(Cell(text) for text in texts)


def kind(block: Block) -> str:
    """The name templates dispatch on: ``heading``, ``table``..."""
    return type(block).__name__.lower()
