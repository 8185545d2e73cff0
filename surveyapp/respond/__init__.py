"""Answering questionnaires: signed-in focal points, and partners through invitation links."""

from surveyapp.respond import offline  # noqa: F401 - registers the offline workbook routes
from surveyapp.respond.views import bp

__all__ = ["bp"]
