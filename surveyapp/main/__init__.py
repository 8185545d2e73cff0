"""The home page and what every page shows about the signed-in user."""

from surveyapp.main.views import bp

__all__ = ["bp"]
