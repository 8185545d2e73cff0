"""The JSON API under ``/api/v1``: personal tokens, problem details, an OpenAPI description."""

from surveyapp.api import openapi, views  # noqa: F401 - importing them registers the routes
from surveyapp.api.operations import bp

__all__ = ["bp"]
