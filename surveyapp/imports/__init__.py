"""Importing KoboToolbox and ODK submission exports into a cycle."""

from surveyapp.imports.views import bp

__all__ = ["bp"]
