"""CSV files of the answers and the scores, for other programs.

The answers file has exactly the header and rows the offline commands read
(``surveyapp score`` and ``surveyapp report``), so it can be scored again.
Spreadsheet programs run a CSV cell that starts with ``=``, ``+``, ``-``,
``@``, a tab or a carriage return as a formula, so such text is written
with a leading apostrophe, which they show as plain text (the OWASP advice on
CSV injection); numbers such as ``-1`` are left as they are. Scores are
written with the dot as decimal mark whatever the report's language.
"""

from __future__ import annotations

import csv
import io

from reports.i18n import Translator
from reports.model import ReportData
from reports.sections import Context
from reports.tables import Table, answers_table, as_plain, scores_table

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def answers_csv(data: ReportData) -> str:
    """The answers in long format, with the header of the responses file."""
    return _csv(answers_table(data.responses, Translator(data.context.language)))


def scores_csv(data: ReportData) -> str:
    """One row per scored node, with the columns of the Scores sheet."""
    return _csv(scores_table(Context.of(data)))


def inert(text: str) -> str:
    """Text a spreadsheet program will not run as a formula."""
    if text.startswith(FORMULA_STARTS) and not _is_number(text):
        return "'" + text
    return text


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _csv(table: Table) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([inert(column) for column in table.columns])
    writer.writerows([inert(as_plain(value)) for value in row] for row in table.rows)
    return buffer.getvalue()
