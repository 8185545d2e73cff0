"""The workbook: answers, scores, evidence, comments and the action plan, one sheet each.

Written with openpyxl in write-only mode, so rows stream to disk and a
workbook of hundreds of thousands of answers needs little memory. Every sheet
has a bold, frozen header row, a filter and set column widths; rating cells
are filled with their band colour and keep the rating in words.

Text typed by people (answers, comments, names) is always written as text:
openpyxl stores a string that starts with ``=`` as a formula, and a few others
(``#N/A``...) as error values, so such cells are forced to the string type and
a spreadsheet program shows them as typed, never runs them. Characters that
XML cannot hold (control characters other than tab and line breaks) are
dropped, as a spreadsheet program would refuse the file otherwise.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ERROR_CODES, ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from reports.i18n import Translator
from reports.model import ReportData
from reports.sections import Context
from reports.tables import Rated, SheetValue, Table, answers_table, tables
from scoring import Responses

HEADER_FONT = Font(bold=True)
HEADER_FILL = PatternFill("solid", fgColor="E8EDF4")
WRAP = Alignment(wrap_text=True, vertical="top")

_ERROR_CODES = frozenset(ERROR_CODES)


def write_workbook(data: ReportData, target: str | Path | IO[bytes]) -> None:
    """Write the report's workbook (five sheets) to a path or a binary file object."""
    workbook = Workbook(write_only=True)
    for table in tables(Context.of(data)):
        write_sheet(workbook, table)
    workbook.save(target)


def write_answers_workbook(
    responses: Responses, target: str | Path | IO[bytes], language: str = "en"
) -> None:
    """Write the answers alone, in the long format of the responses file, as a workbook."""
    workbook = Workbook(write_only=True)
    write_sheet(workbook, answers_table(responses, Translator(language)))
    workbook.save(target)


def write_sheet(workbook: Workbook, table: Table) -> None:
    """One table as a sheet: header frozen and filtered, widths set, ratings coloured."""
    sheet = workbook.create_sheet(table.title[:31])
    sheet.freeze_panes = "A2"
    for position, width in enumerate(table.widths, start=1):
        sheet.column_dimensions[get_column_letter(position)].width = width
    header = []
    for title in table.columns:
        cell = WriteOnlyCell(sheet, _clean(title))
        cell.font = HEADER_FONT
        cell.fill = HEADER_FILL
        cell.alignment = WRAP
        header.append(cell)
    sheet.append(header)
    written = 0
    for row in _rows(sheet, table.rows):
        sheet.append(row)
        written += 1
    last = get_column_letter(len(table.columns))
    sheet.auto_filter.ref = f"A1:{last}{written + 1}"


def _rows(
    sheet: WriteOnlyWorksheet, rows: Iterable[tuple[SheetValue, ...]]
) -> Iterator[list[object]]:
    """Rows ready for a write-only sheet: text made safe, ratings as coloured cells."""
    for row in rows:
        yield [_cell(sheet, value) for value in row]


def _cell(sheet: WriteOnlyWorksheet, value: SheetValue) -> object:
    if isinstance(value, Rated):
        cell = WriteOnlyCell(sheet, _clean(value.text))
        cell.data_type = "s"
        cell.fill = PatternFill("solid", fgColor=value.rating.colour.lstrip("#").upper())
        cell.font = Font(bold=True, color=value.rating.text_colour.lstrip("#").upper())
        return cell
    if type(value) is not str:
        return value
    text = _clean(value)
    if text[:1] == "=" or text in _ERROR_CODES:
        cell = WriteOnlyCell(sheet, text)
        cell.data_type = "s"
        return cell
    return text


def _clean(text: str) -> str:
    """Drop the control characters XML cannot store (tab and line breaks stay)."""
    return ILLEGAL_CHARACTERS_RE.sub("", text) if ILLEGAL_CHARACTERS_RE.search(text) else text
