"""A cycle's stage profile on the web: self-assessed and validated stages side by side."""

from surveyapp.results.views import bp

__all__ = ["bp"]
