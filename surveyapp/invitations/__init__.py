"""Invitation links on the web: the coordinator's page of links and counts."""

from surveyapp.invitations.views import bp

__all__ = ["bp"]
