"""Reports: PDF (WeasyPrint and templates/reports/), Excel (openpyxl) and CSV from results.

Reports take plain data (:class:`ReportData`), never database objects, and
return bytes or text, so the offline ``surveyapp report`` command and the web
app produce the same files from the same answers. docs/reports.md describes
what each report contains and where each rule comes from.
"""

from reports.action_plan import draft_action_plan
from reports.model import ActionItem, NodeReview, ReportContext, ReportData
from reports.pdf import render_html, render_pdf

__all__ = [
    "ActionItem",
    "NodeReview",
    "ReportContext",
    "ReportData",
    "draft_action_plan",
    "render_html",
    "render_pdf",
]
