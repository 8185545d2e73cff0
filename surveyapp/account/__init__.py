"""The signed-in user's own settings: personal API tokens."""

from surveyapp.account.views import bp

__all__ = ["bp"]
