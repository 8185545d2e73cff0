"""The quarterly progress report of a unit's action plan, as PDF and as a workbook.

CCPM follows its action plan with a monthly stock-take and a quarterly progress
report to the ICCG and the HC/HCT (reference/instruments.md section 1.6, step 4;
seeds/004_bc0651d6516aab8c.txt:45-49). The report says, for the quarter, what is
done, on track, delayed and overdue, and what changed since the last quarter closed.

Plain data in (``ProgressData``), built by the web app from its stored plan; the
PDF goes through the assessment report's template and stylesheet
(templates/reports/), the workbook through its sheet writer (``reports.excel``), so
typed text never becomes a formula.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from openpyxl import Workbook

from reports.blocks import Cell, Chart, Heading, Items, Paragraph, Row, Section, Table
from reports.charts import Bar, horizontal_bars
from reports.document import Document
from reports.excel import write_sheet
from reports.i18n import Translator
from reports.pdf import render_document_pdf
from reports.quarters import Quarter
from reports.tables import Table as SheetTable

#: How an action stands at the end of a quarter, in report order.
STANDINGS = ("done", "on_track", "delayed", "overdue", "dropped")
#: Bar colours of the standings: green, blue, orange, red, grey (each bar also says its count).
STANDING_COLOURS = ("#1fc63c", "#6baed6", "#ff9400", "#e0301e", "#bdbdbd")


def standing(status: str, due_quarter: str | None, ended: Quarter) -> str:
    """Done, on track, delayed, overdue or dropped, once quarter ``ended`` is over.

    Overdue: not done (nor dropped) although its due quarter has ended; delayed: so
    marked by the unit, and not yet overdue; on track: every other open action.
    """
    if status in ("done", "dropped"):
        return status
    if due_quarter:
        try:
            if Quarter.parse(due_quarter) <= ended:
                return "overdue"
        except ValueError:
            pass
    return "delayed" if status == "delayed" else "on_track"


@dataclass(frozen=True)
class Stocktake:
    percent: int
    note: str
    who: str
    day: dt.date


@dataclass(frozen=True)
class ProgressAction:
    """One action as the report shows it; ``previous_*`` come from the last quarter closed."""

    title: str
    nodes: str
    responsible: str
    due_quarter: str
    status: str
    percent: int | None
    cycle: str = ""
    stocktakes: tuple[Stocktake, ...] = ()
    previous_status: str | None = None
    previous_percent: int | None = None
    new: bool = False


@dataclass(frozen=True)
class ProgressData:
    """A unit's quarter: its actions, and whether (and by whom) the quarter is closed."""

    unit: str
    quarter: str
    generated: dt.date
    actions: tuple[ProgressAction, ...]
    previous_quarter: str | None = None
    closed_by: str = ""
    language: str = "en"

    @property
    def closed(self) -> bool:
        return bool(self.closed_by)

    def standing_of(self, action: ProgressAction) -> str:
        return standing(action.status, action.due_quarter, Quarter.parse(self.quarter))

    def counts(self) -> Counter[str]:
        return Counter(self.standing_of(action) for action in self.actions)


def changes(data: ProgressData, action: ProgressAction, t: Translator) -> list[str]:
    """What changed since the previous closing, in words; nothing without one."""
    if data.previous_quarter is None:
        return []
    if action.new:
        return [t("progress.change.new", quarter=data.previous_quarter)]
    found = []
    if action.previous_status and action.previous_status != action.status:
        found.append(t("progress.change.status", before=_status(t, action.previous_status),
                       after=_status(t, action.status)))
    if action.previous_percent != action.percent:
        found.append(t("progress.change.percent", before=_percent(t, action.previous_percent),
                       after=_percent(t, action.percent)))
    return found


def _status(t: Translator, status: str) -> str:
    return t(f"actions.status.{status}")


def _percent(t: Translator, value: int | None) -> str:
    return t("none") if value is None else f"{value} %"


# --------------------------------------------------------------------------- PDF


def build_progress_document(data: ProgressData) -> Document:
    t = Translator(data.language)
    counts = data.counts()
    status = "closed" if data.closed else "open"
    summary_rows = tuple(Row((Cell(t(f"progress.standing.{name}")), Cell(str(counts[name]))))
                         for name in STANDINGS)
    chart = horizontal_bars(
        [Bar(t(f"progress.standing.{name}"), counts[name], colour, str(counts[name]))
         for name, colour in zip(STANDINGS, STANDING_COLOURS, strict=True)],
        limit=max(max(counts.values(), default=1), 1), axis=t("progress.count"))
    summary = Section(Heading(1, t("progress.summary"), "summary"), (
        Paragraph(t("progress.intro", quarter=data.quarter)),
        Paragraph(t("progress.rule")),
        Table((t("progress.standing"), t("progress.count")), (
            *summary_rows, Row((Cell(t("progress.total")), Cell(str(len(data.actions)))),
                               style="total")), numeric=frozenset({1})),
        Chart(chart, t("progress.chart", quarter=data.quarter) + ": " + "; ".join(
            f"{t(f'progress.standing.{name}')} {counts[name]}" for name in STANDINGS)),
    ))
    actions = Section(Heading(1, t("progress.actions"), "actions"), (
        Table(tuple(t(key) for key in ACTION_COLUMNS),
              tuple(Row(tuple(Cell(value) for value in _action_row(data, action, t)))
                    for action in data.actions),
              widths=("30%", "8%", "16%", "8%", "10%", "8%", "10%", "10%"), style="small"),
    ) if data.actions else (Paragraph(t("progress.no_actions")),))
    changed = [(action, changes(data, action, t)) for action in data.actions]
    changed_blocks = (
        (Paragraph(t("progress.first_quarter")),) if data.previous_quarter is None else
        (Items(t("progress.changes.since", quarter=data.previous_quarter),
               tuple(f"{action.title}: {'; '.join(words)}" for action, words in changed
                     if words), t("progress.no_change")),))
    stocktakes = Items(t("progress.stocktakes.of", quarter=data.quarter), tuple(
        f"{action.title}: {entry.percent} % ({entry.who}, {t.date(entry.day)})"
        + (f" {entry.note}" if entry.note else "")
        for action in data.actions for entry in action.stocktakes), t("progress.no_stocktake"))
    sections = (summary, actions,
                Section(Heading(1, t("progress.changes"), "changes"),
                        (*changed_blocks, stocktakes)))
    title = t("progress.title", quarter=data.quarter)
    return Document(
        language=data.language, title=title, final=data.closed,
        status=t(f"progress.status.{status}"),
        status_note=t(f"progress.status.{status}.note", who=data.closed_by),
        cover=((t("cover.unit"), data.unit), (t("progress.quarter"), data.quarter),
               (t("cover.date"), t.date(data.generated))),
        digest="", digest_label="", overlay_digest=None, contents_title=t("contents"),
        footer=f"{data.unit} · {title}",
        contents=tuple(section.heading for section in sections), sections=sections)


ACTION_COLUMNS = ("actions.action", "actions.node", "actions.responsible", "actions.due",
                  "actions.status", "progress.percent", "progress.standing", "progress.cycle")


def _action_row(data: ProgressData, action: ProgressAction, t: Translator) -> tuple[str, ...]:
    return (action.title, action.nodes, action.responsible or t("to_be_agreed"),
            action.due_quarter or t("to_be_agreed"), _status(t, action.status),
            _percent(t, action.percent), t(f"progress.standing.{data.standing_of(action)}"),
            action.cycle)


def write_progress_pdf(data: ProgressData) -> bytes:
    """The quarterly progress report as PDF bytes."""
    return render_document_pdf(build_progress_document(data))


# --------------------------------------------------------------------------- workbook


def progress_tables(data: ProgressData) -> tuple[SheetTable, ...]:
    """Summary, actions (with standing and changes) and stock-takes, one sheet each."""
    t = Translator(data.language)
    counts = data.counts()
    summary = SheetTable(t("progress.summary"), (t("progress.standing"), t("progress.count")),
                         [*((t(f"progress.standing.{name}"), counts[name]) for name in STANDINGS),
                          (t("progress.total"), len(data.actions))], (24, 10))
    actions = SheetTable(
        t("progress.actions"), (*(t(key) for key in ACTION_COLUMNS), t("progress.changes")),
        [(*_action_row(data, action, t)[:5], action.percent,
          *_action_row(data, action, t)[6:], "; ".join(changes(data, action, t)))
         for action in data.actions], (60, 12, 26, 12, 14, 10, 14, 30, 50))
    stocktakes = SheetTable(
        t("progress.stocktakes"), (t("actions.action"), t("progress.percent"),
                                   t("progress.note"), t("progress.who"), t("progress.day")),
        [(action.title, entry.percent, entry.note, entry.who, entry.day.isoformat())
         for action in data.actions for entry in action.stocktakes], (60, 10, 60, 26, 12))
    return summary, actions, stocktakes


def write_progress_workbook(data: ProgressData, target: str | Path | IO[bytes]) -> None:
    workbook = Workbook(write_only=True)
    for table in progress_tables(data):
        write_sheet(workbook, table)
    workbook.save(target)
