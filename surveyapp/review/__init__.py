"""Validation on the web: the validator's queue, item pages, threads, validating, reopening."""

from surveyapp.review.views import bp

__all__ = ["bp"]
