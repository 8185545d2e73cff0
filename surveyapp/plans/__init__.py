"""Action plans: a cycle's plan, its actions and stock-takes, recommendations, quarters."""

from surveyapp.plans.views import bp

__all__ = ["bp"]
