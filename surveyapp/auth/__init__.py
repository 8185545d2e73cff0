"""Signing in and out, password changes, and the rules that end a session."""

from surveyapp.auth.views import bp

__all__ = ["bp"]
