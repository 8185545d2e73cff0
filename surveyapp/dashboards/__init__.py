"""Dashboards of a coordinator of several units: ratings, trends, plans, shared weaknesses."""

from surveyapp.dashboards.views import bp

__all__ = ["bp"]
