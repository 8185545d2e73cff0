"""Assessment cycles: the list, a new cycle, one cycle, its people, state and framework."""

from surveyapp.cycles.views import bp

__all__ = ["bp"]
