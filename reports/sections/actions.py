"""The action plan: action, linked node, rating or score, who, support, due quarter, status.

Columns follow the CCPM action plan (reference/instruments.md section 1.6:
actions with a timeframe and the organisations designated to follow them up,
seeds/004_bc0651d6516aab8c.txt:45) and serve the other frameworks as well.
"""

from __future__ import annotations

from reports.blocks import Cell, Heading, Paragraph, Row, Section, Table
from reports.i18n import CATALOGUE
from reports.model import ActionItem
from reports.sections import Context

ACTION_COLUMNS = ("actions.action", "actions.node", "actions.basis", "actions.responsible",
                  "actions.support", "actions.due", "actions.status")


def status_words(ctx: Context, status: str) -> str:
    """A status in words; a status the catalogue does not know is shown as recorded."""
    key = f"actions.status.{status}"
    return ctx.t(key) if key in CATALOGUE else status


def section(ctx: Context) -> Section:
    t = ctx.t
    heading = Heading(1, t("actions.heading"), "actions")
    if not ctx.data.actions:
        return Section(heading, (Paragraph(t("actions.intro")), Paragraph(t("actions.none"))))
    return Section(heading, (
        Paragraph(t("actions.intro")),
        Table(tuple(t(key) for key in ACTION_COLUMNS),
              tuple(_row(ctx, action) for action in ctx.data.actions),
              widths=("36%", "7%", "15%", "12%", "12%", "9%", "9%"), style="small actions"),
    ))


def _row(ctx: Context, action: ActionItem) -> Row:
    t = ctx.t
    level = next((result.level for result in ctx.data.scores.results
                  if result.node == action.node), "")
    basis = Cell(action.basis)
    if action.rating is not None:
        rating = ctx.rating(action.node, level, action.rating)
        basis = Cell(action.basis, rating=rating)
    return Row((
        Cell(action.action), Cell(action.node), basis,
        Cell(action.responsible or t("to_be_agreed"), style="" if action.responsible
             else "missing"),
        Cell(action.support or t("to_be_agreed"), style="" if action.support else "missing"),
        Cell(action.due_quarter or t("to_be_agreed"), style="" if action.due_quarter
             else "missing"),
        Cell(status_words(ctx, action.status)),
    ))
