"""Answering questionnaires: signed-in focal points, and partners through invitation links."""

from surveyapp.respond.views import bp

__all__ = ["bp"]
